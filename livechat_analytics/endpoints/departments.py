"""The department family: eight metrics, one row per department, under ``departments/``.

Each metric is one :class:`Metric` row holding all its pieces: what it counts (its ``source``, a
pure pipeline builder over the validated query), the sums it takes of each department's documents,
its row's final values from those sums (as MongoDB expressions, and as their Python ``twin`` for
sums added up per trend bucket), and what the dashboard page shows of it. A missing piece fails
when this module is imported. The row's values are final (rounded), so ``sort`` orders what the
client sees, and one aggregate answers a request: the rows, then the page and the total.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from marshmallow import Schema, fields

from ..business_hours import Schedule
from ..repository import Repository
from ..schemas import ArgsSchema, DashboardArgsSchema, PageArgs, PageQuery, Query, envelope_schema, flag
from .common import (
    DEPARTMENT_KEY,
    SERVICE_MILLISECONDS,
    TRANSFER_MESSAGE,
    Context,
    Pipeline,
    both,
    count_if,
    department_names,
    dumped,
    first_of,
    first_text,
    in_window,
    is_abandoned,
    livechat_rooms,
    mean_rounded_up,
    seen,
    sum_or_zero,
)
from .hours import (
    DURATION_FIELDS,
    PARAMETER,
    Schedules,
    body_fields,
    chat_duration,
    in_business_time,
    read_rooms,
    required_schedules,
    service_time,
    waiting,
)
from .row import Family, PagedMetric
from .stored import is_date, is_number, is_text, named, where

# -- Query schemas --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DepartmentQuery(PageQuery):
    """A page of department rows, with their names when asked for."""

    names: bool = False
    #: Each room's duration in business time, by its department's schedule (the metrics that
    #: take ``businessHours``).
    business_hours: bool = False


class DepartmentArgsSchema(PageArgs, DashboardArgsSchema):
    """The query string of the department endpoints."""

    query_type: ClassVar[type[Query]] = DepartmentQuery

    names = flag(
        "`true`: each row also has its department's `name` (`null` when unknown), as with "
        "`LIVECHAT_ANALYTICS_DEPARTMENT_NAMES` on; `false` or omitted: as that setting says. An "
        "addition to Rocket.Chat's API, whose rows have no name."
    )


class AnsweredArgsSchema(DepartmentArgsSchema):
    """``amount-of-chats`` also filters on whether the visitor got an answer."""

    answered = flag(
        "`true`: rooms whose visitor got an answer only; `false`: the others only; omitted: every room.",
        default=None,
    )


#: ``businessHours``, which the four duration metrics and their trends take.
BUSINESS_HOURS = flag(
    "`true`: each room's duration counts only the business time of its department's schedule (the "
    "department's `businessHourId`, else the default schedule; a room without one in calendar time, "
    "counted in `roomsWithoutSchedule`); a 400 when no active schedule is stored. `false` or omitted: "
    "calendar time, as Rocket.Chat counts.",
    data_key=PARAMETER,
)


class TimedArgsSchema(DepartmentArgsSchema):
    """The duration metrics also take ``businessHours``."""

    business_hours = BUSINESS_HOURS


def names_asked(query: Any, context: Context) -> bool:
    """Whether the rows carry their department's name: the setting, or ``names=true``."""
    return context.department_names or bool(getattr(query, "names", False))


# -- The row type ---------------------------------------------------------------------------------

Source = Callable[[Query, Context], Pipeline]
Sums = Callable[[Context], dict[str, Any]]
Twin = Callable[[Mapping[str, Any]], dict[str, int]]
#: A room's duration in business seconds by a schedule (calendar seconds without one), from the
#: fields of :data:`.hours.DURATION_FIELDS`; None when what it needs is missing.
Duration = Callable[[Mapping[str, Any], Schedule | None], float | None]

#: What the page shows of a metric's value.
UNITS = ("count", "seconds", "percent")

_ABANDONED = (
    " A room is abandoned when its visitor stayed silent for at least `T` seconds after the "
    "agent's last message: `T` is Rocket.Chat's `Livechat_visitor_inactivity_timeout` "
    "setting, or `LIVECHAT_ANALYTICS_INACTIVITY_TIMEOUT` when that is not set."
)


