"""Property tests of the six room metrics: random rooms, windows and queries, against a plain-Python
oracle written from section 6 of the API contract (not from the package's pipelines).

Every instant is a whole number of milliseconds and every duration a whole number of seconds, so
the oracle works on integers and every expected number is exact.
"""

from __future__ import annotations

import datetime as dt
import json
import pprint
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import example, given, note
from hypothesis import strategies as st
from support import PREFIX, UTC, property_settings

BASE = dt.datetime(2024, 3, 1, tzinfo=UTC)
MS = dt.timedelta(milliseconds=1)
SECOND_MS = 1000
DAY_MS = 86_400_000

ROOMS = "rocketchat_room"
SETTINGS = "rocketchat_settings"
INACTIVITY = "Livechat_visitor_inactivity_timeout"
DEFAULT_T = 3600

DEPARTMENTS = ("d1", "d2", "d3", "A")
#: Marks a field left out of a document.
MISSING = object()

#: Each endpoint's row fields besides ``_id``.
FIELDS: dict[str, tuple[str, ...]] = {
    "average-service-time": ("averageServiceTimeInSeconds",),
    "total-service-time": ("chats", "serviceTimeDuration"),
    "average-chat-duration-time": ("averageChatDurationTimeInSeconds",),
    "average-waiting-time": ("averageWaitingTimeInSeconds",),
    "total-abandoned-chats": ("abandonedRooms",),
    "percentage-abandoned-chats": ("percentageOfAbandonedChats",),
}

SETTINGS_PROFILE = property_settings(30)


# --------------------------------------------------------------------------- time helpers


def moment(milliseconds: int) -> dt.datetime:
    """The instant ``milliseconds`` after ``BASE``."""
    return BASE + dt.timedelta(milliseconds=milliseconds)


def milliseconds_of(instant: dt.datetime) -> int:
    """Exact: a timedelta divided by a timedelta is an integer."""
    return (instant - BASE) // MS


def iso(instant: dt.datetime) -> str:
    """``2024-03-01T00:00:00.000Z``."""
    instant = instant.astimezone(UTC)
    return f"{instant:%Y-%m-%dT%H:%M:%S}.{instant.microsecond // 1000:03d}Z"


def ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


# --------------------------------------------------------------------------- the oracle


def lookup(document: dict, path: str) -> Any:
    """The value at a dotted path, or MISSING."""
    value: Any = document
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return MISSING
        value = value[key]
    return value


def present(document: dict, path: str) -> bool:
    return lookup(document, path) is not MISSING


def or_zero(document: dict, path: str) -> int:
    value = lookup(document, path)
    return 0 if value is MISSING else value


def in_window(document: dict, start: int, end: int) -> bool:
    return start <= milliseconds_of(document["ts"]) <= end


def closed_in_window(document: dict, start: int, end: int) -> bool:
    """Created on or after ``start`` and closed by ``end`` (open rooms have no ``closedAt``)."""
    return (
        milliseconds_of(document["ts"]) >= start
        and "closedAt" in document
        and milliseconds_of(document["closedAt"]) <= end
    )


def abandoned(document: dict, timeout: int) -> bool:
    value = lookup(document, "metrics.visitorInactivity")
    return value is not MISSING and value >= timeout


@dataclass(frozen=True)
class Rule:
    """One endpoint of section 6: which rooms count, and the row fields of a group of them."""

    counts: Callable[[dict, int, int, int], bool]
    row: Callable[[list[dict], int], dict[str, int]]


def service_milliseconds(room: dict) -> int:
    """``lastMessageTs - servedBy.ts``, 0 when the room lacks ``servedBy.ts``."""
    if not present(room, "servedBy.ts"):
        return 0
    return milliseconds_of(room["responseBy"]["lastMessageTs"]) - milliseconds_of(room["servedBy"]["ts"])


