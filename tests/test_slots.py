"""The room table (``slots.py``): every panel it serves answers byte for byte what its own aggregate
answers, over random rooms, windows, timezones, departments and scopes; a page load reads the rooms
once; kept days are read again only where rooms changed, keep apart what callers may see, and are
shared through Redis."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask, Request
from hypothesis import given, note
from hypothesis import strategies as st
from pymongo.database import Database
from pymongo.errors import ExecutionTimeout
from strategies import DAY_MS, milliseconds_of, oddly_stored, room_documents
from support import ROOT, UTC, property_settings, store_rooms

from livechat_analytics import Authenticator
from livechat_analytics.auth import Scope, User
from livechat_analytics.endpoints.departments import METRICS
from livechat_analytics.endpoints.slots import DAY_SLOTS, Days
from livechat_analytics.state import current

ROOMS = "rocketchat_room"
TIMEOUT = 3600
#: Who asks: a manager, a monitor of one department, one of a unit and a department, one of nothing.
SCOPES: dict[str, Scope | None] = {
    "all": None,
    "d1": Scope(departments=frozenset({"d1"}), agents=frozenset()),
    "unit": Scope(departments=frozenset({"d2"}), units=frozenset({"u1"}), agents=frozenset()),
    "none": Scope(agents=frozenset()),
    "sales": Scope(departments=frozenset({"9rnGXSfo73qRm2SjE"}), agents=frozenset()),
}
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu")
#: Local days to start on: the clocks change on 2024-03-10 (New York) and 2024-03-31 (Berlin).
FIRST_DAYS = (dt.date(2024, 3, 9), dt.date(2024, 3, 10), dt.date(2024, 3, 30), dt.date(2024, 3, 31))
NAMES = [metric.path.removeprefix("departments/") for metric in METRICS.values() if metric.tally is not None]
#: Every endpoint the table serves.
SERVED = [
    *(f"departments/{name}" for name in NAMES),
    *(f"trends/{name}" for name in NAMES),
    "trends/heatmap",
    "dashboards/charts/chats",
    "dashboards/productivity-totalizers",
    "dashboards/conversation-totalizers",
    "dashboards/chats-totalizers",
]


class Keys(Authenticator):
    """Every caller may ask anything; ``X-Scope`` names what they may see (:data:`SCOPES`)."""

    def authenticate(self, request: Request) -> User | None:
        return User(request.headers.get("X-Scope", "all"))

    def authorize(self, user: User, permission: str) -> bool:
        return True

    def scope(self, user: User) -> Any:
        return SCOPES[user.id]


class Reads:
    """The reads of a repository: the pipelines of its aggregates and streams, by method."""

    def __init__(self, app: Flask) -> None:
        self.calls: list[tuple[str, list[dict[str, Any]]]] = []
        repository = current(app).repository
        for method in ("aggregate", "aggregate_page", "stream"):
            self._wrap(repository, method)

    def _wrap(self, repository: Any, method: str) -> None:
        original = getattr(repository, method)

        def recorded(collection: str, pipeline: list[dict[str, Any]], **options: Any) -> Any:
            self.calls.append((method, pipeline))
            return original(collection, pipeline, **options)

        setattr(repository, method, recorded)

    def taken(self) -> list[tuple[str, list[dict[str, Any]]]]:
        calls, self.calls = self.calls, []
        return calls


def forget_answers(app: Flask) -> None:
    """Drop the kept answers and windows' tables of an in-process cache, keeping the kept days (and
    when they were last looked at)."""
    backend = current(app).answers.backend
    for key in list(backend._cache):
        if "/day:" not in key and "/seen:" not in key:
            del backend._cache[key]


@pytest.fixture
def apps(make_app: Callable[..., Flask]) -> tuple[Any, Any, Flask]:
    """A client of an app that reads for every panel, and one of an app with the room table."""
    direct = make_app(authenticator=Keys())
    table = make_app(authenticator=Keys(), CACHE_SECONDS=600)
    return direct.test_client(), table.test_client(), table


def get(client: Any, path: str, params: dict[str, str], scope: str = "all") -> Any:
    return client.get(f"{ROOT}/{path}", query_string=params, headers={"X-Scope": scope})


def assert_same(direct: Any, table: Any, path: str, params: dict[str, str], scope: str = "all") -> None:
    expected, derived = get(direct, path, params, scope), get(table, path, params, scope)
    assert (derived.status_code, derived.data) == (expected.status_code, expected.data), (path, params, scope)
    assert derived.status_code == 200, derived.get_json()


def count_windows(days: Days) -> list[int]:
    """How many windows' tables ``days`` computes, counted as it goes."""
    counted = [0]
    window = days._window

    def counting(*args: Any) -> Any:
        counted[0] += 1
        return window(*args)

    days._window = counting  # type: ignore[method-assign]
    return counted


