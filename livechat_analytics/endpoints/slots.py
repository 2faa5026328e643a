"""The room table: the sums every room panel of a window derives from, read once and kept.

One aggregate groups the livechat rooms a caller may see by department, UTC quarter hour of
creation, quarter hour of close and status, with nine sums each (:data:`SUMS`). Every UTC offset is
a whole number of quarter hours, so a window that begins and ends on a quarter hour (every local
day, week and month does) is a set of whole slots, and the department metrics, their trends, the
heatmap and the rooms by status all follow from the window's slots in Python, to the same numbers
their own aggregates give (``docs/room-table.rst``; a property checks it on every backend).

The slots are kept in the answer cache's backend, one entry per UTC day of creation
(:class:`Days`), for ``SLOT_SECONDS``: a later request, for any window of the same scope and ``T``,
reads them instead of the rooms, and first asks the database which rooms changed since they were
read (their ``_updatedAt``, through the ``livechat_analytics_t_updated`` index) to read again only
the quarter hours those rooms were created in. The database is never written. A window that is not
whole quarter hours, a request with the answer cache off, and everything else is read as before.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..auth import MANAGER_PERMISSION
from ..repository import Repository
from .common import (
    CLOSED,
    DEPARTMENT_KEY,
    ONHOLD,
    OPEN,
    QUEUED,
    SERVICE_MILLISECONDS,
    SLOT_MS,
    STATUS,
    Context,
    Pipeline,
    count_if,
    human_messages,
    is_abandoned,
    is_not_true,
    livechat_rooms,
    mean_parts,
    milliseconds,
    outside,
    quarter_hour,
    sum_if,
    sum_or_zero,
)
from .stored import is_date, is_number, is_text, number, read_once, text

_UTC = dt.timezone.utc
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)
#: A window that begins on the calendar's first day or ends on its last has no table (its days
#: would begin before year 1 or end after 9999).
_FIRST = dt.datetime(1, 1, 2, tzinfo=_UTC)
_LAST = dt.datetime(9999, 12, 31, tzinfo=_UTC)
_MS = dt.timedelta(milliseconds=1)
DAY_SLOTS = 96
STATUSES = (OPEN, CLOSED, QUEUED, ONHOLD)

#: ``waitingResponse`` is true, as a ``$match`` on ``true`` finds it (an array holding ``true`` too).
_WAITING = {
    "$cond": [
        {"$isArray": "$waitingResponse"},
        {"$in": [True, "$waitingResponse"]},
        {"$eq": ["$waitingResponse", True]},
    ]
}
#: Served with a last message: what ``average-service-time`` counts.
_SERVED = {"$and": [is_date("$responseBy.lastMessageTs"), is_text("$servedBy._id")]}
#: The numbers of seconds the sums read, each read once per room (:func:`.stored.read_once`).
_READ = read_once(
    response=number("$metrics.response.avg"),
    firstResponse=number("$metrics.response.ft"),
    reaction=number("$metrics.reaction.ft"),
)
_REPLIED = is_not_true("$waitingResponse")


def slot_sums(context: Context) -> dict[str, Any]:
    """The sums of a slot's rooms: the created rooms' (``rooms`` to ``repliedSeconds``), and the
    sums the closed rooms' metrics take (:data:`CLOSED_SUMS`), which count where the slot's rooms closed
    in the window."""
    return {
        "rooms": {"$sum": 1},
        "answered": {"$sum": {"$cond": [_WAITING, 0, 1]}},  # not $not: mongomock's is always false
        "waitingSeconds": {"$sum": {"$cond": [_WAITING, 0, {"$ifNull": ["$_firstResponse", 0]}]}},
        "served": count_if(_SERVED),
        "serviceMilliseconds": {"$sum": {"$cond": [_SERVED, SERVICE_MILLISECONDS, 0]}},
        "abandoned": count_if(is_abandoned(context)),
        **mean_parts("response", "$_response"),
        **mean_parts("firstResponse", "$_firstResponse"),
        **mean_parts("reaction", "$_reaction"),
        "repliedRooms": count_if(_REPLIED),
        "repliedSeconds": sum_if(_REPLIED, "$_firstResponse"),
        "chatSeconds": sum_or_zero("$metrics.chatDuration"),
        "timedChats": count_if(is_number("$metrics.serviceTimeDuration")),
        "serviceSeconds": sum_or_zero("$metrics.serviceTimeDuration"),
    }


SUMS = tuple(slot_sums(Context({})))
#: The sums of the closed rooms' metrics, by the slot's sum they are read from.
CLOSED_SUMS = {
    "closedRooms": "rooms",
    "closedAbandoned": "abandoned",
    "chatSeconds": "chatSeconds",
    "timedChats": "timedChats",
    "serviceSeconds": "serviceSeconds",
}
#: The sums of the created rooms: the others.
CREATED_SUMS = tuple(name for name in SUMS if name not in CLOSED_SUMS)
_AT = {name: index for index, name in enumerate(SUMS)}

#: A day's rows, each keyed by its department and creation slot first: of the rooms' sums,
#: (department, creation slot, close slot or None, status) to its :data:`SUMS`.
Rows = dict[tuple[Any, ...], Any]


@dataclass(frozen=True)
class _All:
    """The query of the table's reads: every department (the table holds them apart)."""

    department_id: None = None


