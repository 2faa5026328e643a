"""Hypothesis strategies for the property tests: windows, stored documents and query strings.

Every instant is a whole number of milliseconds (BSON dates hold milliseconds) around ``BASE``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from bson import Decimal128, Int64
from hypothesis import strategies as st

UTC = dt.timezone.utc
BASE = dt.datetime(2024, 3, 10, tzinfo=UTC)
MS = dt.timedelta(milliseconds=1)
DAY_MS = 86_400_000

TRANSFER = "livechat_transfer_history"

#: Offsets a client may write its bounds in; each names the same instant as the UTC form.
OFFSETS = (
    dt.timezone(dt.timedelta(hours=2)),
    dt.timezone(dt.timedelta(hours=-5, minutes=-30)),
    dt.timezone(dt.timedelta(hours=14)),
    dt.timezone(dt.timedelta(hours=-12)),
)

#: A few departments, as most tests of the API use.
FEW_DEPARTMENTS = ("d1", "d2", "d3")
#: Many departments, so that small pages matter; ASCII ids sort alike in Python and MongoDB.
MANY_DEPARTMENTS = (
    *(f"dep-{number:02d}" for number in range(24)),
    "A",
    "Z",
    "a",
    "b10",
    "b9",
    "d1",
)

#: Marks a field left out of a document.
MISSING = object()


def choose(*choices: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """One of ``choices``, each about as likely (``st.one_of`` favours its first ones strongly);
    list a choice several times to weight it."""
    return st.integers(0, len(choices) - 1).flatmap(lambda index: choices[index])


def moment(milliseconds: int) -> dt.datetime:
    """The instant ``milliseconds`` after ``BASE``."""
    return BASE + dt.timedelta(milliseconds=milliseconds)


def milliseconds_of(instant: dt.datetime) -> int:
    return (instant - BASE) // MS


@dataclass(frozen=True)
class Window:
    """The inclusive window a request asks for, and how the request spells its bounds."""

    start: dt.datetime
    end: dt.datetime
    start_text: str
    end_text: str


@st.composite
def spelled(draw: st.DrawFn, instant: dt.datetime) -> str:
    """An ISO 8601 date-time naming ``instant``: with ``Z``, with an offset, or naive (read as UTC)."""
    timespec = "milliseconds"
    if instant.microsecond == 0 and draw(st.booleans()):
        timespec = "seconds"
    style = draw(st.sampled_from(["Z", "offset", "naive"]))
    if style == "Z":
        return instant.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")
    if style == "offset":
        return instant.astimezone(draw(st.sampled_from(OFFSETS))).isoformat(timespec=timespec)
    return instant.astimezone(UTC).replace(tzinfo=None).isoformat(timespec=timespec)


@st.composite
def windows(draw: st.DrawFn) -> Window:
    """A window of zero length up to three days; each bound a date-time or a date alone.

    A date alone for ``start`` is 00:00:00.000 UTC of that day, for ``end`` 23:59:59.999 UTC.
    """
    start_ms = draw(st.integers(-2 * DAY_MS, 2 * DAY_MS))
    length = draw(
        choose(st.integers(0, 3 * DAY_MS), st.integers(0, 3 * DAY_MS), st.just(0), st.integers(0, 1000))
    )
    start, end = moment(start_ms), moment(start_ms + length)
    if draw(st.integers(0, 3)) == 0:
        start = start.replace(hour=0, minute=0, second=0, microsecond=0)
        start_text = start.date().isoformat()
    else:
        start_text = draw(spelled(start))
    if draw(st.integers(0, 3)) == 0:
        end = end.replace(hour=23, minute=59, second=59, microsecond=999_000)
        end_text = end.date().isoformat()
    else:
        end_text = draw(spelled(end))
    return Window(start, end, start_text, end_text)


def instants(window: Window) -> st.SearchStrategy[dt.datetime]:
    """Instants on the bounds, just outside them, inside the window, and anywhere around it."""
    first, last = milliseconds_of(window.start), milliseconds_of(window.end)
    inside = st.integers(first, last).map(moment)
    return choose(
        inside,
        inside,
        inside,
        st.sampled_from([window.start, window.end, window.start - MS, window.end + MS]),
        st.integers(first - 2000, last + 2000).map(moment),
        st.integers(-3 * DAY_MS, 6 * DAY_MS).map(moment),
    )


def department_pools() -> st.SearchStrategy[tuple[str, ...]]:
    """The departments one example's rooms belong to: the usual three, or many.

    Shuffled, so that the order in which the groups first appear is not their ``_id`` order.
    """
    many = st.lists(
        st.sampled_from(MANY_DEPARTMENTS), min_size=8, max_size=len(MANY_DEPARTMENTS), unique=True
    )
    return choose(st.permutations(FEW_DEPARTMENTS), many, many).map(tuple)


def department_fields(pool: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    """A room's department: one of ``pool``, or none (field missing, or null)."""
    return st.sampled_from(
        [*({"departmentId": department} for department in pool), {}, {"departmentId": None}]
    )


