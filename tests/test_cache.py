"""The cache: answers kept for a few seconds, one aggregate for a burst, the permission and settings
read once per few seconds, HTTP caching; and a Redis server that two app processes share."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient
from support import PREFIX, SERVER_BACKENDS, URI_VARIABLE, UTC, add_user, get_json_when_up, start_gunicorn

import livechat_analytics
from livechat_analytics import LivechatAnalytics, config
from livechat_analytics.cache import Answers, Recent, fingerprint
from livechat_analytics.endpoints.common import Context
from livechat_analytics.schemas import PageQuery, Query

WINDOW = "start=2024-03-01&end=2024-03-31"
AMOUNT = f"{PREFIX}/amount-of-chats?{WINDOW}"
ABANDONED = f"{PREFIX}/total-abandoned-chats?{WINDOW}"
TS = dt.datetime(2024, 3, 5, tzinfo=UTC)
P = "LIVECHAT_ANALYTICS_"


def room(room_id: str, department: str = "sales", **fields: Any) -> dict[str, Any]:
    return {"_id": room_id, "t": "l", "ts": TS, "departmentId": department, **fields}


#: The package's defaults of the settings the tests' apps change (see conftest.TEST_SETTINGS), the
#: answer cache alone: the room table, which keeps its windows and days in it too, reads the rooms
#: its own way (tests/test_slots.py).
DEFAULTS: dict[str, Any] = {"CACHE_SECONDS": None, "SETTINGS_SECONDS": None, "SLOT_SECONDS": 0}


# -- The answer cache ------------------------------------------------------------------------


def test_an_answer_is_kept_for_cache_seconds(make_app, database, headers):
    client = make_app(**DEFAULTS).test_client()
    database["rocketchat_room"].insert_one(room("a"))
    first = client.get(AMOUNT, headers=headers)
    database["rocketchat_room"].insert_one(room("b"))
    kept = client.get(AMOUNT, headers=headers)
    assert first.get_json()["departments"] == [{"_id": "sales", "rooms": 1}]
    assert kept.get_json() == first.get_json()
    # Another query is another answer.
    other = client.get(AMOUNT + "&count=10", headers=headers)
    assert other.get_json()["departments"] == [{"_id": "sales", "rooms": 2}]


def test_cache_seconds_0_computes_every_request(make_app, database, headers):
    client = make_app(CACHE_SECONDS=0, SETTINGS_SECONDS=None).test_client()
    database["rocketchat_room"].insert_one(room("a"))
    assert client.get(AMOUNT, headers=headers).get_json()["total"] == 1
    database["rocketchat_room"].insert_one(room("b", "billing"))
    response = client.get(AMOUNT, headers=headers)
    assert response.get_json()["total"] == 2
    assert response.headers["Cache-Control"] == "private, max-age=0"


def test_an_answer_expires(make_app, database, headers):
    client = make_app(CACHE_SECONDS=1, SETTINGS_SECONDS=None, SLOT_SECONDS=0).test_client()
    database["rocketchat_room"].insert_one(room("a"))
    assert client.get(AMOUNT, headers=headers).get_json()["total"] == 1
    database["rocketchat_room"].insert_one(room("b", "billing"))
    time.sleep(1.1)
    assert client.get(AMOUNT, headers=headers).get_json()["total"] == 2


def test_a_kept_answer_never_skips_authentication_or_the_permission(make_app, database, headers):
    client = make_app(**DEFAULTS).test_client()
    database["rocketchat_room"].insert_one(room("a"))
    assert client.get(AMOUNT, headers=headers).status_code == 200
    assert client.get(AMOUNT).status_code == 401
    assert client.get(AMOUNT, headers={**headers, "X-Auth-Token": "wrong"}).status_code == 401
    agent = add_user(database, "agent", token="agent-token", roles=("livechat-agent",))
    assert client.get(AMOUNT, headers=agent).status_code == 403


def test_the_inactivity_setting_is_part_of_the_key(make_app, database, headers):
    client = make_app(CACHE_SECONDS=None, SETTINGS_SECONDS=0).test_client()
    closed = {"open": False, "closedAt": TS, "metrics": {"visitorInactivity": 600}}
    database["rocketchat_room"].insert_one(room("a", **closed))
    settings = database["rocketchat_settings"]
    settings.insert_one({"_id": "Livechat_visitor_inactivity_timeout", "value": 300})
    assert client.get(ABANDONED, headers=headers).get_json()["total"] == 1
    settings.update_one({"_id": "Livechat_visitor_inactivity_timeout"}, {"$set": {"value": 900}})
    assert client.get(ABANDONED, headers=headers).get_json()["total"] == 0


def test_the_key_holds_every_part_an_answer_depends_on():
    answers = Answers(None, seconds=0, scope="rocketchat")
    names = {"room": "rocketchat_room"}
    query, context = Query(start=TS, end=TS), Context(names)
    key = answers.key("departments/amount-of-chats", "view-livechat-manager", query, context)
    assert key.startswith("departments/amount-of-chats:")
    assert key == answers.key(
        "departments/amount-of-chats", "view-livechat-manager", Query(start=TS, end=TS), Context(dict(names))
    )
    others = [
        answers.key("departments/total-transferred-chats", "view-livechat-manager", query, context),
        answers.key("departments/amount-of-chats", "view-livechat-reports", query, context),
        answers.key(
            "departments/amount-of-chats",
            "view-livechat-manager",
            PageQuery(start=TS, end=TS, count=10),
            context,
        ),
        answers.key("departments/amount-of-chats", "view-livechat-manager", query, Context(names, 60)),
        answers.key(
            "departments/amount-of-chats",
            "view-livechat-manager",
            query,
            Context(names, department_names=True),
        ),
        answers.key(
            "departments/amount-of-chats",
            "view-livechat-manager",
            Query(start=TS, end=TS, timezone=dt.timezone(dt.timedelta(hours=2))),
            context,
        ),
        answers.key(
            "departments/amount-of-chats", "view-livechat-manager", query, Context({"room": "rc_room"})
        ),
        Answers(None, seconds=0, scope="other").key(
            "departments/amount-of-chats", "view-livechat-manager", query, context
        ),
    ]
    assert len({key, *others}) == 1 + len(others)


def test_a_field_a_query_gains_is_in_the_key():
    """As ``timezone`` will be: every field of the dataclass, whatever it is called."""

    @dataclasses.dataclass(frozen=True)
    class Later(Query):
        timezone: dt.tzinfo = UTC

    berlin = Later(start=TS, end=TS, timezone=__import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    assert fingerprint(Later(start=TS, end=TS)) != fingerprint(berlin)
    assert fingerprint(berlin) == fingerprint(dataclasses.replace(berlin))


def test_a_fingerprint_is_the_same_in_another_process():
    code = (
        "import datetime as dt;from livechat_analytics.cache import fingerprint;"
        "from livechat_analytics.schemas import PageQuery, Query;"
        "print(fingerprint(Query(start=dt.datetime(2024,3,5,tzinfo=dt.timezone.utc))))"
    )
    env = {
        **os.environ,
        "PYTHONHASHSEED": "random",
        "PYTHONPATH": str(Path(livechat_analytics.__file__).parents[1]),
    }
    printed = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert printed.stdout.strip() == fingerprint(Query(start=TS))


# -- One computation for a burst ---------------------------------------------------------------


def burst(client_of: Any, url: str, headers: dict[str, str], clients: int) -> list[Any]:
    """``clients`` identical requests at once, each from a thread of its own."""
    start = threading.Barrier(clients)
    answered: list[Any] = [None] * clients

    def ask(number: int) -> None:
        client = client_of(number)
        start.wait()
        response = client.get(url, headers=headers)
        answered[number] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=ask, args=(number,)) for number in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answered


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
@pytest.mark.parametrize("cache_type", ["SimpleCache", "NullCache"])
def test_32_identical_concurrent_requests_send_one_aggregate(database, watched, cache_type):
    """With ``NullCache`` nothing is kept: only the wait for the first request's result saves the
    other 31 aggregates."""
    database["rocketchat_room"].insert_many([room("a"), room("b", "billing")])
    headers = add_user(database)
    app, listener = watched(
        slow=0.5, **DEFAULTS, CACHE_TYPE=cache_type, CACHE_CONFIG={"CACHE_NO_NULL_WARNING": True}
    )
    answered = burst(lambda _: app.test_client(), AMOUNT, headers, 32)
    assert {status for status, _ in answered} == {200}
    assert all(body == answered[0][1] for _, body in answered)
    assert answered[0][1]["total"] == 2
    assert listener.count("aggregate") == 1


def test_the_burst_shares_the_first_requests_failure_and_the_next_one_computes_again():
    calls: list[int] = []
    started = threading.Event()

    def failing() -> Any:
        calls.append(1)
        started.set()
        time.sleep(0.3)
        raise ValueError("boom")

    answers = Answers(_Dictionary(), seconds=10)
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            answers.compute("p", "perm", 1, 2, failing)
        except ValueError as error:
            errors.append(error)

    first = threading.Thread(target=ask)
    first.start()
    started.wait()
    others = [threading.Thread(target=ask) for _ in range(5)]
    for thread in others:
        thread.start()
    for thread in [first, *others]:
        thread.join()
    assert (len(calls), len(errors)) == (1, 6)
    assert answers.compute("p", "perm", 1, 2, lambda: {"ok": 1}) == {"ok": 1}


def test_a_streamed_body_is_never_kept_nor_shared():
    answers = Answers(_Dictionary(), seconds=10)
    made: list[int] = []

    def rows() -> Any:
        made.append(1)
        return iter([1, 2])

    assert [list(answers.compute("p", "perm", 1, 2, rows)) for _ in range(3)] == [[1, 2]] * 3
    assert len(made) == 3


def test_a_failing_cache_backend_leaves_the_answer_to_the_database(caplog):
    class Broken:
        def __getattr__(self, name: str) -> Any:
            def fail(*args: Any, **kwargs: Any) -> Any:
                raise ConnectionError("cache down")

            return fail

    answers = Answers(Broken(), seconds=10)
    assert [answers.compute("p", "perm", 1, 2, lambda: {"n": 1}) for _ in range(3)] == [{"n": 1}] * 3
    assert [record.message for record in caplog.records].count(
        "The answer cache failed, answering without it: ConnectionError: cache down"
    ) == 1


class _Dictionary:
    """The smallest cachelib-like backend (no expiry): for tests of the seam alone."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def set(self, key: str, value: Any, timeout: int | None = None) -> bool:
        self.values[key] = value
        return True

    def add(self, key: str, value: Any, timeout: int | None = None) -> bool:
        return self.values.setdefault(key, value) is value

    def has(self, key: str) -> bool:
        return key in self.values

    def delete(self, key: str) -> bool:
        return self.values.pop(key, None) is not None