@dataclass(frozen=True)
class Timed:
    """How a duration metric takes ``businessHours=true``: each room it counts is measured by
    ``duration`` under its department's schedule, in whole milliseconds, and a room whose duration
    is missing adds 0 but counts, as in calendar time. The rooms and their milliseconds are the sums
    the metric's twin reads: ``rooms`` counts them, ``total`` adds them up in units of ``unit``
    milliseconds (1000: seconds)."""

    duration: Duration
    rooms: str
    total: str
    unit: int = 1000

    def milliseconds(self, room: Mapping[str, Any], schedule: Schedule | None) -> int:
        """The room's duration by ``schedule`` in whole milliseconds; 0 when missing."""
        seconds = self.duration(room, schedule)
        return 0 if seconds is None else round(seconds * 1000)

    def sums(self, rooms: int, milliseconds: int) -> dict[str, float]:
        """The sums of ``rooms`` rooms whose durations add up to ``milliseconds``."""
        return {self.rooms: rooms, self.total: milliseconds / self.unit}


def measured(
    timed: Timed, rooms: Iterable[Mapping[str, Any]], schedules: Schedules
) -> Iterator[tuple[Mapping[str, Any], int, bool]]:
    """Each room, its duration in milliseconds by its department's schedule, and whether it had
    one."""
    for room in read_rooms(rooms):
        schedule = schedules.of(room.get("departmentId"))
        yield room, timed.milliseconds(room, schedule), schedule is not None


def ordered(rows: list[dict[str, Any]], sort: tuple[tuple[str, int], ...]) -> list[dict[str, Any]]:
    """Rows in the order MongoDB's ``$sort`` gives them: by each key in turn, null (or missing)
    before any value."""
    for name, direction in reversed(sort):
        rows = sorted(rows, key=lambda row: _sort_key(row.get(name)), reverse=direction < 0)
    return rows


def _sort_key(value: Any) -> tuple[bool, Any]:
    return (False, 0) if value is None else (True, value)


