"""A room's outcome against its response target, and what the family counts of many rooms.

Each request reads its window's rooms once (:func:`read`): one aggregate whose first stage is the
indexed match of every family, then a ``$project`` of the few fields a room's outcome needs; the SLA
policies (a small collection) and the schedules are read once. The outcomes, tallies, percentiles
and pages are computed in Python, where the business time is.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ...business_hours import Schedule
from ...repository import Repository
from ...schemas import PageQuery
from ..common import Context, window_rooms
from ..hours import DURATION_FIELDS, Schedules, in_business_time, read_rooms, required_schedules, waiting

_UTC = dt.timezone.utc

#: The four outcomes of a room with a target.
MET, BREACHED, PENDING, UNANSWERED = "met", "breached", "pending", "unansweredWithinTarget"
OUTCOMES = (MET, BREACHED, PENDING, UNANSWERED)


def now() -> dt.datetime:
    """The moment of the request: where the time without an answer of an open room ends."""
    return dt.datetime.now(_UTC)


# -- Reading the rooms ------------------------------------------------------------------------------

#: What every room's outcome is measured from, as stored (each read by its kind in Python): its
#: creation, close, first response, chat duration (a close without ``closedAt``) and whether open.
OUTCOME_FIELDS: dict[str, Any] = {
    name: DURATION_FIELDS[name] for name in ("ts", "closedAt", "ft", "chatDuration")
} | {"open": "$open"}
#: The fields a request reads only when it needs them: to group, to name a breach's room and agent,
#: to find a room's policy (no ``target``), or its schedule and first-response date (business time).
ASKED_FIELDS: dict[str, Any] = {
    "_id": 1,
    "departmentId": DURATION_FIELDS["departmentId"],
    "fd": DURATION_FIELDS["fd"],
    "slaId": "$slaId",
    "priorityId": "$priorityId",
    "agentId": "$servedBy._id",
    "agentUsername": "$servedBy.username",
}
#: How :func:`read` reads those fields by their kind in Python (:func:`.hours.read_rooms`).
_KINDS: dict[str, tuple[str, ...]] = {
    "numbers": ("ft", "chatDuration"),
    "texts": ("departmentId", "slaId", "priorityId", "agentId", "agentUsername"),
    "dates": ("ts", "closedAt", "fd"),
    "flags": ("open",),
}


def room_fields(query: Any, asked: tuple[str, ...] = ()) -> dict[str, Any]:
    """The ``$project`` of a request's rooms: :data:`OUTCOME_FIELDS`, the ``asked`` ones of
    :data:`ASKED_FIELDS`, and those the query needs: the policy without a ``target``, the
    department and first-response date in business time. Each field costs the database a lookup
    per room, so none is read that the request does not use."""
    wanted = set(asked)
    if query.target is None:
        wanted.add("slaId")
    if query.business_hours:
        wanted.update(("departmentId", "fd"))
    asked_fields = {name: value for name, value in ASKED_FIELDS.items() if name in wanted}
    return {"_id": 0, **OUTCOME_FIELDS, **asked_fields}


@dataclass(frozen=True)
class Measured:
    """A room as the family counts it: the room's fields, its target and wait, its outcome (None:
    no target) and, for a breach, the seconds over the target."""

    room: Mapping[str, Any]
    target: float | None
    seconds: float | None
    outcome: str | None
    over: int | None


@dataclass
class Reading:
    """The rooms of a request, measured, and how many were measured without a schedule."""

    rooms: list[Measured]
    without_schedule: int = 0


def policy_targets(repository: Repository) -> dict[str, float]:
    """The stored SLA policies' targets in seconds, by id: ``dueTimeInMinutes * 60`` when it is a
    positive number (any other value is no target)."""
    targets = {}
    for policy in repository.collection("sla").find({}, {"dueTimeInMinutes": 1}):
        minutes = policy.get("dueTimeInMinutes")
        usable = isinstance(minutes, (int, float)) and not isinstance(minutes, bool)
        if usable and math.isfinite(minutes) and minutes > 0 and isinstance(policy["_id"], str):
            targets[policy["_id"]] = minutes * 60
    return targets


def _span(schedule: Schedule | None, start: dt.datetime, end: dt.datetime) -> float:
    """Seconds of ``[start, end)``: business ones by ``schedule``, calendar ones without."""
    if schedule is None:
        return max(0.0, (end - start).total_seconds())
    return schedule.seconds(start, end)


def _closed(room: Mapping[str, Any]) -> dt.datetime:
    """When a closed room closed: ``closedAt``, else ``ts`` plus its chat duration, else ``ts``."""
    if room.get("closedAt") is not None:
        return room["closedAt"]
    try:
        return room["ts"] + dt.timedelta(seconds=room.get("chatDuration") or 0)
    except OverflowError:
        return room["ts"]


def outcome(
    seconds: float | None, target: float | None, unanswered: Callable[[], float], is_open: bool
) -> tuple[str | None, int | None]:
    """A room's outcome, and for a breach its whole seconds over the target (rounded up), from its
    wait ``seconds`` (None: no answer), ``target`` and the time it went without an answer."""
    if target is None:
        return None, None
    if seconds is not None:
        return (MET, None) if seconds <= target else (BREACHED, math.ceil(seconds - target))
    waited = unanswered()
    if waited > target:
        return BREACHED, math.ceil(waited - target)
    return (PENDING if is_open else UNANSWERED), None


def measure(
    room: Mapping[str, Any], target: float | None, schedule: Schedule | None, moment: dt.datetime
) -> Measured:
    """A room's outcome against ``target``, its waits measured by ``schedule`` (calendar time for
    None), an open room's time without an answer running to ``moment``."""
    seconds = room.get("ft")
    if schedule is not None and seconds is not None:
        seconds = waiting(room, schedule)
    end = moment if room.get("open") else _closed(room)
    verdict, over = outcome(seconds, target, lambda: _span(schedule, room["ts"], end), bool(room.get("open")))
    return Measured(room, target, seconds, verdict, over)


