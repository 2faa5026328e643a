"""The endpoints as data: one row of :data:`METRICS` each, with the pipeline that computes it.

A pipeline builder is a pure function of the validated :class:`~.schemas.Query` and a
:class:`Context`; it returns the stages that produce one ``{_id, <fields>}`` document per
department, every value final (rounded), so ``sort`` orders what the client sees. :func:`paged`
adds the page and the total, so one aggregate answers a request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from . import schemas
from .schemas import Query

Pipeline = list[dict[str, Any]]

#: Groups rooms whose ``departmentId`` is missing and those where it is null as one ``null`` group.
DEPARTMENT_KEY = {"$ifNull": ["$departmentId", None]}

TRANSFER_MESSAGE = "livechat_transfer_history"
#: The Rocket.Chat setting that holds ``T``, the inactivity after which a chat is abandoned.
INACTIVITY_SETTING = "Livechat_visitor_inactivity_timeout"


@dataclass(frozen=True)
class Context:
    """What a pipeline needs besides the query: the real collection names, and the settings
    read for this request."""

    names: Mapping[str, str]
    #: ``T``, the ``Livechat_visitor_inactivity_timeout`` setting, in seconds.
    inactivity_timeout: float = 3600


@dataclass(frozen=True)
class Metric:
    """One endpoint: its path, the collection its pipeline starts on, its schemas and pipeline."""

    path: str
    collection: str
    row_schema: type[schemas.DepartmentRowSchema]
    build: Callable[[Query, Context], Pipeline]
    args_schema: type[schemas.DepartmentArgsSchema] = schemas.DepartmentArgsSchema
    #: Whether the pipeline needs ``T`` (an administrator may change it at any time: read per request).
    reads_inactivity_timeout: bool = False

    @cached_property
    def envelope(self) -> schemas.Schema:
        """The schema of the 200 body, rows of :attr:`row_schema`."""
        return schemas.envelope_schema(self.row_schema)

    @property
    def fields(self) -> tuple[str, ...]:
        """The row's value fields, which ``sort`` may name besides ``_id``."""
        return tuple(name for name in self.row_schema._declared_fields if name not in ("_id", "name"))


def in_window(query: Query) -> dict[str, Any]:
    """Both bounds inclusive."""
    return {"$gte": query.start, "$lte": query.end}


def rooms(query: Query, created: dict[str, Any], **conditions: Any) -> Pipeline:
    """The first stages of every room pipeline: livechat rooms of the department asked for, created
    in ``created``, which an index serves; then the other ``conditions``, in a ``$match`` of their own.

    MongoDB merges the two stages; SecantusDB only scans an index for a ``$match`` it fully covers.
    """
    match: dict[str, Any] = {"t": "l"}
    if query.department_id is not None:
        match["departmentId"] = query.department_id
    match["ts"] = created
    return [{"$match": match}, {"$match": conditions}] if conditions else [{"$match": match}]


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


def mean_rounded_up(total: str, rooms: str, unit: int = 1) -> dict[str, Any]:
    """``ceil(total / (rooms * unit))``: one division of integers, so exact for integer inputs."""
    return {"$ceil": {"$divide": [total, {"$multiply": [rooms, unit]}]}}


def sum_or_zero(path: str) -> dict[str, Any]:
    """Sum a value that may be missing: a missing one adds 0 (and ``$sum: 1`` still counts it)."""
    return {"$sum": {"$ifNull": [path, 0]}}


def amount_of_chats(query: Query, context: Context) -> Pipeline:
    """Rooms created in the window, answered or not as asked."""
    conditions: dict[str, Any] = {}
    if query.answered is True:
        conditions["waitingResponse"] = {"$ne": True}
    elif query.answered is False:
        conditions["waitingResponse"] = True
    return [*rooms(query, in_window(query), **conditions), per_department(rooms={"$sum": 1})]


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
            in_window(query),
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
        *rooms(query, in_window(query), waitingResponse={"$ne": True}),
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
        *rooms(query, in_window(query)),
        per_department(rooms={"$sum": 1}, abandoned={"$sum": abandoned}),
        values(percentageOfAbandonedChats=share),
    ]


def total_transferred_chats(query: Query, context: Context) -> Pipeline:
    """Transfer events in the window, credited to the department each room has now.

    Messages are grouped by room first, so each room is looked up once however often it moved.
    """
    pipeline: Pipeline = [
        {"$match": {"t": TRANSFER_MESSAGE, "ts": in_window(query)}},
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
                # A missing room, or one without a department, gives null. The path is taken on
                # the first element, not on the array: SecantusDB loses "$room.departmentId".
                "_id": {
                    "$ifNull": [
                        {
                            "$let": {
                                "vars": {"room": {"$arrayElemAt": ["$room", 0]}},
                                "in": "$$room.departmentId",
                            }
                        },
                        None,
                    ]
                },
                "numberOfTransferredRooms": {"$sum": "$events"},
            }
        },
    ]
    if query.department_id is not None:
        pipeline.append({"$match": {"_id": query.department_id}})
    return pipeline


def paged(pipeline: Pipeline, query: Query) -> Pipeline:
    """Append the page (sorted, skipped, limited) and the number of groups, in one ``$facet``."""
    page: Pipeline = [{"$sort": dict(query.sort)}, {"$skip": query.offset}]
    if query.count is not None:
        page.append({"$limit": query.count})
    return [*pipeline, {"$facet": {"total": [{"$count": "n"}], "page": page}}]


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


@dataclass(frozen=True)
class Index:
    """An index that serves the first stage of some pipelines, on ``collection`` (a key of
    :meth:`~.repository.Repository.name`)."""

    collection: str
    name: str
    keys: tuple[tuple[str, int], ...]
    #: Only the documents that match it are indexed (``partialFilterExpression``).
    partial_filter: Mapping[str, Any] | None = None

    def options(self) -> dict[str, Any]:
        """The options of ``create_index`` besides the keys."""
        options: dict[str, Any] = {"name": self.name}
        if self.partial_filter is not None:
            options["partialFilterExpression"] = dict(self.partial_filter)
        return options


#: What ``livechat-analytics ensure-indexes`` creates. Each room pipeline starts with ``t`` equal,
#: the department when filtered, then a ``ts`` range (``ts >= start`` at least): the index bounds
#: take all three, and the other conditions are checked on the rooms fetched.
INDEXES: tuple[Index, ...] = (
    Index("room", "livechat_analytics_t_ts", (("t", 1), ("ts", 1))),
    Index("room", "livechat_analytics_t_department_ts", (("t", 1), ("departmentId", 1), ("ts", 1))),
    # Transfers are a sliver of all messages: index only them.
    Index("message", "livechat_analytics_transfer_ts", (("ts", 1),), {"t": TRANSFER_MESSAGE}),
)