# -- The permission and the settings ----------------------------------------------------------


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_the_permission_and_the_setting_are_read_once_per_settings_seconds(database, watched):
    database["rocketchat_room"].insert_one(room("a"))
    headers = add_user(database)
    app, listener = watched(CACHE_SECONDS=0, SETTINGS_SECONDS=None)
    client = app.test_client()
    for url in [ABANDONED, ABANDONED + "&count=5", AMOUNT]:
        assert client.get(url, headers=headers).status_code == 200
    read = [collection for collection, _ in listener.filters]
    # The user on every request; the permission and the setting once.
    assert sorted(read) == ["rocketchat_permissions", "rocketchat_settings", "users", "users", "users"]
    assert listener.count("aggregate") == 3


def test_a_permission_change_takes_effect_within_settings_seconds(make_app, database, headers):
    client = make_app(CACHE_SECONDS=None, SETTINGS_SECONDS=1).test_client()
    permissions = database["rocketchat_permissions"]
    permissions.insert_one({"_id": "view-livechat-manager", "roles": ["livechat-manager"]})
    assert client.get(AMOUNT, headers=headers).status_code == 200
    permissions.update_one({"_id": "view-livechat-manager"}, {"$set": {"roles": ["admin"]}})
    deadline = time.monotonic() + 1.5
    while client.get(AMOUNT, headers=headers).status_code == 200:
        assert time.monotonic() < deadline, "the permission change took longer than SETTINGS_SECONDS"
        time.sleep(0.1)
    assert client.get(AMOUNT, headers=headers).status_code == 403