RULES: dict[str, Rule] = {
    "average-service-time": Rule(
        lambda room, start, end, t: (
            in_window(room, start, end)
            and present(room, "responseBy.lastMessageTs")
            and present(room, "servedBy._id")
        ),
        lambda rooms, t: {
            "averageServiceTimeInSeconds": ceil_div(
                sum(service_milliseconds(room) for room in rooms), len(rooms) * SECOND_MS
            )
        },
    ),
    "total-service-time": Rule(
        lambda room, start, end, t: (
            closed_in_window(room, start, end) and present(room, "metrics.serviceTimeDuration")
        ),
        lambda rooms, t: {
            "chats": len(rooms),
            "serviceTimeDuration": sum(room["metrics"]["serviceTimeDuration"] for room in rooms),
        },
    ),
    "average-chat-duration-time": Rule(
        lambda room, start, end, t: closed_in_window(room, start, end),
        lambda rooms, t: {
            "averageChatDurationTimeInSeconds": ceil_div(
                sum(or_zero(room, "metrics.chatDuration") for room in rooms), len(rooms)
            )
        },
    ),
    "average-waiting-time": Rule(
        lambda room, start, end, t: in_window(room, start, end) and room.get("waitingResponse") is not True,
        lambda rooms, t: {
            "averageWaitingTimeInSeconds": ceil_div(
                sum(or_zero(room, "metrics.response.ft") for room in rooms), len(rooms)
            )
        },
    ),
    "total-abandoned-chats": Rule(
        lambda room, start, end, t: closed_in_window(room, start, end) and abandoned(room, t),
        lambda rooms, t: {"abandonedRooms": len(rooms)},
    ),
    "percentage-abandoned-chats": Rule(
        lambda room, start, end, t: in_window(room, start, end),
        lambda rooms, t: {
            "percentageOfAbandonedChats": 100 * sum(abandoned(room, t) for room in rooms) // len(rooms)
        },
    ),
}


def id_key(value: str | None) -> tuple:
    """MongoDB's order of ``_id``: null lowest, then strings (ASCII here, so bytes = code points)."""
    return (0, "") if value is None else (1, value)


def expected_rows(
    path: str,
    rooms: list[dict],
    start: dt.datetime,
    end: dt.datetime,
    timeout: int,
    department: str | None,
    sort: dict[str, int] | None,
) -> list[dict]:
    """Every row of the answer, in order, before paging."""
    rule = RULES[path]
    first, last = milliseconds_of(start), milliseconds_of(end)
    groups: dict[str | None, list[dict]] = {}
    for room in rooms:
        if room.get("t") != "l":
            continue
        key = room.get("departmentId")  # missing and null: one group
        if department not in (None, "", "undefined") and key != department:
            continue
        if rule.counts(room, first, last, timeout):
            groups.setdefault(key, []).append(room)
    rows = [{"_id": key, **rule.row(members, timeout)} for key, members in groups.items()]
    keys = list((sort or {"_id": 1}).items())
    if "_id" not in dict(keys):
        keys.append(("_id", 1))
    # Stable sorts from the last key to the first give the lexicographic order.
    for name, direction in reversed(keys):
        key_of = (lambda row: id_key(row["_id"])) if name == "_id" else (lambda row, name=name: row[name])
        rows.sort(key=key_of, reverse=direction == -1)
    return rows


def expected_body(rows: list[dict], count: str | None, offset: str | None) -> dict:
    """The envelope of section 5 around the page the query asks for."""
    skip = int(offset) if offset is not None else 0
    size = 50 if count is None else int(count)
    size = len(rows) if size == 0 else min(size, 100)
    page = rows[skip : skip + size]
    return {"departments": page, "count": len(page), "offset": skip, "total": len(rows), "success": True}


# --------------------------------------------------------------------------- strategies


