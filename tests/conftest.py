"""Fixtures: every database test runs on mongomock, on SecantusDB, and on a real server when
``LIVECHAT_ANALYTICS_TEST_MONGO_URI`` names one."""

from __future__ import annotations

import os
import tempfile
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
