"""Property tests of the departments family: random rooms, messages, windows and queries, the HTTP
answers against an oracle in plain Python written from Rocket.Chat's rules (never from the package's
pipelines): rooms and messages filtered, grouped, sorted and paged with ordinary Python.

Every instant is a whole number of milliseconds and every duration a whole number of seconds, so
the room metrics' oracle works on integers and every expected number is exact.
"""

from __future__ import annotations

import datetime as dt
import json
import pprint
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import event, example, given, note
from hypothesis import strategies as st
from pymongo.collection import Collection
from pymongo.database import Database
from strategies import (
    DAY_MS,
    MISSING,
    MS,
    ROOM_DEPARTMENTS,
    TRANSFER,
    Window,
    amount_of_chats_cases,
    crowded_cases,
    milliseconds_of,
    moment,
    optional,
    room_documents,
    tied_cases,
    transfer_cases,
)
from support import DEPARTMENT_FIELDS, PREFIX, iso, property_settings

SECOND_MS = 1000

ROOMS = "rocketchat_room"
MESSAGES = "rocketchat_message"
SETTINGS = "rocketchat_settings"
INACTIVITY = "Livechat_visitor_inactivity_timeout"
DEFAULT_T = 3600

#: The endpoints that count rooms and transfers; the others are the room metrics.
PATHS = ("amount-of-chats", "total-transferred-chats")

SETTINGS_PROFILE = property_settings(30)


# --------------------------------------------------------------------------- both: the page


def ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def id_key(value: str | None) -> tuple:
    """MongoDB's order of ``_id``: null lowest, then strings (ASCII here, so bytes = code points)."""
    return (0, "") if value is None else (1, value)


def page_of(rows: list[dict], count: str | None, offset: str | None) -> dict:
    """The 200 answer around the page of ``rows`` (in order) that ``count`` and ``offset`` ask for:
    50 rows unless ``count`` says, 0 for every row, 100 at most."""
    skip = int(offset) if offset is not None else 0
    size = 50 if count is None else int(count)
    size = len(rows) if size == 0 else min(size, 100)
    page = rows[skip : skip + size]
    return {"departments": page, "count": len(page), "offset": skip, "total": len(rows), "success": True}


