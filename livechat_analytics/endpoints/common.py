"""Small pure builders that the families share: the window, the room status, the department key,
the ways a number is rounded and shown.

Every builder returns plain MongoDB stages or expressions and touches no database, so each can be
tested alone; a family composes them into the pipelines of its rows.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..auth import Scope
from ..repository import UNIT
from .stored import NOT_ARRAY, is_date, is_number, number, text

Pipeline = list[dict[str, Any]]

_UTC = dt.timezone.utc

#: Groups rooms whose ``departmentId`` is missing, null or not a string as one ``null`` group.
DEPARTMENT_KEY = text("$departmentId")

#: The message type of a transfer.
TRANSFER_MESSAGE = "livechat_transfer_history"
#: The Rocket.Chat setting that holds ``T``, the inactivity after which a chat is abandoned.
INACTIVITY_SETTING = "Livechat_visitor_inactivity_timeout"

#: The four statuses a room has, exactly one each (see :data:`STATUS`).
OPEN, ONHOLD, QUEUED, CLOSED = "open", "onhold", "queued", "closed"


def is_true(path: str) -> dict[str, Any]:
    """An expression: the value at ``path`` is ``true`` (missing is not; mongomock would leave a
    comparison with a missing value undecided, which ``$cond`` reads as false)."""
    return {"$eq": [{"$ifNull": [path, False]}, True]}


def is_not_true(path: str) -> dict[str, Any]:
    """An expression: the value at ``path`` is anything but ``true``, missing included."""
    return {"$ne": [{"$ifNull": [path, False]}, True]}


#: A room's status, defined once for every family: ``closed`` when ``open`` is not true; else
#: ``onhold`` when on hold; else ``queued`` when nobody serves it; else ``open``. So the four always
#: add up to the rooms counted.
STATUS = {
    "$switch": {
        "branches": [
            {"case": is_not_true("$open"), "then": CLOSED},
            {"case": is_true("$onHold"), "then": ONHOLD},
            {"case": {"$eq": [{"$ifNull": ["$servedBy", None]}, None]}, "then": QUEUED},
        ],
        "default": OPEN,
    }
}


#: What the status of a room means, for the descriptions of the endpoints that count by status.
STATUS_NOTE = (
    " A room is `closed` when not open; else `onhold` when on hold; else `queued` when nobody serves "
    "it; else `open`."
)


@dataclass(frozen=True)
class Context:
    """What a computation needs besides the query, all of it read from or configured on the server:
    the real collection names, what was read for this request, and what the caller may see."""

    names: Mapping[str, str]
    #: ``T``, the ``Livechat_visitor_inactivity_timeout`` setting, in seconds.
    inactivity_timeout: float = 3600
    #: Add department names to department rows.
    department_names: bool = False
    #: The rooms and agents the caller may see (a monitor's units); None: everything.
    scope: Scope | None = None
    #: Add the visitors' names, e-mail addresses and phone numbers to the rows that list rooms.
    visitor_details: bool = False
    #: The room table's kept days (:class:`.slots.Days`), which the room panels derive from when
    #: they may; None: every panel reads for itself. Not part of what an answer depends on.
    days: Any = field(default=None, compare=False, metadata={"key": False})


#: Matches no document: what a caller sees of a department outside their scope.
NOTHING: dict[str, Any] = {"_id": {"$in": []}}


def visible(
    scope: Scope | None, *, department: str = "departmentId", ancestors: str = "departmentAncestors"
) -> dict[str, Any]:
    """A ``$match`` condition: the room (its ``department`` and ``ancestors`` fields) is one the
    caller may see; empty for a caller who sees everything. A room without a department is seen by
    nobody restricted."""
    if scope is None:
        return {}
    either: list[dict[str, Any]] = []
    if scope.units:
        either.append({ancestors: {"$in": sorted(scope.units)}})
    if scope.departments:
        # An array of ids is no department (stored.py), though $in would find one in it.
        either.append({department: {"$in": sorted(scope.departments), **NOT_ARRAY}})
    if not either:
        return NOTHING
    return either[0] if len(either) == 1 else {"$or": either}


def visible_agents(scope: Scope | None, field: str = "agentId") -> dict[str, Any]:
    """A ``$match`` condition: the agent (the id in ``field``) is one the caller may see."""
    if scope is None:
        return {}
    return {field: {"$in": sorted(scope.agents or ()), **NOT_ARRAY}}


def seen(
    scope: Scope | None, department_id: str | None, *, ancestors: str = "departmentAncestors"
) -> dict[str, Any]:
    """A ``$match`` condition: the room is one the caller may see, and nothing at all when the
    department asked for is one they may not see (:func:`outside`)."""
    return NOTHING if outside(scope, department_id) else visible(scope, ancestors=ancestors)


def both(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """One ``$match`` condition that holds when both do (``$and`` when they name the same field,
    which a merged mapping would let the second overwrite)."""
    if not first or not second:
        return first or second
    return {"$and": [first, second]} if set(first) & set(second) else {**first, **second}


def outside(scope: Scope | None, department_id: str | None) -> bool:
    """Whether ``department_id`` names a department the caller may not see: it answers as an empty
    department, never as a refusal that would confirm it exists."""
    return scope is not None and department_id is not None and department_id not in scope.departments


def in_window(start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """Both bounds inclusive."""
    return {"$gte": start, "$lte": end}


def livechat_rooms(query: Any, context: Context, created: dict[str, Any], **conditions: Any) -> Pipeline:
    """The first stages of every room pipeline: livechat rooms of the query's department (all when
    it names none), created in ``created``, which an index serves; then the rooms the caller may see
    (:func:`visible`) with the other ``conditions``, in a ``$match`` of their own.

    MongoDB merges the two stages; SecantusDB only scans an index for a ``$match`` it fully covers.
    Every family starts here, so a caller's scope holds for every count without asking.
    """
    match: dict[str, Any] = {"t": "l"}
    if query.department_id is not None:
        match["departmentId"] = query.department_id
        # An array holding the id is no department (stored.py): not the one asked for.
        conditions = both({"departmentId": NOT_ARRAY}, conditions)
    match["ts"] = created
    conditions = both(seen(context.scope, query.department_id), conditions)
    return [{"$match": match}, {"$match": conditions}] if conditions else [{"$match": match}]


def window_rooms(query: Any, context: Context, **conditions: Any) -> Pipeline:
    """The livechat rooms of the query's department created in the window, with ``conditions``."""
    return livechat_rooms(query, context, in_window(query.start, query.end), **conditions)


