"""The charts of Rocket.Chat's "Real-time monitoring" page: the rooms by status, per agent and per
department, the agents by status, and the response, reaction and duration times.

Each row answers from one aggregate (the department names cost a second round trip). Builders are
pure: ``(query, context) -> pipeline``; the ``compute`` functions run them and shape the body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from marshmallow import Schema, fields, post_dump

from ...repository import Repository
from ...schemas import Amount, ArgsSchema, DashboardArgsSchema, Query, department_filter, succeeded
from ...shape import Flat, Keyed
from ..common import (
    CLOSED,
    NOTHING,
    ONHOLD,
    OPEN,
    QUEUED,
    STATUS,
    STATUS_NOTE,
    Context,
    Pipeline,
    by_status,
    count_if,
    department_keys,
    is_not_true,
    is_true,
    mean_or_zero,
    mean_parts,
    outside,
    single,
    statuses,
    visible_agents,
    window_rooms,
)
from ..row import Endpoint
from ..slots import statuses_of, table_of
from ..stored import is_text, named, number, read_once, where

AGENT_ROLE = "livechat-agent"

# Query schemas


class AgentsStatusArgsSchema(ArgsSchema):
    """Only a department: the agents' status is now, not over a window."""

    department_id = department_filter("agents")


# Schemas of the bodies


class ChatsSchema(Schema):
    """The rooms created in the window by status; the four add up to all of them."""

    CSV = Flat()

    open = fields.Integer(metadata={"description": "Open rooms an agent serves, not on hold."})
    closed = fields.Integer(metadata={"description": "Closed rooms."})
    queued = fields.Integer(metadata={"description": "Open rooms nobody serves yet, not on hold."})
    onhold = fields.Integer(metadata={"description": "Open rooms on hold."})
    success = succeeded()


class AgentChatsSchema(Schema):
    """One agent's served rooms by status (a served room is never queued)."""

    open = fields.Integer(metadata={"description": "Open rooms, not on hold."})
    closed = fields.Integer(metadata={"description": "Closed rooms."})
    onhold = fields.Integer(metadata={"description": "Open rooms on hold."})


class DepartmentChatsSchema(Schema):
    """One department's rooms: open (on hold and queued included) and closed."""

    open = fields.Integer(metadata={"description": "Rooms not closed (served, queued or on hold)."})
    closed = fields.Integer(metadata={"description": "Closed rooms."})