def answer(client, headers, path: str, params: dict[str, str]) -> dict:
    note(f"GET {path} {params}")
    response = client.get(f"{PREFIX}/{path}", query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --------------------------------------------------------------------------- the counts: storing


def store(database: Database, rooms: list[dict], messages: Sequence[dict] = ()) -> None:
    """Empty the rooms and messages (never the users) and store this example's documents."""
    for name, documents in ((ROOMS, rooms), (MESSAGES, messages)):
        collection: Collection = database[name]
        collection.delete_many({})
        if documents:
            collection.insert_many([dict(document) for document in documents])


# --------------------------------------------------------------------------- the counts' oracle


def department_filter(params: dict[str, str]) -> str | None:
    """The department asked for; ``''`` and ``undefined`` mean no filter, as does leaving it out."""
    value = params.get("departmentId")
    return None if value in (None, "", "undefined") else value


def ordered(rows: list[dict[str, Any]], params: dict[str, str]) -> list[dict[str, Any]]:
    """The rows in the order ``sort`` asks for, ties broken by ``_id`` ascending."""
    [(field, direction)] = json.loads(params.get("sort", '{"_id": 1}')).items()
    rows = sorted(rows, key=lambda row: id_key(row["_id"]))
    if field == "_id":
        return rows[::-1] if direction == -1 else rows
    # sorted() is stable, also with reverse=True: equal values keep their _id ascending order.
    return sorted(rows, key=lambda row: row[field], reverse=direction == -1)


def expected_body(rows: list[dict[str, Any]], params: dict[str, str]) -> dict[str, Any]:
    """The 200 answer for these groups, in the order and on the page ``params`` ask for."""
    body = page_of(ordered(rows, params), params.get("count"), params.get("offset"))
    values = [value for row in rows for name, value in row.items() if name != "_id"]
    event(f"groups: {min(len(rows), 10)}{'+' if len(rows) >= 10 else ''}")
    event(f"tied counts: {len(values) != len(set(values))}")
    event(f"rows cut off by the page: {body['count'] < len(rows)}")
    return body


def within(instant: Any, window: Window) -> bool:
    return window.start <= instant <= window.end


def amount_of_chats_rows(rooms: list[dict], window: Window, params: dict[str, str]) -> list[dict]:
    """Livechat rooms created in the window, answered or not as asked, per department."""
    department = department_filter(params)
    answered = params.get("answered")
    counts: Counter[str | None] = Counter()
    for room in rooms:
        if room.get("t") != "l" or not within(room["ts"], window):
            continue
        group = room.get("departmentId")  # missing and null: one group
        if department is not None and group != department:
            continue
        waiting = room.get("waitingResponse") is True
        if (answered == "true" and waiting) or (answered == "false" and not waiting):
            continue
        counts[group] += 1
    return [{"_id": group, "rooms": number} for group, number in counts.items()]


def transferred_rows(
    rooms: list[dict], messages: list[dict], window: Window, params: dict[str, str]
) -> list[dict]:
    """Transfer events in the window, each credited to its room's current department."""
    department = department_filter(params)
    room_department = {room["_id"]: room.get("departmentId") for room in rooms}
    counts: Counter[str | None] = Counter()
    for message in messages:
        if message.get("t") != TRANSFER or not within(message["ts"], window):
            continue
        group = room_department.get(message["rid"])  # a room that does not exist: null
        if department is not None and group != department:
            continue
        counts[group] += 1
    return [{"_id": group, "numberOfTransferredRooms": number} for group, number in counts.items()]


# --------------------------------------------------------------------------- the counts' tests


@property_settings(80)
@given(case=amount_of_chats_cases())
def test_amount_of_chats_counts_rooms_per_department(database, client, headers, case):
    window, rooms, params = case
    store(database, rooms)
    body = answer(client, headers, "amount-of-chats", params)
    assert body == expected_body(amount_of_chats_rows(rooms, window, params), params)


@property_settings(80)
@given(case=transfer_cases())
def test_total_transferred_chats_counts_events_per_current_department(database, client, headers, case):
    window, rooms, messages, params = case
    store(database, rooms, messages)
    body = answer(client, headers, "total-transferred-chats", params)
    assert body == expected_body(transferred_rows(rooms, messages, window, params), params)


@property_settings(8)
@given(case=crowded_cases())
def test_page_size_is_capped_at_one_hundred(database, client, headers, case):
    window, rooms, params = case
    store(database, rooms)
    body = answer(client, headers, "amount-of-chats", params)
    assert body == expected_body(amount_of_chats_rows(rooms, window, params), params)


@property_settings(30)
@given(case=tied_cases(), path=st.sampled_from(PATHS), direction=st.sampled_from([-1, 1]))
def test_ties_come_in_id_order(database, client, headers, case, path, direction):
    """All groups tie on the value sorted on: whatever order the groups are stored or grouped in,
    the rows come by ``_id`` ascending (null first), in either direction."""
    window, rooms, messages, params = case
    field = "rooms" if path == "amount-of-chats" else "numberOfTransferredRooms"
    params = {**params, "sort": json.dumps({field: direction})}
    store(database, rooms, messages)
    body = answer(client, headers, path, params)
    if path == "amount-of-chats":
        rows = amount_of_chats_rows(rooms, window, params)
    else:
        rows = transferred_rows(rooms, messages, window, params)
    assert len({row[field] for row in rows}) == 1
    assert body == expected_body(rows, params)


@property_settings(25)
@given(case=transfer_cases(), size=st.integers(1, 4), path=st.sampled_from(PATHS))
def test_pages_tile_the_whole_answer(database, client, headers, case, size, path):
    """Walking the pages of one order gives every row once, as ``count=0`` does, with one total.

    This one needs no oracle: it holds whatever the rows are.
    """
    _, rooms, messages, params = case
    params = {name: value for name, value in params.items() if name not in ("offset", "count")}
    if path == "amount-of-chats" and "sort" in params:
        params["sort"] = params["sort"].replace("numberOfTransferredRooms", "rooms")
    store(database, rooms, messages)
    whole = answer(client, headers, path, {**params, "count": "0"})
    assert whole["count"] == whole["total"] == len(whole["departments"])
    rows: list[dict] = []
    for offset in range(0, whole["total"] + size, size):
        page = answer(client, headers, path, {**params, "offset": str(offset), "count": str(size)})
        assert page["total"] == whole["total"]
        assert page["offset"] == offset
        assert page["count"] == len(page["departments"]) <= size
        rows += page["departments"]
    assert rows == whole["departments"]


# --------------------------------------------------------------------------- the room metrics' oracle


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
    """One room metric: which rooms count, and the row fields of a group of them."""

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


# --------------------------------------------------------------------------- the room metrics' strategies


@st.composite
def bulk_rooms(draw: st.DrawFn, first: int, last: int, timeout: int) -> list[dict]:
    """Sometimes many closed rooms of one department in the window, a share of them abandoned."""
    if draw(st.integers(0, 5)):
        return []
    total = draw(st.sampled_from([3, 7, 100]))
    share = draw(st.integers(0, total))
    department = draw(st.sampled_from([MISSING, None, *ROOM_DEPARTMENTS]))
    rooms = []
    for number in range(total):
        room = {"t": "l", "ts": moment(first), "closedAt": moment(last)}
        optional(room, "departmentId", department)
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
        department=draw(st.sampled_from([*[None] * 8, "", "undefined", *ROOM_DEPARTMENTS, "unknown"])),
        sort=sort,
        count=draw(st.sampled_from([None, "0", "1", "2", "3", "150"])),
        offset=draw(st.sampled_from([None, None, None, "0", "0", "1", "2", "5"])),
        next_setting=next_setting,
    )


