"""Helpers the tests share: the URL prefix, the backends, users, servers and what a client sent."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import pprint
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, note, settings
from pymongo import MongoClient, monitoring
from pymongo.database import Database

from livechat_analytics import hash_token

#: The analytics root, and the department family under it.
ROOT = "/api/v1/livechat/analytics"
PREFIX = ROOT + "/departments"
UTC = dt.timezone.utc

URI_VARIABLE = "LIVECHAT_ANALYTICS_TEST_MONGO_URI"
#: Backends that speak the wire protocol: SecantusDB, and the server named in the environment.
#: The endpoints of now, which take no window: the agents' status and the live family.
NOW_ENDPOINTS = frozenset({"dashboards/charts/agents-status", "live/queue", "live/agents"})
SERVER_BACKENDS = ["secantus"] + (["uri"] if os.environ.get(URI_VARIABLE) else [])
BACKENDS = ["mongomock", *SERVER_BACKENDS]

#: The body of a 401: no user, or a token that names none.
NOT_LOGGED_IN = {
    "success": False,
    "status": "error",
    "message": "You must be logged in to do this.",
    "error": "You must be logged in to do this.",
}
#: The body of a 403: a user without the permission.
UNAUTHORIZED = {
    "success": False,
    "error": "User does not have the permissions required for this action [error-unauthorized]",
}
#: The body of a 503.
UNAVAILABLE = {"success": False, "error": "The database is unavailable.", "errorType": "database-unavailable"}


def add_user(
    database: Database,
    user_id: str = "manager",
    *,
    token: str = "manager-token",
    roles: tuple[str, ...] = ("livechat-manager",),
    active: bool = True,
) -> dict[str, str]:
    """Store a user with one resume token, and return the headers that log them in."""
    database["users"].insert_one(
        {
            "_id": user_id,
            "username": user_id,
            "active": active,
            "roles": list(roles),
            "services": {
                "resume": {
                    "loginTokens": [
                        {"hashedToken": hash_token(token), "when": dt.datetime(2024, 1, 1, tzinfo=UTC)}
                    ]
                }
            },
        }
    )
    return {"X-User-Id": user_id, "X-Auth-Token": token}


def property_settings(examples: int) -> settings:
    """Hypothesis settings of the properties that query a database: no deadline (a server answers
    in its own time), no example database, and fixtures shared by the examples on purpose."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def free_port() -> int:
    """A loopback port nothing listens on (yet)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, int]:
    """The standalone app under gunicorn with our settings module, on a free loopback port, its
    stderr in ``log``: the process and the port."""
    port = free_port()
    with log.open("w") as stderr:  # the server writes to its own copy of the file
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "python:livechat_analytics.gunicorn_conf",
                "--bind",
                f"127.0.0.1:{port}",
                "livechat_analytics.app:create_app()",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    return process, port


def get_json_when_up(process: subprocess.Popen, port: int, path: str, headers: dict[str, str]) -> Any:
    """The JSON body of ``GET path`` from a server that is starting: asked again until it answers
    (20 s at most, and not once the process has ended)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.load(response)
        except (urllib.error.URLError, ConnectionError):
            assert process.poll() is None, "the server ended"
            assert time.monotonic() < deadline, "the server did not answer in time"
            time.sleep(0.1)