class KeyedSchema(Schema):
    """A body whose keys are names (of agents, departments), each with a :attr:`value` object, and
    ``success``."""

    CSV = Keyed()

    value: ClassVar[type[Schema]]
    success = succeeded()

    @post_dump(pass_original=True)
    def _named(self, data: dict[str, Any], original: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        dump = self.value().dump
        named = {key: dump(value) for key, value in original.items() if key != "success"}
        return {**named, **data}


class ChatsPerAgentSchema(KeyedSchema):
    """The served rooms created in the window, by the username of the agent serving them."""

    value = AgentChatsSchema


class ChatsPerDepartmentSchema(KeyedSchema):
    """The rooms with a department created in the window, by department name; a name that several
    departments share is written ``"Name (id)"``."""

    value = DepartmentChatsSchema


class AgentsStatusSchema(Schema):
    """The livechat agents by status, now."""

    CSV = Flat()

    offline = fields.Integer(
        metadata={"description": "Agents offline while available for livechat, or not available."}
    )
    away = fields.Integer(metadata={"description": "Agents away, available for livechat."})
    busy = fields.Integer(metadata={"description": "Agents busy, available for livechat."})
    available = fields.Integer(metadata={"description": "Agents online, available for livechat."})
    success = succeeded()


class TimingSchema(Schema):
    """A mean and a maximum, in seconds."""

    avg = fields.Integer(metadata={"description": "The mean, in whole seconds (rounded down)."})
    longest = Amount(metadata={"description": "The maximum, in seconds, as stored."})


class TimingsSchema(Schema):
    """Response, reaction and chat duration times over the rooms created in the window that have them."""

    CSV = Keyed(TimingSchema)

    response = fields.Nested(
        TimingSchema,
        metadata={"description": "Mean of `metrics.response.avg`; longest `metrics.response.ft`."},
    )
    reaction = fields.Nested(
        TimingSchema, metadata={"description": "Mean and longest `metrics.reaction.ft`."}
    )
    chatDuration = fields.Nested(
        TimingSchema, metadata={"description": "Mean and longest `metrics.chatDuration`."}
    )
    success = succeeded()


# Builders


def chats(query: Query, context: Context) -> Pipeline:
    """The rooms by status."""
    return [*window_rooms(query, context), *by_status()]


def chats_per_agent(query: Query, context: Context) -> Pipeline:
    """The served rooms by agent username, each agent's counts by status."""
    return [
        *window_rooms(query, context, **where(is_text("$servedBy.username"))),
        {"$project": {"agent": "$servedBy.username", "status": STATUS}},
        {
            "$group": {
                "_id": "$agent",
                OPEN: count_if({"$eq": ["$status", OPEN]}),
                CLOSED: count_if({"$eq": ["$status", CLOSED]}),
                ONHOLD: count_if({"$eq": ["$status", ONHOLD]}),
            }
        },
    ]


def chats_per_department(query: Query, context: Context) -> Pipeline:
    """The rooms with a department (a string) by department id: not closed, and closed."""
    return [
        *window_rooms(query, context, **where(is_text("$departmentId"))),
        {
            "$group": {
                "_id": "$departmentId",
                OPEN: count_if(is_true("$open")),
                CLOSED: count_if(is_not_true("$open")),
            }
        },
    ]


def agents_status(query: Query, context: Context) -> Pipeline:
    """The livechat agents by status as Rocket.Chat counts them: from the users holding the role, or
    from the department's agent list joined to the users."""
    prefix = "$"
    if outside(context.scope, query.department_id):
        pipeline: Pipeline = [{"$match": NOTHING}]
    elif query.department_id is None:
        pipeline = [{"$match": {"roles": AGENT_ROLE, **visible_agents(context.scope, "_id")}}]
    else:
        prefix = "$user."
        pipeline = [
            {"$match": {"departmentId": query.department_id, **visible_agents(context.scope)}},
            {
                "$lookup": {
                    "from": context.names["users"],
                    "localField": "agentId",
                    "foreignField": "_id",
                    "as": "user",
                }
            },
            {"$unwind": "$user"},
            {"$match": {"user.roles": AGENT_ROLE}},
        ]
    status, livechat = prefix + "status", prefix + "statusLivechat"

    def available_and(value: str) -> dict[str, Any]:
        return {"$and": [{"$eq": [status, value]}, {"$eq": [livechat, "available"]}]}

    return [
        *pipeline,
        {
            "$group": {
                "_id": None,
                "offline": count_if(
                    {"$or": [available_and("offline"), {"$eq": [livechat, "not-available"]}]}
                ),
                "away": count_if(available_and("away")),
                "busy": count_if(available_and("busy")),
                "available": count_if(available_and("online")),
            }
        },
    ]


def timings(query: Query, context: Context) -> Pipeline:
    """Sums, counts and maxima of the response, reaction and duration times."""
    return [
        *window_rooms(query, context),
        read_once(
            response=number("$metrics.response.avg"),
            firstResponse=number("$metrics.response.ft"),
            reaction=number("$metrics.reaction.ft"),
            chatDuration=number("$metrics.chatDuration"),
        ),
        {
            "$group": {
                "_id": None,
                **mean_parts("response", "$_response"),
                "responseLongest": {"$max": "$_firstResponse"},
                **mean_parts("reaction", "$_reaction"),
                "reactionLongest": {"$max": "$_reaction"},
                **mean_parts("chatDuration", "$_chatDuration"),
                "chatDurationLongest": {"$max": "$_chatDuration"},
            }
        },
    ]


# What the rows compute


def compute_chats(query: Query, context: Context, repository: Repository) -> dict:
    """The four statuses."""
    table = table_of(query, context)
    if table is None:
        counted = statuses(repository.aggregate("room", chats(query, context)))
    else:
        counted = statuses_of(table, query, context)
    return {OPEN: counted[OPEN], CLOSED: counted[CLOSED], QUEUED: counted[QUEUED], ONHOLD: counted[ONHOLD]}


def compute_chats_per_agent(query: Query, context: Context, repository: Repository) -> dict:
    """``{username: {open, closed, onhold}}``, by username."""
    documents = repository.aggregate("room", chats_per_agent(query, context))
    return {
        str(document["_id"]): {key: int(document[key]) for key in (OPEN, CLOSED, ONHOLD)}
        for document in sorted(documents, key=lambda document: str(document["_id"]))
    }


def compute_chats_per_department(query: Query, context: Context, repository: Repository) -> dict:
    """``{department name: {open, closed}}``; the names are read for the departments counted only."""
    documents = repository.aggregate("room", chats_per_department(query, context))
    names = repository.department_names([document["_id"] for document in documents])
    keys = department_keys({document["_id"]: named(names.get(document["_id"])) for document in documents})
    body = {
        keys[document["_id"]]: {OPEN: int(document[OPEN]), CLOSED: int(document[CLOSED])}
        for document in documents
    }
    return dict(sorted(body.items()))


def compute_agents_status(query: Query, context: Context, repository: Repository) -> dict:
    """The four agent counts."""
    collection = "users" if query.department_id is None else "department_agents"
    counts = single(repository.aggregate(collection, agents_status(query, context)))
    return {key: int(counts.get(key, 0)) for key in ("offline", "away", "busy", "available")}


def compute_timings(query: Query, context: Context, repository: Repository) -> dict:
    """``{response, reaction, chatDuration}``, each ``{avg, longest}`` in seconds."""
    sums = single(repository.aggregate("room", timings(query, context)))

    def timing(name: str) -> dict[str, int | float]:
        mean = mean_or_zero(sums.get(f"{name}Seconds", 0), sums.get(f"{name}Rooms", 0))
        longest = sums.get(f"{name}Longest")
        return {"avg": int(mean), "longest": longest if isinstance(longest, (int, float)) else 0}

    return {
        "response": timing("response"),
        "reaction": timing("reaction"),
        "chatDuration": timing("chatDuration"),
    }


ROWS = (
    Endpoint(
        path="dashboards/charts/chats",
        args=DashboardArgsSchema,
        response=ChatsSchema(),
        compute=compute_chats,
        summary="The rooms created in the window by status.",
        description=STATUS_NOTE,
        example={"open": 5, "closed": 110, "queued": 2, "onhold": 3, "success": True},
    ),
    Endpoint(
        path="dashboards/charts/chats-per-agent",
        args=DashboardArgsSchema,
        response=ChatsPerAgentSchema(),
        compute=compute_chats_per_agent,
        summary="The served rooms created in the window by agent username and status.",
        description=STATUS_NOTE,
        example={"ana.souza": {"open": 1, "closed": 30, "onhold": 0}, "success": True},
    ),
    Endpoint(
        path="dashboards/charts/chats-per-department",
        args=DashboardArgsSchema,
        response=ChatsPerDepartmentSchema(),
        compute=compute_chats_per_department,
        summary="The rooms with a department created in the window by department name: open and closed.",
        description=" Departments that share a name are keyed `Name (id)`, never merged; a department "
        "that no longer exists is keyed by its id.",
        example={"Sales": {"open": 2, "closed": 40}, "success": True},
    ),
    Endpoint(
        path="dashboards/charts/agents-status",
        args=AgentsStatusArgsSchema,
        response=AgentsStatusSchema(),
        compute=compute_agents_status,
        summary="The users holding the `livechat-agent` role (of one department if asked) by status.",
        description=" `available`, `away` and `busy` are agents available for livechat whose status is "
        "online, away or busy; `offline` the others available for livechat but offline, and every "
        "agent not available for livechat.",
        example={"offline": 3, "away": 1, "busy": 2, "available": 4, "success": True},
    ),
    Endpoint(
        path="dashboards/charts/timings",
        args=DashboardArgsSchema,
        response=TimingsSchema(),
        compute=compute_timings,
        summary="Mean and longest response, reaction and chat duration times (seconds) of the rooms "
        "created in the window.",
        example={
            "response": {"avg": 72, "longest": 951.2},
            "reaction": {"avg": 9, "longest": 120.5},
            "chatDuration": {"avg": 1265, "longest": 7201.3},
            "success": True,
        },
    ),
)