def by_status() -> Pipeline:
    """One document per status: ``{_id: status, n}``."""
    return [{"$group": {"_id": STATUS, "n": {"$sum": 1}}}]


def statuses(documents: list[dict[str, Any]]) -> dict[str, int]:
    """The four counts from :func:`by_status`'s documents, every status present."""
    counted = {OPEN: 0, CLOSED: 0, QUEUED: 0, ONHOLD: 0}
    counted.update({document["_id"]: int(document["n"]) for document in documents})
    return counted


def single(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """The single document of a ``$group`` by null or a ``$facet``; empty for no rooms."""
    return documents[0] if documents else {}


def mean_parts(name: str, read: str) -> dict[str, Any]:
    """Accumulators of a mean over the rooms that have a number at ``read``, a field of
    :func:`.stored.read_once`: ``<name>Rooms`` and ``<name>Seconds``."""
    return {f"{name}Rooms": count_if(is_set(read)), f"{name}Seconds": {"$sum": {"$ifNull": [read, 0]}}}


def is_set(path: str) -> dict[str, Any]:
    """An expression: the value at ``path`` is there and not null."""
    return {"$ne": [{"$ifNull": [path, None]}, None]}


def mean_or_zero(total: float, count: float) -> float:
    """``total / count``; 0 for nothing counted."""
    return total / count if count else 0


def mean_rounded_up(total: Any, rooms: Any, unit: int = 1) -> dict[str, Any]:
    """``ceil(total / (rooms * unit))``: one division of integers, so exact for integer inputs."""
    return {"$ceil": {"$divide": [total, {"$multiply": [rooms, unit]}]}}


def sum_or_zero(path: str) -> dict[str, Any]:
    """Sum a number that may be missing: a missing one (or one that is no number, stored.py) adds
    0, and ``$sum: 1`` still counts it."""
    return {"$sum": {"$ifNull": [number(path), 0]}}


def paged(pipeline: Pipeline, page: Pipeline) -> Pipeline:
    """Append the ``page`` stages (:func:`page_stages`) and the number of groups, in one ``$facet``."""
    return [*pipeline, {"$facet": {"total": [{"$count": "n"}], "page": page}}]


def with_ties(sort: tuple[tuple[str, int], ...]) -> tuple[tuple[str, int], ...]:
    """``sort``, its ties broken by ``_id`` ascending (unless it names ``_id``): one order, however
    the rows are read, and pages that neither repeat nor skip a row."""
    return sort if any(name == "_id" for name, _ in sort) else (*sort, ("_id", 1))


def page_stages(
    *,
    sort: tuple[tuple[str, int], ...],
    offset: int,
    count: int | None,
    annotate: Pipeline = (),  # type: ignore[assignment]
    annotated: tuple[str, ...] = (),
) -> Pipeline:
    """The stages of a page (sorted, skipped, limited) without the total: what :func:`paged` puts in
    its ``$facet``, and what a CSV answer streams from the cursor on its own (every row when
    ``count`` is None).

    ``annotate`` stages add the fields ``annotated`` to the rows: to the page's rows only, unless
    the sort names one of them, when every row needs it first."""
    page: Pipeline = [{"$sort": dict(sort)}, {"$skip": offset}]
    if count is not None:
        page.append({"$limit": count})
    sorted_by_annotation = any(name in annotated for name, _ in sort)
    return [*annotate, *page] if sorted_by_annotation else [*page, *annotate]


def dumped(rows: Iterable[dict[str, Any]], schema: Any, *, close: Any = None) -> Iterator[dict[str, Any]]:
    """Each row of a cursor serialized by a row schema; the cursor (or ``close``) is closed however
    the iteration ends, a client that leaves mid-stream included."""
    try:
        for row in rows:
            yield schema.dump(row)
    finally:
        for source in (rows, close):
            if hasattr(source, "close"):
                source.close()


def first_of(array: str, path: str) -> dict[str, Any]:
    """``path`` in the first element of ``array`` (a ``$lookup`` result), null when there is none.

    Taken on the first element, not on the array: SecantusDB loses ``"$array.field"``.
    """
    first = {"$let": {"vars": {"first": {"$arrayElemAt": [array, 0]}}, "in": f"$$first.{path}"}}
    return {"$ifNull": [first, None]}


def first_text(array: str, path: str) -> dict[str, Any]:
    """:func:`first_of` when it is a string (an id or a name), else null."""
    return text(first_of(array, path))


def department_names(names: Mapping[str, str]) -> Pipeline:
    """Stages that add ``name`` to rows whose ``_id`` is a department id (null when unknown)."""
    return [
        {
            "$lookup": {
                "from": names["department"],
                "localField": "_id",
                "foreignField": "_id",
                "as": "_department",
            }
        },
        # A business unit is stored among the departments, but is none: it names no row.
        {
            "$set": {
                "name": {
                    "$cond": [
                        {"$eq": [first_of("$_department", "type"), UNIT]},
                        None,
                        first_text("$_department", "name"),
                    ]
                }
            }
        },
        {"$project": {"_department": 0}},
    ]


def hms(seconds: float) -> str:
    """``HH:MM:SS`` of a duration, rounded to whole seconds first so it never reads ``:60``; the
    hours may pass 99."""
    whole = max(0, int(seconds + 0.5))
    hours, rest = divmod(whole, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


# -- Days and hours in the reporting timezone (agents, reports) ---------------------------------

#: Every UTC offset in use is a whole number of quarter hours: rooms grouped by UTC quarter hour
#: fold exactly into local days and hours.
SLOT_MS = 15 * 60 * 1000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)


def quarter_hour(path: str = "$ts") -> dict[str, Any]:
    """The UTC quarter hour of a date, counted from 1970: the key rooms are grouped by before
    :func:`local_moment` folds the groups into local days or hours."""
    return {"$floor": {"$divide": [{"$subtract": [path, _EPOCH]}, SLOT_MS]}}


def local_moment(slot: float, timezone: dt.tzinfo) -> dt.datetime:
    """The start of a :func:`quarter_hour` slot, in the reporting timezone.

    Under an offset of seconds (local mean time) the slot that holds the zone's first moment of
    year 1 begins before it: its rooms, all in a window that begins in year 1 there, are placed at
    that first moment."""
    try:
        return (_EPOCH + dt.timedelta(milliseconds=int(slot) * SLOT_MS)).astimezone(timezone)
    except OverflowError:
        return dt.datetime.min.replace(tzinfo=timezone)


def local_days(start: dt.datetime, end: dt.datetime, timezone: dt.tzinfo) -> list[dt.date]:
    """Every day the window touches, in the reporting timezone, in order."""
    first, last = start.astimezone(timezone).date(), end.astimezone(timezone).date()
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def day_number(day: dt.date) -> int:
    """A day as Rocket.Chat's agent activity stores it: the integer ``YYYYMMDD``."""
    return day.year * 10000 + day.month * 100 + day.day


def unique_labels(named: list[tuple[Any, str]]) -> dict[Any, str]:
    """A label per key: its name, or ``"Name (key)"`` when another key shares the name, so that no
    two keys are merged under one label."""
    seen: dict[str, int] = {}
    for _, name in named:
        seen[name] = seen.get(name, 0) + 1
    return {key: name if seen[name] == 1 else f"{name} ({key})" for key, name in named}


# -- Monitoring (dashboards, overview) ----------------------------------------------------------

#: How long an agent spent from assignment to the last message, in milliseconds, as a double; a
#: room without both dates (``servedBy.ts`` missing or not a date) adds 0 (``average-service-time``
#: and the totals built on it).
SERVICE_MILLISECONDS = {
    "$cond": [
        {"$and": [is_date("$servedBy.ts"), is_date("$responseBy.lastMessageTs")]},
        {"$add": [{"$subtract": ["$responseBy.lastMessageTs", "$servedBy.ts"]}, 0.0]},
        0,
    ]
}


def is_abandoned(context: Context) -> dict[str, Any]:
    """An expression: the room's visitor stayed silent ``T`` or more after the agent's last
    message (a missing ``metrics.visitorInactivity``, or one that is no number, is not)."""
    inactivity = "$metrics.visitorInactivity"
    return {"$cond": [is_number(inactivity), {"$gte": [inactivity, context.inactivity_timeout]}, False]}


def count_if(condition: Any) -> dict[str, Any]:
    """An accumulator: the documents for which ``condition`` holds."""
    return {"$sum": {"$cond": [condition, 1, 0]}}


def sum_if(condition: Any, read: str) -> dict[str, Any]:
    """An accumulator: the number at ``read`` (a field of :func:`.stored.read_once`; 0 when null)
    of the documents where ``condition`` holds."""
    return {"$sum": {"$cond": [condition, {"$ifNull": [read, 0]}, 0]}}


def timezone_name(zone: dt.tzinfo) -> str:
    """The name MongoDB's date operators take for ``zone``: an IANA name, or a ``+HH:MM`` offset."""
    key = getattr(zone, "key", None)
    if key:
        return key
    offset = zone.utcoffset(None) or dt.timedelta(0)
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def busiest(counts: Mapping[Any, int]) -> Any:
    """The key with the highest count, the lowest key among equals; None when nothing was counted."""
    best = None
    for key in sorted(counts):
        if counts[key] > 0 and (best is None or counts[key] > counts[best]):
            best = key
    return best


def hour_range(hour: int | None, separator: str = " - ") -> str:
    """``"3PM - 4PM"`` for 15, ``"11PM - 12AM"`` for 23; ``"-"`` for None (no rooms). The charts
    write it with ``separator`` ``"-"``: ``"3PM-4PM"``."""
    if hour is None:
        return "-"

    def clock(value: int) -> str:
        return f"{(value % 12) or 12}{'AM' if value % 24 < 12 else 'PM'}"

    return f"{clock(hour)}{separator}{clock(hour + 1)}"


def total_human_messages(context: Context) -> Pipeline:
    """Stages that add up the rooms' :func:`human_messages` into one ``{n}``."""
    return [*human_messages(context), {"$group": {"_id": None, "n": {"$sum": "$n"}}}]


def human_messages(context: Context, *, agents_only: bool = False, keep: tuple[str, ...] = ()) -> Pipeline:
    """Stages that replace each room by ``{n}``, its messages written by people (system messages
    have a ``t``): those of visitors and agents, or with ``agents_only`` those without a visitor's
    ``token``; the room's fields ``keep`` stay beside it."""
    human: Any = {"$eq": [{"$ifNull": ["$$m.t", None]}, None]}
    if agents_only:
        human = {"$and": [human, {"$eq": [{"$ifNull": ["$$m.token", None]}, None]}]}
    return [
        # Only what is kept goes into the join: it copies each room beside its messages.
        {"$project": {"_id": 1, **{field: 1 for field in keep}}},
        {
            "$lookup": {
                "from": context.names["message"],
                "localField": "_id",
                "foreignField": "rid",
                "as": "messages",
            }
        },
        {
            "$project": {
                **{field: 1 for field in keep},
                "n": {"$size": {"$filter": {"input": "$messages", "as": "m", "cond": human}}},
            }
        },
    ]


def department_keys(names: Mapping[str, str | None]) -> dict[str, str]:
    """A key per department id that never merges two departments: the name, or ``"Name (id)"`` for
    names that several of these departments share; the id itself when the name is unknown."""
    keys = unique_labels([(department, name) for department, name in names.items() if name is not None])
    return {department: keys.get(department, department) for department in names}


# -- Buckets in a timezone (trends) -------------------------------------------------------------

#: The lengths of bucket the trends group by.
HOUR, DAY, WEEK, MONTH = "hour", "day", "week", "month"
BUCKETS = (HOUR, DAY, WEEK, MONTH)
_QUARTER = dt.timedelta(milliseconds=SLOT_MS)


def next_boundary(moment: dt.datetime, timezone: dt.tzinfo, unit: str) -> dt.datetime | None:
    """The first start of a local hour, day, ISO week (Monday) or month in ``timezone`` after
    ``moment``, in UTC; None when it would lie past year 9999, in UTC or in ``timezone``.

    A day, week or month starts at the local midnight (the first moment of the day when the clocks
    skip midnight); an hour where the local minute is 0, found among the UTC quarter hours, so that
    a 25-hour day has 25 hours and half- and quarter-hour zones start theirs on the right minute.
    """
    try:
        return _next_boundary(moment, timezone, unit)
    except (OverflowError, ValueError):  # past the calendar: no date names it
        return None


def _next_boundary(moment: dt.datetime, timezone: dt.tzinfo, unit: str) -> dt.datetime:
    if unit == HOUR:
        after = _EPOCH + (moment - _EPOCH) // _QUARTER * _QUARTER + _QUARTER
        for _ in range(8):  # an offset of seconds (local mean time, before 1900) never lands on :00
            if after.astimezone(timezone).minute == 0:
                break
            after += _QUARTER
        return after
    day = moment.astimezone(timezone).date()
    if unit == DAY:
        day += dt.timedelta(days=1)
    elif unit == WEEK:
        day += dt.timedelta(days=7 - day.weekday())
    else:
        day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    # fold=0: a midnight the clocks skip is read with the offset before the change, which is the
    # first moment of that day.
    return dt.datetime.combine(day, dt.time(), tzinfo=timezone).astimezone(_UTC)


def bucket_starts(
    start: dt.datetime, end: dt.datetime, timezone: dt.tzinfo, unit: str, *, limit: int | None = None
) -> list[dt.datetime]:
    """The starts of the buckets of ``unit`` that cover ``[start, end]``, in UTC, the first one
    clipped to ``start``; with ``limit``, no more than one past it (enough to tell it is passed)."""
    starts = [start]
    boundary = next_boundary(start, timezone, unit)
    while boundary is not None and boundary <= end and (limit is None or len(starts) <= limit):
        starts.append(boundary)
        boundary = next_boundary(boundary, timezone, unit)
    return starts


def slot_bucket(slot: float, starts_ms: list[int]) -> int:
    """The bucket of a :func:`quarter_hour` slot, by the buckets' starts in milliseconds since 1970.

    Every start but the first is a UTC quarter hour, so a slot lies in one bucket; a slot before
    the first start (it holds ``start``) or past the last belongs to the first or last bucket.
    """
    index = bisect.bisect_right(starts_ms, int(slot) * SLOT_MS) - 1
    return min(max(index, 0), len(starts_ms) - 1)


def milliseconds(moment: dt.datetime) -> int:
    """A moment as milliseconds since 1970."""
    return (moment - _EPOCH) // dt.timedelta(milliseconds=1)


def local_iso(moment: dt.datetime, timezone: dt.tzinfo) -> str:
    """ISO 8601 in ``timezone``, with its offset at that moment; milliseconds only when there are."""
    local = moment.astimezone(timezone)
    return local.isoformat(timespec="milliseconds" if local.microsecond else "seconds")