@dataclass(frozen=True, kw_only=True)
class Metric(PagedMetric):
    """One department metric: a page of rows, one per department, and every piece the trends and
    the page reuse."""

    args: type[ArgsSchema] = DepartmentArgsSchema
    description: str = field(init=False, default="")
    sortable: tuple[str, ...] = field(init=False, default=())
    department_rows: bool = field(init=False, default=True)
    example: Any = field(init=False, default=None, compare=False)
    #: The documents it counts (rooms, or transfer messages), each with its ``departmentId`` and
    #: the moment ``ts`` it counts at.
    source: Source
    #: The ``$group`` accumulators of a department's (or a bucket's) documents.
    sums: Sums
    #: The row's values, as ``$project`` expressions over the sums ...
    values: Mapping[str, Any]
    #: ... and in Python, over sums added up (missing sums are 0).
    twin: Twin
    #: The page's card: its title, the field it shows and how (a count, seconds or a percent), and
    #: another field shown beside it.
    title: str
    shown: str
    unit: str = "count"
    also: tuple[str, str] | None = None
    #: How it takes ``businessHours=true`` (its ``args`` then has the parameter); None: it does not.
    timed: Timed | None = None

    ROWS = "departments"
    GROUPS = "Department groups"

    def __post_init__(self) -> None:
        self._derive(
            description=_ABANDONED if self.reads_inactivity_timeout else "",
            sortable=("_id", *self.fields),
            example=self._example(),
        )
        super().__post_init__()
        if self.timed is not None:
            envelope = envelope_schema(
                self.row_schema, rows=self.ROWS, groups=self.GROUPS, optional=body_fields()
            )
            self._derive(response=envelope)
        self._check()
        self._check_timed()

    @property
    def fields(self) -> tuple[str, ...]:
        """The row's value fields, which ``sort`` may name besides ``_id``."""
        return tuple(name for name in self.row_schema._declared_fields if name not in ("_id", "name"))

    def _check(self) -> None:
        """Every piece names the row's fields, no more and no fewer."""
        expected = set(self.fields)
        pieces = {"values": set(self.values), "twin": set(self.twin({}))}
        for piece, names in pieces.items():
            if names != expected:
                raise TypeError(
                    f"{self.path}: its {piece} name {sorted(names)}, its row has {sorted(expected)}."
                )
        if self.shown not in expected or (self.also is not None and self.also[0] not in expected):
            raise TypeError(f"{self.path}: the page shows a field its row does not have.")
        if self.unit not in UNITS:
            raise TypeError(f"{self.path}: unit {self.unit!r} is not one of {', '.join(UNITS)}.")

    def _check_timed(self) -> None:
        """A metric takes ``businessHours`` exactly when it says how, into sums its twin reads."""
        takes = "business_hours" in self.args._declared_fields
        if takes != (self.timed is not None):
            raise TypeError(f"{self.path}: its args and its timed piece disagree on businessHours.")
        if self.timed is None:
            return
        names = {self.timed.rooms, self.timed.total}
        if not names <= set(self.sums(Context({}))):
            raise TypeError(f"{self.path}: its timed piece names {sorted(names)}, not all among its sums.")
        if self.timed.unit not in (1, 1000):
            raise TypeError(f"{self.path}: its timed piece adds up milliseconds or seconds only.")

    def timed_pipeline(self, query: Any, context: Context) -> Pipeline:
        """The source, each room cut down to what its durations are measured from."""
        return [*self.source(query, context), {"$project": {"_id": 0, **DURATION_FIELDS}}]

    def pipeline(self, query: Any, context: Context) -> Pipeline:
        """The source, summed per department, and the row's values."""
        return [
            *self.source(query, context),
            {"$group": {"_id": DEPARTMENT_KEY, **self.sums(context)}},
            {"$project": {"_id": 1, **self.values}},
        ]

    def annotation(self, query: Any, context: Context) -> tuple[Pipeline, tuple[str, ...]]:
        """The departments' names, when they are switched on or asked for."""
        return (department_names(context.names) if names_asked(query, context) else []), ("name",)

    def columns(self, query: Any, context: Context) -> list[str]:
        """The CSV columns: the id, the name when names are on or asked for, and the values."""
        return ["_id", *(["name"] if names_asked(query, context) else []), *self.fields]

    def _page(self, query: Any, context: Context, repository: Repository) -> dict[str, Any]:
        """The page and the total: in business time when asked, else from one aggregate."""
        if getattr(query, "business_hours", False):
            return self._timed_page(query, context, repository)
        return super()._page(query, context, repository)

    def _rows(
        self, query: Any, context: Context, repository: Repository
    ) -> tuple[list[str], Iterator[dict[str, Any]]]:
        """The CSV rows: in business time when asked (the rows alone), else from the cursor."""
        if not getattr(query, "business_hours", False):
            return super()._rows(query, context, repository)
        rows = self._timed_page(query, context, repository)[self.ROWS]
        return self.columns(query, context), dumped(rows, self.row_schema())

    def _timed_page(self, query: Any, context: Context, repository: Repository) -> dict[str, Any]:
        """The page of :meth:`_timed_rows`, named, sorted and cut as the aggregate's would be."""
        assert self.timed is not None  # only metrics with a timed piece take businessHours
        rows, without = self._timed_rows(self.timed, query, context, repository)
        if names_asked(query, context):
            names = repository.department_names([row["_id"] for row in rows])
            for row in rows:
                row["name"] = named(names.get(row["_id"]))
        rows = ordered(rows, query.sort)
        end = None if query.count is None else query.offset + query.count
        page = rows[query.offset : end]
        return {
            self.ROWS: page,
            "count": len(page),
            "offset": query.offset,
            "total": len(rows),
            **in_business_time(without),
        }

    def _timed_rows(
        self, timed: Timed, query: Any, context: Context, repository: Repository
    ) -> tuple[list[dict[str, Any]], int]:
        """Every department's row in business time, from one read of the window's rooms, and the
        rooms counted without a schedule."""
        schedules = required_schedules(repository)
        totals: dict[str | None, list[int]] = {}
        without = 0
        rooms = repository.stream(self.collection, self.timed_pipeline(query, context), any_dates=True)
        for room, milliseconds, scheduled in measured(timed, rooms, schedules):
            total = totals.setdefault(room.get("departmentId"), [0, 0])
            total[0] += 1
            total[1] += milliseconds
            without += not scheduled
        rows = [{"_id": key, **self.twin(timed.sums(*total))} for key, total in totals.items()]
        return rows, without

    def _example(self) -> dict[str, Any]:
        """A 200 body for the OpenAPI document: one department's row and the no-department row."""
        rows = [
            {"_id": "GgYvrkAF63aeQmsh4", **{name: 42 + index for index, name in enumerate(self.fields)}},
            {"_id": None, **{name: 7 + index for index, name in enumerate(self.fields)}},
        ]
        return {"departments": rows, "count": 2, "offset": 0, "total": 2, "success": True}


