"""The room table: the sums every room panel of a window derives from, read once and kept.

One read of the livechat rooms a caller may see, created in the window, hands over the few fields
the panels use as stored (:data:`FIELDS`); Python reads each by its kind and adds the rooms up by
department, UTC quarter hour of creation, quarter hour of close and status (:data:`SUMS`). Every UTC
offset is a whole number of quarter hours, so a window that begins and ends on a quarter hour (every
local day, week and month does) is a set of whole slots, and the department metrics, their trends,
the heatmap, the rooms by status and the totalizers all follow from the window's slots in Python, to
the same numbers their own aggregates give (``docs/room-table.rst``; properties check it on every
backend). The messages and visitors of ``conversation-totalizers`` come from a second table of the
same shape (:data:`TALK`), a join only that panel asks for.

The slots are kept in the answer cache's backend, one entry per UTC day of creation
(:class:`Days`), for ``SLOT_SECONDS``: a later request, for any window of the same scope and ``T``,
reads them instead of the rooms, and first asks the database which rooms changed since they were
looked at (their ``_updatedAt``, through the ``livechat_analytics_t_updated`` index) to read again
only the quarter hours those rooms were created in. The database is never written. A window that is
not whole quarter hours, a request with the answer cache off, and everything else is read as before.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..auth import MANAGER_PERMISSION
from ..repository import Repository
from .common import (
    CLOSED,
    ONHOLD,
    OPEN,
    QUEUED,
    SLOT_MS,
    Context,
    Pipeline,
    human_messages,
    livechat_rooms,
    milliseconds,
    outside,
    quarter_hour,
)
from .stored import date_of, number_of

_UTC = dt.timezone.utc
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)
#: A window that begins on the calendar's first day or ends on its last has no table (its days
#: would begin before year 1 or end after 9999).
_FIRST = dt.datetime(1, 1, 2, tzinfo=_UTC)
_LAST = dt.datetime(9999, 12, 31, tzinfo=_UTC)
_MS = dt.timedelta(milliseconds=1)
DAY_SLOTS = 96
#: A slot after every window: a day's own table counts every room closed at all.
_ALWAYS = 2**62
#: How many kept days a process holds in memory besides the backend (a year for a dozen scopes).
MEMO_DAYS = 4096
#: The most days after a window its table looks at for rooms closed in it (a year).
LATER_DAYS = 400
#: How many days one read of days not kept covers: each is kept once read.
READ_DAYS = 7
STATUSES = (OPEN, CLOSED, QUEUED, ONHOLD)

#: What the table reads of a room, as stored: each value is read by its kind in Python
#: (:mod:`.stored`), so an odd one counts as a missing one, as the pipelines' readers have it. The
#: server follows the paths (through arrays too); Python only tells the kinds apart, which costs a
#: room far less than the same tests as expressions on SecantusDB.
FIELDS = {
    "departmentId": "$departmentId",
    "ts": "$ts",
    "closedAt": "$closedAt",
    "open": "$open",
    "onHold": "$onHold",
    "servedBy": "$servedBy",
    "lastMessageTs": "$responseBy.lastMessageTs",
    "waitingResponse": "$waitingResponse",
    "chatDuration": "$metrics.chatDuration",
    "serviceTimeDuration": "$metrics.serviceTimeDuration",
    "visitorInactivity": "$metrics.visitorInactivity",
    "response": "$metrics.response.avg",
    "firstResponse": "$metrics.response.ft",
    "reaction": "$metrics.reaction.ft",
}

#: The sums of a slot's rooms: the created rooms' (``rooms`` to ``repliedSeconds``), and the sums
#: the closed rooms' metrics take (:data:`CLOSED_SUMS`), which count where the rooms closed in the
#: window. Each is the Python twin of the pipelines' expression it stands for (named beside it).
SUMS = (
    "rooms",  # $sum: 1
    "answered",  # waitingResponse not true, as {$ne: true} matches (an array holding true is true)
    "waitingSeconds",  # metrics.response.ft of those (a number, else 0)
    "served",  # servedBy._id a string and responseBy.lastMessageTs a date
    "serviceMilliseconds",  # SERVICE_MILLISECONDS of those
    "abandoned",  # is_abandoned: metrics.visitorInactivity a number of at least T
    "responseRooms",  # mean_parts("response", ...): response.avg a number
    "responseSeconds",
    "firstResponseRooms",
    "firstResponseSeconds",
    "reactionRooms",
    "reactionSeconds",
    "repliedRooms",  # is_not_true(waitingResponse)
    "repliedSeconds",  # their metrics.response.ft
    "chatSeconds",  # sum_or_zero(metrics.chatDuration)
    "timedChats",  # is_number(metrics.serviceTimeDuration)
    "serviceSeconds",  # sum_or_zero(metrics.serviceTimeDuration)
)


def _waiting(value: Any) -> bool:
    """``waitingResponse`` as a ``$match`` on ``true`` finds it: true, or an array holding true
    (``in`` would take 1 for true)."""
    if isinstance(value, list):
        return any(item is True for item in value)
    return value is True


def _status(room: Mapping[str, Any]) -> str:
    """:data:`.common.STATUS` of a room read as stored."""
    if room.get("open") is not True:
        return CLOSED
    if room.get("onHold") is True:
        return ONHOLD
    return QUEUED if room.get("servedBy") is None else OPEN


def _service(served: Any, last: dt.datetime | None) -> tuple[bool, float]:
    """Whether the room counts as served (an agent's id and a last message), and
    :data:`.common.SERVICE_MILLISECONDS` of it."""
    agent = served.get("_id") if isinstance(served, dict) else None
    since = date_of(served.get("ts")) if isinstance(served, dict) else None
    milliseconds_ = float((last - since) // _MS) if last is not None and since is not None else 0.0
    return isinstance(agent, str) and last is not None, milliseconds_


def room_sums(room: Mapping[str, Any], threshold: float) -> tuple[float, ...]:
    """One room's :data:`SUMS`, from :data:`FIELDS` as stored and ``T``."""
    waiting = _waiting(room.get("waitingResponse"))
    served, service = _service(room.get("servedBy"), date_of(room.get("lastMessageTs")))
    inactivity = number_of(room.get("visitorInactivity"))
    response, first, reaction = (
        number_of(room.get(name)) for name in ("response", "firstResponse", "reaction")
    )
    timed = number_of(room.get("serviceTimeDuration"))
    replied = room.get("waitingResponse") is not True
    return (
        1,
        0 if waiting else 1,
        0 if waiting else first or 0,
        1 if served else 0,
        service if served else 0,
        1 if inactivity is not None and inactivity >= threshold else 0,
        0 if response is None else 1,
        response or 0,
        0 if first is None else 1,
        first or 0,
        0 if reaction is None else 1,
        reaction or 0,
        1 if replied else 0,
        first or 0 if replied else 0,
        number_of(room.get("chatDuration")) or 0,
        0 if timed is None else 1,
        timed or 0,
    )


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

#: The closed rooms' sums ``chats-totalizers`` takes: of the rooms whose ``closedAt`` is a date,
#: not an array holding one (its expressions read it as one value; a ``$match`` finds it in arrays).
DATED_SUMS = {"datedRooms": "rooms", "datedAbandoned": "abandoned", "datedSeconds": "chatSeconds"}
#: A day's rows, each keyed by its department and creation slot first: of the rooms' sums,
#: (department, creation slot, close slot or None, status, whether the close came from an array)
#: to its :data:`SUMS`.
Rows = dict[tuple[Any, ...], Any]


@dataclass(frozen=True)
class _All:
    """The query of the table's reads: every department (the table holds them apart)."""

    department_id: None = None


def slot_pipeline(context: Context, created: dict[str, Any], **conditions: Any) -> Pipeline:
    """The rooms the caller may see created in ``created`` (with ``conditions``), each its
    :data:`FIELDS` as stored."""
    return [*livechat_rooms(_All(), context, created, **conditions), {"$project": {"_id": 0, **FIELDS}}]


def _closed(value: Any) -> tuple[dt.datetime | None, bool]:
    """When a room closed, as ``closedAt <= end`` finds it (an array by its earliest date), and
    whether that came from an array."""
    if isinstance(value, list):
        dates = [date for date in map(date_of, value) if date is not None]
        return (min(dates) if dates else None), True
    return date_of(value), False


def read_rows(repository: Repository, pipeline: Pipeline, context: Context) -> Rows:
    """The rooms of :func:`slot_pipeline` added up by department, creation slot, close slot (None
    when ``closedAt`` is no date) and status."""
    rows: dict[tuple[Any, ...], list[float]] = {}
    for room in repository.stream("room", pipeline, any_dates=True):
        closed_at, listed = _closed(room.get("closedAt"))
        department = room.get("departmentId")
        key = (
            department if isinstance(department, str) else None,
            milliseconds(room["ts"]) // SLOT_MS,
            None if closed_at is None else milliseconds(closed_at) // SLOT_MS,
            _status(room),
            listed,
        )
        sums = room_sums(room, context.inactivity_timeout)
        total = rows.get(key)
        if total is None:
            rows[key] = list(sums)
        else:
            for index, value in enumerate(sums):
                total[index] += value
    return {key: tuple(total) for key, total in rows.items()}


def talk_pipeline(context: Context, created: dict[str, Any], **conditions: Any) -> Pipeline:
    """The rooms the caller may see created in ``created``: each one's department, creation, visitor
    and human messages (:func:`.common.human_messages`), as stored."""
    return [
        *livechat_rooms(_All(), context, created, **conditions),
        {"$project": {"_id": 1, "departmentId": 1, "ts": 1, "v": "$v._id"}},
        *human_messages(context, keep=("departmentId", "ts", "v")),
    ]


def read_talk(repository: Repository, pipeline: Pipeline, context: Context) -> Rows:
    """The rooms of :func:`talk_pipeline` by department and creation slot: their messages, and
    their visitors (the ids that are strings)."""
    rows: dict[tuple[Any, ...], tuple[float, set[str]]] = {}
    for room in repository.stream("room", pipeline):
        department = room.get("departmentId")
        key = (department if isinstance(department, str) else None, milliseconds(room["ts"]) // SLOT_MS)
        messages, visitors = rows.get(key, (0, set()))
        if isinstance(room.get("v"), str):
            visitors.add(room["v"])
        rows[key] = (messages + room["n"], visitors)
    return {key: (messages, tuple(sorted(visitors))) for key, (messages, visitors) in rows.items()}


def talk_table(rows: Iterable[Rows], first: int, last: int) -> Table:
    """The messages and visitors of the window of slots ``first`` to ``last``, per (department,
    slot) of the rooms created in it."""
    return _totalled(
        {
            (department, created): {"messages": messages, "visitors": frozenset(visitors)}
            for part in rows
            for (department, created), (messages, visitors) in part.items()
            if first <= created <= last
        }
    )


@dataclass(frozen=True)
class Kind:
    """What a table holds: its name (in the keys of what is kept), how a creation range of rooms is
    read into rows and the rows of a window into a table, and whether the window also needs the
    rooms created after its days yet closed in it."""

    name: str
    pipeline: Callable[..., Pipeline]
    read: Callable[[Repository, Pipeline, Context], Rows]
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


@dataclass
class Table:
    """A window's table: per (department, creation slot) the sums its metrics read, and per
    department their totals."""

    slots: dict[tuple[Any, int], dict[str, Any]] = field(default_factory=dict)
    totals: dict[Any, dict[str, Any]] = field(default_factory=dict)

    def add(self, other: Table) -> None:
        """Add ``other``, whose slots are not among these (another day's)."""
        self.slots.update(other.slots)
        for department, sums in other.totals.items():
            _add(self.totals.setdefault(department, {}), sums)


def _add(into: dict[str, Any], sums: Mapping[str, Any]) -> None:
    """Add ``sums`` into ``into``: numbers added, sets of ids (visitors) joined."""
    for name, value in sums.items():
        kept = into.get(name)
        if kept is None:
            into[name] = value
        elif isinstance(value, frozenset):
            into[name] = kept | value
        else:
            into[name] = kept + value


def _totalled(slots: dict[tuple[Any, int], dict[str, Any]]) -> Table:
    """A table of ``slots``, with its departments' totals."""
    table = Table(slots)
    for (department, _), sums in slots.items():
        _add(table.totals.setdefault(department, {}), sums)
    return table


def window_table(rows: Iterable[Rows], first: int, last: int) -> Table:
    """The sums of the window of slots ``first`` to ``last`` from the rows that may count in it:
    the rooms created in it (with their status), and those created from ``first`` on and closed by
    ``last`` (as the closed rooms' metrics count them)."""
    slots: dict[tuple[Any, int], dict[str, Any]] = {}
    for part in rows:
        for (department, created, closed, status, listed), sums in part.items():
            counted = first <= created <= last
            closed_in = closed is not None and closed <= last and created >= first
            if not counted and not closed_in:
                continue
            entry = slots.setdefault((department, created), {})
            if counted:
                for name in CREATED_SUMS:
                    entry[name] = entry.get(name, 0) + sums[_AT[name]]
                entry[status] = entry.get(status, 0) + sums[0]
            if closed_in:
                dated = {} if listed else DATED_SUMS
                for name, source in {**CLOSED_SUMS, **dated}.items():
                    entry[name] = entry.get(name, 0) + sums[_AT[source]]
    return _totalled(slots)


def closes(rows: Rows) -> tuple[int | None, int | None]:
    """The first and last close slots of the rooms' rows (None: none closed); of other rows None."""
    found = [key[2] for key in rows if len(key) > 2 and key[2] is not None]
    return (min(found), max(found)) if found else (None, None)


#: The sums of the rooms, and their messages and visitors (a join: only the panels that count
#: messages ask for it).
ROOMS = Kind("rooms", slot_pipeline, read_rows, window_table, late=True)
TALK = Kind("talk", talk_pipeline, read_talk, talk_table)


def _picks(query: Any, context: Context) -> Callable[[Any], bool]:
    """Whether a department's sums count for the query: every one when it names none, that one
    when it names one, none when the caller may not see the one it names."""
    wanted = query.department_id
    if wanted is None:
        return lambda department: True
    if outside(context.scope, wanted):
        return lambda department: False
    return lambda department: department == wanted


def entries(table: Table, query: Any, context: Context) -> Iterator[tuple[Any, int, Mapping[str, Any]]]:
    """The table's (department, slot, sums) of the query's department (:func:`_picks`)."""
    picks = _picks(query, context)
    return (
        (department, created, sums)
        for (department, created), sums in table.slots.items()
        if picks(department)
    )


def totals(table: Table, query: Any, context: Context) -> Iterator[tuple[Any, Mapping[str, Any]]]:
    """The table's (department, totals) of the query's department (:func:`_picks`)."""
    picks = _picks(query, context)
    return ((department, sums) for department, sums in table.totals.items() if picks(department))


def table_of(query: Any, context: Context, kind: Kind = ROOMS) -> Table | None:
    """The ``kind`` table of the query's window, when the context has kept days and the window a
    table (:meth:`Days.table`)."""
    return None if context.days is None else context.days.table(query.start, query.end, context, kind)


def added(table: Table, query: Any, context: Context, sums: Mapping[str, str]) -> dict[str, float]:
    """The table's sums over the query's department (:func:`entries`): each of ``sums`` is the
    table's sum it names."""
    total: dict[str, float] = dict.fromkeys(sums, 0)
    for _, department in totals(table, query, context):
        for name, source in sums.items():
            total[name] += department.get(source, 0)
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
    for _, department in totals(table, query, context):
        messages += department["messages"]
        visitors.update(department["visitors"])
    return int(messages), len(visitors)


# -- Kept days --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableQuery:
    """What a window's table depends on besides the context: the window."""

    start: dt.datetime
    end: dt.datetime


class Days:
    """The room table of windows of whole quarter hours, from days of slots kept in the answer
    cache's backend (``answers``): each day's rows, read at ``made``, and when each day was last
    looked at. The extension makes one only when the answer cache is on and ``seconds`` above 0.

    ``seconds`` is how long a day is kept from its first read; ``skew`` how far before the last look
    a refresh looks for changed rooms, for the clocks of the servers writing ``_updatedAt`` and for
    writes still in flight. ``threshold`` reads ``T``.
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
        #: The days this process read or computed last, by key (their version tells them current).
        self._memo: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def table(
        self, start: dt.datetime, end: dt.datetime, context: Context, kind: Kind = ROOMS
    ) -> Table | None:
        """The ``kind`` table of ``[start, end]`` for ``context``'s caller, computed once for every
        panel asking at once (and kept as an answer); None when the window has none."""
        if not whole_slots(start, end) or not _FIRST < start <= end < _LAST:
            return None
        context = Context(context.names, inactivity_timeout=self.threshold(), scope=context.scope)
        kept = self.answers.compute(
            f"slots/{kind.name}/window",
            MANAGER_PERMISSION,
            TableQuery(start, end),
            context,
            lambda: vars(self._window(start, end, context, kind)),  # kept as an answer is: a dict
            counted=False,
        )
        return Table(**kept)

    def _window(self, start: dt.datetime, end: dt.datetime, context: Context, kind: Kind) -> Table:
        first, last = slot_of(start), slot_of(end)
        days = list(range(first // DAY_SLOTS, last // DAY_SLOTS + 1))
        table = Table()
        for number, day in zip(days, self._days(days, context, kind) or (), strict=True):
            whole = first <= number * DAY_SLOTS and (number + 1) * DAY_SLOTS - 1 <= last
            if whole and (day["closes"] is None or day["closes"] <= last):
                table.add(day["table"])  # every room of the day counts, closed ones included
            else:
                table.add(kind.table([day["rows"]], first, last))
        if kind.late:
            self._late(table, days[-1] + 1, first, last, context, kind)
        return table

    def _late(self, table: Table, after: int, first: int, last: int, context: Context, kind: Kind) -> None:
        """Add the rooms created from the day ``after`` on yet closed by the window's end (only odd
        data has them): from the days up to today when all are kept (a previous window's are the
        current one's), the later ones (none but odd data's) from the database."""
        today = int(self.clock() * 1000) // (SLOT_MS * DAY_SLOTS)
        later = list(range(after, today + 1))
        held = self._days(later, context, kind, only_kept=True) if 0 < len(later) <= LATER_DAYS else None
        if held is not None:
            for day in held:
                if day["opens"] is not None and day["opens"] <= last:
                    table.add(kind.table([day["rows"]], first, last))
            after = today + 1
        end = _moment(last + 1) - _MS
        late = kind.pipeline(context, {"$gte": _moment(after * DAY_SLOTS)}, closedAt={"$lte": end})
        table.add(kind.table([kind.read(self.repository, late, context)], first, last))

    def _days(
        self, days: list[int], context: Context, kind: Kind, *, only_kept: bool = False
    ) -> list[dict[str, Any]] | None:
        """The kept days ``days``: read those not kept (or kept longer than ``seconds``), refresh
        the others; keep those read or changed, and when each was last looked at (with the version
        of each, so that a day this process holds already is not read from the backend again).
        ``only_kept``: None unless every day is kept, and nothing read but what changed."""
        now = self.clock()
        base = self.answers.key(f"slots/{kind.name}/day", MANAGER_PERMISSION, None, context)
        keys = {day: f"{base}:{day}" for day in days}
        [marks] = self.answers.kept([f"{base}:seen"])
        looked: dict[int, tuple[float, str]] = marks if isinstance(marks, dict) else {}
        kept = self._kept(days, keys, looked)
        kept = {day: value for day, value in kept.items() if now - value["made"] < self.seconds}
        if only_kept and len(kept) < len(days):
            return None
        changed = self._refresh(kept, looked, context, kind) if kept else {}
        self._keep(changed, kept, looked, keys, f"{base}:seen", now, kind)
        # The days not kept, a few at a time, each kept once read: a read past the deadline still
        # leaves the days before it for the next request.
        missing = [day for day in days if day not in kept]
        for first, last in _runs(missing):
            for low in range(first, last + 1, READ_DAYS):
                high = min(low + READ_DAYS - 1, last)
                rows = kind.read(self.repository, kind.pipeline(context, _created_in(low, high)), context)
                fresh: dict[int, Rows] = {day: {} for day in range(low, high + 1)}
                for key, sums in rows.items():
                    fresh[key[1] // DAY_SLOTS][key] = sums
                read = {day: {"made": now, "rows": part} for day, part in fresh.items()}
                self._keep(read, kept, looked, keys, f"{base}:seen", now, kind)
        looked.update({day: (now, kept[day]["version"]) for day in days})
        self.answers.keep({f"{base}:seen": looked}, max(1, int(self.seconds)))
        return [kept[day] for day in days]

    def _keep(
        self,
        changed: Mapping[int, dict[str, Any]],
        kept: dict[int, dict[str, Any]],
        looked: dict[int, tuple[float, str]],
        keys: Mapping[int, str],
        seen_key: str,
        now: float,
        kind: Kind,
    ) -> None:
        """Finish the days read or changed (their whole-day table, first and last close, a new
        version), write them and when they were looked at, and hold them in this process."""
        if not changed:
            return
        for day, value in changed.items():
            rows = value["rows"]
            table = kind.table([rows], day * DAY_SLOTS, _ALWAYS)
            opens, ends = closes(rows)
            kept[day] = {**value, "table": table, "opens": opens, "closes": ends, "version": uuid.uuid4().hex}
            looked[day] = (now, kept[day]["version"])
        written = {keys[day]: kept[day] for day in changed}
        self.answers.keep({**written, seen_key: looked}, max(1, int(self.seconds)))
        with self._lock:
            for day in changed:
                self._memo[keys[day]] = kept[day]
                self._memo.move_to_end(keys[day])
            while len(self._memo) > MEMO_DAYS:
                self._memo.popitem(last=False)

    def _kept(
        self, days: list[int], keys: Mapping[int, str], looked: Mapping[int, tuple[float, str]]
    ) -> dict[int, dict[str, Any]]:
        """The kept days among ``days``: from this process's memory when it holds the version last
        kept, else from the backend."""
        kept: dict[int, dict[str, Any]] = {}
        with self._lock:
            for day in days:
                held = self._memo.get(keys[day])
                if held is not None and day in looked and held["version"] == looked[day][1]:
                    kept[day] = held
        missing = [day for day in days if day not in kept]
        for day, value in zip(missing, self.answers.kept([keys[day] for day in missing]), strict=True):
            if isinstance(value, dict):
                kept[day] = value
        return kept

    def _refresh(
        self,
        kept: dict[int, dict[str, Any]],
        looked: Mapping[int, tuple[float, str]],
        context: Context,
        kind: Kind,
    ) -> dict[int, dict[str, Any]]:
        """Read again the slots of the kept days whose rooms changed since the days were last looked
        at (whoever may see them: a room moved out of the caller's departments changes the slot);
        the days whose rows changed, as new values (kept ones may be shared with other threads)."""
        last_look = min(looked[day][0] if day in looked else value["made"] for day, value in kept.items())
        since = dt.datetime.fromtimestamp(last_look - self.skew, _UTC)
        first, last = min(kept), max(kept)
        found = self.repository.aggregate(
            "room",
            [
                {"$match": {"t": "l", "_updatedAt": {"$gt": since}}},
                {"$match": {"ts": _created_in(first, last)}},
                {"$group": {"_id": quarter_hour()}},
            ],
        )
        slots = sorted(int(group["_id"]) for group in found if int(group["_id"]) // DAY_SLOTS in kept)
        changed: dict[int, dict[str, Any]] = {}
        for low, high in _runs(slots, most=8):
            created = {"$gte": _moment(low), "$lt": _moment(high + 1)}
            rows = kind.read(self.repository, kind.pipeline(context, created), context)
            for day in range(low // DAY_SLOTS, high // DAY_SLOTS + 1):
                if day in kept:
                    old = changed.get(day, kept[day])["rows"]
                    new = {key: sums for key, sums in old.items() if not low <= key[1] <= high}
                    changed[day] = {"made": kept[day]["made"], "rows": new}
            for key, sums in rows.items():
                if key[1] // DAY_SLOTS in changed:
                    changed[key[1] // DAY_SLOTS]["rows"][key] = sums
        return changed


def _created_in(first: int, last: int) -> dict[str, Any]:
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
