"""The department family: eight metrics, one row per department, under ``departments/``.

Each :class:`Metric` is a pipeline builder: a pure function of the validated
:class:`~..schemas.Query` and a :class:`~.common.Context` that returns the stages producing one
``{_id, <fields>}`` document per department, every value final (rounded), so ``sort`` orders what the
client sees. :func:`~.common.paged` adds the page and the total, so one aggregate answers a request.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .. import schemas
from ..schemas import Query
from . import Endpoint, PagedMetric, table
from .common import (
    DEPARTMENT_KEY,
    SERVICE_MILLISECONDS,
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
    #: What the dashboard page shows of it: its title, the row field it shows and how that field
    #: reads (a count, seconds or a percentage), and one more field and its title, when it has one.
    title: str = ""
    shown: str = ""
    unit: Literal["count", "seconds", "percent"] = "count"
    also: tuple[str, str] | None = None

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

    def columns(self, query: Query, context: Context) -> list[str]:
        """The CSV columns: the id, the name when names are on, and the values."""
        return ["_id", *(["name"] if context.department_names else []), *self.fields]

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


# Each room metric is three pieces, which the trends reuse with another grouping key: the rooms it
# counts (``*_rooms``), the sums it takes of them (``*_sums``) and its row's final values, once as
# MongoDB expressions (``values``) and once in Python (``*_row``) for sums added up per bucket.


def amount_of_chats_rooms(query: Query, context: Context) -> Pipeline:
    """The rooms of ``amount-of-chats``: created in the window, answered or not as asked."""
    conditions: dict[str, Any] = {}
    if query.answered is True:
        conditions["waitingResponse"] = {"$ne": True}
    elif query.answered is False:
        conditions["waitingResponse"] = True
    return rooms(query, window(query), **conditions)


def counted(name: str) -> Callable[[Context], dict[str, Any]]:
    """The sums of a metric that counts rooms, into ``name``."""
    return lambda context: {name: {"$sum": 1}}


def amount_of_chats(query: Query, context: Context) -> Pipeline:
    """Rooms created in the window, answered or not as asked."""
    return [*amount_of_chats_rooms(query, context), per_department(**counted("rooms")(context))]


def average_service_time_rooms(query: Query, context: Context) -> Pipeline:
    """The rooms of ``average-service-time``: served rooms created in the window with a last message."""
    return rooms(
        query,
        window(query),
        **{"responseBy.lastMessageTs": {"$exists": True}, "servedBy._id": {"$exists": True}},
    )


def average_service_time_sums(context: Context) -> dict[str, Any]:
    """Rooms, and their service time in milliseconds (0 for a room without ``servedBy.ts``)."""
    return {"rooms": {"$sum": 1}, "milliseconds": {"$sum": SERVICE_MILLISECONDS}}


def average_service_time(query: Query, context: Context) -> Pipeline:
    """Mean time from assignment to the agent's last message, over served rooms created in the
    window; a room without ``servedBy.ts`` adds 0 but counts."""
    return [
        *average_service_time_rooms(query, context),
        per_department(**average_service_time_sums(context)),
        values(averageServiceTimeInSeconds=mean_rounded_up("$milliseconds", "$rooms", 1000)),
    ]


def total_service_time_rooms(query: Query, context: Context) -> Pipeline:
    """The rooms of ``total-service-time``: closed in the window, with a service time."""
    return rooms(
        query,
        since_start(query),
        closedAt=closed_by_end(query),
        **{"metrics.serviceTimeDuration": {"$exists": True}},
    )


def total_service_time_sums(context: Context) -> dict[str, Any]:
    """Rooms, and their service time in seconds."""
    return {"chats": {"$sum": 1}, "seconds": sum_or_zero("$metrics.serviceTimeDuration")}


def total_service_time(query: Query, context: Context) -> Pipeline:
    """Closed, served rooms: how many, and their service time added up."""
    return [
        *total_service_time_rooms(query, context),
        per_department(**total_service_time_sums(context)),
        values(chats=1, serviceTimeDuration={"$ceil": "$seconds"}),
    ]


def closed_rooms(query: Query, context: Context) -> Pipeline:
    """The rooms of ``average-chat-duration-time``: created on or after ``start``, closed by ``end``."""
    return rooms(query, since_start(query), closedAt=closed_by_end(query))


def average_chat_duration_time_sums(context: Context) -> dict[str, Any]:
    """Rooms, and their durations in seconds."""
    return {"rooms": {"$sum": 1}, "seconds": sum_or_zero("$metrics.chatDuration")}


def average_chat_duration_time(query: Query, context: Context) -> Pipeline:
    """Mean duration of the closed rooms (a missing duration adds 0 but counts)."""
    return [
        *closed_rooms(query, context),
        per_department(**average_chat_duration_time_sums(context)),
        values(averageChatDurationTimeInSeconds=mean_rounded_up("$seconds", "$rooms")),
    ]


def average_waiting_time_rooms(query: Query, context: Context) -> Pipeline:
    """The rooms of ``average-waiting-time``: answered rooms created in the window."""
    return rooms(query, window(query), waitingResponse={"$ne": True})


def average_waiting_time_sums(context: Context) -> dict[str, Any]:
    """Rooms, and their times to the first reply in seconds."""
    return {"rooms": {"$sum": 1}, "seconds": sum_or_zero("$metrics.response.ft")}


def average_waiting_time(query: Query, context: Context) -> Pipeline:
    """Mean time to the agent's first reply, over answered rooms created in the window."""
    return [
        *average_waiting_time_rooms(query, context),
        per_department(**average_waiting_time_sums(context)),
        values(averageWaitingTimeInSeconds=mean_rounded_up("$seconds", "$rooms")),
    ]