def slot_pipeline(context: Context, created: dict[str, Any], **conditions: Any) -> Pipeline:
    """The rooms the caller may see created in ``created`` (with ``conditions``), grouped by
    department, creation slot, close slot (null when ``closedAt`` is no date) and status."""
    key = {
        "d": DEPARTMENT_KEY,
        "c": quarter_hour(),
        "x": {"$cond": [is_date("$closedAt"), quarter_hour("$closedAt"), None]},
        "s": STATUS,
    }
    rooms = livechat_rooms(_All(), context, created, **conditions)
    return [*rooms, _READ, {"$group": {"_id": key, **slot_sums(context)}}]


def read_rows(repository: Repository, pipeline: Pipeline) -> Rows:
    """The rows of :func:`slot_pipeline`'s groups."""
    rows: Rows = {}
    for group in repository.stream("room", pipeline):
        key = group["_id"]
        closed = None if key.get("x") is None else int(key["x"])
        rows[(key.get("d"), int(key["c"]), closed, key["s"])] = tuple(group[name] or 0 for name in SUMS)
    return rows


def talk_pipeline(context: Context, created: dict[str, Any], **conditions: Any) -> Pipeline:
    """The rooms the caller may see created in ``created``, grouped by department and creation
    slot: their human messages (:func:`.common.human_messages`) and their visitors."""
    return [
        *livechat_rooms(_All(), context, created, **conditions),
        {"$project": {"_id": 1, "d": DEPARTMENT_KEY, "c": quarter_hour(), "v": text("$v._id")}},
        *human_messages(context, keep=("d", "c", "v")),
        {"$group": {"_id": {"d": "$d", "c": "$c"}, "n": {"$sum": "$n"}, "v": {"$addToSet": "$v"}}},
    ]


def read_talk(repository: Repository, pipeline: Pipeline) -> Rows:
    """The rows of :func:`talk_pipeline`'s groups: (department, slot) to the messages and the
    visitors (their ids that are strings)."""
    rows: Rows = {}
    for group in repository.stream("room", pipeline):
        visitors = tuple(sorted(visitor for visitor in group["v"] if isinstance(visitor, str)))
        rows[(group["_id"].get("d"), int(group["_id"]["c"]))] = (group["n"] or 0, visitors)
    return rows


def talk_table(rows: Iterable[Rows], first: int, last: int) -> Table:
    """The messages and visitors of the window of slots ``first`` to ``last``, per (department,
    slot) of the rooms created in it."""
    return {
        (department, created): {"messages": messages, "visitors": visitors}
        for part in rows
        for (department, created), (messages, visitors) in part.items()
        if first <= created <= last
    }


@dataclass(frozen=True)
class Kind:
    """What a table holds: its name (in the keys of what is kept), how a creation range of rooms is
    read into rows and the rows of a window into a table, and whether the window also needs the
    rooms created after its days yet closed in it."""

    name: str
    pipeline: Callable[..., Pipeline]
    read: Callable[[Repository, Pipeline], Rows]
    table: Callable[[Iterable[Rows], int, int], Table]
    late: bool = False


# -- A window's table -----------------------------------------------------------------------------


def slot_of(moment: dt.datetime) -> int:
    """The UTC quarter hour holding ``moment``."""
    return milliseconds(moment) // SLOT_MS


def whole_slots(start: dt.datetime, end: dt.datetime) -> bool:
    """Whether ``[start, end]`` is whole quarter hours: it begins on one and ends a millisecond
    before one, so the comparisons of the rooms' dates with it are comparisons of their slots."""
    return milliseconds(start) % SLOT_MS == 0 and (milliseconds(end) + 1) % SLOT_MS == 0 and start <= end


#: A window's table: per (department, creation slot), the sums its metrics read.
Table = dict[tuple[Any, int], dict[str, Any]]


