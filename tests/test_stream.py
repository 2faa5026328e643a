"""``live/stream`` over a real socket on every backend: the first events are the JSON endpoints'
bodies, a new queued room reaches an open stream (through a change stream on SecantusDB, by polling
on mongomock), the limit of streams answers JSON 503s, a monitor's stream holds their scope only,
streams of one scope share one computation, pings, the database lost ends each stream with an
``error`` event, and the open streams gauge counts them."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import units
from browser import serving
from prometheus_client.parser import text_string_to_metric_families
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import OperationFailure
from sse import PING, EventStream
from support import NOT_LOGGED_IN, ROOT, UNAUTHORIZED, UNAVAILABLE, add_user, free_port, server_process

from livechat_analytics import LivechatAnalytics, config, gunicorn_conf, live_watch, stream
from livechat_analytics.state import current

URL = ROOT + "/live/stream"
ROOMS = "rocketchat_room"
S = dt.timedelta(seconds=1)
#: The poll interval of the tests on mongomock, in seconds.
POLL = 0.5
#: The body of the 503 past the limit of streams.
TOO_MANY = {
    "success": False,
    "error": "Too many live streams are open; try again later.",
    "errorType": "too-many-streams",
}


@pytest.fixture(autouse=True)
def quick_pings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ping after a second of silence: a client that went is found out within it."""
    monkeypatch.setattr(stream, "PING_SECONDS", 1.0)


@pytest.fixture
def now(stopped_live_clock: dt.datetime) -> dt.datetime:
    """The moment of every state of the test."""
    return stopped_live_clock


@pytest.fixture
def streams() -> Iterator[Callable[..., EventStream]]:
    """A factory of streams (``streams(base, headers, **params)``), closed after the test."""
    opened: list[EventStream] = []

    def open_one(base: str, headers: dict[str, str], **params: str) -> EventStream:
        opened.append(EventStream(base, URL, headers, **params))
        return opened[-1]

    yield open_one
    for one in opened:
        one.close()


def room(_id: str, now: dt.datetime, ago: float, **fields: Any) -> dict:
    """An open livechat room created ``ago`` seconds before ``now``, queued unless told."""
    return {"_id": _id, "t": "l", "ts": now - ago * S, "open": True, **fields}


def first_two(one: EventStream) -> dict[str, Any]:
    """The two events a stream starts with, by name."""
    assert one.status == 200, one.json()
    found = dict([one.next_event(5), one.next_event(5)])
    assert set(found) == {"queue", "agents"}
    return found


def wait_for(condition: Callable[[], bool], seconds: float = 10) -> None:
    until = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < until, "not within time"
        time.sleep(0.02)


def test_the_first_events_are_the_json_endpoints_bodies(make_app, database, now, streams):
    database[ROOMS].insert_many(
        [
            room("a", now, 10, departmentId="d1"),
            room("b", now, 100, departmentId="d1"),
            room("c", now, 50, departmentId="d1"),
        ]
    )
    database["users"].insert_one(
        {
            "_id": "ana",
            "username": "ana",
            "roles": ["livechat-agent"],
            "status": "online",
            "statusLivechat": "available",
            "livechat": {"maxNumberSimultaneousChat": 4},
        }
    )
    database[ROOMS].insert_many(
        [room(f"s{n}", now, 5, departmentId="d1", servedBy={"_id": "ana"}) for n in range(2)]
    )
    headers = add_user(database)
    app = make_app()
    with serving(app) as base:
        one = streams(base, headers)
        assert one.headers["Content-Type"] == "text/event-stream; charset=utf-8"
        assert one.headers["Cache-Control"] == "no-cache"
        assert one.headers["X-Accel-Buffering"] == "no"
        first = first_two(one)
    client = app.test_client()
    assert first["queue"] == client.get(ROOT + "/live/queue", headers=headers).get_json()
    assert first["agents"] == client.get(ROOT + "/live/agents", headers=headers).get_json()
    row = {"queued": 3, "oldestWaitSeconds": 100, "open": 2, "onHold": 0}
    assert first["queue"]["departments"] == [{"_id": "d1", **row}]
    [ana] = first["agents"]["agents"]
    assert (ana["openChats"], ana["maxChats"], ana["occupancy"]) == (2, 4, 0.5)