def test_settings_seconds_0_reads_every_request(make_app, database, headers):
    client = make_app(SETTINGS_SECONDS=0, CACHE_SECONDS=0).test_client()
    database["rocketchat_permissions"].insert_one(
        {"_id": "view-livechat-manager", "roles": ["livechat-manager"]}
    )
    assert client.get(AMOUNT, headers=headers).status_code == 200
    database["rocketchat_permissions"].update_one({"_id": "view-livechat-manager"}, {"$set": {"roles": []}})
    assert client.get(AMOUNT, headers=headers).status_code == 403


def test_recent_reads_again_after_its_seconds(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    reads: list[int] = []
    recent = Recent(5)
    read = lambda: reads.append(1) or len(reads)  # noqa: E731
    assert [recent.get("k", read) for _ in range(3)] == [1, 1, 1]
    now[0] += 4.9
    assert recent.get("k", read) == 1
    now[0] += 0.2
    assert recent.get("k", read) == 2


# -- HTTP caching -----------------------------------------------------------------------------


def test_a_200_carries_an_etag_and_cache_control_and_if_none_match_gives_304(make_app, database, headers):
    client = make_app(**DEFAULTS).test_client()
    database["rocketchat_room"].insert_one(room("a"))
    response = client.get(AMOUNT, headers=headers)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, max-age=10"
    assert set(response.headers["Vary"].split(", ")) >= {"X-User-Id", "X-Auth-Token"}
    etag = response.headers["ETag"]
    unchanged = client.get(AMOUNT, headers={**headers, "If-None-Match": etag})
    assert (unchanged.status_code, unchanged.data) == (304, b"")
    assert unchanged.headers["ETag"] == etag
    other = client.get(AMOUNT + "&offset=1", headers={**headers, "If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag
    # A stale validator gets the whole answer; errors carry no validator.
    assert client.get(AMOUNT, headers={**headers, "If-None-Match": '"nope"'}).status_code == 200
    refused = client.get(AMOUNT, headers={"If-None-Match": etag})
    assert refused.status_code == 401 and "ETag" not in refused.headers


# -- Configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("CACHE_SECONDS", -1),
        ("CACHE_SECONDS", "10"),
        ("CACHE_TYPE", "redis cache"),
        ("CACHE_TYPE", ""),
        ("CACHE_CONFIG", {"KEY_PREFIX": "x"}),
        ("CACHE_CONFIG", "CACHE_KEY_PREFIX=x"),
        ("CACHE_URL", ""),
        ("SETTINGS_SECONDS", True),
    ],
)
def test_a_bad_cache_setting_stops_the_app(make_app, database, key, value):
    with pytest.raises(RuntimeError, match=P + key + " must be"):
        make_app(**{key: value})


def test_the_environment_gives_the_cache_settings():
    settings = config.from_environment(
        {
            P + "CACHE_SECONDS": "30",
            P + "CACHE_TYPE": "RedisCache",
            P + "CACHE_URL": "redis://cache:6379/0",
            P + "CACHE_CONFIG": '{"CACHE_KEY_PREFIX": "chat1:"}',
            P + "SETTINGS_SECONDS": "2",
        }
    )
    assert settings == {
        P + "CACHE_SECONDS": 30,
        P + "CACHE_TYPE": "RedisCache",
        P + "CACHE_URL": "redis://cache:6379/0",
        P + "CACHE_CONFIG": {"CACHE_KEY_PREFIX": "chat1:"},
        P + "SETTINGS_SECONDS": 2,
    }
    with pytest.raises(RuntimeError, match="CACHE_CONFIG must be"):
        config.from_environment({P + "CACHE_CONFIG": "[1]"})


def test_the_hosts_own_flask_caching_settings_are_left_to_its_own_cache(make_bare_app, database):
    from flask_caching import Cache

    app = make_bare_app()
    app.config.update(CACHE_TYPE="NullCache", CACHE_KEY_PREFIX="host:", CACHE_NO_NULL_WARNING=True)
    hosts = Cache(app)
    LivechatAnalytics(app, database=database)
    ours = app.extensions["livechat_analytics"].cache
    assert type(app.extensions["cache"][ours]).__name__ == "SimpleCache"
    assert type(app.extensions["cache"][hosts]).__name__ == "NullCache"
    assert app.config["CACHE_KEY_PREFIX"] == "host:"


def test_a_backend_without_its_client_library_is_named(make_app, database):
    with pytest.raises(RuntimeError, match="CACHE_TYPE MemcachedCache needs a client library"):
        make_app(**DEFAULTS, CACHE_TYPE="MemcachedCache", CACHE_URL="127.0.0.1:11211")


# -- A shared Redis server --------------------------------------------------------------------


def test_two_apps_share_one_answer_and_one_computation_through_redis(make_app, database, headers, redis_url):
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    shared = {
        "CACHE_TYPE": "RedisCache",
        "CACHE_URL": redis_url,
        "CACHE_CONFIG": {"CACHE_KEY_PREFIX": prefix},
    }
    database["rocketchat_room"].insert_one(room("a"))
    one, two = make_app(**DEFAULTS, **shared), make_app(**DEFAULTS, **shared)
    calls: list[str] = []
    for name, app in (("one", one), ("two", two)):
        answers = app.extensions["livechat_analytics"].answers
        answers.compute = _counting(answers.compute, calls, name)
    first = one.test_client().get(AMOUNT, headers=headers).get_json()
    database["rocketchat_room"].insert_one(room("b"))
    assert two.test_client().get(AMOUNT, headers=headers).get_json() == first
    assert calls == ["one"]


def _counting(compute: Any, calls: list[str], name: str) -> Any:
    def counted(path: str, permission: str, query: Any, context: Any, inner: Any, **options: Any) -> Any:
        return compute(path, permission, query, context, lambda: calls.append(name) or inner(), **options)

    return counted


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_a_burst_across_two_apps_sharing_redis_computes_once(database, watched, redis_url):
    shared = {
        "CACHE_TYPE": "RedisCache",
        "CACHE_URL": redis_url,
        "CACHE_CONFIG": {"CACHE_KEY_PREFIX": f"t{uuid.uuid4().hex[:8]}:"},
    }
    database["rocketchat_room"].insert_one(room("a"))
    headers = add_user(database)
    (one, first), (two, second) = (
        watched(slow=0.5, **DEFAULTS, **shared),
        watched(slow=0.5, **DEFAULTS, **shared),
    )
    answered = burst(lambda number: (one if number % 2 else two).test_client(), AMOUNT, headers, 16)
    assert {status for status, _ in answered} == {200}
    assert first.count("aggregate") + second.count("aggregate") == 1


def test_two_gunicorn_processes_share_one_answer_through_redis(secantus_uri, redis_url, tmp_path):
    """Two servers, each its own process: the second answers what the first computed, though the
    data changed in between."""
    name = "shared_" + uuid.uuid4().hex[:8]
    with MongoClient(secantus_uri, tz_aware=True) as client:
        headers = add_user(client[name])
        client[name]["rocketchat_room"].insert_one(room("a"))
        env = {key: value for key, value in os.environ.items() if not key.startswith(P)}
        env.pop(URI_VARIABLE, None)
        env.update(
            {
                "PYTHONPATH": str(Path(livechat_analytics.__file__).parents[1]),
                P + "MONGO_URI": secantus_uri + name,
                P + "CACHE_TYPE": "RedisCache",
                P + "CACHE_URL": redis_url,
                P + "CACHE_CONFIG": json.dumps({"CACHE_KEY_PREFIX": name + ":"}),
                P + "SLOT_SECONDS": "0",
                "WEB_CONCURRENCY": "1",
            }
        )
        servers = [start_gunicorn(env, tmp_path / f"gunicorn{number}.log") for number in range(2)]
        try:
            first = get_json_when_up(*servers[0], AMOUNT, headers)
            client[name]["rocketchat_room"].insert_one(room("b"))
            second = get_json_when_up(*servers[1], AMOUNT, headers)
            fresh = get_json_when_up(*servers[1], AMOUNT + "&count=7", headers)
        finally:
            for process, _ in servers:
                process.terminate()
                process.wait(timeout=10)
            client.drop_database(name)
    assert first["total"] == first["departments"][0]["rooms"] == 1
    assert second == first
    assert fresh["departments"][0]["rooms"] == 2