def rooms_pipeline(
    query: Any, context: Context, *, start: dt.datetime | None = None, asked: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """The query's rooms (from ``start`` when given, else the window's), the fields of
    :func:`room_fields` each: the indexed match of every family first."""
    window = query if start is None else replace(query, start=start)
    return [*window_rooms(window, context), {"$project": room_fields(query, asked)}]


def read(
    query: Any,
    context: Context,
    repository: Repository,
    *,
    start: dt.datetime | None = None,
    asked: tuple[str, ...] = (),
) -> Reading:
    """The query's rooms (from ``start`` when given, else the window's), measured: one aggregate,
    which also reads the ``asked`` fields of :data:`ASKED_FIELDS`."""
    schedules: Schedules | None = required_schedules(repository) if query.business_hours else None
    policies = {} if query.target is not None else policy_targets(repository)
    moment = now()
    reading = Reading([])
    pipeline = rooms_pipeline(query, context, start=start, asked=asked)
    for room in read_rooms(repository.stream("room", pipeline, any_dates=True), **_KINDS):
        target = query.target if query.target is not None else policies.get(room.get("slaId") or "")
        schedule = None if schedules is None else schedules.of(room.get("departmentId"))
        if schedules is not None and schedule is None:
            reading.without_schedule += 1
        reading.rooms.append(measure(room, target, schedule, moment))
    return reading


def hours_fields(query: Any, reading: Reading) -> dict[str, Any]:
    """What a body adds with ``businessHours=true``: that, and the rooms measured without a schedule."""
    return in_business_time(reading.without_schedule) if query.business_hours else {}


# -- Counting ---------------------------------------------------------------------------------------


def compliance(met: int, breached: int) -> float | None:
    """``100 * met / (met + breached)`` rounded half up to two decimals, in integers first (so
    exactly); None when nothing was met or breached."""
    total = met + breached
    if not total:
        return None
    hundredths = (met * 20000 + total) // (2 * total)
    return hundredths / 100


def nearest_rank(ordered: list[float], percent: int) -> int | None:
    """The value at position ``ceil(percent / 100 * n)`` of sorted values, in whole seconds rounded
    up; None for none."""
    if not ordered:
        return None
    position = (len(ordered) * percent + 99) // 100
    return math.ceil(ordered[max(position, 1) - 1])


@dataclass
class Tally:
    """The outcomes of some rooms, and their waits."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys((*OUTCOMES, "noTarget"), 0))
    waits: list[float] = field(default_factory=list)

    def add(self, measured: Measured) -> None:
        """Count one room."""
        self.counts[measured.outcome or "noTarget"] += 1
        if measured.seconds is not None:
            self.waits.append(measured.seconds)

    @property
    def eligible(self) -> int:
        """The rooms with a target."""
        return sum(self.counts[name] for name in OUTCOMES)

    def row(self) -> dict[str, Any]:
        """A compliance row's values."""
        self.waits.sort()
        return {
            "eligible": self.eligible,
            **self.counts,
            "compliance": compliance(self.counts[MET], self.counts[BREACHED]),
            "p50": nearest_rank(self.waits, 50),
            "p90": nearest_rank(self.waits, 90),
        }

    def bucket(self) -> dict[str, Any]:
        """A trend bucket's values."""
        met, breached = self.counts[MET], self.counts[BREACHED]
        return {
            "eligible": self.eligible,
            "met": met,
            "breached": breached,
            "compliance": compliance(met, breached),
        }


def ordered(rows: list[dict[str, Any]], sort: tuple[tuple[str, int], ...]) -> list[dict[str, Any]]:
    """``rows`` in the order MongoDB's ``$sort`` gives: null before any value ascending, after any
    descending; a stable sort per key, the last key first."""
    for name, direction in reversed(sort):
        rows.sort(key=lambda row: _key(row.get(name)), reverse=direction < 0)
    return rows


def _key(value: Any) -> tuple[bool, Any]:
    """A sort key that puts null before every value."""
    return (value is not None, value if value is not None else 0)


def page_of(rows: list[dict[str, Any]], query: PageQuery) -> list[dict[str, Any]]:
    """The query's page of sorted rows (every row when ``count`` is None)."""
    rows = ordered(rows, query.sort)[query.offset :]
    return rows if query.count is None else rows[: query.count]