def test_the_department_and_names_are_the_queue_s(make_app, database, now, streams):
    database[ROOMS].insert_many(
        [room("a", now, 10, departmentId="d1"), room("b", now, 20, departmentId="d2")]
    )
    database["rocketchat_livechat_department"].insert_one({"_id": "d1", "name": "Sales"})
    headers = add_user(database)
    with serving(make_app()) as base:
        first = first_two(streams(base, headers, departmentId="d1", names="true"))
    row = {"queued": 1, "oldestWaitSeconds": 10, "open": 0, "onHold": 0}
    assert first["queue"]["departments"] == [{"_id": "d1", "name": "Sales", **row}]
    assert first["queue"]["total"] == row


def test_a_queued_room_reaches_an_open_stream(make_app, database, backend, now, streams):
    headers = add_user(database)
    # On a server the poll is far off: only the change stream can bring the room in time.
    app = make_app(LIVE_POLL_SECONDS=POLL if backend == "mongomock" else 60)
    with serving(app) as base:
        one = streams(base, headers)
        assert first_two(one)["queue"]["total"]["queued"] == 0
        hub = current(app).hub
        wait_for(lambda: hub.watching is not None)
        assert hub.watching is (backend != "mongomock")
        inserted = time.monotonic()
        database[ROOMS].insert_one(room("new", now, 42, departmentId="d1"))
        event, body = one.next_event(5)
        took = time.monotonic() - inserted
    assert event == "queue"
    assert body["departments"] == [
        {"_id": "d1", "queued": 1, "oldestWaitSeconds": 42, "open": 0, "onHold": 0}
    ]
    # Polling: within the poll and the spacing of one computation a second.
    assert took < (2.0 if backend != "mongomock" else POLL + live_watch.SPACING + 0.5)


def test_past_the_limit_each_stream_answers_the_json_503(make_app, database, streams):
    headers = add_user(database)
    with serving(make_app(LIVE_MAX_STREAMS=50, LIVE_POLL_SECONDS=60)) as base:
        answers = [streams(base, headers) for _ in range(60)]
        refused = [one for one in answers if one.status == 503]
        assert len(refused) == 10 and sum(one.status == 200 for one in answers) == 50
        for one in refused:
            assert one.headers["Retry-After"] == "5"
            assert one.headers["Content-Type"] == "application/json"
            assert one.json() == TOO_MANY
        # A stream that goes frees its place.
        answers[0].close()
        wait_for(lambda: streams(base, headers).status == 200)


def test_a_monitor_s_stream_holds_their_scope_only(make_app, database, backend, now, streams):
    documents = units.world()
    units.store(database, documents)
    app = make_app(LIVE_POLL_SECONDS=POLL if backend == "mongomock" else 60)
    theirs_departments = units.departments_of(documents, units.MONITOR1)
    assert units.A in theirs_departments and units.C not in theirs_departments
    with serving(app) as base:
        theirs = streams(base, units.headers(units.MONITOR1))
        everything = streams(base, units.headers(units.MANAGER))
        first = first_two(theirs)
        first_everything = first_two(everything)
        client = app.test_client()
        assert (
            first["queue"]
            == client.get(ROOT + "/live/queue", headers=units.headers(units.MONITOR1)).get_json()
        )
        units_seen = units.units_of(documents, units.MONITOR1)
        seen = {
            document.get("departmentId")
            for document in documents[ROOMS]
            if document.get("t") == "l"
            and document.get("open") is True
            and (
                document.get("departmentId") in theirs_departments
                or units_seen & set(document.get("departmentAncestors") or [])
            )
        }
        assert {row["_id"] for row in first["queue"]["departments"]} == seen
        assert first["queue"] != first_everything["queue"]
        outside = queued_in(first_everything["queue"], units.C)
        database[ROOMS].insert_one(room("outside", now, 5, departmentId=units.C))
        event, body = everything.next_event(5)
        assert (event, queued_in(body, units.C)) == ("queue", outside + 1)
        with pytest.raises(TimeoutError):  # nothing they may see changed
            theirs.next_event(2 * live_watch.SPACING + POLL)
        inside = queued_in(first["queue"], units.A)
        database[ROOMS].insert_one(room("inside", now, 5, departmentId=units.A))
        event, body = theirs.next_event(5)
        assert (event, queued_in(body, units.A)) == ("queue", inside + 1)