# -- Every answer the same, over random rooms -------------------------------------------------------


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """A zone, a window of whole quarter hours in it (an hour to four local days), and rooms around
    it: odd values, units, and rooms created after it yet closed in it among them."""
    zone = draw(st.sampled_from(ZONES))
    day = draw(st.sampled_from(FIRST_DAYS))
    start = dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    start += dt.timedelta(minutes=15 * draw(st.sampled_from([0, 0, 1, 38])))
    quarters = draw(st.sampled_from([1, 4, 20, 96, 4 * 96]))
    end = start + dt.timedelta(minutes=15 * quarters, milliseconds=-1)
    first, last = milliseconds_of(start), milliseconds_of(end)
    rooms = draw(st.lists(room_documents(first - DAY_MS // 4, last, (TIMEOUT,)), max_size=25))
    for room in rooms:
        if draw(st.integers(0, 4)) == 0:
            room.update(draw(oddly_stored(room)))
        if draw(st.booleans()):
            room["departmentAncestors"] = ["u1"]
        if draw(st.integers(0, 2)) == 0:
            # Not 1: mongomock's {$ne: true} misses it (test_every_odd_value_... has it on MongoDB).
            room["waitingResponse"] = draw(st.sampled_from([[True], [True, False], [False], [], "true", 0]))
        if draw(st.booleans()):
            room["v"] = {"_id": draw(st.sampled_from(["v1", "v2", "v3", 7, ["v1"]]))}
    window = {"start": start.isoformat(), "end": end.isoformat(timespec="milliseconds"), "timezone": zone}
    return window, [{**room, "_id": f"r{n}"} for n, room in enumerate(rooms)]


@st.composite
def asks(draw: st.DrawFn, path: str) -> dict[str, str]:
    """The parameters of ``path`` a request may add: a department, a page, names, a bucket."""
    params: dict[str, str] = {}
    department = draw(st.sampled_from([None, None, "d1", "d2", "A", "nowhere"]))
    if department is not None:
        params["departmentId"] = department
    if path.endswith("amount-of-chats"):
        answered = draw(st.sampled_from([None, "true", "false"]))
        if answered is not None:
            params["answered"] = answered
    if path.startswith("departments/"):
        metric = METRICS[path]
        names = draw(st.booleans())
        if names:
            params["names"] = "true"
        field = draw(st.sampled_from(["_id", *metric.fields]))
        sort = json.dumps({field: draw(st.sampled_from([1, -1]))})
        params.update(sort=sort, count=str(draw(st.integers(0, 3))), offset=str(draw(st.integers(0, 2))))
        if draw(st.integers(0, 3)) == 0:
            params["format"] = "csv"
    elif path.startswith("trends/") and path != "trends/heatmap":
        params["groupBy"] = draw(st.sampled_from(["hour", "day", "week", "month"]))
        if draw(st.booleans()):
            params["byDepartment"] = "true"
        if draw(st.booleans()):
            params["compare"] = "previous"
    return params


@property_settings(50)
@given(scenario=scenarios(), data=st.data())
def test_every_panel_answers_from_the_table_as_from_its_own_aggregate(database, apps, scenario, data):
    window, rooms = scenario
    direct, table, app = apps
    database["rocketchat_livechat_department"].delete_many({})
    database["rocketchat_livechat_department"].insert_many([{"_id": "d1", "name": "One"}, {"_id": "A"}])
    store_rooms(database, rooms)
    kinds = data.draw(
        st.lists(st.sampled_from([None, None, "uj", "livechat-close"]), max_size=len(rooms) * 2)
    )
    database["rocketchat_message"].delete_many({})
    if kinds:
        database["rocketchat_message"].insert_many(
            [
                {"_id": f"m{n}", "rid": f"r{n % len(rooms)}", "ts": NOW, **({"t": kind} if kind else {})}
                for n, kind in enumerate(kinds)
            ]
        )
    current(app).cache.clear()
    computed = count_windows(current(app).days)
    scope = data.draw(st.sampled_from(sorted(SCOPES)), label="scope")
    for path in SERVED:
        params = {**window, **data.draw(asks(path), label=path)}
        note(f"{path} {params}")
        assert_same(direct, table, path, params, scope)
    assert computed[0] >= 1


# -- The demo, and what a page load reads ----------------------------------------------------------

#: The page's window on the demo (30 days in Berlin) and a day in a quarter-hour zone.
DEMO_WINDOWS = (
    {"start": "2024-05-16", "end": "2024-06-14", "timezone": "Europe/Berlin"},
    {"start": "2024-06-14", "end": "2024-06-14", "timezone": "Asia/Kathmandu"},
)


def page_requests(window: dict[str, str]) -> Iterator[tuple[str, dict[str, str]]]:
    """What a page load asks of the table's panels (and a little more)."""
    for path in SERVED:
        yield path, window
    yield "departments/amount-of-chats", {**window, "answered": "true", "names": "true"}
    yield "departments/average-chat-duration-time", {**window, "format": "csv"}
    yield "trends/total-service-time", {**window, "byDepartment": "true", "groupBy": "week"}


@pytest.mark.parametrize("window", DEMO_WINDOWS, ids=["30-days-berlin", "day-kathmandu"])
def test_the_demos_panels_are_the_same_and_read_the_rooms_once(demo_data, apps, window):
    direct, table, app = apps
    reads = Reads(app)
    for path, params in page_requests(window):
        assert_same(direct, table, path, params)
    # The window's days read once, a week at a time; the rooms created after them (none); the days'
    # messages and visitors (conversation-totalizers), a week at a time; nothing else.
    assert page_reads(reads.taken(), window) == ["stream"] * 2 * weeks(window) + ["stream"]
    for department in (None, "9rnGXSfo73qRm2SjE"):
        params = {**window, **({"departmentId": department} if department else {})}
        for path in SERVED:
            assert_same(direct, table, path, params, "sales")
    # A monitor's tables are their own, the department their tables' rows.
    assert page_reads(reads.taken(), window) == ["stream"] * 2 * weeks(window) + ["stream"]


def weeks(window: dict[str, str]) -> int:
    """How many reads of at most seven UTC days the window's UTC days take."""
    zone = ZoneInfo(window["timezone"])
    first = dt.datetime.fromisoformat(window["start"]).replace(tzinfo=zone).astimezone(UTC).date()
    last = (dt.datetime.fromisoformat(window["end"]) + dt.timedelta(days=1)).replace(tzinfo=zone)
    days = (last.astimezone(UTC) - dt.timedelta(milliseconds=1)).date() - first
    return -(-(days.days + 1) // 7)


def page_reads(calls: list[tuple[str, list[dict[str, Any]]]], window: dict[str, str]) -> list[str]:
    """The reads' methods, the joins of the messages (as many as the rooms' reads) counted apart."""
    joins = [method for method, pipeline in calls if "$lookup" in str(pipeline)]
    assert len(joins) == weeks(window)
    return [method for method, _ in calls]


def test_a_window_not_of_whole_quarter_hours_and_business_time_read_for_themselves(demo_data, apps):
    direct, table, app = apps
    counted = count_windows(current(app).days)
    odd = {"start": "2024-06-01T10:07:00Z", "end": "2024-06-14T10:07:00Z"}
    for path in SERVED:
        assert_same(direct, table, path, odd)
    assert counted[0] == 0


# -- Kept days ------------------------------------------------------------------------------------

NOW = dt.datetime(2024, 6, 14, 15, 30, tzinfo=UTC)
WINDOW = {"start": "2024-06-10", "end": "2024-06-14"}


def room(number: int, created: dt.datetime, **fields: Any) -> dict[str, Any]:
    """A livechat room of d1 created at ``created``, changed then unless ``fields`` say."""
    return {
        "_id": f"k{number}",
        "t": "l",
        "ts": created,
        "departmentId": "d1",
        "_updatedAt": created,
        **fields,
    }


@pytest.fixture
def kept(database: Database, apps: tuple[Any, Any, Flask]) -> tuple[Any, Any, Flask, Reads, list[float]]:
    """Rooms of four days, the apps, the table app's reads, and its days' clock (settable)."""
    rooms = [room(n, NOW - dt.timedelta(days=4) + dt.timedelta(hours=5 * n)) for n in range(20)]
    for index in range(0, 20, 2):
        rooms[index].update(open=True)
    for index in range(1, 20, 2):
        closed = rooms[index]["ts"] + dt.timedelta(minutes=10)
        rooms[index].update(closedAt=closed, metrics={"chatDuration": 600})
    database[ROOMS].insert_many(rooms)
    direct, table, app = apps
    clock = [NOW.timestamp()]
    current(app).days.clock = lambda: clock[0]
    reads = Reads(app)
    assert_same(direct, table, "departments/amount-of-chats", WINDOW)
    assert len(reads.taken()) == 2
    return direct, table, app, reads, clock


def refreshed_ranges(calls: list[tuple[str, list[dict[str, Any]]]]) -> list[tuple[dt.datetime, dt.datetime]]:
    """The creation ranges the reads of slots asked for (the late read aside)."""
    ranges = []
    for method, pipeline in calls:
        created = pipeline[0]["$match"].get("ts", {})
        if method == "stream" and "$lt" in created:
            ranges.append((created["$gte"].replace(tzinfo=UTC), created["$lt"].replace(tzinfo=UTC)))
    return ranges


def test_a_reload_reads_only_the_quarter_hours_whose_rooms_changed(database, kept):
    direct, table, app, reads, clock = kept
    clock[0] += 30
    changed = NOW - dt.timedelta(days=2, hours=3, minutes=7)
    moved = database[ROOMS].find_one({"ts": {"$gte": changed}}, sort=[("ts", 1)])
    database[ROOMS].update_one(
        {"_id": moved["_id"]},
        {
            "$set": {"closedAt": NOW, "metrics": {"chatDuration": 120}, "_updatedAt": NOW},
            "$unset": {"open": 1},
        },
    )
    database[ROOMS].insert_one(room(99, NOW - dt.timedelta(minutes=20), open=True, _updatedAt=NOW))
    forget_answers(app)
    for path in (
        "departments/amount-of-chats",
        "departments/average-chat-duration-time",
        "dashboards/charts/chats",
    ):
        assert_same(direct, table, path, WINDOW)
    calls = reads.taken()
    # Which slots changed, the two slots read again, and the rooms created after the days.
    assert [method for method, _ in calls] == ["aggregate", "stream", "stream", "stream"]
    moved_slot = moved["ts"].replace(
        tzinfo=UTC, minute=moved["ts"].minute // 15 * 15, second=0, microsecond=0
    )
    new_slot = (NOW - dt.timedelta(minutes=20)).replace(minute=0)
    quarter = dt.timedelta(minutes=15)
    assert refreshed_ranges(calls) == [(moved_slot, moved_slot + quarter), (new_slot, new_slot + quarter)]


def test_a_change_behind_our_clock_by_less_than_the_skew_is_seen(database, kept):
    direct, table, app, reads, clock = kept
    clock[0] += 30
    # Written by a server whose clock is 50 s behind ours, after our last look.
    written = NOW - dt.timedelta(seconds=20)
    database[ROOMS].update_one({"_id": "k0"}, {"$set": {"departmentId": "d2", "_updatedAt": written}})
    forget_answers(app)
    assert_same(direct, table, "departments/amount-of-chats", WINDOW)
    assert [method for method, _ in reads.taken()] == ["aggregate", "stream", "stream"]
    # A writer further behind (its write older than our last look less the skew) is not asked for:
    # the days' sums stand until they are read whole.
    clock[0] += 120
    behind = NOW - dt.timedelta(seconds=45)
    database[ROOMS].update_one({"_id": "k2"}, {"$set": {"departmentId": "d2", "_updatedAt": behind}})
    forget_answers(app)
    rows = get(table, "departments/amount-of-chats", WINDOW).get_json()["departments"]
    assert rows == [{"_id": "d1", "rooms": 19}, {"_id": "d2", "rooms": 1}]
    # Only the first write's quarter hour is read again (still within the skew of the last look).
    calls = reads.taken()
    assert [method for method, _ in calls] == ["aggregate", "stream", "stream"]
    first = database[ROOMS].find_one({"_id": "k0"})["ts"].replace(tzinfo=UTC)
    assert refreshed_ranges(calls) == [(first, first + dt.timedelta(minutes=15))]


def test_a_change_without_updated_at_shows_when_the_day_is_read_again(database, kept):
    direct, table, app, reads, clock = kept
    database[ROOMS].delete_one({"_id": "k3"})
    forget_answers(app)
    stale = get(table, "departments/amount-of-chats", WINDOW).get_json()["departments"]
    assert stale == [{"_id": "d1", "rooms": 20}]
    reads.taken()
    clock[0] += current(app).days.seconds
    forget_answers(app)
    assert_same(direct, table, "departments/amount-of-chats", WINDOW)
    assert get(table, "departments/amount-of-chats", WINDOW).get_json()["departments"] == [
        {"_id": "d1", "rooms": 19}
    ]
    # Every day read again whole: the changed rooms are not asked for.
    assert [method for method, _ in reads.taken()] == ["stream", "stream"]


def test_kept_days_are_shared_through_redis(database, make_app, redis_url):
    database[ROOMS].insert_many([room(n, NOW - dt.timedelta(hours=7 * n)) for n in range(12)])
    settings = {"CACHE_TYPE": "RedisCache", "CACHE_URL": redis_url, "CACHE_SECONDS": 1}
    first = make_app(authenticator=Keys(), **settings)
    second = make_app(authenticator=Keys(), **settings)
    current(first).answers.backend.clear()
    direct = make_app(authenticator=Keys()).test_client()
    assert_same(direct, first.test_client(), "departments/amount-of-chats", WINDOW)
    reads = Reads(second)
    later = {**WINDOW, "start": "2024-06-12"}
    assert_same(direct, second.test_client(), "trends/amount-of-chats", later)
    # The days came from Redis: the second app asked only which rooms changed, and read no day.
    assert [method for method, _ in reads.taken()] == ["aggregate", "stream"]


def test_a_day_is_a_whole_number_of_slots():
    assert DAY_SLOTS * 15 * 60 == 86_400


def test_a_new_message_reads_again_only_its_rooms_quarter_hour_and_its_messages(database, kept):
    direct, table, app, reads, clock = kept
    messages = database["rocketchat_message"]
    messages.insert_many(
        [{"_id": f"m{n}", "rid": f"k{n % 20}", "msg": "hi", "ts": NOW, "u": {"_id": "v"}} for n in range(60)]
    )
    messages.insert_one({"_id": "system", "rid": "k4", "t": "uj", "ts": NOW})
    forget_answers(app)
    assert_same(direct, table, "dashboards/conversation-totalizers", WINDOW)
    reads.taken()
    clock[0] += 30
    # A message to k5, which (as Rocket.Chat does) sets the room's _updatedAt.
    messages.insert_one({"_id": "late", "rid": "k5", "msg": "still there?", "ts": NOW, "u": {"_id": "v"}})
    database[ROOMS].update_one({"_id": "k5"}, {"$set": {"_updatedAt": NOW}})
    forget_answers(app)
    body = get(table, "dashboards/conversation-totalizers", WINDOW).get_json()
    assert {item["title"]: item["value"] for item in body["totalizers"]}["Total_messages"] == 61
    assert_same(direct, table, "dashboards/conversation-totalizers", WINDOW)
    calls = reads.taken()
    joins = [pipeline for method, pipeline in calls if method == "stream" and "$lookup" in str(pipeline)]
    created = database[ROOMS].find_one({"_id": "k5"})["ts"].replace(tzinfo=UTC)
    assert refreshed_ranges([("stream", pipeline) for pipeline in joins]) == [
        (created, created + dt.timedelta(minutes=15))
    ]


#: Values of the wrong kind, each stored in one room at one path (strategies' odd values and more).
ODD = {
    "waitingResponse": [True, False, None, [True], [False], [True, False], [], "true", 1, 0],
    "open": [True, False, None, 1, "true", [True]],
    "onHold": [True, False, None, 1, [True]],
    "servedBy": [None, {}, {"_id": 5, "ts": NOW}, {"_id": "a"}, [{"_id": "a", "ts": NOW}], "a"],
    "departmentId": ["d1", None, 5, ["d1"], {"_id": "d1"}],
    "closedAt": [NOW, "2024-06-14", 1718370000000, None, [NOW], {}],
    "responseBy": [{"lastMessageTs": NOW}, {"lastMessageTs": "x"}, [{"lastMessageTs": NOW}], None],
    "metrics.chatDuration": [7.5, -3, "40", True, [5], 2**50 + 1, float("nan")],
    "metrics.serviceTimeDuration": [60, -1, "60", None, [60], float("inf")],
    "metrics.visitorInactivity": [TIMEOUT, TIMEOUT - 1, str(TIMEOUT), [TIMEOUT], None],
    "metrics.response": [{"ft": 100, "avg": 30}, {"ft": "100"}, {"ft": [100]}, [{"ft": 100}], {"avg": True}],
    "metrics.reaction": [{"ft": 12}, {"ft": None}, {"ft": -12}],
}


#: Where mongomock reads a value unlike MongoDB (and SecantusDB): it takes the number 1 for true in
#: the flags (1 == True in Python). The table reads as MongoDB does.
MONGOMOCK_ODD = dict.fromkeys(
    ("waitingResponse", "open", "onHold"), lambda value: type(value) is int and value == 1
)


def test_every_odd_value_counts_from_the_table_as_in_its_own_aggregate(database, apps, backend):
    direct, table, app = apps
    computed = count_windows(current(app).days)
    rooms = []
    for path, values in ODD.items():
        unlike = MONGOMOCK_ODD.get(path) if backend == "mongomock" else None
        for value in [value for value in values if unlike is None or not unlike(value)]:
            number = len(rooms)
            created = NOW - dt.timedelta(hours=number)
            base: dict[str, Any] = {
                "_id": f"o{number}",
                "t": "l",
                "ts": created,
                "departmentId": "d1",
                "open": True,
                "waitingResponse": False,
                "servedBy": {"_id": "agent", "ts": created},
                "responseBy": {"lastMessageTs": created + dt.timedelta(minutes=number)},
                "closedAt": created + dt.timedelta(minutes=30),
                "metrics": {
                    "chatDuration": 1800,
                    "response": {"ft": number, "avg": 3},
                    "visitorInactivity": 9,
                },
            }
            head, _, rest = path.partition(".")
            if rest:
                base[head] = {**base.get(head, {}), rest: value}
            else:
                base[head] = value
            rooms.append(base)
    database[ROOMS].insert_many(rooms)
    window = {"start": "2024-06-10", "end": "2024-06-14"}
    for path in SERVED:
        for department in (None, "d1"):
            params = {**window, **({"departmentId": department} if department else {})}
            if path.endswith("amount-of-chats"):
                for answered in ("true", "false"):
                    assert_same(direct, table, path, {**params, "answered": answered})
            assert_same(direct, table, path, params)
    assert computed == [2]  # the rooms' table and their messages' (conversation-totalizers)


def test_a_process_reads_its_own_current_days_from_memory_not_the_backend(database, kept):
    direct, table, app, reads, clock = kept
    answers = current(app).answers
    asked: list[int] = []
    fetch = answers.kept
    answers.kept = lambda keys: asked.append(len(keys)) or fetch(keys)  # type: ignore[method-assign]
    clock[0] += 30
    forget_answers(app)
    assert_same(direct, table, "departments/amount-of-chats", {**WINDOW, "start": "2024-06-11"})
    # When each day was last looked at (and which version it is), then no day: all held here; and
    # of the database only which rooms changed (none) and the rooms created after the days.
    assert asked == [1, 0]
    assert [method for method, _ in reads.taken()] == ["aggregate", "stream"]
    # Another process (an empty memory) reads the five days from the backend.
    current(app).days._memo.clear()
    forget_answers(app)
    assert_same(direct, table, "departments/amount-of-chats", WINDOW)
    assert asked[2:] == [1, 5]


def test_a_previous_window_finds_its_late_closed_rooms_in_the_kept_days_after_it(database, kept):
    direct, table, app, reads, clock = kept
    # Closed (oddly) before it was created: in the previous window's closed rooms.
    database[ROOMS].insert_one(
        room(
            50,
            NOW - dt.timedelta(days=1),
            closedAt=NOW - dt.timedelta(days=8),
            metrics={"chatDuration": 9},
            _updatedAt=NOW,
        )
    )
    clock[0] += 1
    forget_answers(app)
    for path in ("trends/average-chat-duration-time", "trends/total-abandoned-chats"):
        assert_same(direct, table, path, {**WINDOW, "compare": "previous"})
    calls = reads.taken()
    # The current window: which rooms changed, the new room's quarter hour, the rooms after its days.
    # The previous window: its days; whether its later days (the current window's, up to today)
    # changed (the new room's quarter hour again, still within the skew), the rooms after today.
    assert [method for method, _ in calls] == [
        *(["aggregate", "stream", "stream"]),
        "stream",
        "aggregate",
        "stream",
        "stream",
    ]
    tomorrow = dt.datetime(2024, 6, 15, tzinfo=UTC)
    assert calls[-1][1][0]["$match"]["ts"] == {"$gte": tomorrow}


def test_days_read_before_a_deadline_are_kept_for_the_next_request(database, apps):
    direct, table, app = apps
    database[ROOMS].insert_many([room(n, NOW - dt.timedelta(hours=11 * n)) for n in range(30)])
    window = {"start": "2024-06-01", "end": "2024-06-14"}
    repository = current(app).repository
    stream = repository.stream
    calls: list[list[dict[str, Any]]] = []

    def late_second_read(collection: str, pipeline: list[dict[str, Any]], **options: Any) -> Any:
        calls.append(pipeline)
        if len(calls) == 2:
            raise ExecutionTimeout("operation exceeded time limit", 50)
        return stream(collection, pipeline, **options)

    repository.stream = late_second_read  # type: ignore[method-assign]
    response = get(table, "departments/amount-of-chats", window)
    assert (response.status_code, response.get_json()["errorType"]) == (504, "query-timeout")
    repository.stream = stream  # type: ignore[method-assign]
    reads = Reads(app)
    assert_same(direct, table, "departments/amount-of-chats", window)
    # The first week was kept: asked whether it changed; the second week read, then the late rooms.
    taken = reads.taken()
    assert [method for method, _ in taken] == ["aggregate", "stream", "stream"]
    second_week = dt.datetime(2024, 6, 8, tzinfo=UTC), dt.datetime(2024, 6, 15, tzinfo=UTC)
    assert refreshed_ranges(taken[1:2]) == [second_week]