def sizes(largest: int) -> st.SearchStrategy[int]:
    """How many documents to store: at least five, so that most examples have several groups."""
    return st.integers(5, largest)


def optional(document: dict[str, Any], name: str, value: Any) -> None:
    if value is not MISSING:
        document[name] = value


@st.composite
def rooms(
    draw: st.DrawFn,
    window: Window,
    pool: tuple[str, ...],
    *,
    max_size: int = 60,
    types: tuple[str, ...] = ("l", "l", "l", "l", "c", "d", "p"),
) -> list[dict[str, Any]]:
    """Room documents ``room-0``, ``room-1``, ...: mostly livechat rooms, some of other types."""
    documents = []
    for number in range(draw(sizes(max_size))):
        document: dict[str, Any] = {
            "_id": f"room-{number}",
            "t": draw(st.sampled_from(types)),
            "ts": draw(instants(window)),
        }
        document.update(draw(department_fields(pool)))
        optional(document, "waitingResponse", draw(st.sampled_from([True, False, True, None, MISSING])))
        if draw(st.booleans()):
            document["open"] = True
        documents.append(document)
    return documents


@st.composite
def messages(
    draw: st.DrawFn, window: Window, room_ids: list[str], pool: tuple[str, ...], *, max_size: int = 50
) -> list[dict[str, Any]]:
    """Messages: mostly transfers, some of other kinds, some about rooms that do not exist.

    A transfer names the departments it moved the room between; those need not be the room's
    department now (it may have moved again), which is the one the transfer is credited to.
    """
    rids = [*room_ids, "ghost-1", "ghost-2"]
    documents = []
    for number in range(draw(sizes(max_size))):
        kind = draw(st.sampled_from([TRANSFER, TRANSFER, TRANSFER, None, "uj", "livechat-close", MISSING]))
        document: dict[str, Any] = {
            "_id": f"message-{number}",
            "rid": draw(st.sampled_from(rids)),
            "ts": draw(instants(window)),
            "msg": "",
        }
        optional(document, "t", kind)
        if kind == TRANSFER:
            document["transferData"] = {
                "transferredBy": {"_id": "agent", "username": "agent"},
                "ts": document["ts"],
                "scope": draw(st.sampled_from(["department", "agent", "queue"])),
            }
            if document["transferData"]["scope"] == "department":
                document["transferData"]["previousDepartment"] = {"_id": draw(st.sampled_from(pool))}
                document["transferData"]["nextDepartment"] = {"_id": draw(st.sampled_from(pool))}
        documents.append(document)
    return documents


def department_params(pool: tuple[str, ...], rooms: list[dict[str, Any]]) -> st.SearchStrategy[str | None]:
    """``departmentId``: omitted, a department some room has, the "no filter" spellings, any
    department of the pool, an unknown department."""
    present = sorted({room["departmentId"] for room in rooms if room.get("departmentId") is not None})
    return choose(
        st.none(),
        st.none(),
        st.none(),
        st.sampled_from(present) if present else st.none(),
        st.sampled_from(["", "undefined", "unknown-department"]),
        st.sampled_from(pool),
    )


@st.composite
def page_params(
    draw: st.DrawFn, fields: tuple[str, ...], *, max_offset: int = 12, sort: bool = True
) -> dict[str, str]:
    """``offset``, ``count`` and (unless ``sort`` is false) ``sort``, each possibly omitted."""
    params: dict[str, str] = {}
    offset = draw(st.one_of(st.none(), st.integers(0, 3), st.integers(0, max_offset)))
    if offset is not None:
        params["offset"] = str(offset)
    count = draw(st.one_of(st.none(), st.just(0), st.integers(1, 5), st.integers(50, 1000)))
    if count is not None:
        params["count"] = str(count)
    if sort:
        order = draw(
            st.one_of(st.none(), st.tuples(st.sampled_from(("_id", *fields)), st.sampled_from([1, -1])))
        )
        if order is not None:
            params["sort"] = json.dumps({order[0]: order[1]})
    return params


