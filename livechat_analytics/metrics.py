"""The endpoints as data: one row of :data:`METRICS` each, with the pipeline that computes it.

A pipeline builder is a pure function of the validated :class:`~.schemas.Query` (and the real
collection names); it returns the stages that produce one ``{_id, <fields>}`` document per
department. :func:`paged` adds the page and the total, so one aggregate answers a request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import schemas
from .schemas import Query

Pipeline = list[dict[str, Any]]

#: Groups rooms whose ``departmentId`` is missing and those where it is null as one ``null`` group.
DEPARTMENT_KEY = {"$ifNull": ["$departmentId", None]}

TRANSFER_MESSAGE = "livechat_transfer_history"


@dataclass(frozen=True)
class Metric:
    """One endpoint: its path, the collection its pipeline starts on, its schemas and pipeline."""

    path: str
    collection: str
    row_schema: type[schemas.DepartmentRowSchema]
    build: Callable[[Query, Mapping[str, str]], Pipeline]
    args_schema: type[schemas.DepartmentArgsSchema] = schemas.DepartmentArgsSchema

    @property
    def fields(self) -> tuple[str, ...]:
        """The row's value fields, which ``sort`` may name besides ``_id``."""
        return tuple(name for name in self.row_schema._declared_fields if name != "_id")


def in_window(query: Query) -> dict[str, Any]:
    """Both bounds inclusive."""
    return {"$gte": query.start, "$lte": query.end}


def room_match(query: Query, **conditions: Any) -> dict[str, Any]:
    """The first stage of every room pipeline: livechat rooms, the department filter, more."""
    match: dict[str, Any] = {"t": "l"}
    if query.department_id is not None:
        match["departmentId"] = query.department_id
    match.update(conditions)
    return {"$match": match}


def amount_of_chats(query: Query, names: Mapping[str, str]) -> Pipeline:
    """Rooms created in the window, answered or not as asked."""
    conditions: dict[str, Any] = {"ts": in_window(query)}
    if query.answered is True:
        conditions["waitingResponse"] = {"$ne": True}
    elif query.answered is False:
        conditions["waitingResponse"] = True
    return [
        room_match(query, **conditions),
        {"$group": {"_id": DEPARTMENT_KEY, "rooms": {"$sum": 1}}},
    ]


def total_transferred_chats(query: Query, names: Mapping[str, str]) -> Pipeline:
    """Transfer events in the window, credited to the department each room has now.

    Messages are grouped by room first, so each room is looked up once however often it moved.
    """
    pipeline: Pipeline = [
        {"$match": {"t": TRANSFER_MESSAGE, "ts": in_window(query)}},
        {"$group": {"_id": "$rid", "events": {"$sum": 1}}},
        {"$lookup": {"from": names["room"], "localField": "_id", "foreignField": "_id", "as": "room"}},
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
    )
}
