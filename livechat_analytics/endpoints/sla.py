"""The service-level family, under ``sla/`` and ``trends/sla-compliance``: did each room get its
first answer within its target, counted in calendar or in business time.

A room's target ``T`` is the request's ``target``, else its SLA policy's ``dueTimeInMinutes``
(``slaId``), else none. Its measured value ``m`` is its first response time (with
``businessHours=true``, the business seconds of its wait, :mod:`.hours`). A room with a target is
``met`` (``m <= T``), ``breached`` (``m > T``, or no answer for longer than ``T``), ``pending`` (open,
no answer yet, ``T`` not run out) or ``unansweredWithinTarget`` (closed without an answer before
``T`` ran out). The time without an answer of an open room runs to the moment of the request
(:func:`now`), so an answer holding pending rooms changes with time.

Each request reads its window's rooms once: one aggregate whose first stage is the indexed match of
every family, then a ``$project`` of the few fields a room's outcome needs; the SLA policies (a
small collection) and the schedules are read once. The outcomes, groups, percentiles, buckets and
pages are computed in Python, where the business time is.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from marshmallow import Schema, fields, validate

from ..business_hours import Schedule
from ..repository import Repository
from ..schemas import (
    Amount,
    DashboardArgsSchema,
    PageArgs,
    PageQuery,
    Query,
    Sort,
    WholeNumber,
    choice,
    flag,
    succeeded,
)
from ..shape import Page, Series
from .agents import Moment
from .common import BUCKETS, DAY, Context, bucket_starts, is_true, local_iso, milliseconds, timezone_name
from .common import window_rooms as _window_rooms
from .hours import DURATION_FIELDS, PARAMETER, Schedules, required_schedules, waiting
from .row import Endpoint, Family
from .stored import named, text
from .trends import SeriesBaseSchema, TrendArgsSchema, TrendQuery, previous_window

_UTC = dt.timezone.utc

#: The largest ``target``: 30 days, in seconds.
MAX_TARGET = 30 * 86400
TARGET_MESSAGE = f"Must be a whole number of seconds from 1 to {MAX_TARGET} (30 days)."

#: The four outcomes of a room with a target.
MET, BREACHED, PENDING, UNANSWERED = "met", "breached", "pending", "unansweredWithinTarget"
OUTCOMES = (MET, BREACHED, PENDING, UNANSWERED)

#: What ``sla/compliance`` groups by, and the field of a room each reads.
GROUPS = {
    "none": None,
    "department": "departmentId",
    "agent": "agentId",
    "sla": "slaId",
    "priority": "priorityId",
}


def now() -> dt.datetime:
    """The moment of the request: where the time without an answer of an open room ends."""
    return dt.datetime.now(_UTC)


# -- Query schemas --------------------------------------------------------------------------------


def _target() -> WholeNumber:
    return WholeNumber(
        load_default=None,
        validate=validate.Range(min=1, max=MAX_TARGET, error=TARGET_MESSAGE),
        error_messages={"invalid": TARGET_MESSAGE},
        metadata={
            "description": "The response target of every room, in whole seconds (1 to 30 days); "
            "omitted: each room's SLA policy (`slaId`, `dueTimeInMinutes`), rooms without one have no target."
        },
    )


def _business_hours() -> fields.Boolean:
    return flag(
        "`true`: measure the waits in business time, by each room's stored schedule (its "
        "department's, else the default one; calendar time without one); a 400 when no active "
        "schedule is stored.",
        data_key=PARAMETER,
    )


@dataclass(frozen=True)
class SlaQuery(PageQuery):
    """A page of service-level rows: the target, business time, the groups and their names."""

    target: int | None = None
    business_hours: bool = False
    group_by: str = "none"
    names: bool = False


class SlaArgsSchema(PageArgs, DashboardArgsSchema):
    """The window, a department, the target and business time, and the page."""

    query_type: ClassVar[type[Query]] = SlaQuery

    target = _target()
    business_hours = _business_hours()


class ComplianceArgsSchema(SlaArgsSchema):
    """``sla/compliance`` also groups, and names its groups."""

    group_by = choice(
        tuple(GROUPS),
        "One row for `none` (the default); per `department`, `agent` (the last agent, `servedBy`), "
        "`sla` (the room's `slaId`) or `priority` (its `priorityId`); `_id` null for rooms without one.",
        data_key="groupBy",
        load_default="none",
    )
    names = flag(
        "`true`: department and agent rows also have a `name` (`null` when unknown), as with "
        "`LIVECHAT_ANALYTICS_DEPARTMENT_NAMES` on."
    )


class BreachesArgsSchema(SlaArgsSchema):
    """``sla/breaches`` is sorted by the time over the target by default."""

    sort = Sort(load_default=(("overBySeconds", -1),))


@dataclass(frozen=True)
class SlaTrendQuery(TrendQuery):
    """A series of compliance: the trend's query, the target and business time."""

    target: int | None = None
    business_hours: bool = False