@st.composite
def amount_of_chats_cases(draw: st.DrawFn) -> tuple[Window, list[dict[str, Any]], dict[str, str]]:
    """The stored rooms and the query string of one ``amount-of-chats`` request."""
    window = draw(windows())
    pool = draw(department_pools())
    documents = draw(rooms(window, pool))
    params = {"start": window.start_text, "end": window.end_text}
    department = draw(department_params(pool, documents))
    if department is not None:
        params["departmentId"] = department
    answered = draw(st.sampled_from([None, None, "true", "false"]))
    if answered is not None:
        params["answered"] = answered
    params.update(draw(page_params(("rooms",))))
    return window, documents, params


@st.composite
def transfer_cases(
    draw: st.DrawFn,
) -> tuple[Window, list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
    """The stored rooms and messages and the query string of one ``total-transferred-chats``."""
    window = draw(windows())
    pool = draw(department_pools())
    stored_rooms = draw(rooms(window, pool, max_size=25, types=("l",)))
    stored_messages = draw(messages(window, [room["_id"] for room in stored_rooms], pool))
    params = {"start": window.start_text, "end": window.end_text}
    department = draw(department_params(pool, stored_rooms))
    if department is not None:
        params["departmentId"] = department
    params.update(draw(page_params(("numberOfTransferredRooms",))))
    return window, stored_rooms, stored_messages, params


@st.composite
def crowded_cases(draw: st.DrawFn) -> tuple[Window, list[dict[str, Any]], dict[str, str]]:
    """More than 100 departments with rooms in the window, so the page-size cap of 100 shows."""
    window = draw(windows())
    departments = draw(st.integers(101, 130))
    counts = draw(st.lists(st.integers(1, 3), min_size=departments, max_size=departments))
    inside = st.sampled_from([window.start, window.end])
    documents = []
    for number, count in enumerate(counts):
        for _ in range(count):
            documents.append(
                {
                    "_id": f"room-{len(documents)}",
                    "t": "l",
                    "ts": draw(inside),
                    "departmentId": f"x{number:03d}",
                }
            )
    params = {"start": window.start_text, "end": window.end_text}
    offset = draw(st.one_of(st.none(), st.integers(0, 3), st.integers(0, 40)))
    if offset is not None:
        params["offset"] = str(offset)
    count = draw(st.sampled_from([101, 1000, None, 0, 99, 100]))
    if count is not None:
        params["count"] = str(count)
    sort = draw(st.sampled_from([None, {"rooms": -1}, {"rooms": 1}, {"_id": -1}]))
    if sort is not None:
        params["sort"] = json.dumps(sort)
    return window, documents, params


@st.composite
def tied_cases(
    draw: st.DrawFn,
) -> tuple[Window, list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
    """Every department (the null one too, sometimes) with the same number of rooms in the window,
    each room transferred once; stored in a shuffled order. Sorting on the value alone leaves
    every row tied, so the order is the ``_id`` tie-break's alone. The test adds ``sort``."""
    window = draw(windows())
    pool = draw(department_pools())
    departments: list[str | None] = list(pool)
    if draw(st.booleans()):
        departments.append(None)
    each = draw(st.integers(1, 3))
    inside = st.sampled_from([window.start, window.end])
    stored_rooms = []
    for department in departments:
        for _ in range(each):
            # The null group's rooms: the field missing, or null; one group either way.
            fields = department_fields(()) if department is None else st.just({"departmentId": department})
            stored_rooms.append({**draw(fields), "t": "l"})
    stored_rooms = draw(st.permutations(stored_rooms))
    stored_rooms = [
        {"_id": f"room-{number}", "ts": draw(inside), **room} for number, room in enumerate(stored_rooms)
    ]
    stored_messages = [
        {"_id": f"message-{number}", "t": TRANSFER, "rid": room["_id"], "ts": draw(inside), "msg": ""}
        for number, room in enumerate(stored_rooms)
    ]
    params = {"start": window.start_text, "end": window.end_text}
    params.update(draw(page_params((), sort=False)))
    return window, stored_rooms, stored_messages, params


# Rooms for the room metrics: instants as milliseconds after BASE, every field possibly missing.

#: The departments of those rooms.
ROOM_DEPARTMENTS = ("d1", "d2", "d3", "A")


def instants_around(first: int, last: int) -> st.SearchStrategy[dt.datetime]:
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
    """Whole seconds on and next to the thresholds, or anywhere up to 10000."""
    near = sorted({value + delta for value in thresholds for delta in (-1, 0, 1) if value + delta >= 0})
    return choose(st.sampled_from(near), st.sampled_from(near), st.integers(0, 10_000))


#: Whole seconds: zero, small (so that means round), and large.
durations = choose(st.just(0), st.integers(0, 100), st.integers(0, 100_000))


@st.composite
def room_documents(draw: st.DrawFn, first: int, last: int, thresholds: tuple[int, ...]) -> dict:
    """One room, ``_id`` left for the caller: livechat or not, open or closed, any metric missing."""
    when = instants_around(first, last)
    room: dict[str, Any] = {"t": draw(st.sampled_from(["l", "l", "l", "l", "c", "d", "p"]))}
    room["ts"] = draw(when)
    optional(room, "departmentId", draw(st.sampled_from([MISSING, None, *ROOM_DEPARTMENTS])))
    if draw(st.booleans()):
        room["closedAt"] = draw(when)
    else:
        room["open"] = True
    optional(room, "waitingResponse", draw(st.sampled_from([MISSING, True, False, None])))
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
        optional(metrics, "chatDuration", draw(choose(st.just(MISSING), durations)))
        optional(metrics, "serviceTimeDuration", draw(choose(st.just(MISSING), durations)))
        optional(
            metrics, "visitorInactivity", draw(choose(st.just(MISSING), *[seconds_near(*thresholds)] * 3))
        )
        with_ft = durations.map(lambda ft: {"avg": ft, "tt": ft, "ft": ft})
        response = draw(choose(st.just(MISSING), st.just({"avg": 1, "tt": 2}), with_ft, with_ft))
        optional(metrics, "response", response)
        room["metrics"] = metrics
    return room


# Odd stored values: of the wrong type or out of range where a number, a date or an id belongs.

#: Where the room metrics keep their numbers, their dates and their ids.
NUMBER_PATHS = (
    "metrics.chatDuration",
    "metrics.serviceTimeDuration",
    "metrics.visitorInactivity",
    "metrics.response.avg",
    "metrics.response.ft",
    "metrics.reaction.ft",
)
DATE_PATHS = ("servedBy.ts", "responseBy.lastMessageTs", "closedAt")
ID_PATHS = ("departmentId", "servedBy._id", "servedBy.username", "responseBy.username")


def odd_numbers() -> st.SearchStrategy[Any]:
    """What may be stored where a number of seconds belongs: NaN, the infinities, Decimal128,
    strings, booleans, arrays, objects, negative numbers and numbers past 2**50, near 1e308 and
    2**63; and numbers of halves, which are numbers to read."""
    return choose(
        st.sampled_from([float("nan"), float("inf"), float("-inf"), 1e308, Int64(2**63 - 1), 2**50 + 1]),
        st.integers(0, 500).map(lambda n: Decimal128(str(n))),
        st.integers(0, 10**24).map(lambda n: Decimal128(f"{n}E-18")),
        st.integers(0, 500).map(str),
        st.sampled_from([True, False, None, [5], {"s": 5}, [], {}]),
        st.integers(-500, -1),
        st.integers(0, 1000).map(lambda n: n / 2),
    )


def odd_dates() -> st.SearchStrategy[Any]:
    """What may be stored where a date belongs: ISO strings, milliseconds, objects, null."""
    return st.sampled_from(["2024-03-10T12:00:00.000Z", "2024-03-09", 1710072000000, {}, [], None, True])


def odd_ids() -> st.SearchStrategy[Any]:
    """What may be stored where an id or a label belongs: arrays, objects, numbers, booleans."""
    return st.sampled_from([["d1"], {"_id": "d1"}, 42, True, ["agent-id"], {"username": "agent"}, None])


def _set(document: dict[str, Any], path: str, value: Any) -> None:
    """Store ``value`` at a dotted path, making the objects on the way (replacing what is no object)."""
    *parents, last = path.split(".")
    for key in parents:
        if not isinstance(document.get(key), dict):
            document[key] = {}
        document = document[key]
    document[last] = value


@st.composite
def oddly_stored(draw: st.DrawFn, room: dict[str, Any]) -> dict[str, Any]:
    """``room`` with some of its numbers, dates and ids replaced by odd values."""
    for paths, values in ((NUMBER_PATHS, odd_numbers()), (DATE_PATHS, odd_dates()), (ID_PATHS, odd_ids())):
        for path in paths:
            if draw(st.integers(0, 3)) == 0:
                _set(room, path, draw(values))
    return room


# Business-hours schedules, and instants around the daylight-saving changes of their zones.

#: The zones the schedules are drawn in, each with days (UTC) on which it changed its offset: in
#: Europe and in North America, one that ended (Sao Paulo, last in February 2019), half- and
#: quarter-hour offsets (Kathmandu's one change, to +05:45 in 1986), and UTC.
SCHEDULE_ZONES: dict[str, tuple[dt.datetime, ...]] = {
    zone: tuple(dt.datetime(*day, tzinfo=UTC) for day in days)
    for zone, days in (
        ("UTC", ()),
        ("Europe/Berlin", ((2018, 3, 25), (2018, 10, 28), (2026, 3, 29), (2026, 10, 25))),
        ("America/New_York", ((2018, 3, 11), (2018, 11, 4), (2026, 3, 8), (2026, 11, 1))),
        ("America/Sao_Paulo", ((2018, 2, 18), (2018, 11, 4), (2019, 2, 17))),
        ("Asia/Kolkata", ()),
        ("Asia/Kathmandu", ((1985, 12, 31),)),
    )
}
#: Every one of those days.
CHANGE_DAYS = tuple(day for days in SCHEDULE_ZONES.values() for day in days)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def clock_times() -> st.SearchStrategy[Any]:
    """A stored ``HH:mm``: mostly whole hours and "23:59", some any minute, a few odd values."""
    hours = st.integers(0, 23).map(lambda hour: f"{hour:02d}:00")
    minutes = st.integers(0, 1439).map(lambda minute: f"{minute // 60:02d}:{minute % 60:02d}")
    odd = st.sampled_from(["24:00", "9:00", "12:60", "09:00:00", " 09:00", "", None, 900])
    return choose(
        hours, hours, hours, hours, minutes, minutes, minutes, st.just("23:59"), st.just("00:00"), odd
    )


@st.composite
def work_hours(draw: st.DrawFn) -> dict[str, Any]:
    """A ``workHours`` entry: mostly open on a weekday; its ``utc`` and ``cron`` say nonsense, as
    stale ones may."""
    day, opened = st.sampled_from(WEEKDAYS), st.just(True)
    return {
        "day": draw(choose(day, day, day, day, day, day, day, st.just("monday"))),
        "start": {"time": draw(clock_times()), "utc": {"time": "03:17"}, "cron": {"dayOfWeek": "Tue"}},
        "finish": {"time": draw(clock_times()), "utc": {"time": "04:17"}, "cron": {"dayOfWeek": "Tue"}},
        "open": draw(
            choose(opened, opened, opened, opened, opened, opened, st.sampled_from([False, "true", 1]))
        ),
    }


@st.composite
def business_hours_documents(draw: st.DrawFn, zone: str | None = None) -> dict[str, Any]:
    """An active stored schedule in ``zone`` (by default one of :data:`SCHEDULE_ZONES`) with three
    to nine entries."""
    return {
        "_id": "hours",
        "name": "Hours",
        "active": True,
        "type": "default",
        "timezone": {"name": zone or draw(st.sampled_from(list(SCHEDULE_ZONES))), "utc": "+99"},
        "workHours": draw(st.lists(work_hours(), min_size=3, max_size=9)),
    }


def hours_long(most: int) -> st.SearchStrategy[int]:
    """Milliseconds up to ``most`` hours, the hours spread evenly (``st.integers`` favours small
    numbers, and so spans far shorter than a day)."""
    return st.tuples(st.sampled_from(range(most)), st.integers(0, 3_599_999)).map(
        lambda pair: pair[0] * 3_600_000 + pair[1]
    )


@st.composite
def business_hours_cases(draw: st.DrawFn) -> tuple[dict[str, Any], dt.datetime, dt.datetime]:
    """A stored schedule and a span of up to ten days: mostly, when its zone has changed its offset,
    one from up to four days before a day of change to up to four days after it (so over the change);
    else anywhere from 2018 to 2027."""
    zone = draw(st.sampled_from(list(SCHEDULE_ZONES)))
    document = draw(business_hours_documents(zone))
    if SCHEDULE_ZONES[zone] and draw(st.integers(0, 3)) > 0:
        day = draw(st.sampled_from(SCHEDULE_ZONES[zone]))
        before, after = draw(hours_long(96)), draw(hours_long(96))
        return document, day - before * MS, day + (DAY_MS + after) * MS
    a = dt.datetime(2018, 1, 1, tzinfo=UTC) + draw(st.integers(0, 10 * 365 * DAY_MS)) * MS
    length = draw(choose(st.integers(0, 4 * 3_600_000), hours_long(240)))
    return document, a, a + length * MS