def choose(*choices: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """One of ``choices``, each as likely; list one several times to weight it."""
    return st.integers(0, len(choices) - 1).flatmap(lambda index: choices[index])


def instants(first: int, last: int) -> st.SearchStrategy[dt.datetime]:
    """Instants on the bounds, just outside them, inside, and anywhere around the window."""
    inside = st.integers(first, last)
    return choose(
        st.sampled_from([first, last, first - 1, last + 1]),
        inside,
        inside,
        inside,
        st.integers(first - 2000, last + 2000),
        st.integers(first - DAY_MS, last + DAY_MS),
    ).map(moment)


def seconds_near(*thresholds: int) -> st.SearchStrategy[int]:
    near = sorted({value + delta for value in thresholds for delta in (-1, 0, 1) if value + delta >= 0})
    return choose(st.sampled_from(near), st.sampled_from(near), st.integers(0, 10_000))


#: Whole seconds: zero, small (so that means round), and large.
durations = choose(st.just(0), st.integers(0, 100), st.integers(0, 100_000))


def put(document: dict, key: str, value: Any) -> None:
    if value is not MISSING:
        document[key] = value


@st.composite
def room_documents(draw: st.DrawFn, first: int, last: int, thresholds: tuple[int, ...]) -> dict:
    """One room, ``_id`` left for the caller: livechat or not, open or closed, any metric missing."""
    when = instants(first, last)
    room: dict[str, Any] = {"t": draw(st.sampled_from(["l", "l", "l", "l", "c", "d", "p"]))}
    room["ts"] = draw(when)
    put(room, "departmentId", draw(st.sampled_from([MISSING, None, *DEPARTMENTS])))
    if draw(st.booleans()):
        room["closedAt"] = draw(when)
    else:
        room["open"] = True
    put(room, "waitingResponse", draw(st.sampled_from([MISSING, True, False, None])))
    served = draw(st.sampled_from(["none", "full", "full", "full", "no-ts", "no-id"]))
    if served != "none":
        room["servedBy"] = {"username": "agent"}
        if served != "no-id":
            room["servedBy"]["_id"] = "agent-id"
        if served != "no-ts":
            room["servedBy"]["ts"] = draw(when)
    if draw(st.integers(0, 3)):
        room["responseBy"] = {"_id": "agent-id", "username": "agent"}
        if draw(st.integers(0, 3)):
            room["responseBy"]["lastMessageTs"] = draw(when)
    if draw(st.integers(0, 4)):
        metrics: dict[str, Any] = {}
        put(metrics, "chatDuration", draw(choose(st.just(MISSING), durations)))
        put(metrics, "serviceTimeDuration", draw(choose(st.just(MISSING), durations)))
        put(metrics, "visitorInactivity", draw(choose(st.just(MISSING), *[seconds_near(*thresholds)] * 3)))
        with_ft = durations.map(lambda ft: {"avg": ft, "tt": ft, "ft": ft})
        response = draw(choose(st.just(MISSING), st.just({"avg": 1, "tt": 2}), with_ft, with_ft))
        put(metrics, "response", response)
        room["metrics"] = metrics
    return room


@st.composite
def bulk_rooms(draw: st.DrawFn, first: int, last: int, timeout: int) -> list[dict]:
    """Sometimes many closed rooms of one department in the window, a share of them abandoned."""
    if draw(st.integers(0, 5)):
        return []
    total = draw(st.sampled_from([3, 7, 100]))
    share = draw(st.integers(0, total))
    department = draw(st.sampled_from([MISSING, None, *DEPARTMENTS]))
    rooms = []
    for number in range(total):
        room = {"t": "l", "ts": moment(first), "closedAt": moment(last)}
        put(room, "departmentId", department)
        room["metrics"] = {
            "chatDuration": 60 + number,
            "serviceTimeDuration": 30 + number,
            "visitorInactivity": timeout if number < share else max(timeout - 1, 0),
            "response": {"ft": number},
        }
        rooms.append(room)
    return rooms


@dataclass
class Scenario:
    start: dt.datetime
    end: dt.datetime
    rooms: list[dict]
    #: The setting's value, or None for no settings document (T = 3600).
    setting: int | None = None
    department: str | None = None
    sort: dict[str, int] | None = None
    count: str | None = None
    offset: str | None = None
    #: A second value of the setting, for the test that changes it between two requests.
    next_setting: int | None = field(default=None)

    @property
    def params(self) -> dict[str, str]:
        params = {"start": iso(self.start), "end": iso(self.end)}
        if self.department is not None:
            params["departmentId"] = self.department
        if self.sort is not None:
            params["sort"] = json.dumps(self.sort)
        if self.count is not None:
            params["count"] = self.count
        if self.offset is not None:
            params["offset"] = self.offset
        return params


def numbered(rooms: list[dict]) -> list[dict]:
    return [{"_id": f"r{number:03d}", **room} for number, room in enumerate(rooms)]


settings_values = st.one_of(
    st.none(), st.sampled_from([0, 1, 60, 3599, 3600, 3601, 7200]), st.integers(0, 10_000)
)


@st.composite
def scenarios(draw: st.DrawFn, fields: tuple[str, ...] = ()) -> Scenario:
    first = draw(st.integers(0, 3 * DAY_MS))
    last = first + draw(st.one_of(st.just(0), st.integers(0, 1000), st.integers(0, 5 * DAY_MS)))
    setting = draw(settings_values)
    next_setting = draw(settings_values)
    thresholds = tuple({DEFAULT_T if value is None else value for value in (setting, next_setting)})
    timeout = DEFAULT_T if setting is None else setting
    size = draw(st.integers(0, 30))
    rooms = draw(st.lists(room_documents(first, last, thresholds), min_size=size, max_size=size))
    rooms += draw(bulk_rooms(first, last, timeout))
    sortable = ("_id", *fields)
    names = draw(
        st.none() | st.lists(st.sampled_from(sortable), min_size=1, max_size=len(sortable), unique=True)
    )
    sort = None if names is None else {name: draw(st.sampled_from([1, -1])) for name in names}
    return Scenario(
        start=moment(first),
        end=moment(last),
        rooms=numbered(draw(st.permutations(rooms))),
        setting=setting,
        department=draw(st.sampled_from([*[None] * 8, "", "undefined", *DEPARTMENTS, "unknown"])),
        sort=sort,
        count=draw(st.sampled_from([None, "0", "1", "2", "3", "150"])),
        offset=draw(st.sampled_from([None, None, None, "0", "0", "1", "2", "5"])),
        next_setting=next_setting,
    )


# --------------------------------------------------------------------------- a hand-made edge case


def edge_scenario() -> Scenario:
    """Every edge the brief names, in one example: bounds, missing metrics and ``servedBy.ts``,
    ``visitorInactivity == T``, open rooms, 29 abandoned rooms of 100."""
    start, end = moment(0), moment(DAY_MS)
    rooms: list[dict] = [
        # Created exactly at start, closed exactly at end.
        {
            "t": "l",
            "departmentId": "d1",
            "ts": start,
            "closedAt": end,
            "servedBy": {"_id": "ag", "ts": start},
            "responseBy": {"lastMessageTs": start + 1500 * MS},
            "metrics": {"chatDuration": 7, "serviceTimeDuration": 5, "visitorInactivity": 3600},
        },
        # Created exactly at end, open; no servedBy.ts (adds 0, counts).
        {
            "t": "l",
            "departmentId": "d1",
            "ts": end,
            "open": True,
            "servedBy": {"_id": "ag"},
            "responseBy": {"lastMessageTs": end},
            "waitingResponse": True,
        },
        # Served for 0 seconds: counted by total-service-time all the same.
        {"t": "l", "departmentId": "d1", "ts": end, "closedAt": end, "metrics": {"serviceTimeDuration": 0}},
        # Missing metrics; null department; closed one millisecond late.
        {"t": "l", "departmentId": None, "ts": start, "closedAt": end + MS},
        {"t": "l", "ts": start + MS, "closedAt": end, "metrics": {"response": {"avg": 3}}},
        # Other room types never count.
        {
            "t": "c",
            "departmentId": "d1",
            "ts": start,
            "closedAt": end,
            "metrics": {"visitorInactivity": 9000},
        },
        {"t": "d", "ts": end, "open": True},
    ]
    rooms += [
        {
            "t": "l",
            "departmentId": "d2",
            "ts": start + number * MS,
            "closedAt": end,
            "metrics": {"visitorInactivity": 3600 if number < 29 else 3599, "chatDuration": number},
        }
        for number in range(100)
    ]
    return Scenario(start=start, end=end, rooms=numbered(rooms), count="0")


# --------------------------------------------------------------------------- the tests


def reset(database) -> None:
    database[ROOMS].delete_many({})
    database[SETTINGS].delete_many({})


def store(database, scenario: Scenario) -> None:
    # This Hypothesis prints the failing arguments blank under pytest: say what was stored.
    note(f"setting={scenario.setting} next_setting={scenario.next_setting}")
    note("rooms=" + pprint.pformat(scenario.rooms, sort_dicts=False))
    reset(database)
    if scenario.rooms:
        database[ROOMS].insert_many([dict(room) for room in scenario.rooms])
    if scenario.setting is not None:
        database[SETTINGS].insert_one({"_id": INACTIVITY, "value": scenario.setting})


def answer(client, headers, path: str, params: dict[str, str]) -> dict:
    note(f"GET {path} {params}")
    response = client.get(f"{PREFIX}/{path}", query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def timeout_of(setting: int | None) -> int:
    return DEFAULT_T if setting is None else setting


def endpoint_property(path: str):
    """One property test of ``path``: the whole body equals the oracle's, rows in order."""

    @SETTINGS_PROFILE
    @given(scenario=scenarios(FIELDS[path]))
    @example(scenario=edge_scenario())
    def test(client, headers, database, scenario: Scenario) -> None:
        store(database, scenario)
        rows = expected_rows(
            path,
            scenario.rooms,
            scenario.start,
            scenario.end,
            timeout_of(scenario.setting),
            scenario.department,
            scenario.sort,
        )
        assert answer(client, headers, path, scenario.params) == expected_body(
            rows, scenario.count, scenario.offset
        )

    test.__name__ = "test_" + path.replace("-", "_")
    return test


test_average_service_time = endpoint_property("average-service-time")
test_total_service_time = endpoint_property("total-service-time")
test_average_chat_duration_time = endpoint_property("average-chat-duration-time")
test_average_waiting_time = endpoint_property("average-waiting-time")
test_total_abandoned_chats = endpoint_property("total-abandoned-chats")
test_percentage_abandoned_chats = endpoint_property("percentage-abandoned-chats")


@SETTINGS_PROFILE
@given(scenario=scenarios())
@example(scenario=Scenario(**{**edge_scenario().__dict__, "setting": None, "next_setting": 3599}))
def test_the_threshold_is_read_on_every_request(client, headers, database, scenario: Scenario) -> None:
    """Changing the setting between two requests changes both abandonment answers accordingly."""
    store(database, scenario)
    params = {"start": iso(scenario.start), "end": iso(scenario.end), "count": "0"}
    paths = ("total-abandoned-chats", "percentage-abandoned-chats")

    def check(setting: int | None) -> None:
        for path in paths:
            rows = expected_rows(
                path, scenario.rooms, scenario.start, scenario.end, timeout_of(setting), None, None
            )
            assert answer(client, headers, path, params) == expected_body(rows, "0", None), (path, setting)

    check(scenario.setting)
    settings_collection = database[SETTINGS]
    if scenario.next_setting is None:
        settings_collection.delete_one({"_id": INACTIVITY})
    elif scenario.setting is None:
        settings_collection.insert_one({"_id": INACTIVITY, "value": scenario.next_setting})
    else:
        settings_collection.update_one({"_id": INACTIVITY}, {"$set": {"value": scenario.next_setting}})
    check(scenario.next_setting)