class SlaTrendArgsSchema(TrendArgsSchema):
    """The trend's parameters, the target and business time."""

    query_type = SlaTrendQuery

    target = _target()
    business_hours = _business_hours()


# -- Reading the rooms ------------------------------------------------------------------------------

#: A ``$project`` of what a room's outcome needs, each field read by its kind (null when missing or
#: odd): creation, close, first response, department, policy, priority, last agent, whether open.
ROOM_FIELDS: dict[str, Any] = {
    **{
        name: DURATION_FIELDS[name] for name in ("departmentId", "ts", "closedAt", "ft", "fd", "chatDuration")
    },
    "open": is_true("$open"),
    "slaId": text("$slaId"),
    "priorityId": text("$priorityId"),
    "agentId": text("$servedBy._id"),
    "agentUsername": text("$servedBy.username"),
}


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


def read(
    query: Any, context: Context, repository: Repository, *, start: dt.datetime | None = None
) -> Reading:
    """The query's rooms (from ``start`` when given, else the window's), measured: one aggregate."""
    schedules: Schedules | None = required_schedules(repository) if query.business_hours else None
    policies = {} if query.target is not None else policy_targets(repository)
    moment = now()
    window = query if start is None else replace(query, start=start)
    pipeline = [*_window_rooms(window, context), {"$project": ROOM_FIELDS}]
    reading = Reading([])
    for room in repository.stream("room", pipeline):
        target = query.target if query.target is not None else policies.get(room.get("slaId") or "")
        schedule = None if schedules is None else schedules.of(room.get("departmentId"))
        if schedules is not None and schedule is None:
            reading.without_schedule += 1
        reading.rooms.append(measure(room, target, schedule, moment))
    return reading


def hours_fields(query: Any, reading: Reading) -> dict[str, Any]:
    """What a body adds with ``businessHours=true``: that, and the rooms measured without a schedule."""
    return (
        {"businessHours": True, "roomsWithoutSchedule": reading.without_schedule}
        if query.business_hours
        else {}
    )


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


def _page(rows: list[dict[str, Any]], query: PageQuery) -> list[dict[str, Any]]:
    """The query's page of sorted rows (every row when ``count`` is None)."""
    rows = ordered(rows, query.sort)[query.offset :]
    return rows if query.count is None else rows[: query.count]


# -- What the endpoints compute -------------------------------------------------------------------


def names_asked(query: Any, context: Context) -> bool:
    """Whether department and agent rows carry a name: the setting, or ``names=true``."""
    return context.department_names or bool(getattr(query, "names", False))


def _names(query: SlaQuery, context: Context, repository: Repository, ids: list[Any]) -> dict[Any, Any]:
    """The names of the groups' departments or agents, by id (None when unknown)."""
    wanted: list[str | None] = [group for group in ids if isinstance(group, str)]
    if query.group_by == "department":
        found = repository.department_names(wanted)
    else:
        users = repository.collection("users").find({"_id": {"$in": wanted}}, {"name": 1})
        found = {user["_id"]: user.get("name") for user in users}
    return {group: named(found.get(group)) for group in ids}


def _naming(query: SlaQuery, context: Context) -> bool:
    """Whether the rows of this query carry a name: department or agent groups, names on."""
    return query.group_by in ("department", "agent") and names_asked(query, context)


def group_rows(
    query: SlaQuery, context: Context, repository: Repository
) -> tuple[list[dict[str, Any]], Reading]:
    """One row per group of the window's rooms (one row for ``none``, rooms or not), and the reading."""
    reading = read(query, context, repository)
    key = GROUPS[query.group_by]
    tallies: dict[Any, Tally] = {None: Tally()} if key is None else {}
    for measured in reading.rooms:
        tallies.setdefault(None if key is None else measured.room.get(key), Tally()).add(measured)
    rows = [{"_id": group, **tally.row()} for group, tally in tallies.items()]
    if _naming(query, context):
        names = _names(query, context, repository, list(tallies))
        rows = [{"_id": row["_id"], "name": names[row["_id"]], **row} for row in rows]
    return rows, reading


