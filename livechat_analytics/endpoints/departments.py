"""The department family: eight metrics, one row per department, under ``departments/``.

Each :class:`Metric` is a pipeline builder: a pure function of the validated
:class:`~..schemas.Query` and a :class:`~.common.Context` that returns the stages producing one
``{_id, <fields>}`` document per department, every value final (rounded), so ``sort`` orders what the
client sees. :func:`~.common.paged` adds the page and the total, so one aggregate answers a request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import schemas
from ..schemas import Query
from . import Endpoint, PagedMetric, table
from .common import (
    DEPARTMENT_KEY,
    TRANSFER_MESSAGE,
    Context,
    Pipeline,
    department_names,
    first_of,
    in_window,
    livechat_rooms,
    mean_rounded_up,
    sum_or_zero,
)

FAMILY = "departments"

_ABANDONED = (
    " A room is abandoned when its visitor stayed silent for at least `T` seconds after the "
    "agent's last message: `T` is Rocket.Chat's `Livechat_visitor_inactivity_timeout` "
    "setting, or `LIVECHAT_ANALYTICS_INACTIVITY_TIMEOUT` when that is not set."
)


@dataclass(frozen=True)
class Metric(PagedMetric):
    """One department metric: a page of rows, one per department."""

    args: type[schemas.ArgsSchema] = schemas.DepartmentArgsSchema
    #: Whether the pipeline needs ``T`` (an administrator may change it at any time: read per request).
    reads_inactivity_timeout: bool = False

    FAMILY = FAMILY
    ROWS = "departments"
    GROUPS = "Department groups"

    @property
    def fields(self) -> tuple[str, ...]:
        """The row's value fields, which ``sort`` may name besides ``_id``."""
        return tuple(name for name in self.row_schema._declared_fields if name not in ("_id", "name"))

    def annotation(self, context: Context) -> tuple[Pipeline, tuple[str, ...]]:
        """The departments' names, when they are switched on."""
        return (department_names(context.names) if context.department_names else []), ("name",)

    def endpoint(self, **row: Any) -> Endpoint:
        """This metric as a row of the department table."""
        return super().endpoint(
            description=_ABANDONED if self.reads_inactivity_timeout else "",
            sortable=("_id", *self.fields),
            department_rows=True,
            reads_inactivity_timeout=self.reads_inactivity_timeout,
            example=self.example(),
            **row,
        )

    def example(self) -> dict[str, Any]:
        """A 200 body for the OpenAPI document: one department's row and the no-department row."""
        rows = [
            {"_id": "GgYvrkAF63aeQmsh4", **{name: 42 + index for index, name in enumerate(self.fields)}},
            {"_id": None, **{name: 7 + index for index, name in enumerate(self.fields)}},
        ]
        return {"departments": rows, "count": 2, "offset": 0, "total": 2, "success": True}


def window(query: Query) -> dict[str, Any]:
    """The rooms created in the window, both bounds inclusive."""
    return in_window(query.start, query.end)


def since_start(query: Query) -> dict[str, Any]:
    """Rocket.Chat's window for closed rooms starts with creation on or after ``start``..."""
    return {"$gte": query.start}


def closed_by_end(query: Query) -> dict[str, Any]:
    """... and ends with the close on or before ``end``."""
    return {"$lte": query.end}


def per_department(**accumulators: Any) -> dict[str, Any]:
    """The ``$group`` stage by department, missing and null together."""
    return {"$group": {"_id": DEPARTMENT_KEY, **accumulators}}


def values(**expressions: Any) -> dict[str, Any]:
    """The last stage: the row's fields, computed from the group's accumulators."""
    return {"$project": {"_id": 1, **expressions}}


def rooms(query: Query, created: dict[str, Any], **conditions: Any) -> Pipeline:
    """:func:`~.common.livechat_rooms` of the query's department."""
    return livechat_rooms(query.department_id, created, **conditions)


def amount_of_chats(query: Query, context: Context) -> Pipeline:
    """Rooms created in the window, answered or not as asked."""
    conditions: dict[str, Any] = {}
    if query.answered is True:
        conditions["waitingResponse"] = {"$ne": True}
    elif query.answered is False:
        conditions["waitingResponse"] = True
    return [*rooms(query, window(query), **conditions), per_department(rooms={"$sum": 1})]


def average_service_time(query: Query, context: Context) -> Pipeline:
    """Mean time from assignment to the agent's last message, over served rooms created in the
    window; a room without ``servedBy.ts`` adds 0 but counts."""
    service_ms = {
        "$cond": [
            {"$ifNull": ["$servedBy.ts", False]},
            {"$subtract": ["$responseBy.lastMessageTs", "$servedBy.ts"]},
            0,
        ]
    }
    return [
        *rooms(
            query,
            window(query),
            **{"responseBy.lastMessageTs": {"$exists": True}, "servedBy._id": {"$exists": True}},
        ),
        per_department(rooms={"$sum": 1}, milliseconds={"$sum": service_ms}),
        values(averageServiceTimeInSeconds=mean_rounded_up("$milliseconds", "$rooms", 1000)),
    ]


