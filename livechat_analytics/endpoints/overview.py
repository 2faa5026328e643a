"""The overview family: the totalizers and the agent table of Rocket.Chat's Omnichannel "Analytics"
page, ``overview`` and ``agent-overview``, both chosen by ``name``, over whole days ``from``-``to``.

One aggregate answers each request. ``overview`` answers a bare JSON array, as Rocket.Chat does.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any, ClassVar

from marshmallow import Schema, fields

from .. import schemas
from ..repository import Repository
from ..schemas import Query
from . import Endpoint, table
from .common import (
    ONHOLD,
    OPEN,
    QUEUED,
    STATUS,
    Context,
    Pipeline,
    busiest,
    hms,
    hour_range,
    human_messages,
    in_window,
    is_set,
    livechat_rooms,
    local_day,
    local_hour,
    sum_or_zero,
    total_human_messages,
)
from .dashboards import TotalizerSchema, statuses

FAMILY = "overview"

CONVERSATIONS, PRODUCTIVITY = "Conversations", "Productivity"


class BoardArgsSchema(schemas.OverviewArgsSchema):
    names: ClassVar[tuple[str, ...]] = (CONVERSATIONS, PRODUCTIVITY)


# The agent-overview metrics: (how the value is grouped and computed), by name.
TOTAL_CONVERSATIONS = "Total_conversations"
AVG_CHAT_DURATION = "Avg_chat_duration"
TOTAL_MESSAGES = "Total_messages"
AVG_FIRST_RESPONSE_TIME = "Avg_first_response_time"
BEST_FIRST_RESPONSE_TIME = "Best_first_response_time"
AVG_RESPONSE_TIME = "Avg_response_time"
AVG_REACTION_TIME = "Avg_reaction_time"


class AgentOverviewArgsSchema(schemas.OverviewArgsSchema):
    names: ClassVar[tuple[str, ...]] = (
        TOTAL_CONVERSATIONS,
        AVG_CHAT_DURATION,
        TOTAL_MESSAGES,
        AVG_FIRST_RESPONSE_TIME,
        BEST_FIRST_RESPONSE_TIME,
        AVG_RESPONSE_TIME,
        AVG_REACTION_TIME,
    )


class HeadSchema(Schema):
    """A column of the table."""

    name = fields.String(metadata={"description": "Rocket.Chat's i18n key of the column."})


class AgentValueSchema(Schema):
    """One agent's value."""

    name = fields.String(metadata={"description": "The agent's username."})
    value = schemas.number_or_text(
        'A share (`"28.57%"`, two decimals), a duration (`HH:MM:SS`) or a number of messages.'
    )


class AgentOverviewSchema(Schema):
    """A two-column table, agent and value, best first."""

    head = fields.List(fields.Nested(HeadSchema), metadata={"description": "The two column titles."})
    data = fields.List(fields.Nested(AgentValueSchema), metadata={"description": "One row per agent."})
    success = schemas.succeeded()


class OverviewSchema(TotalizerSchema):
    """The numbers of the board, in Rocket.Chat's order (a bare array)."""


def rooms(query: Query, **conditions: Any) -> Pipeline:
    """The livechat rooms of the query's department created on the days asked for."""
    return livechat_rooms(query.department_id, in_window(query.start, query.end), **conditions)


def days_of(query: Query, context: Context) -> int:
    """How many calendar days the query covers in the reporting timezone."""
    first = query.start.astimezone(context.timezone).date()
    last = query.end.astimezone(context.timezone).date()
    return (last - first).days + 1


def conversations(query: Query, context: Context) -> Pipeline:
    """The rooms by status, by local day and hour, and their human messages, in one ``$facet``."""
    zone = context.timezone
    return [
        *rooms(query),
        {
            "$facet": {
                "statuses": [{"$group": {"_id": STATUS, "n": {"$sum": 1}}}],
                "hours": [{"$group": {"_id": {**local_day(zone), "h": local_hour(zone)}, "n": {"$sum": 1}}}],
                "messages": total_human_messages(context),
            }
        },
    ]