def queued_in(body: dict[str, Any], department: str) -> int:
    """The queued rooms of a department in a queue body (0 without a row)."""
    return sum(row["queued"] for row in body["departments"] if row["_id"] == department)


def test_streams_of_one_scope_share_one_computation(make_app, database, backend, now, streams):
    headers = add_user(database)
    app = make_app(LIVE_POLL_SECONDS=POLL if backend == "mongomock" else 60)
    with serving(app) as base:
        same = [streams(base, headers) for _ in range(3)]
        other = streams(base, headers, departmentId="d1")
        for one in [*same, other]:
            first_two(one)
        hub = current(app).hub
        rounds, before = hub.counts()
        database[ROOMS].insert_one(room("new", now, 3, departmentId="d1"))
        for one in [*same, other]:
            assert one.next_event(5)[0] == "queue"
        time.sleep(live_watch.SPACING + 0.2)
        rounds_after, after = hub.counts()
    # Each round computes the two keys once each, not once per stream.
    assert rounds_after > rounds
    assert after - before == 2 * (rounds_after - rounds)
    if backend != "mongomock":  # one change, one round
        assert rounds_after - rounds == 1


def test_a_ping_after_silence(make_app, database, monkeypatch, streams):
    monkeypatch.setattr(stream, "PING_SECONDS", 0.3)
    headers = add_user(database)
    with serving(make_app(LIVE_POLL_SECONDS=POLL)) as base:
        one = streams(base, headers)
        first_two(one)
        started = time.monotonic()
        assert one.next(5) == PING
        assert time.monotonic() - started < 2


@pytest.mark.server
def test_the_database_lost_ends_each_stream_with_an_error_event(make_bare_app, streams):
    with server_process() as (process, uri):
        client: MongoClient = MongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=1000)
        try:
            database = client["rocketchat"]
            headers = add_user(database)
            app = make_bare_app(MAX_TIME_MS=2000, CACHE_SECONDS=0)
            LivechatAnalytics(app, database=database)
            with serving(app) as base:
                ones = [streams(base, headers) for _ in range(2)]
                for one in ones:
                    first_two(one)
                hub = current(app).hub
                wait_for(lambda: hub.watching is True)
                process.kill()
                process.wait(10)
                for one in ones:
                    assert one.next_event(15) == ("error", UNAVAILABLE)
                    assert one.next(5) == ("end", None)
                wait_for(lambda: hub.open_streams == 0)
        finally:
            client.close()


def test_the_open_streams_gauge_counts_them(make_app, database, now, streams):
    headers = add_user(database)
    app = make_app(METRICS=True, METRICS_TOKEN="t", LIVE_POLL_SECONDS=POLL)
    client = app.test_client()

    def metric(name: str) -> float:
        text = client.get(ROOT + "/metrics", headers={"Authorization": "Bearer t"}).get_data(as_text=True)
        [value] = [
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == name
        ]
        return value

    def gauge() -> float:
        return metric("livechat_analytics_open_streams")

    assert gauge() == 0
    with serving(app) as base:
        ones = [streams(base, headers) for _ in range(3)]
        for one in ones:
            first_two(one)
        assert gauge() == 3
        database[ROOMS].insert_one(room("new", now, 3))
        ones[1].next_event(5)
        ones[0].close()
        wait_for(lambda: gauge() == 2)
        hub = current(app).hub
        # The computations counter is the hub's count, read between two rounds.
        wait_for(lambda: metric("livechat_analytics_live_computations_total") == hub.counts()[1])
        assert hub.counts()[1] >= 1


# -- Before the stream: the usual JSON errors ------------------------------------------------------


def test_a_caller_not_logged_in_or_without_the_permission_is_refused(client, database):
    assert client.get(URL).get_json() == NOT_LOGGED_IN
    assert client.get(URL).status_code == 401
    refused = client.get(URL, headers=add_user(database, "plain", token="plain-token", roles=("user",)))
    assert (refused.status_code, refused.get_json()) == (403, UNAUTHORIZED)


def test_other_methods_answer_405(client, headers):
    response = client.post(URL, headers=headers)
    assert response.status_code == 405
    assert response.get_json() == {"success": False, "error": "The live stream answers GET only."}