def compute_compliance(query: SlaQuery, context: Context, repository: Repository) -> dict[str, Any]:
    """The page of groups, and the number of groups."""
    rows, reading = group_rows(query, context, repository)
    page = _page(rows, query)
    return {
        "groups": page,
        "count": len(page),
        "offset": query.offset,
        "total": len(rows),
        **hours_fields(query, reading),
    }


def stream_compliance(
    query: SlaQuery, context: Context, repository: Repository
) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """Every group (or the page asked for), for a CSV answer."""
    rows, _ = group_rows(query, context, repository)
    named_ = ["name"] if _naming(query, context) else []
    columns = [
        "_id",
        *named_,
        *(name for name in ComplianceRowSchema._declared_fields if name not in ("_id", "name")),
    ]
    return columns, dumped(_page(rows, query), ComplianceRowSchema())


def breach_rows(
    query: SlaQuery, context: Context, repository: Repository
) -> tuple[list[dict[str, Any]], Reading]:
    """One row per breached room of the window, and the reading."""
    reading = read(query, context, repository)
    rows = [
        {
            "_id": measured.room["_id"],
            "ts": measured.room["ts"],
            "departmentId": measured.room.get("departmentId"),
            "agentId": measured.room.get("agentId"),
            "agentUsername": measured.room.get("agentUsername"),
            "target": measured.target,
            "firstResponseSeconds": measured.seconds,
            "overBySeconds": measured.over,
        }
        for measured in reading.rooms
        if measured.outcome == BREACHED
    ]
    return rows, reading


def compute_breaches(query: SlaQuery, context: Context, repository: Repository) -> dict[str, Any]:
    """The page of breached rooms, and their number."""
    rows, reading = breach_rows(query, context, repository)
    page = _page(rows, query)
    return {
        "breaches": page,
        "count": len(page),
        "offset": query.offset,
        "total": len(rows),
        **hours_fields(query, reading),
    }


def stream_breaches(
    query: SlaQuery, context: Context, repository: Repository
) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """Every breached room (or the page asked for), for a CSV answer."""
    rows, _ = breach_rows(query, context, repository)
    return list(BreachRowSchema._declared_fields), dumped(_page(rows, query), BreachRowSchema())


def dumped(rows: list[dict[str, Any]], schema: Schema) -> Iterator[dict[str, Any]]:
    """Each row serialized by a row schema."""
    return (schema.dump(row) for row in rows)


def series(
    query: SlaTrendQuery, rooms: list[Measured], context: Context, repository: Repository
) -> list[dict[str, Any]]:
    """The compliance of ``rooms`` per local bucket of their creation: one series, or one per
    department; every bucket of each series present."""
    starts = bucket_starts(query.start, query.end, query.timezone, query.group_by)
    starts_ms = [milliseconds(start) for start in starts]
    tallies: dict[str | None, list[Tally]] = {}
    if not query.by_department or query.department_id is not None:
        tallies[None if not query.by_department else query.department_id] = [Tally() for _ in starts]
    for measured in rooms:
        key = measured.room.get("departmentId") if query.by_department else None
        index = bisect.bisect_right(starts_ms, milliseconds(measured.room["ts"])) - 1
        tallies.setdefault(key, [Tally() for _ in starts])[min(max(index, 0), len(starts) - 1)].add(measured)
    labels = [local_iso(start, query.timezone) for start in starts]
    names = None
    if context.department_names and query.by_department:
        names = repository.department_names(list(tallies))
    answer = []
    for department in sorted(tallies, key=lambda key: (key is not None, key or "")):
        row: dict[str, Any] = {"_id": department}
        if names is not None:
            row["name"] = named(names.get(department)) if department is not None else None
        row["buckets"] = [
            {"start": label, **tally.bucket()}
            for label, tally in zip(labels, tallies[department], strict=True)
        ]
        answer.append(row)
    return answer


def compute_trend(query: SlaTrendQuery, context: Context, repository: Repository) -> dict[str, Any]:
    """The series, and with ``compare`` the previous one: both windows read by one aggregate."""
    earlier = previous_window(query.start, query.end) if query.compare == "previous" else None
    reading = read(query, context, repository, start=None if earlier is None else earlier[0])
    current = [measured for measured in reading.rooms if measured.room["ts"] >= query.start]
    body: dict[str, Any] = {
        "metric": "sla-compliance",
        "groupBy": query.group_by,
        "timezone": timezone_name(query.timezone),
        "series": series(query, current, context, repository),
    }
    if earlier is not None:
        before = [measured for measured in reading.rooms if measured.room["ts"] < query.start]
        body["previous"] = series(
            replace(query, start=earlier[0], end=earlier[1]), before, context, repository
        )
    return {**body, **hours_fields(query, reading)}