def productivity(query: Query, context: Context) -> Pipeline:
    """Sums and counts of the response, first response and reaction times of the rooms having them."""
    sums: dict[str, Any] = {"_id": None}
    for name, path in _PRODUCTIVITY:
        sums[f"{name}Rooms"] = {"$sum": {"$cond": [is_set(path), 1, 0]}}
        sums[f"{name}Seconds"] = sum_or_zero(path)
    return [*rooms(query), {"$group": sums}]


_PRODUCTIVITY = (
    ("Avg_response_time", "$metrics.response.avg"),
    ("Avg_first_response_time", "$metrics.response.ft"),
    ("Avg_reaction_time", "$metrics.reaction.ft"),
)


def compute_overview(query: Query, context: Context, repository: Repository) -> list[dict[str, Any]]:
    """The board ``name`` asks for."""
    if query.name == PRODUCTIVITY:
        found = repository.aggregate("room", productivity(query, context))
        sums = found[0] if found else {}
        return [
            {
                "title": title,
                "value": hms(_mean(sums.get(f"{title}Seconds", 0), sums.get(f"{title}Rooms", 0))),
            }
            for title, _ in _PRODUCTIVITY
        ]
    found = repository.aggregate("room", conversations(query, context))
    facets = found[0] if found else {}
    counted = statuses(facets.get("statuses", []))
    total = sum(counted.values())
    per_day: dict[dt.date, int] = {}
    per_hour: dict[int, int] = {}
    for document in facets.get("hours", []):
        key, n = document["_id"], int(document["n"])
        day = dt.date(key["y"], key["m"], key["d"])
        per_day[day] = per_day.get(day, 0) + n
        per_hour[key["h"]] = per_hour.get(key["h"], 0) + n
    messages = facets.get("messages", [])
    busiest_day = busiest(per_day)
    return [
        {"title": "Total_conversations", "value": total},
        {"title": "Open_conversations", "value": counted[OPEN] + counted[QUEUED]},
        {"title": "On_Hold_conversations", "value": counted[ONHOLD]},
        {"title": "Total_messages", "value": int(messages[0]["n"]) if messages else 0},
        {
            "title": "Busiest_day",
            "value": "-" if busiest_day is None else calendar.day_name[busiest_day.weekday()],
        },
        {"title": "Conversations_per_day", "value": f"{total / days_of(query, context):.2f}"},
        {"title": "Busiest_time", "value": hour_range(busiest(per_hour))},
    ]


def _mean(total: float, count: float) -> float:
    return total / count if count else 0


# agent-overview: per metric, the agent field, the value path, the accumulator, whether the best is
# the highest, and the column title.


def agent_overview(query: Query, context: Context) -> Pipeline:
    """One document per agent, ``{_id: username, value, rooms}``, for the metric ``query.name``."""
    name = query.name or TOTAL_CONVERSATIONS  # the schema requires it
    if name == TOTAL_CONVERSATIONS:
        return [
            *rooms(query, **{"servedBy.username": {"$exists": True}}),
            {"$group": {"_id": "$servedBy.username", "value": {"$sum": 1}, "rooms": {"$sum": 1}}},
        ]
    if name == TOTAL_MESSAGES:
        return [
            *rooms(query, **{"servedBy.username": {"$exists": True}}),
            *human_messages(context, agents_only=True, keep=("servedBy",)),
            {"$group": {"_id": "$servedBy.username", "value": {"$sum": "$n"}, "rooms": {"$sum": 1}}},
        ]
    agent, path = _TIMES[name]
    accumulate = {"$min": "$" + path} if name == BEST_FIRST_RESPONSE_TIME else {"$sum": "$" + path}
    return [
        *rooms(query, **{agent + ".username": {"$exists": True}, path: {"$ne": None}}),
        {"$group": {"_id": f"${agent}.username", "value": accumulate, "rooms": {"$sum": 1}}},
    ]