def total_service_time(query: Query, context: Context) -> Pipeline:
    """Closed, served rooms: how many, and their service time added up."""
    return [
        *rooms(
            query,
            since_start(query),
            closedAt=closed_by_end(query),
            **{"metrics.serviceTimeDuration": {"$exists": True}},
        ),
        per_department(chats={"$sum": 1}, seconds=sum_or_zero("$metrics.serviceTimeDuration")),
        values(chats=1, serviceTimeDuration={"$ceil": "$seconds"}),
    ]


def average_chat_duration_time(query: Query, context: Context) -> Pipeline:
    """Mean duration of the closed rooms (a missing duration adds 0 but counts)."""
    return [
        *rooms(query, since_start(query), closedAt=closed_by_end(query)),
        per_department(rooms={"$sum": 1}, seconds=sum_or_zero("$metrics.chatDuration")),
        values(averageChatDurationTimeInSeconds=mean_rounded_up("$seconds", "$rooms")),
    ]


def average_waiting_time(query: Query, context: Context) -> Pipeline:
    """Mean time to the agent's first reply, over answered rooms created in the window."""
    return [
        *rooms(query, window(query), waitingResponse={"$ne": True}),
        per_department(rooms={"$sum": 1}, seconds=sum_or_zero("$metrics.response.ft")),
        values(averageWaitingTimeInSeconds=mean_rounded_up("$seconds", "$rooms")),
    ]


def total_abandoned_chats(query: Query, context: Context) -> Pipeline:
    """Closed rooms whose visitor stayed silent for at least ``T`` after the agent's last message."""
    return [
        *rooms(
            query,
            since_start(query),
            closedAt=closed_by_end(query),
            **{"metrics.visitorInactivity": {"$gte": context.inactivity_timeout}},
        ),
        per_department(abandonedRooms={"$sum": 1}),
    ]


def percentage_abandoned_chats(query: Query, context: Context) -> Pipeline:
    """Share of the rooms created in the window (open or closed) that were abandoned, rounded down."""
    abandoned = {"$cond": [{"$gte": ["$metrics.visitorInactivity", context.inactivity_timeout]}, 1, 0]}
    # 100 * abandoned / rooms, multiplied first: 29 of 100 is 29, not 28.999... rounded down.
    share = {"$floor": {"$divide": [{"$multiply": ["$abandoned", 100]}, "$rooms"]}}
    return [
        *rooms(query, window(query)),
        per_department(rooms={"$sum": 1}, abandoned={"$sum": abandoned}),
        values(percentageOfAbandonedChats=share),
    ]


def total_transferred_chats(query: Query, context: Context) -> Pipeline:
    """Transfer events in the window, credited to the department each room has now.

    Messages are grouped by room first, so each room is looked up once however often it moved.
    """
    pipeline: Pipeline = [
        {"$match": {"t": TRANSFER_MESSAGE, "ts": window(query)}},
        {"$group": {"_id": "$rid", "events": {"$sum": 1}}},
        {
            "$lookup": {
                "from": context.names["room"],
                "localField": "_id",
                "foreignField": "_id",
                "as": "room",
            }
        },
        {
            "$group": {
                # A missing room, or one without a department, gives null.
                "_id": first_of("$room", "departmentId"),
                "numberOfTransferredRooms": {"$sum": "$events"},
            }
        },
    ]
    if query.department_id is not None:
        pipeline.append({"$match": {"_id": query.department_id}})
    return pipeline


#: The family's metrics, by path under ``departments/``.
METRICS: dict[str, Metric] = {
    metric.path: metric
    for metric in (
        Metric(
            "amount-of-chats",
            "room",
            schemas.AmountOfChatsSchema,
            amount_of_chats,
            schemas.AnsweredArgsSchema,
        ),
        Metric(
            "total-transferred-chats",
            "message",
            schemas.TotalTransferredChatsSchema,
            total_transferred_chats,
        ),
        Metric("average-service-time", "room", schemas.AverageServiceTimeSchema, average_service_time),
        Metric("total-service-time", "room", schemas.TotalServiceTimeSchema, total_service_time),
        Metric(
            "average-chat-duration-time",
            "room",
            schemas.AverageChatDurationTimeSchema,
            average_chat_duration_time,
        ),
        Metric("average-waiting-time", "room", schemas.AverageWaitingTimeSchema, average_waiting_time),
        Metric(
            "total-abandoned-chats",
            "room",
            schemas.TotalAbandonedChatsSchema,
            total_abandoned_chats,
            reads_inactivity_timeout=True,
        ),
        Metric(
            "percentage-abandoned-chats",
            "room",
            schemas.PercentageAbandonedChatsSchema,
            percentage_abandoned_chats,
            reads_inactivity_timeout=True,
        ),
    )
}

ENDPOINTS = table(*(metric.endpoint() for metric in METRICS.values()), family=FAMILY)