def total_abandoned_chats_rooms(query: Query, context: Context) -> Pipeline:
    """The rooms of ``total-abandoned-chats``: closed in the window, silent ``T`` or more."""
    return rooms(
        query,
        since_start(query),
        closedAt=closed_by_end(query),
        **{"metrics.visitorInactivity": {"$gte": context.inactivity_timeout}},
    )


def total_abandoned_chats(query: Query, context: Context) -> Pipeline:
    """Closed rooms whose visitor stayed silent for at least ``T`` after the agent's last message."""
    return [
        *total_abandoned_chats_rooms(query, context),
        per_department(**counted("abandonedRooms")(context)),
    ]


def window_rooms(query: Query, context: Context) -> Pipeline:
    """The rooms of ``percentage-abandoned-chats``: created in the window, open or closed."""
    return rooms(query, window(query))


def percentage_abandoned_chats_sums(context: Context) -> dict[str, Any]:
    """Rooms, and those abandoned."""
    abandoned = {"$cond": [{"$gte": ["$metrics.visitorInactivity", context.inactivity_timeout]}, 1, 0]}
    return {"rooms": {"$sum": 1}, "abandoned": {"$sum": abandoned}}


def percentage_abandoned_chats(query: Query, context: Context) -> Pipeline:
    """Share of the rooms created in the window (open or closed) that were abandoned, rounded down."""
    # 100 * abandoned / rooms, multiplied first: 29 of 100 is 29, not 28.999... rounded down.
    share = {"$floor": {"$divide": [{"$multiply": ["$abandoned", 100]}, "$rooms"]}}
    return [
        *window_rooms(query, context),
        per_department(**percentage_abandoned_chats_sums(context)),
        values(percentageOfAbandonedChats=share),
    ]


def _ceil(total: float, divisor: float) -> int:
    """``$ceil`` of ``$divide``: one division of doubles, as MongoDB's, rounded up; 0 for no rooms."""
    return math.ceil(total / divisor) if divisor else 0