# -- Response schemas ------------------------------------------------------------------------------


class DepartmentRowSchema(Schema):
    """One row: ``_id`` is the department id, ``null`` for rooms without a department; ``name``
    only when department names are switched on."""

    _id = fields.String(
        allow_none=True,
        metadata={"description": "The department id; null for rooms without a department."},
    )
    name = fields.String(
        allow_none=True,
        metadata={
            "description": "The department's name (null when unknown); only when names are switched on."
        },
    )


class AmountOfChatsSchema(DepartmentRowSchema):
    rooms = fields.Integer(metadata={"description": "Livechat rooms created in the window (a count)."})


class TotalTransferredChatsSchema(DepartmentRowSchema):
    numberOfTransferredRooms = fields.Integer(
        metadata={"description": "Transfers that happened in the window (a count of transfer events)."}
    )


class AverageServiceTimeSchema(DepartmentRowSchema):
    averageServiceTimeInSeconds = fields.Integer(
        metadata={"description": "Mean time from pickup to the agent's last reply, in seconds, rounded up."}
    )


class TotalServiceTimeSchema(DepartmentRowSchema):
    chats = fields.Integer(metadata={"description": "Closed rooms with a service time (a count)."})
    serviceTimeDuration = fields.Integer(
        metadata={"description": "Their service times added up, in seconds, rounded up."}
    )


class AverageChatDurationTimeSchema(DepartmentRowSchema):
    averageChatDurationTimeInSeconds = fields.Integer(
        metadata={"description": "Mean time from creation to close, in seconds, rounded up."}
    )


class AverageWaitingTimeSchema(DepartmentRowSchema):
    averageWaitingTimeInSeconds = fields.Integer(
        metadata={"description": "Mean time to the agent's first reply, in seconds, rounded up."}
    )


class TotalAbandonedChatsSchema(DepartmentRowSchema):
    abandonedRooms = fields.Integer(
        metadata={"description": "Closed rooms whose visitor stayed silent `T` seconds or more (a count)."}
    )


class PercentageAbandonedChatsSchema(DepartmentRowSchema):
    percentageOfAbandonedChats = fields.Integer(
        metadata={"description": "Abandoned rooms per 100 rooms created in the window, rounded down."}
    )


# -- What the metrics count ---------------------------------------------------------------------------


def created_rooms(query: Query, context: Context, **conditions: Any) -> Pipeline:
    """The rooms of the query's department created in the window (both bounds inclusive), answered
    or not as asked, with the other ``conditions``."""
    if query.answered is True:
        conditions["waitingResponse"] = {"$ne": True}
    elif query.answered is False:
        conditions["waitingResponse"] = True
    return livechat_rooms(query, context, in_window(query.start, query.end), **conditions)


def closed_rooms(query: Query, context: Context, **conditions: Any) -> Pipeline:
    """Rocket.Chat's window for closed rooms: created on or after ``start``, closed by ``end``."""
    return livechat_rooms(query, context, {"$gte": query.start}, closedAt={"$lte": query.end}, **conditions)


def served_rooms(query: Query, context: Context) -> Pipeline:
    """Served rooms (a ``servedBy._id``) created in the window with a last message (a date)."""
    return created_rooms(
        query, context, **where(is_date("$responseBy.lastMessageTs"), is_text("$servedBy._id"))
    )


def rooms_with_service_time(query: Query, context: Context) -> Pipeline:
    """Closed rooms with a service time (a number)."""
    return closed_rooms(query, context, **where(is_number("$metrics.serviceTimeDuration")))