# -- Response schemas -------------------------------------------------------------------------------


def _count(description: str) -> fields.Integer:
    return fields.Integer(metadata={"description": description})


def _compliance_field() -> fields.Float:
    return fields.Float(
        allow_none=True,
        metadata={
            "description": "100 * met / (met + breached), rounded half up to two decimals; null when "
            "no room was met or breached."
        },
    )


class ComplianceRowSchema(Schema):
    """One group of rooms: their outcomes, compliance and the percentiles of their waits."""

    OPTIONAL_FIELDS = ("name",)

    _id = fields.String(
        allow_none=True,
        metadata={
            "description": "The group: a department, agent, SLA policy or priority id; null for "
            "`groupBy=none` and for the rooms without one."
        },
    )
    name = fields.String(
        allow_none=True,
        metadata={
            "description": "The department's or agent's name (null when unknown); only when names "
            "are on or asked for, with `groupBy=department` or `agent`."
        },
    )
    eligible = _count("Rooms with a target.")
    met = _count("Rooms answered within their target (at it included).")
    breached = _count("Rooms answered after their target, or unanswered for longer than it.")
    pending = _count("Open rooms without an answer whose target has not run out.")
    unansweredWithinTarget = _count("Closed rooms without an answer, closed before their target ran out.")
    noTarget = _count("Rooms without a target (no `target`, no usable SLA policy).")
    compliance = _compliance_field()
    p50 = fields.Integer(
        allow_none=True,
        metadata={
            "description": "The median wait of the group's answered rooms (nearest rank), in whole "
            "seconds rounded up; null for none."
        },
    )
    p90 = fields.Integer(
        allow_none=True,
        metadata={"description": "The 90th percentile of the same waits (nearest rank); null for none."},
    )


class BreachRowSchema(Schema):
    """One breached room."""

    _id = fields.String(metadata={"description": "The room id."})
    ts = Moment(metadata={"description": "When the room was created."})
    departmentId = fields.String(allow_none=True, metadata={"description": "Its department; null for none."})
    agentId = fields.String(allow_none=True, metadata={"description": "Its last agent (`servedBy._id`)."})
    agentUsername = fields.String(allow_none=True, metadata={"description": "Its last agent's username."})
    target = Amount(metadata={"description": "Its target, in seconds."})
    firstResponseSeconds = Amount(
        allow_none=True,
        metadata={"description": "Its wait for the first answer, in seconds; null when unanswered."},
    )
    overBySeconds = fields.Integer(
        metadata={
            "description": "How far past the target: the wait (or the time without an answer) "
            "less the target, in whole seconds rounded up."
        }
    )


_HOURS_FIELDS: dict[str, fields.Field] = {
    "businessHours": fields.Boolean(metadata={"description": "With `businessHours=true` only: true."}),
    "roomsWithoutSchedule": fields.Integer(
        metadata={
            "description": "With `businessHours=true` only: the rooms read that no schedule "
            "covers, measured in calendar time."
        }
    ),
}


def envelope(row: type[Schema], key: str, what: str) -> Schema:
    """The 200 body of a page of ``row`` listed under ``key``, ``total`` counting ``what``."""
    schema = Schema.from_dict(
        {
            key: fields.List(fields.Nested(row), metadata={"description": "This page's rows."}),
            "count": _count("Rows on this page."),
            "offset": _count("The offset used."),
            "total": _count(f"{what} before paging."),
            **_HOURS_FIELDS,
            "success": succeeded(),
        },
        name=row.__name__.removesuffix("Schema") + "EnvelopeSchema",
    )
    schema.CSV = Page(key)  # type: ignore[attr-defined]
    schema.OPTIONAL_FIELDS = tuple(_HOURS_FIELDS)  # type: ignore[attr-defined]
    schema.__doc__ = f"A page of {what.lower()}, its size, the offset used and their number."
    return schema()


