"""Errors: database trouble (a closed port, a stopped or frozen server, a query over its time limit,
any other database error) answered in Rocket.Chat's JSON shape within the request's one deadline,
503s that say when to come back, trouble logged once; and what an error repeats of the request,
capped."""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator

import pytest
from documents import store_three_rooms
from flask import Flask
from pymongo import MongoClient
from secantus import SecantusDBServer
from support import (
    PREFIX,
    ROOT,
    SERVER_BACKENDS,
    UNAVAILABLE,
    UTC,
    add_user,
    free_port,
    frozen,
    server_process,
)

WINDOW = "?start=2024-03-01&end=2024-03-31"
URL = PREFIX + "/amount-of-chats" + WINDOW
HEALTH = ROOT + "/health"
TIMEOUT = {"success": False, "error": "The query took too long.", "errorType": "query-timeout"}
ANSWER = {"departments": [{"_id": None, "rooms": 1}], "count": 1, "offset": 0, "total": 1, "success": True}
#: Headers of someone the database would have to look up.
SOMEONE = {"X-User-Id": "u", "X-Auth-Token": "t"}
DEADLINE_MS = 1500


@pytest.fixture
def app_on(make_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """A factory of apps that connect to a URI themselves, each request with one second to answer
    unless ``MAX_TIME_MS`` says otherwise."""

    def make(uri: str, **settings: object) -> Flask:
        return make_app(database=None, MONGO_URI=uri, **{"MAX_TIME_MS": 1000, **settings})

    return make


# The database out of reach


def test_a_closed_port_answers_503(app_on, caplog):
    app = app_on(f"mongodb://127.0.0.1:{free_port()}/rocketchat")
    response = app.test_client().get(URL, headers=SOMEONE)
    assert (response.status_code, response.get_json()) == (503, UNAVAILABLE)
    assert "database unavailable" in caplog.text


@pytest.mark.server
def test_a_stopped_server_answers_503_and_the_app_recovers_when_it_is_back(app_on):
    port = free_port()
    uri = f"mongodb://127.0.0.1:{port}/rocketchat"
    with tempfile.TemporaryDirectory() as path:
        app = app_on(uri)  # made while the server is down: the app starts all the same
        client = app.test_client()
        assert client.get(URL, headers=SOMEONE).status_code == 503
        with SecantusDBServer(port=port, storage_path=path):
            with MongoClient(uri) as setup:
                headers = store_three_rooms(setup["rocketchat"])
            assert client.get(URL, headers=headers).status_code == 200
        response = client.get(URL, headers=headers)
        assert (response.status_code, response.get_json()) == (503, UNAVAILABLE)
        with SecantusDBServer(port=port, storage_path=path):
            assert client.get(URL, headers=headers).get_json()["total"] == 3


def test_an_unreachable_database_answers_503_with_retry_after_and_is_logged_once(app_on, caplog):
    client = app_on(f"mongodb://127.0.0.1:{free_port()}/rocketchat", MAX_TIME_MS=300).test_client()
    for _ in range(4):
        # No server within the deadline: 503, at the deadline.
        elapsed, response = timed(client, URL, headers=SOMEONE)
        assert elapsed < 0.3 + 1
        assert (response.status_code, response.get_json()) == (503, UNAVAILABLE)
        assert response.headers["Retry-After"] == "5"
    [line] = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    # One short line: the driver's topology dump stays out of the log.
    assert line.startswith("database unavailable: ServerSelectionTimeoutError: 127.0.0.1:")
    assert "Topology Description" not in line
    assert len(line) < 300


# A server that fails


@pytest.fixture
def server_app(database, app_on):
    host, port = database.client.address
    headers = store_three_rooms(database)
    yield app_on(f"mongodb://{host}:{port}/{database.name}"), headers
    database.client.admin.command("configureFailPoint", "maxTimeAlwaysTimeOut", mode="off")
    database.client.admin.command("configureFailPoint", "failCommand", mode="off")


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_a_query_over_its_time_limit_answers_504(database, server_app, caplog):
    app, headers = server_app
    database.client.admin.command("configureFailPoint", "maxTimeAlwaysTimeOut", mode={"times": 1})
    response = app.test_client().get(URL, headers=headers)
    assert (response.status_code, response.get_json()) == (504, TIMEOUT)
    assert "over its time limit" in caplog.text


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_any_other_database_error_answers_500_without_internals(database, server_app):
    app, headers = server_app
    database.client.admin.command(
        "configureFailPoint",
        "failCommand",
        mode={"times": 1},
        data={"failCommands": ["aggregate"], "errorCode": 2, "errorMessage": "secret internals"},
    )
    response = app.test_client().get(URL, headers=headers)
    assert response.status_code == 500
    assert response.get_json() == {
        "success": False,
        "error": "The database could not answer.",
        "errorType": "database-error",
    }


# A frozen server


@pytest.fixture
def frozen_server() -> Iterator[tuple[subprocess.Popen, str]]:
    """A SecantusDB server in a process of its own, which a test may freeze (SIGSTOP) and resume."""
    with server_process() as served:
        yield served


def timed(client, url: str, **kwargs) -> tuple[float, object]:
    """How long the answer took, and the answer."""
    started = time.monotonic()
    response = client.get(url, **kwargs)
    return time.monotonic() - started, response


@pytest.mark.server
def test_a_frozen_database_answers_within_the_deadline_and_recovers(frozen_server, app_on, caplog):
    process, uri = frozen_server
    with MongoClient(uri) as setup:
        database = setup["rocketchat"]
        created = dt.datetime(2024, 3, 5, tzinfo=UTC)
        database["rocketchat_room"].insert_one({"_id": "a", "t": "l", "ts": created})
        headers = add_user(database)
    client = app_on(uri, MAX_TIME_MS=DEADLINE_MS).test_client()
    assert client.get(URL, headers=headers).get_json() == ANSWER
    frozen(process.pid)  # the process stops; its socket stays open
    try:
        # Each request gets ONE deadline for all its reads (the user, the permission, the aggregate):
        # the first waits on its open connection, the next on a new one's handshake.
        for _ in range(3):
            elapsed, response = timed(client, URL, headers=headers)
            assert response.status_code in (503, 504)
            assert response.get_json() == (TIMEOUT if response.status_code == 504 else UNAVAILABLE)
            assert elapsed < DEADLINE_MS / 1000 + 1
        elapsed, response = timed(client, HEALTH)
        assert (response.status_code, response.headers["Retry-After"]) == (503, "5")
        assert elapsed < 2 + 1
    finally:
        os.kill(process.pid, signal.SIGCONT)
    assert client.get(URL, headers=headers).get_json() == ANSWER
    assert client.get(HEALTH).get_json() == {"success": True, "database": "ok"}
    # The trouble was logged when it started and when it ended, not once per request.
    lines = [record.getMessage() for record in caplog.records if record.name == "livechat_analytics"]
    assert len(lines) == 2, lines
    assert lines[0].startswith(("analytics request over its time limit: ", "database unavailable: "))
    assert lines[1].startswith("database answering again after ")
    assert lines[1].endswith("(3 failed requests not logged)")


# What an error repeats of the request


def test_a_long_path_is_not_echoed_whole(client):
    tail = "x" * 100_000
    response = client.get(PREFIX + "/" + tail)
    path = PREFIX + "/" + tail
    assert response.status_code == 404
    assert response.get_json() == {
        "success": False,
        "error": f"There is no analytics endpoint at {path[:200]}... ({len(path) - 200} more characters).",
    }


def test_a_400_names_a_few_unknown_parameters_and_counts_the_rest(client, headers):
    names = [f"p{number}" for number in range(15_000)]
    query = WINDOW + "&" + "&".join(f"{name}=1" for name in names) + "&" + "q" * 1000 + "=1"
    response = client.get(PREFIX + "/amount-of-chats" + query, headers=headers)
    assert response.status_code == 400
    assert len(response.get_data()) < 2000
    named = names[:10]
    assert response.get_json() == {
        "success": False,
        "error": " ".join(f'The "{name}" query parameter is not allowed.' for name in named)
        + " (14991 more parameters are not named here.)",
        "errorType": "invalid-params",
        "details": {name: ["Is not allowed."] for name in named},
    }


def test_a_long_parameter_name_is_capped(client, headers):
    name = "q" * 1000
    response = client.get(f"{PREFIX}/amount-of-chats{WINDOW}&{name}=1", headers=headers)
    capped = "q" * 100 + "... (900 more characters)"
    assert response.get_json()["details"] == {capped: ["Is not allowed."]}
