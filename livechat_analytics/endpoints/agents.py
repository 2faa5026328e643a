"""The agent family: one row per agent, under ``agents/``, paged and sorted like the departments.

Two rows read the rooms an agent served (``servedBy._id``); the third reads Rocket.Chat's daily
agent activity. Each builder returns the stages producing one document per agent with its final
values; the user document is joined per agent (not per room) so ``name`` and ``active`` are real
and sortable, and :func:`~.common.paged` adds the page and the total.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .. import schemas
from ..schemas import Query
from . import Endpoint, PagedMetric, table
from .common import (
    Context,
    Pipeline,
    day_number,
    in_window,
    livechat_rooms,
    local_days,
    mean_rounded_up,
    sum_or_zero,
)

FAMILY = "agents"


@dataclass(frozen=True)
class AgentMetric(PagedMetric):
    """One agent endpoint: a page of rows, one per agent."""

    args: type[schemas.ArgsSchema] = schemas.AgentArgsSchema
    example: dict[str, Any] | None = None

    FAMILY = FAMILY
    ROWS = "agents"
    GROUPS = "Agents"

    @property
    def fields(self) -> tuple[str, ...]:
        """The row's fields that ``sort`` may name: every one but lists."""
        return tuple(name for name in self.row_schema._declared_fields if name != "serviceHistory")

    def finish(self, row: dict[str, Any], query: Query) -> dict[str, Any]:
        """The row, with its periods of service when asked for."""
        return _finished(row, full_report=query.full_report)

    def columns(self, query: Query, context: Context) -> list[str]:
        """The CSV columns: the row's fields, and the periods of service when asked for."""
        return [*self.fields, *(["serviceHistory"] if query.full_report else [])]

    def endpoint(self, **row: Any) -> Endpoint:
        """This metric as a row of the agent table."""
        return super().endpoint(sortable=self.fields, example=self.example, **row)


def _finished(row: dict[str, Any], *, full_report: bool) -> dict[str, Any]:
    """A row as the client sees it: the days' periods of service in one list, in order, when
    asked for (the pipeline keeps one list per day: MongoDB's ``$reduce`` is not everywhere)."""
    days = row.pop("history", None)
    if full_report:
        periods = [
            period
            for day in (days or [])
            if isinstance(day, list)
            for period in day
            if isinstance(period, dict)
        ]
        periods.sort(key=_started)
        row["serviceHistory"] = periods
    return row


def _started(period: dict[str, Any]) -> float:
    """A period's start as a number, for ordering; one without a start comes last."""
    started = period.get("startedAt")
    if not isinstance(started, dt.datetime):
        return float("inf")
    return (started if started.tzinfo else started.replace(tzinfo=dt.timezone.utc)).timestamp()


def _user(field: str) -> dict[str, Any]:
    """A field of the joined user document, null when there is none. The path is taken on the
    first element, not on the array: SecantusDB loses ``"$user.name"``."""
    return {
        "$ifNull": [
            {"$let": {"vars": {"user": {"$arrayElemAt": ["$user", 0]}}, "in": f"$$user.{field}"}},
            None,
        ]
    }


def join_user(context: Context, local: str = "_id") -> dict[str, Any]:
    """Join each agent's user document, as ``user`` (one per agent, after the grouping)."""
    return {
        "$lookup": {
            "from": context.names["users"],
            "localField": local,
            "foreignField": "_id",
            "as": "user",
        }
    }


def served_rooms(query: Query) -> Pipeline:
    """Livechat rooms created in the window that an agent served and that have a service time."""
    return livechat_rooms(
        None,
        in_window(query.start, query.end),
        **{"servedBy._id": {"$exists": True}, "metrics.serviceTimeDuration": {"$exists": True}},
    )


def per_agent(**accumulators: Any) -> dict[str, Any]:
    """The ``$group`` stage by the serving agent, with the username the rooms recorded."""
    return {"$group": {"_id": "$servedBy._id", "username": {"$max": "$servedBy.username"}, **accumulators}}