_TIMES = {
    AVG_CHAT_DURATION: ("servedBy", "metrics.chatDuration"),
    AVG_FIRST_RESPONSE_TIME: ("responseBy", "metrics.response.ft"),
    BEST_FIRST_RESPONSE_TIME: ("responseBy", "metrics.response.ft"),
    AVG_RESPONSE_TIME: ("servedBy", "metrics.response.avg"),
    AVG_REACTION_TIME: ("servedBy", "metrics.reaction.ft"),
}

#: Largest first: the agent with most rooms, messages, or the longest chats leads.
_HIGHEST_FIRST = (TOTAL_CONVERSATIONS, TOTAL_MESSAGES, AVG_CHAT_DURATION)


def compute_agent_overview(query: Query, context: Context, repository: Repository) -> dict[str, Any]:
    """The table of ``name``: each agent's value, best first, ties by username."""
    name = query.name
    documents = [
        d for d in repository.aggregate("room", agent_overview(query, context)) if d["_id"] is not None
    ]
    total = sum(int(document["rooms"]) for document in documents)
    rows = []
    for document in documents:
        value = document["value"]
        if name == TOTAL_CONVERSATIONS:
            number = 100 * value / total
            shown: Any = f"{number:.2f}%"
        elif name == TOTAL_MESSAGES:
            number = shown = int(value)
        else:
            number = value if name == BEST_FIRST_RESPONSE_TIME else value / document["rooms"]
            shown = hms(number)
        rows.append((number, str(document["_id"]), shown))
    sign = -1 if name in _HIGHEST_FIRST else 1
    rows.sort(key=lambda row: (sign * row[0], row[1]))
    # Rocket.Chat titles the share column this way, and its client translates that key.
    column = "%_of_conversations" if name == TOTAL_CONVERSATIONS else name
    return {
        "head": [{"name": "Agent"}, {"name": column}],
        "data": [{"name": username, "value": shown} for _, username, shown in rows],
    }


ENDPOINTS = table(
    Endpoint(
        path="overview",
        args=BoardArgsSchema,
        response=OverviewSchema(many=True),
        compute=compute_overview,
        summary="The Analytics page's board `name` (Conversations or Productivity) over the days "
        "`from`-`to`, as a bare array of titled values.",
        description=" Conversations: rooms, open and queued ones, on hold, messages written by people, "
        "the weekday of the busiest date, rooms per day and the busiest hour, in the reporting "
        "timezone. Productivity: mean response, first response and reaction times over the rooms "
        "that have them (`HH:MM:SS`).",
        example=[  # type: ignore[arg-type]
            {"title": "Total_conversations", "value": 56},
            {"title": "Open_conversations", "value": 3},
            {"title": "On_Hold_conversations", "value": 1},
            {"title": "Total_messages", "value": 410},
            {"title": "Busiest_day", "value": "Tuesday"},
            {"title": "Conversations_per_day", "value": "8.00"},
            {"title": "Busiest_time", "value": "3PM - 4PM"},
        ],
    ),
    Endpoint(
        path="agent-overview",
        args=AgentOverviewArgsSchema,
        response=AgentOverviewSchema(),
        compute=compute_agent_overview,
        summary="One value per agent for the metric `name` over the days `from`-`to`, best first.",
        description=" Total_conversations: each agent's share of the served rooms; Total_messages: the "
        "messages without a visitor token written in the rooms each agent serves; the times are "
        "means (Best_first_response_time: the least) over the rooms that have them, by the serving "
        "agent (by the responding agent for first responses).",
        example={
            "head": [{"name": "Agent"}, {"name": "%_of_conversations"}],
            "data": [{"name": "ana.souza", "value": "28.57%"}, {"name": "bruno.lima", "value": "14.29%"}],
            "success": True,
        },
    ),
    family=FAMILY,
)