# --------------------------------------------------------------------------- a hand-made edge case


def edge_scenario() -> Scenario:
    """Every edge of the room metrics in one example: bounds, missing metrics and ``servedBy.ts``,
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


# --------------------------------------------------------------------------- the room metrics' tests


def store_scenario(database, scenario: Scenario) -> None:
    # This Hypothesis prints the failing arguments blank under pytest: say what was stored.
    note(f"setting={scenario.setting} next_setting={scenario.next_setting}")
    note("rooms=" + pprint.pformat(scenario.rooms, sort_dicts=False))
    database[ROOMS].delete_many({})
    database[SETTINGS].delete_many({})
    if scenario.rooms:
        database[ROOMS].insert_many([dict(room) for room in scenario.rooms])
    if scenario.setting is not None:
        database[SETTINGS].insert_one({"_id": INACTIVITY, "value": scenario.setting})


def timeout_of(setting: int | None) -> int:
    return DEFAULT_T if setting is None else setting


def endpoint_property(path: str):
    """One property test of ``path``: the whole body equals the oracle's, rows in order."""

    @SETTINGS_PROFILE
    @given(scenario=scenarios(DEPARTMENT_FIELDS[path]))
    @example(scenario=edge_scenario())
    def test(client, headers, database, scenario: Scenario) -> None:
        store_scenario(database, scenario)
        rows = expected_rows(
            path,
            scenario.rooms,
            scenario.start,
            scenario.end,
            timeout_of(scenario.setting),
            scenario.department,
            scenario.sort,
        )
        assert answer(client, headers, path, scenario.params) == page_of(
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
    store_scenario(database, scenario)
    params = {"start": iso(scenario.start), "end": iso(scenario.end), "count": "0"}
    paths = ("total-abandoned-chats", "percentage-abandoned-chats")

    def check(setting: int | None) -> None:
        for path in paths:
            rows = expected_rows(
                path, scenario.rooms, scenario.start, scenario.end, timeout_of(setting), None, None
            )
            assert answer(client, headers, path, params) == page_of(rows, "0", None), (path, setting)

    check(scenario.setting)
    settings_collection = database[SETTINGS]
    if scenario.next_setting is None:
        settings_collection.delete_one({"_id": INACTIVITY})
    elif scenario.setting is None:
        settings_collection.insert_one({"_id": INACTIVITY, "value": scenario.next_setting})
    else:
        settings_collection.update_one({"_id": INACTIVITY}, {"$set": {"value": scenario.next_setting}})
    check(scenario.next_setting)