def trend_schema() -> Schema:
    """The 200 body of ``trends/sla-compliance``."""
    bucket = Schema.from_dict(
        {
            "start": fields.String(
                metadata={"description": "The bucket's first moment, ISO 8601 with the zone's offset then."}
            ),
            "eligible": _count("Rooms created in the bucket with a target."),
            "met": _count("Of them, met."),
            "breached": _count("Of them, breached."),
            "compliance": _compliance_field(),
        },
        name="SlaComplianceBucketSchema",
    )
    one = type(
        "SlaComplianceSeriesSchema",
        (SeriesBaseSchema,),
        {
            "__doc__": SeriesBaseSchema.__doc__,
            "buckets": fields.List(fields.Nested(bucket), metadata={"description": "Every bucket in order."}),
        },
    )
    body = type(
        "SlaComplianceTrendSchema",
        (Schema,),
        {
            "__doc__": "Compliance per local bucket: a series for all departments, or one per department.",
            "OPTIONAL_FIELDS": ("previous", *_HOURS_FIELDS),
            "CSV": Series(),
            "metric": fields.String(metadata={"description": "`sla-compliance`."}),
            "groupBy": fields.String(metadata={"description": "The bucket.", "enum": list(BUCKETS)}),
            "timezone": fields.String(metadata={"description": "The timezone the buckets are in."}),
            "series": fields.List(fields.Nested(one), metadata={"description": "The series."}),
            "previous": fields.List(
                fields.Nested(one),
                metadata={"description": "With `compare=previous` only: the previous window's series."},
            ),
            **_HOURS_FIELDS,
            "success": succeeded(),
        },
    )
    return body()


# -- The table --------------------------------------------------------------------------------------

_TARGETS = (
    " A room's target is `target` when given, else its SLA policy's `dueTimeInMinutes` * 60 "
    "(`slaId`), else it has none; its wait is `metrics.response.ft` (with `businessHours=true`, "
    "the business seconds of that wait). Met: wait ≤ target; breached: wait > target, or no answer "
    "for longer than the target; pending: open, no answer, target not run out; "
    "unansweredWithinTarget: closed without an answer before the target ran out. An open room's "
    "time without an answer runs to the moment of the request."
)

_COMPLIANCE_FIELDS = tuple(name for name in ComplianceRowSchema._declared_fields if name != "name")
_BREACH_FIELDS = tuple(BreachRowSchema._declared_fields)

FAMILY = Family(
    name="sla",
    description="Service levels: first responses within their targets, in calendar or business time.",
    endpoints=(
        Endpoint(
            path="sla/compliance",
            args=ComplianceArgsSchema,
            response=envelope(ComplianceRowSchema, "groups", "Groups"),
            compute=compute_compliance,
            stream=stream_compliance,
            sortable=_COMPLIANCE_FIELDS,
            department_rows=True,
            summary="Rooms created in the window met, breached, pending or unanswered within their "
            "response target, with compliance and the waits' p50 and p90, per group.",
            description=_TARGETS,
            example={
                "groups": [
                    {
                        "_id": None,
                        "eligible": 6,
                        "met": 2,
                        "breached": 2,
                        "pending": 1,
                        "unansweredWithinTarget": 1,
                        "noTarget": 0,
                        "compliance": 50.0,
                        "p50": 60,
                        "p90": 61,
                    }
                ],
                "count": 1,
                "offset": 0,
                "total": 1,
                "success": True,
            },
        ),
        Endpoint(
            path="sla/breaches",
            args=BreachesArgsSchema,
            response=envelope(BreachRowSchema, "breaches", "Breached rooms"),
            compute=compute_breaches,
            stream=stream_breaches,
            sortable=_BREACH_FIELDS,
            summary="The rooms created in the window that breached their response target, furthest "
            "over it first.",
            description=_TARGETS,
            example={
                "breaches": [
                    {
                        "_id": "room1",
                        "ts": "2024-03-01T09:00:00.000Z",
                        "departmentId": "GgYvrkAF63aeQmsh4",
                        "agentId": "agent1",
                        "agentUsername": "ana",
                        "target": 60,
                        "firstResponseSeconds": 95,
                        "overBySeconds": 35,
                    }
                ],
                "count": 1,
                "offset": 0,
                "total": 1,
                "success": True,
            },
        ),
        Endpoint(
            path="trends/sla-compliance",
            args=SlaTrendArgsSchema,
            response=trend_schema(),
            compute=compute_trend,
            summary="Compliance with the response target per local hour, day, ISO week or month of the "
            "rooms' creation.",
            description=_TARGETS,
            example={
                "metric": "sla-compliance",
                "groupBy": DAY,
                "timezone": "Europe/Berlin",
                "series": [
                    {
                        "_id": None,
                        "buckets": [
                            {
                                "start": "2024-03-01T00:00:00+01:00",
                                "eligible": 6,
                                "met": 2,
                                "breached": 2,
                                "compliance": 50.0,
                            },
                            {
                                "start": "2024-03-02T00:00:00+01:00",
                                "eligible": 0,
                                "met": 0,
                                "breached": 0,
                                "compliance": None,
                            },
                        ],
                    }
                ],
                "success": True,
            },
        ),
    ),
)