def window_table(rows: Iterable[Rows], first: int, last: int) -> Table:
    """The sums of the window of slots ``first`` to ``last`` from the rows that may count in it:
    the rooms created in it (with their status), and those created from ``first`` on and closed by
    ``last`` (as the closed rooms' metrics count them)."""
    table: Table = {}
    for part in rows:
        for (department, created, closed, status), sums in part.items():
            counted = first <= created <= last
            closed_in = closed is not None and closed <= last and created >= first
            if not counted and not closed_in:
                continue
            entry = table.setdefault((department, created), {})
            if counted:
                for name in CREATED_SUMS:
                    entry[name] = entry.get(name, 0) + sums[_AT[name]]
                entry[status] = entry.get(status, 0) + sums[0]
            if closed_in:
                for name, source in CLOSED_SUMS.items():
                    entry[name] = entry.get(name, 0) + sums[_AT[source]]
    return table


#: The sums of the rooms, and their messages and visitors (a join: only the panels that count
#: messages ask for it).
ROOMS = Kind("rooms", slot_pipeline, read_rows, window_table, late=True)
TALK = Kind("talk", talk_pipeline, read_talk, talk_table)


def entries(table: Table, query: Any, context: Context) -> Iterator[tuple[Any, int, Mapping[str, Any]]]:
    """The table's (department, slot, sums) of the query's department (every one when it names
    none; nothing when the caller may not see it)."""
    wanted = query.department_id
    if wanted is not None and outside(context.scope, wanted):
        return
    for (department, created), sums in table.items():
        if wanted is None or department == wanted:
            yield department, created, sums


def table_of(query: Any, context: Context, kind: Kind = ROOMS) -> Table | None:
    """The ``kind`` table of the query's window, when the context has kept days and the window a
    table (:meth:`Days.table`)."""
    return None if context.days is None else context.days.table(query.start, query.end, context, kind)


def added(table: Table, query: Any, context: Context, sums: Mapping[str, str]) -> dict[str, float]:
    """The table's sums over the query's department (:func:`entries`): each of ``sums`` is the
    table's sum it names."""
    total: dict[str, float] = dict.fromkeys(sums, 0)
    for _, _, slot in entries(table, query, context):
        for name, source in sums.items():
            total[name] += slot.get(source, 0)
    return total


def statuses_of(table: Table, query: Any, context: Context) -> dict[str, int]:
    """The rooms created in the window by status, every status present."""
    return {
        status: int(count) for status, count in added(table, query, context, {s: s for s in STATUSES}).items()
    }


def talked(table: Table, query: Any, context: Context) -> tuple[int, int]:
    """The human messages of the rooms created in the window, and their distinct visitors, from
    the :data:`TALK` table."""
    messages: float = 0
    visitors: set[str] = set()
    for _, _, slot in entries(table, query, context):
        messages += slot["messages"]
        visitors.update(slot["visitors"])
    return int(messages), len(visitors)


# -- Kept days --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableQuery:
    """What a window's table depends on besides the context: the window."""

    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class DayKey:
    """What a kept day depends on besides the context: its number since 1970."""

    day: int