@pytest.mark.server
def test_a_database_down_at_connect_is_the_json_503(make_bare_app):
    client: MongoClient = MongoClient(f"mongodb://127.0.0.1:{free_port()}", serverSelectionTimeoutMS=300)
    try:
        app = make_bare_app(MAX_TIME_MS=500)
        LivechatAnalytics(app, database=client["rocketchat"])
        response = app.test_client().get(URL, headers={"X-User-Id": "u", "X-Auth-Token": "t"})
        assert (response.status_code, response.get_json()) == (503, UNAVAILABLE)
        assert response.headers["Retry-After"] == "5"
        assert current(app).hub.open_streams == 0
    finally:
        client.close()


# -- The watch ------------------------------------------------------------------------------------


def test_the_change_filter_leaves_out_what_cannot_change_the_state(secantus_uri):
    """Messages touch every room's last message, and other rooms come and go: none of it wakes the
    watch; a livechat room, an inquiry and an agent's status do."""
    client: MongoClient = MongoClient(secantus_uri, tz_aware=True)
    database: Database = client["watch_" + str(time.monotonic_ns())]
    names = {"room": ROOMS, "inquiry": "rocketchat_livechat_inquiry", "users": "users"}
    try:
        database[ROOMS].insert_one({"_id": "r", "t": "l", "open": True})
        with database.watch(live_watch.change_pipeline(names), max_await_time_ms=200) as changes:
            database[ROOMS].insert_one({"_id": "c", "t": "c"})
            database[ROOMS].update_one({"_id": "r"}, {"$set": {"lastMessage": {"msg": "hi"}, "msgs": 3}})
            database["users"].insert_one({"_id": "u", "status": "online"})
            database["users"].update_one({"_id": "u"}, {"$set": {"lastLogin": 1}})
            database["users"].update_one({"_id": "u"}, {"$set": {"status": "away"}})
            database[ROOMS].update_one({"_id": "r"}, {"$set": {"servedBy": {"_id": "u"}}})
            database[ROOMS].update_one({"_id": "r"}, {"$unset": {"servedBy": 1}})
            database["rocketchat_livechat_inquiry"].insert_one({"_id": "i", "rid": "r"})
            database[ROOMS].insert_one({"_id": "l", "t": "l", "open": True})
            seen = []
            until = time.monotonic() + 5
            while len(seen) < 6 and time.monotonic() < until:
                change = changes.try_next()
                if change is not None:
                    seen.append((change["ns"]["coll"], change["operationType"], change["documentKey"]["_id"]))
    finally:
        client.drop_database(database.name)
        client.close()
    assert seen == [
        ("users", "insert", "u"),
        ("users", "update", "u"),
        (ROOMS, "update", "r"),
        (ROOMS, "update", "r"),
        ("rocketchat_livechat_inquiry", "insert", "i"),
        (ROOMS, "insert", "l"),
    ]


@pytest.mark.parametrize(
    "settings",
    [
        {"LIVE_POLL_SECONDS": 0},
        {"LIVE_POLL_SECONDS": True},
        {"LIVE_MAX_STREAMS": 0},
        {"LIVE_MAX_STREAMS": 2.5},
    ],
)
def test_the_settings_refuse_what_they_do_not_take(settings):
    with pytest.raises(RuntimeError, match="LIVECHAT_ANALYTICS_LIVE_"):
        config.validate({config.PREFIX + key: value for key, value in settings.items()})


def test_the_poll_takes_fractions_of_a_second_from_the_environment():
    assert config.from_environment({"LIVECHAT_ANALYTICS_LIVE_POLL_SECONDS": "0.5"}) == {
        "LIVECHAT_ANALYTICS_LIVE_POLL_SECONDS": 0.5
    }


# -- Gunicorn ---------------------------------------------------------------------------------------


def test_each_worker_has_a_thread_per_stream_and_four_for_requests():
    assert gunicorn_conf.worker_threads(50) == 54
    assert gunicorn_conf.threads == 4 + config.LIVE_MAX_STREAMS


