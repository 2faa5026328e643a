"""The totalizers and the agent table of Rocket.Chat's Omnichannel "Analytics" page: ``overview``
and ``agent-overview``, both chosen by ``name``, over whole days ``from``-``to``.

One aggregate answers each request. ``overview`` answers a bare JSON array, as Rocket.Chat does.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ...repository import Repository
from ...schemas import (
    ArgsSchema,
    Day,
    DepartmentId,
    Query,
    number_or_text,
    succeeded,
)
from ...shape import Listed
from ..common import (
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
    local_moment,
    mean_or_zero,
    mean_parts,
    quarter_hour,
    statuses,
    total_human_messages,
    window_rooms,
)
from ..dashboards.totalizers import TotalizerSchema
from ..row import Endpoint
from ..stored import is_text, number, read_once, where

CONVERSATIONS, PRODUCTIVITY = "Conversations", "Productivity"


@dataclass(frozen=True)
class OverviewQuery(Query):
    """The board or the table asked for by ``name``."""

    name: str | None = None


class OverviewArgsSchema(ArgsSchema):
    """``name`` (one of :attr:`names`), whole days ``from`` and ``to`` in the reporting timezone,
    and optionally a department."""

    query_type = OverviewQuery

    #: The values ``name`` takes; a subclass names its own.
    names: ClassVar[tuple[str, ...]] = ()

    name = fields.String(required=True, error_messages={"required": "Is required."})
    start = Day(
        data_key="from",
        required=True,
        metadata={
            "description": "First day counted (inclusive), `YYYY-MM-DD`, from its start in the "
            "reporting timezone.",
            "examples": ["2024-03-01"],
        },
    )
    end = Day(
        data_key="to",
        required=True,
        end_of_day=True,
        metadata={
            "description": "Last day counted (inclusive), `YYYY-MM-DD`, to its end in the reporting "
            'timezone. It must not be earlier than "from".',
            "examples": ["2024-03-31"],
        },
    )
    department_id = DepartmentId(
        data_key="departmentId",
        load_default=None,
        metadata={
            "description": "Only this department's rooms. An empty value or `undefined` means every "
            "department."
        },
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        allowed = ", ".join(self.names)
        self.fields["name"].validators = [validate.OneOf(self.names, error=f"Must be one of: {allowed}.")]
        self.fields["name"].metadata = {
            "description": f"What to answer: one of {allowed}.",
            "enum": list(self.names),
        }

    @validates_schema
    def _from_not_after_to(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "start" in data and "end" in data and data["start"] > data["end"]:
            raise ValidationError('Must not be later than "to".', field_name="from")


class BoardArgsSchema(OverviewArgsSchema):
    names: ClassVar[tuple[str, ...]] = (CONVERSATIONS, PRODUCTIVITY)


TOTAL_CONVERSATIONS = "Total_conversations"


AVG_CHAT_DURATION = "Avg_chat_duration"


TOTAL_MESSAGES = "Total_messages"


AVG_FIRST_RESPONSE_TIME = "Avg_first_response_time"


BEST_FIRST_RESPONSE_TIME = "Best_first_response_time"


AVG_RESPONSE_TIME = "Avg_response_time"


AVG_REACTION_TIME = "Avg_reaction_time"


class AgentOverviewArgsSchema(OverviewArgsSchema):
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
    value = number_or_text(
        'A share (`"28.57%"`, two decimals), a duration (`HH:MM:SS`) or a number of messages.'
    )


class AgentOverviewSchema(Schema):
    """A two-column table, agent and value, best first."""

    CSV = Listed("data")

    head = fields.List(fields.Nested(HeadSchema), metadata={"description": "The two column titles."})
    data = fields.List(fields.Nested(AgentValueSchema), metadata={"description": "One row per agent."})
    success = succeeded()


class OverviewSchema(TotalizerSchema):
    """The numbers of the board, in Rocket.Chat's order (a bare array)."""

    CSV = Listed()


def days_of(query: OverviewQuery, context: Context) -> int:
    """How many calendar days the query covers in the reporting timezone."""
    first = query.start.astimezone(query.timezone).date()
    last = query.end.astimezone(query.timezone).date()
    return (last - first).days + 1


def conversations(query: OverviewQuery, context: Context) -> Pipeline:
    """The rooms by status, by UTC quarter hour, and their human messages, in one ``$facet``.

    The quarter hours are folded into local days and hours in Python (:func:`local_moment`): the
    timezone's name is never handed to the database, which may not know it."""
    return [
        *window_rooms(query, context),
        {
            "$facet": {
                "statuses": [{"$group": {"_id": STATUS, "n": {"$sum": 1}}}],
                "hours": [{"$group": {"_id": quarter_hour(), "n": {"$sum": 1}}}],
                "messages": total_human_messages(context),
            }
        },
    ]


def productivity(query: OverviewQuery, context: Context) -> Pipeline:
    """Sums and counts of the response, first response and reaction times of the rooms having them."""
    sums: dict[str, Any] = {"_id": None}
    for name, _ in _PRODUCTIVITY:
        sums.update(mean_parts(name, f"$_{name}"))
    read = read_once(**{name: number(path) for name, path in _PRODUCTIVITY})
    return [*window_rooms(query, context), read, {"$group": sums}]


_PRODUCTIVITY = (
    ("Avg_response_time", "$metrics.response.avg"),
    ("Avg_first_response_time", "$metrics.response.ft"),
    ("Avg_reaction_time", "$metrics.reaction.ft"),
)


def compute_overview(query: OverviewQuery, context: Context, repository: Repository) -> list[dict[str, Any]]:
    """The board ``name`` asks for."""
    if query.name == PRODUCTIVITY:
        found = repository.aggregate("room", productivity(query, context))
        sums = found[0] if found else {}
        return [
            {
                "title": title,
                "value": hms(mean_or_zero(sums.get(f"{title}Seconds", 0), sums.get(f"{title}Rooms", 0))),
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
        moment, n = local_moment(document["_id"], query.timezone), int(document["n"])
        per_day[moment.date()] = per_day.get(moment.date(), 0) + n
        per_hour[moment.hour] = per_hour.get(moment.hour, 0) + n
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


def agent_overview(query: OverviewQuery, context: Context) -> Pipeline:
    """One document per agent, ``{_id: username, value, rooms}``, for the metric ``query.name``."""
    name = query.name or TOTAL_CONVERSATIONS  # the schema requires it
    served = where(is_text("$servedBy.username"))
    if name == TOTAL_CONVERSATIONS:
        return [
            *window_rooms(query, context, **served),
            {"$group": {"_id": "$servedBy.username", "value": {"$sum": 1}, "rooms": {"$sum": 1}}},
        ]
    if name == TOTAL_MESSAGES:
        return [
            *window_rooms(query, context, **served),
            *human_messages(context, agents_only=True, keep=("servedBy",)),
            {"$group": {"_id": "$servedBy.username", "value": {"$sum": "$n"}, "rooms": {"$sum": 1}}},
        ]
    agent, path = _TIMES[name]
    accumulate = {"$min": "$_value"} if name == BEST_FIRST_RESPONSE_TIME else {"$sum": "$_value"}
    return [
        *window_rooms(query, context, **where(is_text(f"${agent}.username"))),
        read_once(value=number("$" + path)),
        {"$match": {"_value": {"$ne": None}}},
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


def compute_agent_overview(query: OverviewQuery, context: Context, repository: Repository) -> dict[str, Any]:
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


ROWS = (
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
        example=[
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
)