def answered_rooms(query: Query, context: Context) -> Pipeline:
    """Answered rooms created in the window."""
    return created_rooms(query, context, waitingResponse={"$ne": True})


def abandoned_rooms(query: Query, context: Context) -> Pipeline:
    """Closed rooms whose visitor stayed silent ``T`` or more after the agent's last message."""
    return closed_rooms(query, context, **where(is_abandoned(context)))


def transfers(query: Query, context: Context) -> Pipeline:
    """Transfer events in the window, each with the department its room has now (null for a
    missing room or one without a department).

    The messages are grouped by room first, so each room is looked up once however often it moved.
    """
    pipeline: Pipeline = [
        {"$match": {"t": TRANSFER_MESSAGE, "ts": in_window(query.start, query.end)}},
        {"$group": {"_id": "$rid", "ts": {"$push": "$ts"}}},
        {
            "$lookup": {
                "from": context.names["room"],
                "localField": "_id",
                "foreignField": "_id",
                "as": "room",
            }
        },
        # The room's department before the events are unwound: each event carries an id, not a room.
        {
            "$project": {
                "_id": 0,
                "departmentId": first_text("$room", "departmentId"),
                "ancestors": first_of("$room", "departmentAncestors"),
                "ts": 1,
            }
        },
        {"$unwind": "$ts"},
    ]
    # A transfer counts when the caller may see its room, in the department asked for.
    condition = seen(context.scope, query.department_id, ancestors="ancestors")
    if query.department_id is not None:
        condition = both(condition, {"departmentId": query.department_id})
    if condition:
        pipeline.append({"$match": condition})
    return pipeline


def counted(name: str) -> Sums:
    """The sums of a metric that counts its documents, into ``name``."""
    return lambda context: {name: {"$sum": 1}}


def abandoned_of_rooms(context: Context) -> dict[str, Any]:
    """Rooms, and those abandoned."""
    return {"rooms": {"$sum": 1}, "abandoned": count_if(is_abandoned(context))}


def _ceil(total: float, divisor: float) -> int:
    """``$ceil`` of ``$divide``: one division of doubles, as MongoDB's, rounded up; 0 for no rooms."""
    return math.ceil(total / divisor) if divisor else 0


def _share(part: float, whole: float) -> int:
    """``100 * part / whole`` rounded down, multiplied first (29 of 100 is 29, not 28.999...); 0 of
    nothing."""
    return math.floor(part * 100 / whole) if whole else 0


# -- The table ------------------------------------------------------------------------------------