#: The Python twins of the ``values`` stages: a row's fields from its (added up) sums.
ROW_VALUES: dict[str, Callable[[Mapping[str, Any]], dict[str, int]]] = {
    "amount-of-chats": lambda sums: {"rooms": int(sums.get("rooms", 0))},
    "total-transferred-chats": lambda sums: {
        "numberOfTransferredRooms": int(sums.get("numberOfTransferredRooms", 0))
    },
    "average-service-time": lambda sums: {
        "averageServiceTimeInSeconds": _ceil(sums.get("milliseconds", 0), sums.get("rooms", 0) * 1000)
    },
    "total-service-time": lambda sums: {
        "chats": int(sums.get("chats", 0)),
        "serviceTimeDuration": math.ceil(sums.get("seconds", 0)),
    },
    "average-chat-duration-time": lambda sums: {
        "averageChatDurationTimeInSeconds": _ceil(sums.get("seconds", 0), sums.get("rooms", 0))
    },
    "average-waiting-time": lambda sums: {
        "averageWaitingTimeInSeconds": _ceil(sums.get("seconds", 0), sums.get("rooms", 0))
    },
    "total-abandoned-chats": lambda sums: {"abandonedRooms": int(sums.get("abandonedRooms", 0))},
    "percentage-abandoned-chats": lambda sums: {
        "percentageOfAbandonedChats": (
            math.floor(sums.get("abandoned", 0) * 100 / sums["rooms"]) if sums.get("rooms") else 0
        )
    },
}

#: Per room metric: the rooms it counts and the sums it takes of them (the transfers count
#: messages: :mod:`.trends` builds theirs).
ROOM_SUMS: dict[str, tuple[Callable[[Query, Context], Pipeline], Callable[[Context], dict[str, Any]]]] = {
    "amount-of-chats": (amount_of_chats_rooms, counted("rooms")),
    "average-service-time": (average_service_time_rooms, average_service_time_sums),
    "total-service-time": (total_service_time_rooms, total_service_time_sums),
    "average-chat-duration-time": (closed_rooms, average_chat_duration_time_sums),
    "average-waiting-time": (average_waiting_time_rooms, average_waiting_time_sums),
    "total-abandoned-chats": (total_abandoned_chats_rooms, counted("abandonedRooms")),
    "percentage-abandoned-chats": (window_rooms, percentage_abandoned_chats_sums),
}


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
            title="Chats",
            shown="rooms",
        ),
        Metric(
            "total-transferred-chats",
            "message",
            schemas.TotalTransferredChatsSchema,
            total_transferred_chats,
            title="Transferred chats",
            shown="numberOfTransferredRooms",
        ),
        Metric(
            "average-service-time",
            "room",
            schemas.AverageServiceTimeSchema,
            average_service_time,
            title="Average service time",
            shown="averageServiceTimeInSeconds",
            unit="seconds",
        ),
        Metric(
            "total-service-time",
            "room",
            schemas.TotalServiceTimeSchema,
            total_service_time,
            title="Total service time",
            shown="serviceTimeDuration",
            unit="seconds",
            also=("chats", "Chats served"),
        ),
        Metric(
            "average-chat-duration-time",
            "room",
            schemas.AverageChatDurationTimeSchema,
            average_chat_duration_time,
            title="Average chat duration",
            shown="averageChatDurationTimeInSeconds",
            unit="seconds",
        ),
        Metric(
            "average-waiting-time",
            "room",
            schemas.AverageWaitingTimeSchema,
            average_waiting_time,
            title="Average waiting time",
            shown="averageWaitingTimeInSeconds",
            unit="seconds",
        ),
        Metric(
            "total-abandoned-chats",
            "room",
            schemas.TotalAbandonedChatsSchema,
            total_abandoned_chats,
            reads_inactivity_timeout=True,
            title="Abandoned chats",
            shown="abandonedRooms",
        ),
        Metric(
            "percentage-abandoned-chats",
            "room",
            schemas.PercentageAbandonedChatsSchema,
            percentage_abandoned_chats,
            reads_inactivity_timeout=True,
            title="Abandoned chats (%)",
            shown="percentageOfAbandonedChats",
            unit="percent",
        ),
    )
}

ENDPOINTS = table(*(metric.endpoint() for metric in METRICS.values()), family=FAMILY)