class Days:
    """The room table of windows of whole quarter hours, from days of slots kept in the answer
    cache's backend (``answers``): each day's rows, read at ``made``, refreshed up to ``seen``.

    ``seconds`` is how long a day is kept from its first read (0: none is, and no window has a
    table); ``skew`` how far before ``seen`` a refresh looks for changed rooms, for the clocks of
    the servers writing ``_updatedAt`` and for writes still in flight. ``threshold`` reads ``T``.
    """

    def __init__(
        self,
        answers: Any,
        repository: Repository,
        threshold: Callable[[], float],
        *,
        seconds: float,
        skew: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.answers = answers
        self.repository = repository
        self.threshold = threshold
        self.seconds = seconds
        self.skew = skew
        self.clock = clock

    @property
    def on(self) -> bool:
        """Whether windows have a table: the answer cache keeps answers, and days are kept."""
        return self.answers.backend is not None and self.seconds > 0

    def table(
        self, start: dt.datetime, end: dt.datetime, context: Context, kind: Kind = ROOMS
    ) -> Table | None:
        """The ``kind`` table of ``[start, end]`` for ``context``'s caller, computed once for every
        panel asking at once (and kept as an answer); None when the window has none."""
        if not self.on or not whole_slots(start, end) or not _FIRST < start <= end < _LAST:
            return None
        context = Context(context.names, inactivity_timeout=self.threshold(), scope=context.scope)
        return self.answers.compute(  # type: ignore[no-any-return]
            f"slots/{kind.name}/window",
            MANAGER_PERMISSION,
            TableQuery(start, end),
            context,
            lambda: self._window(start, end, context, kind),
            counted=False,
        )

    def _window(self, start: dt.datetime, end: dt.datetime, context: Context, kind: Kind) -> Table:
        first, last = slot_of(start), slot_of(end)
        days = list(range(first // DAY_SLOTS, last // DAY_SLOTS + 1))
        rows = [day["rows"] for day in self._days(days, context, kind)]
        if kind.late:
            # Rooms created after the last day yet closed by the end: only odd data has them.
            after = _moment((days[-1] + 1) * DAY_SLOTS)
            rows.append(
                kind.read(self.repository, kind.pipeline(context, {"$gte": after}, closedAt={"$lte": end}))
            )
        return kind.table(rows, first, last)

    def _days(self, days: list[int], context: Context, kind: Kind) -> list[dict[str, Any]]:
        """The kept days ``days``: read those not kept (or kept longer than ``seconds``), refresh
        the others, keep them all."""
        now = self.clock()
        path = f"slots/{kind.name}/day"
        keys = [self.answers.key(path, MANAGER_PERMISSION, DayKey(day), context) for day in days]
        found = self.answers.kept(keys)
        kept: dict[int, dict[str, Any]] = {
            day: value
            for day, value in zip(days, found, strict=True)
            if isinstance(value, dict) and now - value["made"] < self.seconds
        }
        if kept:
            self._refresh(kept, context, now, kind)
        for first, last in _runs([day for day in days if day not in kept]):
            rows = kind.read(self.repository, kind.pipeline(context, _days(first, last)))
            for day in range(first, last + 1):
                kept[day] = {"made": now, "seen": now, "rows": {}}
            for key, sums in rows.items():
                kept[key[1] // DAY_SLOTS]["rows"][key] = sums
        self.answers.keep(
            {key: kept[day] for key, day in zip(keys, days, strict=True)}, max(1, int(self.seconds))
        )
        return [kept[day] for day in days]

    def _refresh(self, kept: dict[int, dict[str, Any]], context: Context, now: float, kind: Kind) -> None:
        """Read again the slots of the kept days whose rooms changed since the days were last seen
        (whoever may see them: a room moved out of the caller's departments changes the slot)."""
        since = dt.datetime.fromtimestamp(min(day["seen"] for day in kept.values()) - self.skew, _UTC)
        first, last = min(kept), max(kept)
        changed = self.repository.aggregate(
            "room",
            [
                {"$match": {"t": "l", "_updatedAt": {"$gt": since}}},
                {"$match": {"ts": _days(first, last)}},
                {"$group": {"_id": quarter_hour()}},
            ],
        )
        slots = sorted(int(group["_id"]) for group in changed if int(group["_id"]) // DAY_SLOTS in kept)
        for value in kept.values():
            value["seen"] = now
        for low, high in _runs(slots, most=8):
            rows = kind.read(
                self.repository, kind.pipeline(context, {"$gte": _moment(low), "$lt": _moment(high + 1)})
            )
            for day in range(low // DAY_SLOTS, high // DAY_SLOTS + 1):
                if day in kept:
                    old = kept[day]["rows"]
                    kept[day]["rows"] = {key: sums for key, sums in old.items() if not low <= key[1] <= high}
            for key, sums in rows.items():
                if key[1] // DAY_SLOTS in kept:
                    kept[key[1] // DAY_SLOTS]["rows"][key] = sums


def _days(first: int, last: int) -> dict[str, Any]:
    """A ``$match`` condition on a date: in the days ``first`` to ``last``."""
    return {"$gte": _moment(first * DAY_SLOTS), "$lt": _moment((last + 1) * DAY_SLOTS)}


def _moment(slot: int) -> dt.datetime:
    """The first moment of a slot."""
    return _EPOCH + dt.timedelta(milliseconds=slot * SLOT_MS)


def _runs(numbers: list[int], most: int | None = None) -> list[tuple[int, int]]:
    """Sorted ``numbers`` as runs ``(first, last)`` of consecutive ones; with ``most``, the runs
    with the shortest gaps between them joined until there are no more than ``most``."""
    runs: list[list[int]] = []
    for value in sorted(numbers):
        if runs and value == runs[-1][1] + 1:
            runs[-1][1] = value
        else:
            runs.append([value, value])
    while most is not None and len(runs) > most:
        gap = min(range(len(runs) - 1), key=lambda index: runs[index + 1][0] - runs[index][1])
        runs[gap : gap + 2] = [[runs[gap][0], runs[gap + 1][1]]]
    return [(first, last) for first, last in runs]