def get_answer(client: Any, path: str, headers: dict[str, str], **params: Any) -> Any:
    """The JSON body of ``GET <ROOT>/<path>``, which must answer 200."""
    response = client.get(f"{ROOT}/{path}", query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


class Commands(monitoring.CommandListener):
    """The commands a client sent: their names, the collection and filter of each ``find``, the
    time limit of each read; ``slow`` seconds of sleep before each aggregate, so that concurrent
    requests overlap it."""

    def __init__(self, slow: float = 0.0) -> None:
        self.names: list[str] = []
        self.filters: list[Any] = []
        self.time_limits: list[Any] = []
        self.slow = slow
        self._lock = threading.Lock()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        with self._lock:
            self.names.append(event.command_name)
            if event.command_name == "find":
                self.filters.append((event.command["find"], event.command.get("filter")))
            if event.command_name in ("find", "aggregate"):
                self.time_limits.append(event.command.get("maxTimeMS"))
        if event.command_name == "aggregate" and self.slow:
            time.sleep(self.slow)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def count(self, name: str) -> int:
        return self.names.count(name)


def iso(instant: dt.datetime) -> str:
    """An instant as the API writes it: ``2024-03-01T00:00:00.000Z``."""
    instant = instant.astimezone(UTC)
    return f"{instant:%Y-%m-%dT%H:%M:%S}.{instant.microsecond // 1000:03d}Z"


#: The indexes ``ensure-indexes`` makes, in its order: the collection (default names) and the name.
OUR_INDEXES = [
    ("rocketchat_room", "livechat_analytics_t_ts"),
    ("rocketchat_room", "livechat_analytics_t_department_ts"),
    ("rocketchat_room", "livechat_analytics_t_closed"),
    ("rocketchat_room", "livechat_analytics_t_updated"),
    ("rocketchat_room", "livechat_analytics_open"),
    ("rocketchat_message", "livechat_analytics_transfer_ts"),
    ("rocketchat_message", "rid_1_ts_1__updatedAt_1"),
    ("rocketchat_livechat_agent_activity", "livechat_analytics_date"),
    ("rocketchat_livechat_department_agents", "livechat_analytics_department"),
    ("users", "livechat_analytics_roles"),
]

#: The fields of each department endpoint's rows besides ``_id``.
DEPARTMENT_FIELDS: dict[str, tuple[str, ...]] = {
    "amount-of-chats": ("rooms",),
    "total-transferred-chats": ("numberOfTransferredRooms",),
    "average-service-time": ("averageServiceTimeInSeconds",),
    "total-service-time": ("chats", "serviceTimeDuration"),
    "average-chat-duration-time": ("averageChatDurationTimeInSeconds",),
    "average-waiting-time": ("averageWaitingTimeInSeconds",),
    "total-abandoned-chats": ("abandonedRooms",),
    "percentage-abandoned-chats": ("percentageOfAbandonedChats",),
}


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


def store_rooms(database: Database, rooms: list[dict[str, Any]]) -> None:
    """Replace the livechat rooms of ``database`` with ``rooms`` (noted for hypothesis' report)."""
    note("rooms=" + pprint.pformat(rooms, sort_dicts=False))
    database["rocketchat_room"].delete_many({})
    if rooms:
        database["rocketchat_room"].insert_many([dict(room) for room in rooms])


def answered(client: Any, headers: dict[str, str], path: str, params: dict[str, str]) -> Any:
    """The JSON body of ``path`` under the root, which must be a 200 (noted for hypothesis' report)."""
    note(f"GET {path} {params}")
    response = client.get(f"{ROOT}/{path}", query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@contextlib.contextmanager
def server_process() -> Iterator[tuple[subprocess.Popen, str]]:
    """A SecantusDB server in a process of its own (``secantusd-py``), which a test may freeze
    (:func:`frozen`), resume or kill: it and its URI. Resumed and ended afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("secantusd-py")),
            *("--host", "127.0.0.1", "--port", str(port), "--storage-path", ":memory:"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    uri = f"mongodb://127.0.0.1:{port}/rocketchat"
    try:
        with MongoClient(uri, serverSelectionTimeoutMS=30000) as probe:
            probe.admin.command("ping")
        yield process, uri
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGCONT)
        process.kill()
        process.wait(timeout=30)


def first_stage_scans(database: Database, collection: str, pipeline: list[dict]) -> list[dict]:
    """The scans (``COLLSCAN``, ``IXSCAN``, ...) of the winning plan of the pipeline's first stage."""
    explained = database.command(
        "explain",
        {"aggregate": collection, "pipeline": pipeline, "cursor": {}},
        verbosity="queryPlanner",
    )
    # The classic engine reports the first stage as a $cursor; the slot-based one at the top, with
    # the plan under queryPlan.
    planner = (
        explained["stages"][0]["$cursor"]["queryPlanner"]
        if "stages" in explained
        else explained["queryPlanner"]
    )
    plan = planner["winningPlan"]
    plan = plan.get("queryPlan", plan)
    scans = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("stage", "")).endswith("SCAN"):
                scans.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(plan)
    return scans


def berlin_hours(**fields) -> dict:
    """Monday to Friday, 09:00 to 18:00, Europe/Berlin."""
    days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    return {
        "_id": "office",
        "name": "Office",
        "active": True,
        "type": "default",
        "timezone": {"name": "Europe/Berlin", "utc": "+01:00"},
        "workHours": [
            {"day": day, "start": {"time": "09:00"}, "finish": {"time": "18:00"}, "open": index < 5}
            for index, day in enumerate(days)
        ],
        **fields,
    }
