"""The agent family: one row per agent, under ``agents/``, paged and sorted like the departments.

Two rows read the rooms an agent served (``servedBy._id``); the third reads Rocket.Chat's daily
agent activity. Each row's builder returns the stages producing one document per agent with its
final values; the user document is joined per agent (not per room) so ``name`` and ``active`` are
real and sortable, and the row type adds the page and the total.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from marshmallow import Schema, fields

from ..schemas import PageArgs, PageQuery, WindowArgsSchema, flag
from .common import (
    Context,
    Pipeline,
    day_number,
    mean_rounded_up,
    sum_or_zero,
    visible_agents,
    window_rooms,
)
from .row import Family, PagedMetric, first_paragraph
from .stored import boolean, is_text, number, read_once, text, where

_UTC = dt.timezone.utc

# -- Query schemas --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentQuery(PageQuery):
    """A page of agents; ``fullReport`` adds each agent's ``serviceHistory``."""

    full_report: bool = False


class AgentArgsSchema(PageArgs, WindowArgsSchema):
    """The query string of the agent endpoints: the window and the page."""


class AvailabilityArgsSchema(AgentArgsSchema):
    """``available-for-service-history`` can also list each agent's periods of service."""

    query_type = AgentQuery

    full_report = flag("`true`: add each agent's `serviceHistory`.", data_key="fullReport")


# -- Response schemas ------------------------------------------------------------------------------


class Moment(fields.DateTime):
    """A BSON date as Rocket.Chat's REST API writes it: UTC, milliseconds, ``Z``."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if not isinstance(value, dt.datetime):
            return None
        moment = value.replace(tzinfo=_UTC) if value.tzinfo is None else value.astimezone(_UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class AgentRowSchema(Schema):
    """One agent: ``_id`` is the user id of the agent who served the rooms."""

    _id = fields.String(metadata={"description": "The agent's user id (`servedBy._id`)."})
    username = fields.String(
        allow_none=True,
        metadata={"description": "The agent's username; null when unknown."},
    )


class AgentAverageServiceTimeSchema(AgentRowSchema):
    name = fields.String(
        allow_none=True,
        metadata={"description": "The agent's name from the users collection; null when unknown."},
    )
    active = fields.Boolean(
        allow_none=True,
        metadata={"description": "Whether the agent's user is active; null when unknown."},
    )
    averageServiceTimeInSeconds = fields.Integer(
        metadata={
            "description": "Mean `metrics.serviceTimeDuration` of the agent's rooms, in whole "
            "seconds rounded up."
        }
    )


class AgentTotalServiceTimeSchema(AgentRowSchema):
    chats = fields.Integer(metadata={"description": "Rooms with a service time."})
    serviceTimeDuration = fields.Integer(
        metadata={"description": "Their `metrics.serviceTimeDuration` added up, in seconds rounded up."}
    )


class ServicePeriodSchema(Schema):
    """One period an agent was available for service."""

    startedAt = Moment(allow_none=True, metadata={"description": "When it began."})
    stoppedAt = Moment(allow_none=True, metadata={"description": "When it ended; null while it lasts."})


class AgentAvailabilitySchema(AgentRowSchema):
    #: Present only when asked for: not required in the OpenAPI document.
    OPTIONAL_FIELDS: ClassVar[tuple[str, ...]] = ("serviceHistory",)

    availableTimeInSeconds = fields.Integer(
        metadata={"description": "`availableTime` of the window's days added up, in seconds rounded up."}
    )
    serviceHistory = fields.List(
        fields.Nested(ServicePeriodSchema),
        metadata={"description": "With `fullReport=true` only: the periods of those days, in order."},
    )


# -- The row type ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AgentMetric(PagedMetric):
    """One agent endpoint: a page of rows, one per agent, built by ``build``."""

    args: type[WindowArgsSchema] = AgentArgsSchema
    sortable: tuple[str, ...] = field(init=False, default=())
    #: The stages producing one document per agent with its final values (its docstring's first
    #: paragraph is the summary).
    build: Callable[[Any, Context], Pipeline]

    ROWS = "agents"
    GROUPS = "Agents"

    def __post_init__(self) -> None:
        self._derive(
            sortable=self.fields, summary=self.summary or first_paragraph(self.build.__doc__, self.path)
        )
        super().__post_init__()

    @property
    def fields(self) -> tuple[str, ...]:
        """The row's fields that ``sort`` may name: every one but lists."""
        return tuple(name for name in self.row_schema._declared_fields if name != "serviceHistory")

    def pipeline(self, query: Any, context: Context) -> Pipeline:
        """The rows, by the row's builder."""
        return self.build(query, context)

    def finish(self, row: dict[str, Any], query: Any) -> dict[str, Any]:
        """The row, with its periods of service when asked for."""
        return _finished(row, full_report=getattr(query, "full_report", False))

    def columns(self, query: Any, context: Context) -> list[str]:
        """The CSV columns: the row's fields, and the periods of service when asked for."""
        return [*self.fields, *(["serviceHistory"] if getattr(query, "full_report", False) else [])]


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