def average_service_time(query: Query, context: Context) -> Pipeline:
    """Mean service time (``metrics.serviceTimeDuration``) of each agent's rooms created in the
    window, rounded up, with the agent's name and whether they are active."""
    return [
        *served_rooms(query),
        per_agent(rooms={"$sum": 1}, seconds=sum_or_zero("$metrics.serviceTimeDuration")),
        join_user(context),
        {
            "$project": {
                "_id": 1,
                "username": 1,
                "name": _user("name"),
                "active": _user("active"),
                "averageServiceTimeInSeconds": mean_rounded_up("$seconds", "$rooms"),
            }
        },
    ]


def total_service_time(query: Query, context: Context) -> Pipeline:
    """Each agent's rooms created in the window that have a service time: how many, and their
    ``metrics.serviceTimeDuration`` added up, rounded up."""
    return [
        *served_rooms(query),
        per_agent(chats={"$sum": 1}, seconds=sum_or_zero("$metrics.serviceTimeDuration")),
        {"$project": {"_id": 1, "username": 1, "chats": 1, "serviceTimeDuration": {"$ceil": "$seconds"}}},
    ]


def available_for_service_history(query: Query, context: Context) -> Pipeline:
    """Each agent's time available for service (``availableTime``) over the window's days in the
    reporting timezone, rounded up; with ``fullReport=true`` also the periods of those days.

    Rocket.Chat stores one activity document per agent and day, the day an integer ``YYYYMMDD``.
    """
    days = local_days(query.start, query.end, context.timezone)
    group: dict[str, Any] = {"_id": "$agentId", "seconds": sum_or_zero("$availableTime")}
    values: dict[str, Any] = {
        "_id": 1,
        "username": _user("username"),
        "availableTimeInSeconds": {"$ceil": "$seconds"},
    }
    if query.full_report:
        group["history"] = {"$push": {"$ifNull": ["$serviceHistory", []]}}
        values["history"] = 1
    return [
        {"$match": {"date": {"$gte": day_number(days[0]), "$lte": day_number(days[-1])}}},
        {"$group": group},
        join_user(context),
        {"$project": values},
    ]


def _example(row: dict[str, Any]) -> dict[str, Any]:
    return {"agents": [row], "count": 1, "offset": 0, "total": 1, "success": True}


#: The family's metrics, by path under ``agents/``.
METRICS: dict[str, AgentMetric] = {
    metric.path: metric
    for metric in (
        AgentMetric(
            "average-service-time",
            "room",
            schemas.AgentAverageServiceTimeSchema,
            average_service_time,
            example=_example(
                {
                    "_id": "Bq7sPmiAzTJLGyxPo",
                    "username": "ana.souza",
                    "name": "Ana Souza",
                    "active": True,
                    "averageServiceTimeInSeconds": 612,
                }
            ),
        ),
        AgentMetric(
            "total-service-time",
            "room",
            schemas.AgentTotalServiceTimeSchema,
            total_service_time,
            example=_example(
                {
                    "_id": "Bq7sPmiAzTJLGyxPo",
                    "username": "ana.souza",
                    "chats": 14,
                    "serviceTimeDuration": 8563,
                }
            ),
        ),
        AgentMetric(
            "available-for-service-history",
            "agent_activity",
            schemas.AgentAvailabilitySchema,
            available_for_service_history,
            schemas.AvailabilityArgsSchema,
            example=_example(
                {
                    "_id": "Bq7sPmiAzTJLGyxPo",
                    "username": "ana.souza",
                    "availableTimeInSeconds": 25200,
                    "serviceHistory": [
                        {"startedAt": "2024-03-04T08:00:00.000Z", "stoppedAt": "2024-03-04T15:00:00.000Z"}
                    ],
                }
            ),
        ),
    )
}

ENDPOINTS = table(*(metric.endpoint() for metric in METRICS.values()), family=FAMILY)