FAMILY = Family(
    name="departments",
    description="Livechat metrics, one row per department; rooms without one in the `_id: null` row.",
    endpoints=(
        Metric(
            path="departments/amount-of-chats",
            summary="Rooms created in the window, answered or not as asked.",
            args=AnsweredArgsSchema,
            row_schema=AmountOfChatsSchema,
            source=created_rooms,
            sums=counted("rooms"),
            values={"rooms": 1},
            twin=lambda sums: {"rooms": int(sums.get("rooms", 0))},
            title="Chats",
            shown="rooms",
        ),
        Metric(
            path="departments/total-transferred-chats",
            summary="Transfer events in the window, credited to the department each room has now.",
            collection="message",
            row_schema=TotalTransferredChatsSchema,
            source=transfers,
            sums=counted("numberOfTransferredRooms"),
            values={"numberOfTransferredRooms": 1},
            twin=lambda sums: {"numberOfTransferredRooms": int(sums.get("numberOfTransferredRooms", 0))},
            title="Transferred chats",
            shown="numberOfTransferredRooms",
        ),
        Metric(
            path="departments/average-service-time",
            summary="Mean time from assignment to the agent's last message, over served rooms created in "
            "the window; a room without `servedBy.ts` adds 0 but counts.",
            args=TimedArgsSchema,
            row_schema=AverageServiceTimeSchema,
            source=served_rooms,
            timed=Timed(service_time, "rooms", "milliseconds", unit=1),
            sums=lambda context: {"rooms": {"$sum": 1}, "milliseconds": {"$sum": SERVICE_MILLISECONDS}},
            values={"averageServiceTimeInSeconds": mean_rounded_up("$milliseconds", "$rooms", 1000)},
            twin=lambda sums: {
                "averageServiceTimeInSeconds": _ceil(sums.get("milliseconds", 0), sums.get("rooms", 0) * 1000)
            },
            title="Average service time",
            shown="averageServiceTimeInSeconds",
            unit="seconds",
        ),
        Metric(
            path="departments/total-service-time",
            summary="Closed, served rooms: how many, and their service time added up.",
            args=TimedArgsSchema,
            row_schema=TotalServiceTimeSchema,
            source=rooms_with_service_time,
            timed=Timed(service_time, "chats", "seconds"),
            sums=lambda context: {
                "chats": {"$sum": 1},
                "seconds": sum_or_zero("$metrics.serviceTimeDuration"),
            },
            values={"chats": 1, "serviceTimeDuration": {"$ceil": "$seconds"}},
            twin=lambda sums: {
                "chats": int(sums.get("chats", 0)),
                "serviceTimeDuration": math.ceil(sums.get("seconds", 0)),
            },
            title="Total service time",
            shown="serviceTimeDuration",
            unit="seconds",
            also=("chats", "Chats served"),
        ),
        Metric(
            path="departments/average-chat-duration-time",
            summary="Mean duration of the closed rooms (a missing duration adds 0 but counts).",
            args=TimedArgsSchema,
            row_schema=AverageChatDurationTimeSchema,
            source=closed_rooms,
            timed=Timed(chat_duration, "rooms", "seconds"),
            sums=lambda context: {"rooms": {"$sum": 1}, "seconds": sum_or_zero("$metrics.chatDuration")},
            values={"averageChatDurationTimeInSeconds": mean_rounded_up("$seconds", "$rooms")},
            twin=lambda sums: {
                "averageChatDurationTimeInSeconds": _ceil(sums.get("seconds", 0), sums.get("rooms", 0))
            },
            title="Average chat duration",
            shown="averageChatDurationTimeInSeconds",
            unit="seconds",
        ),
        Metric(
            path="departments/average-waiting-time",
            summary="Mean time to the agent's first reply, over answered rooms created in the window.",
            args=TimedArgsSchema,
            row_schema=AverageWaitingTimeSchema,
            source=answered_rooms,
            timed=Timed(waiting, "rooms", "seconds"),
            sums=lambda context: {"rooms": {"$sum": 1}, "seconds": sum_or_zero("$metrics.response.ft")},
            values={"averageWaitingTimeInSeconds": mean_rounded_up("$seconds", "$rooms")},
            twin=lambda sums: {
                "averageWaitingTimeInSeconds": _ceil(sums.get("seconds", 0), sums.get("rooms", 0))
            },
            title="Average waiting time",
            shown="averageWaitingTimeInSeconds",
            unit="seconds",
        ),
        Metric(
            path="departments/total-abandoned-chats",
            summary="Closed rooms whose visitor stayed silent for at least `T` after the agent's last "
            "message.",
            reads_inactivity_timeout=True,
            row_schema=TotalAbandonedChatsSchema,
            source=abandoned_rooms,
            sums=counted("abandonedRooms"),
            values={"abandonedRooms": 1},
            twin=lambda sums: {"abandonedRooms": int(sums.get("abandonedRooms", 0))},
            title="Abandoned chats",
            shown="abandonedRooms",
        ),
        Metric(
            path="departments/percentage-abandoned-chats",
            summary="Share of the rooms created in the window (open or closed) that were abandoned, "
            "rounded down.",
            reads_inactivity_timeout=True,
            row_schema=PercentageAbandonedChatsSchema,
            source=created_rooms,
            sums=abandoned_of_rooms,
            values={
                "percentageOfAbandonedChats": {
                    "$floor": {"$divide": [{"$multiply": ["$abandoned", 100]}, "$rooms"]}
                }
            },
            twin=lambda sums: {
                "percentageOfAbandonedChats": _share(sums.get("abandoned", 0), sums.get("rooms", 0))
            },
            title="Abandoned chats (%)",
            shown="percentageOfAbandonedChats",
            unit="percent",
        ),
    ),
)

#: The family's metrics, by path.
METRICS: dict[str, Metric] = {row.path: row for row in FAMILY.endpoints if isinstance(row, Metric)}
