"""Issue 9 in the request path: one deadline per request against a frozen database, 503s that say
when to come back, trouble logged once, and the health check."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from pymongo import MongoClient
from support import PREFIX, ROOT, SERVER_BACKENDS, UTC, add_user
from test_errors import UNAVAILABLE, free_port

from livechat_analytics import LivechatAnalytics

URL = PREFIX + "/amount-of-chats?start=2024-03-01&end=2024-03-31"
HEALTH = ROOT + "/health"
TIMEOUT = {"success": False, "error": "The query took too long.", "errorType": "query-timeout"}
ANSWER = {"departments": [{"_id": None, "rooms": 1}], "count": 1, "offset": 0, "total": 1, "success": True}
DEADLINE_MS = 1500


@pytest.fixture
def server_process() -> Iterator[tuple[subprocess.Popen, str]]:
    """A SecantusDB server in a process of its own, which a test may freeze (SIGSTOP) and resume."""
    port = free_port()
    server = Path(sys.executable).with_name("secantusd-py")
    process = subprocess.Popen(
        [str(server), "--host", "127.0.0.1", "--port", str(port), "--storage-path", ":memory:"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    uri = f"mongodb://127.0.0.1:{port}/rocketchat"
    try:
        with MongoClient(uri, serverSelectionTimeoutMS=30000) as probe:
            probe.admin.command("ping")
        yield process, uri
    finally:
        os.kill(process.pid, signal.SIGCONT)
        process.terminate()
        process.wait(timeout=30)


def frozen(pid: int) -> None:
    """Stop the process, and wait until every one of its threads has stopped: a signal reaches a
    thread only when it next runs, and on a busy machine one may still answer a request meanwhile."""
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        states = []
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError):
                # The state follows the command name in parentheses, which may hold spaces.
                states.append((task / "stat").read_text().rsplit(")", 1)[1].split()[0])
        if states and all(state in ("T", "t") for state in states):
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} did not stop")


def app_on(uri: str, **settings) -> Flask:
    app = Flask("host")
    app.config.update(LIVECHAT_ANALYTICS_MONGO_URI=uri, **settings)
    LivechatAnalytics(app)
    return app


def timed(client, url: str, **kwargs) -> tuple[float, object]:
    started = time.monotonic()
    response = client.get(url, **kwargs)
    return time.monotonic() - started, response


def test_a_frozen_database_answers_within_the_deadline_and_recovers(server_process, caplog):
    process, uri = server_process
    with MongoClient(uri) as setup:
        database = setup["rocketchat"]
        created = dt.datetime(2024, 3, 5, tzinfo=UTC)
        database["rocketchat_room"].insert_one({"_id": "a", "t": "l", "ts": created})
        headers = add_user(database)
    client = app_on(uri, LIVECHAT_ANALYTICS_MAX_TIME_MS=DEADLINE_MS).test_client()
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


def test_an_unreachable_database_answers_503_with_retry_after_and_is_logged_once(caplog):
    uri = f"mongodb://127.0.0.1:{free_port()}/rocketchat"
    client = app_on(uri, LIVECHAT_ANALYTICS_MAX_TIME_MS=300).test_client()
    for _ in range(4):
        # No server within the deadline: 503, at the deadline.
        elapsed, response = timed(client, URL, headers={"X-User-Id": "u", "X-Auth-Token": "t"})
        assert elapsed < 0.3 + 1
        assert (response.status_code, response.get_json()) == (503, UNAVAILABLE)
        assert response.headers["Retry-After"] == "5"
    [line] = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    # One short line: the driver's topology dump stays out of the log.
    assert line.startswith("database unavailable: ServerSelectionTimeoutError: 127.0.0.1:")
    assert "Topology Description" not in line
    assert len(line) < 300


def test_health_answers_without_authentication(client):
    response = client.get(HEALTH)
    assert (response.status_code, response.get_json()) == (200, {"success": True, "database": "ok"})


def test_health_is_503_when_the_database_is_down():
    client = app_on(
        f"mongodb://127.0.0.1:{free_port()}/rocketchat", LIVECHAT_ANALYTICS_HEALTH_TIMEOUT_MS=200
    ).test_client()
    elapsed, response = timed(client, HEALTH)
    assert (response.status_code, response.headers["Retry-After"]) == (503, "5")
    assert response.get_json() == {**UNAVAILABLE, "database": "unavailable"}
    assert elapsed < 1.5


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_health_on_a_server(database):
    host, port = database.client.address
    client = app_on(f"mongodb://{host}:{port}/{database.name}").test_client()
    assert client.get(HEALTH).get_json() == {"success": True, "database": "ok"}