def test_an_exited_worker_leaves_the_open_streams_gauge(monkeypatch, tmp_path):
    """In multiprocess mode, ``child_exit`` removes the exited worker's live gauge files (and only
    theirs): the open streams sum the workers alive."""
    for name in ("gauge_livesum_41.db", "gauge_livesum_42.db", "counter_41.db"):
        (tmp_path / name).write_bytes(b"")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    gunicorn_conf.child_exit(None, SimpleNamespace(pid=41))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["counter_41.db", "gauge_livesum_42.db"]
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    gunicorn_conf.child_exit(None, SimpleNamespace(pid=42))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["counter_41.db", "gauge_livesum_42.db"]


@pytest.mark.parametrize(
    ("taken", "said"),
    [
        ("token", NOT_LOGGED_IN),
        ("permission", UNAUTHORIZED),
    ],
)
def test_a_caller_who_may_no_longer_see_gets_an_error_event(
    make_app, database, monkeypatch, streams, taken, said
):
    monkeypatch.setattr(stream, "PING_SECONDS", 0.2)
    monkeypatch.setattr(stream, "RECHECK_SECONDS", 0.3)
    headers = add_user(database)
    with serving(make_app(LIVE_POLL_SECONDS=60)) as base:
        one = streams(base, headers)
        first_two(one)
        assert one.next(2) == PING  # still allowed: the stream goes on
        if taken == "token":
            database["users"].update_one({"_id": "manager"}, {"$set": {"services.resume.loginTokens": []}})
        else:
            database["users"].update_one({"_id": "manager"}, {"$set": {"roles": ["user"]}})
        assert one.next_event(3) == ("error", said)
        assert one.next(3) == ("end", None)


def test_a_monitor_whose_units_changed_gets_an_error_event(make_app, database, monkeypatch, streams):
    monkeypatch.setattr(stream, "PING_SECONDS", 0.2)
    monkeypatch.setattr(stream, "RECHECK_SECONDS", 0.3)
    documents = units.world()
    units.store(database, documents)
    with serving(make_app(LIVE_POLL_SECONDS=60)) as base:
        one = streams(base, units.headers(units.MONITOR1))
        first_two(one)
        database["rocketchat_livechat_unit_monitors"].delete_many({"monitorId": units.MONITOR1})
        changed = {
            "success": False,
            "error": "What you may see has changed; open the stream again.",
            "errorType": "scope-changed",
        }
        assert one.next_event(3) == ("error", changed)


# -- The hub on its own: a server without change streams, a watch that times out -------------------


def counting_hub(watch: Callable[[], Any]) -> tuple[live_watch.Hub, list[str]]:
    """A hub whose computations count themselves: the n-th holds ``{"n": n}``."""
    computed: list[str] = []

    def compute(key: Any) -> dict[str, Any]:
        computed.append(key)
        return {"queue": {"n": len(computed), "at": None}}

    def failed(error: Exception) -> dict[str, Any]:
        return {"success": False, "error": type(error).__name__}

    hub = live_watch.Hub(compute, watch, poll_seconds=0.2, max_streams=2, deadline=5, failed=failed)
    return hub, computed


def messages(hub: live_watch.Hub, many: int) -> list[live_watch.Message]:
    """The first ``many`` messages of a stream of the hub that was first sent ``{"n": 0}``."""
    one = hub.subscribe("key")
    hub.start(one, {"queue": {"n": 0, "at": None}})
    try:
        return [one.waiting.get(timeout=5) for _ in range(many)]
    finally:
        hub.unsubscribe(one)


def test_a_server_without_change_streams_is_polled():
    def refuse() -> Any:  # as a standalone mongod answers $changeStream
        raise OperationFailure("The $changeStream stage is only supported on replica sets", code=40573)

    hub, computed = counting_hub(refuse)
    first, second = messages(hub, 2)
    assert hub.watching in (False, None)  # polled, or ended with the stream
    assert (first.event, first.data["n"], second.data["n"]) == ("queue", 1, 2)
    assert set(computed) == {"key"}


def test_a_watch_that_times_out_ends_the_stream_with_an_error_event():
    def too_slow() -> Any:  # the deadline passed on the server (MaxTimeMSExpired)
        raise OperationFailure("operation exceeded time limit", code=50)

    hub, computed = counting_hub(too_slow)
    [message] = messages(hub, 1)
    assert (message.event, message.data) == ("error", {"success": False, "error": "OperationFailure"})
    assert computed == []