def _user_text(field: str) -> dict[str, Any]:
    """A string field of the joined user document (a name), null when it is none."""
    return text(_user(field))


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


def served_rooms(query: PageQuery, context: Context) -> Pipeline:
    """Livechat rooms created in the window that an agent served and that have a service time,
    read once as ``_seconds``."""
    return [
        *window_rooms(query, context, **where(is_text("$servedBy._id"))),
        read_once(seconds=number("$metrics.serviceTimeDuration")),
        {"$match": {"_seconds": {"$ne": None}}},
    ]


def per_agent(**accumulators: Any) -> dict[str, Any]:
    """The ``$group`` stage by the serving agent, with the username the rooms recorded."""
    username = {"$max": text("$servedBy.username")}
    return {"$group": {"_id": "$servedBy._id", "username": username, **accumulators}}


def average_service_time(query: PageQuery, context: Context) -> Pipeline:
    """Mean service time (``metrics.serviceTimeDuration``) of each agent's rooms created in the
    window, rounded up, with the agent's name and whether they are active."""
    return [
        *served_rooms(query, context),
        per_agent(rooms={"$sum": 1}, seconds={"$sum": "$_seconds"}),
        join_user(context),
        {
            "$project": {
                "_id": 1,
                "username": 1,
                "name": _user_text("name"),
                "active": boolean(_user("active")),
                "averageServiceTimeInSeconds": mean_rounded_up("$seconds", "$rooms"),
            }
        },
    ]


def total_service_time(query: PageQuery, context: Context) -> Pipeline:
    """Each agent's rooms created in the window that have a service time: how many, and their
    ``metrics.serviceTimeDuration`` added up, rounded up."""
    return [
        *served_rooms(query, context),
        per_agent(chats={"$sum": 1}, seconds={"$sum": "$_seconds"}),
        {"$project": {"_id": 1, "username": 1, "chats": 1, "serviceTimeDuration": {"$ceil": "$seconds"}}},
    ]


def available_for_service_history(query: AgentQuery, context: Context) -> Pipeline:
    """Each agent's time available for service (``availableTime``) over the window's days in the
    reporting timezone, rounded up; with ``fullReport=true`` also the periods of those days.

    Rocket.Chat stores one activity document per agent and day, the day an integer ``YYYYMMDD``.
    """
    first, last = query.start.astimezone(query.timezone).date(), query.end.astimezone(query.timezone).date()
    group: dict[str, Any] = {"_id": "$agentId", "seconds": sum_or_zero("$availableTime")}
    values: dict[str, Any] = {
        "_id": 1,
        "username": _user_text("username"),
        "availableTimeInSeconds": {"$ceil": "$seconds"},
    }
    if query.full_report:
        group["history"] = {"$push": {"$ifNull": ["$serviceHistory", []]}}
        values["history"] = 1
    return [
        {
            "$match": {
                "date": {"$gte": day_number(first), "$lte": day_number(last)},
                **visible_agents(context.scope),
            }
        },
        # Activity of an agent whose id is no string is nobody's (stored.py).
        {"$match": where(is_text("$agentId"))},
        {"$group": group},
        join_user(context),
        {"$project": values},
    ]


def _example(row: dict[str, Any]) -> dict[str, Any]:
    return {"agents": [row], "count": 1, "offset": 0, "total": 1, "success": True}


FAMILY = Family(
    name="agents",
    description="Livechat metrics, one row per agent (the user who served the rooms, `servedBy._id`), "
    "and the agents' time available for service.",
    endpoints=(
        AgentMetric(
            path="agents/average-service-time",
            row_schema=AgentAverageServiceTimeSchema,
            build=average_service_time,
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
            path="agents/total-service-time",
            row_schema=AgentTotalServiceTimeSchema,
            build=total_service_time,
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
            path="agents/available-for-service-history",
            collection="agent_activity",
            args=AvailabilityArgsSchema,
            row_schema=AgentAvailabilitySchema,
            build=available_for_service_history,
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
    ),
)
