"""The real-time monitoring family: the totalizers and charts of Rocket.Chat's "Real-time monitoring"
page, under ``dashboards/``.

Each endpoint answers from as few aggregates as its numbers allow: the counts over one set of rooms
come from one ``$group`` (or one ``$facet`` when they group the rooms differently), and only numbers
read from another collection (agent activity, users, department names) cost another round trip.
Builders are pure: ``(query, context) -> pipeline``; the ``compute`` functions run them and shape
the body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from marshmallow import Schema, fields, post_dump

from ..repository import Repository
from ..schemas import ArgsSchema, DashboardArgsSchema, Query, department_filter, number_or_text, succeeded
from ..shape import Flat, Keyed, Listed
from .common import (
    CLOSED,
    ONHOLD,
    OPEN,
    QUEUED,
    SERVICE_MILLISECONDS,
    STATUS,
    Context,
    Pipeline,
    busiest,
    count_if,
    day_number,
    department_keys,
    hms,
    hour_range,
    in_window,
    is_not_true,
    is_set,
    is_true,
    livechat_rooms,
    local_hour,
    sum_if,
    sum_or_zero,
    total_human_messages,
)
from .row import Endpoint, Family

AGENT_ROLE = "livechat-agent"


# Query schemas


class AgentsStatusArgsSchema(ArgsSchema):
    """Only a department: the agents' status is now, not over a window."""

    department_id = department_filter("agents")


# Schemas of the bodies


class TotalizerSchema(Schema):
    """One number of a totalizer board, by its (translatable) title."""

    title = fields.String(metadata={"description": "Rocket.Chat's i18n key of the number."})
    value = number_or_text(
        'An integer for counts; a string for durations (`HH:MM:SS`), shares (`"N%"`) and hours '
        '(`"3PM - 4PM"`).'
    )


class TotalizersSchema(Schema):
    """The numbers of a totalizer board, in Rocket.Chat's order."""

    CSV = Listed("totalizers")

    totalizers = fields.List(
        fields.Nested(TotalizerSchema), metadata={"description": "The totalizers, in the reference's order."}
    )
    success = succeeded()


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
    longest = fields.Float(metadata={"description": "The maximum, in seconds."})


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


def rooms(query: Query, **conditions: Any) -> Pipeline:
    """The livechat rooms of the query's department created in the window."""
    return livechat_rooms(query.department_id, in_window(query.start, query.end), **conditions)


def by_status() -> Pipeline:
    """One document per status: ``{_id: status, n}``."""
    return [{"$group": {"_id": STATUS, "n": {"$sum": 1}}}]


def statuses(documents: list[dict[str, Any]]) -> dict[str, int]:
    """The four counts from :func:`by_status`'s documents, every status present."""
    counted = {OPEN: 0, CLOSED: 0, QUEUED: 0, ONHOLD: 0}
    counted.update({document["_id"]: int(document["n"]) for document in documents})
    return counted


def conversation_totalizers(query: Query, context: Context) -> Pipeline:
    """The rooms by status, their human messages and their distinct visitors, in one ``$facet``."""
    return [
        *rooms(query),
        {
            "$facet": {
                "statuses": by_status(),
                "messages": total_human_messages(context),
                "visitors": [
                    {"$match": {"v._id": {"$ne": None}}},
                    {"$group": {"_id": "$v._id"}},
                    {"$count": "n"},
                ],
            }
        },
    ]


def productivity_totalizers(query: Query, context: Context) -> Pipeline:
    """Sums and counts of response, first response and reaction times over the rooms that have them,
    and the waiting time of the answered rooms."""
    answered = is_not_true("$waitingResponse")
    return [
        *rooms(query),
        {
            "$group": {
                "_id": None,
                **_mean_of("response", "$metrics.response.avg"),
                **_mean_of("firstResponse", "$metrics.response.ft"),
                **_mean_of("reaction", "$metrics.reaction.ft"),
                "waitingRooms": count_if(answered),
                "waitingSeconds": sum_if(answered, "$metrics.response.ft"),
            }
        },
    ]


def _mean_of(name: str, path: str) -> dict[str, Any]:
    return {f"{name}Rooms": count_if(is_set(path)), f"{name}Seconds": sum_or_zero(path)}


def chats_totalizers(query: Query, context: Context) -> Pipeline:
    """Rooms created since ``start``: the closed ones (by ``end``) abandoned and their duration, and
    of those created by ``end`` how many were abandoned, in one ``$group``."""
    closed_by_end = {"$and": [is_set("$closedAt"), {"$lte": ["$closedAt", query.end]}]}
    created_by_end = {"$lte": ["$ts", query.end]}
    abandoned = {
        "$and": [
            is_set("$metrics.visitorInactivity"),
            {"$gte": ["$metrics.visitorInactivity", context.inactivity_timeout]},
        ]
    }
    return [
        *livechat_rooms(query.department_id, {"$gte": query.start}),
        {
            "$group": {
                "_id": None,
                "abandoned": count_if({"$and": [closed_by_end, abandoned]}),
                "rooms": count_if(created_by_end),
                "roomsAbandoned": count_if({"$and": [created_by_end, abandoned]}),
                "closed": count_if(closed_by_end),
                "durationSeconds": sum_if(closed_by_end, "$metrics.chatDuration"),
            }
        },
    ]


def agents_productivity_rooms(query: Query, context: Context) -> Pipeline:
    """The rooms per hour of day in the reporting timezone, and the service time of the served
    rooms, in one ``$facet``."""
    return [
        *rooms(query),
        {
            "$facet": {
                "hours": [{"$group": {"_id": local_hour(query.timezone), "n": {"$sum": 1}}}],
                "service": [
                    {
                        "$match": {
                            "responseBy.lastMessageTs": {"$exists": True},
                            "servedBy._id": {"$exists": True},
                        }
                    },
                    {
                        "$group": {
                            "_id": None,
                            "rooms": {"$sum": 1},
                            "milliseconds": {"$sum": SERVICE_MILLISECONDS},
                        }
                    },
                ],
            }
        },
    ]


def available_time(query: Query, context: Context) -> Pipeline:
    """The agents' available time on every day of the window (agent activity documents), of the
    department's agents when filtered."""
    days = {
        "$gte": day_number(query.start.astimezone(query.timezone).date()),
        "$lte": day_number(query.end.astimezone(query.timezone).date()),
    }
    pipeline: Pipeline = [{"$match": {"date": days}}]
    if query.department_id is not None:
        pipeline += [
            {
                "$lookup": {
                    "from": context.names["department_agents"],
                    "localField": "agentId",
                    "foreignField": "agentId",
                    "as": "memberships",
                }
            },
            {"$match": {"memberships.departmentId": query.department_id}},
        ]
    return [
        *pipeline,
        {"$group": {"_id": None, "days": {"$sum": 1}, "seconds": sum_or_zero("$availableTime")}},
    ]


def chats(query: Query, context: Context) -> Pipeline:
    """The rooms by status."""
    return [*rooms(query), *by_status()]


def chats_per_agent(query: Query, context: Context) -> Pipeline:
    """The served rooms by agent username, each agent's counts by status."""
    return [
        *rooms(query, **{"servedBy.username": {"$exists": True}}),
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
    """The rooms with a department by department id: not closed, and closed."""
    return [
        *rooms(query, departmentId={"$ne": None}),
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
    if query.department_id is None:
        pipeline: Pipeline = [{"$match": {"roles": AGENT_ROLE}}]
    else:
        prefix = "$user."
        pipeline = [
            {"$match": {"departmentId": query.department_id}},
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
        *rooms(query),
        {
            "$group": {
                "_id": None,
                **_mean_of("response", "$metrics.response.avg"),
                "responseLongest": {"$max": "$metrics.response.ft"},
                **_mean_of("reaction", "$metrics.reaction.ft"),
                "reactionLongest": {"$max": "$metrics.reaction.ft"},
                **_mean_of("chatDuration", "$metrics.chatDuration"),
                "chatDurationLongest": {"$max": "$metrics.chatDuration"},
            }
        },
    ]


# What the rows compute


def _one(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """The single document of a ``$group`` by null or a ``$facet``; empty for no rooms."""
    return documents[0] if documents else {}


def _count(facet: list[dict[str, Any]]) -> int:
    return int(facet[0]["n"]) if facet else 0


def _mean(total: float, count: float) -> float:
    return total / count if count else 0


def _ceil_mean(total: float, count: float) -> int:
    return -int(-total // count) if count else 0


def compute_conversation_totalizers(query: Query, context: Context, repository: Repository) -> dict:
    """Totals of the rooms, their open and on-hold ones, their human messages and visitors."""
    facets = _one(repository.aggregate("room", conversation_totalizers(query, context)))
    counted = statuses(facets.get("statuses", []))
    return {
        "totalizers": [
            {"title": "Total_conversations", "value": sum(counted.values())},
            {"title": "Open_conversations", "value": counted[OPEN] + counted[QUEUED]},
            {"title": "On_Hold_conversations", "value": counted[ONHOLD]},
            {"title": "Total_messages", "value": _count(facets.get("messages", []))},
            {"title": "Total_visitors", "value": _count(facets.get("visitors", []))},
        ]
    }


def compute_productivity_totalizers(query: Query, context: Context, repository: Repository) -> dict:
    """Mean response, first response, reaction and waiting times as ``HH:MM:SS``."""
    sums = _one(repository.aggregate("room", productivity_totalizers(query, context)))

    def mean(name: str) -> str:
        return hms(_mean(sums.get(f"{name}Seconds", 0), sums.get(f"{name}Rooms", 0)))

    waiting = _ceil_mean(sums.get("waitingSeconds", 0), sums.get("waitingRooms", 0))
    return {
        "totalizers": [
            {"title": "Avg_response_time", "value": mean("response")},
            {"title": "Avg_first_response_time", "value": mean("firstResponse")},
            {"title": "Avg_reaction_time", "value": mean("reaction")},
            {"title": "Avg_of_waiting_time", "value": hms(waiting)},
        ]
    }


def compute_chats_totalizers(query: Query, context: Context, repository: Repository) -> dict:
    """Abandoned rooms, their share, and the mean chat duration, over every department together."""
    sums = _one(repository.aggregate("room", chats_totalizers(query, context)))
    rooms_ = sums.get("rooms", 0)
    share = 100 * sums.get("roomsAbandoned", 0) // rooms_ if rooms_ else 0
    duration = _ceil_mean(sums.get("durationSeconds", 0), sums.get("closed", 0))
    return {
        "totalizers": [
            {"title": "Total_abandoned_chats", "value": int(sums.get("abandoned", 0))},
            {"title": "Avg_of_abandoned_chats", "value": f"{share}%"},
            {"title": "Avg_of_chat_duration_time", "value": hms(duration)},
        ]
    }


def compute_agents_productivity_totalizers(query: Query, context: Context, repository: Repository) -> dict:
    """The busiest hour, the mean available time per agent and day, and the mean service time."""
    facets = _one(repository.aggregate("room", agents_productivity_rooms(query, context)))
    hours = {int(document["_id"]): int(document["n"]) for document in facets.get("hours", [])}
    service = _one(facets.get("service", []))
    activity = _one(repository.aggregate("agent_activity", available_time(query, context)))
    return {
        "totalizers": [
            {"title": "Busiest_time", "value": hour_range(busiest(hours))},
            {
                "title": "Avg_of_available_service_time",
                "value": hms(_ceil_mean(activity.get("seconds", 0), activity.get("days", 0))),
            },
            {
                "title": "Avg_of_service_time",
                "value": hms(_ceil_mean(service.get("milliseconds", 0), service.get("rooms", 0) * 1000)),
            },
        ]
    }


def compute_chats(query: Query, context: Context, repository: Repository) -> dict:
    """The four statuses."""
    counted = statuses(repository.aggregate("room", chats(query, context)))
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
    keys = department_keys({document["_id"]: names.get(document["_id"]) for document in documents})
    body = {
        keys[document["_id"]]: {OPEN: int(document[OPEN]), CLOSED: int(document[CLOSED])}
        for document in documents
    }
    return dict(sorted(body.items()))


def compute_agents_status(query: Query, context: Context, repository: Repository) -> dict:
    """The four agent counts."""
    collection = "users" if query.department_id is None else "department_agents"
    counts = _one(repository.aggregate(collection, agents_status(query, context)))
    return {key: int(counts.get(key, 0)) for key in ("offline", "away", "busy", "available")}


def compute_timings(query: Query, context: Context, repository: Repository) -> dict:
    """``{response, reaction, chatDuration}``, each ``{avg, longest}`` in seconds."""
    sums = _one(repository.aggregate("room", timings(query, context)))

    def timing(name: str) -> dict[str, float]:
        mean = _mean(sums.get(f"{name}Seconds", 0), sums.get(f"{name}Rooms", 0))
        longest = sums.get(f"{name}Longest")
        return {"avg": int(mean), "longest": longest if isinstance(longest, (int, float)) else 0}

    return {
        "response": timing("response"),
        "reaction": timing("reaction"),
        "chatDuration": timing("chatDuration"),
    }


def _totalizers(*pairs: tuple[str, Any]) -> dict[str, Any]:
    return {"totalizers": [{"title": title, "value": value} for title, value in pairs], "success": True}


_STATUS_NOTE = (
    " A room is `closed` when not open; else `onhold` when on hold; else `queued` when nobody serves "
    "it; else `open`."
)

FAMILY = Family(
    name="dashboards",
    description="The real-time monitoring page: totalizers and charts over the rooms created in the "
    "window, every department together or one.",
    endpoints=(
        Endpoint(
            path="dashboards/conversation-totalizers",
            args=DashboardArgsSchema,
            response=TotalizersSchema(),
            compute=compute_conversation_totalizers,
            summary="Rooms created in the window, the open and on-hold ones, their messages written by "
            "people and their distinct visitors.",
            description=" `Open_conversations` counts the open and queued rooms." + _STATUS_NOTE,
            example=_totalizers(
                ("Total_conversations", 120),
                ("Open_conversations", 7),
                ("On_Hold_conversations", 2),
                ("Total_messages", 845),
                ("Total_visitors", 101),
            ),
        ),
        Endpoint(
            path="dashboards/productivity-totalizers",
            args=DashboardArgsSchema,
            response=TotalizersSchema(),
            compute=compute_productivity_totalizers,
            summary="Mean response, first response, reaction and waiting times (`HH:MM:SS`) of the rooms "
            "created in the window.",
            description=" Each mean is over the rooms that have the time; the waiting time is "
            "`average-waiting-time` over every department together, weighted by rooms.",
            example=_totalizers(
                ("Avg_response_time", "00:01:12"),
                ("Avg_first_response_time", "00:00:41"),
                ("Avg_reaction_time", "00:00:09"),
                ("Avg_of_waiting_time", "00:00:38"),
            ),
        ),
        Endpoint(
            path="dashboards/chats-totalizers",
            args=DashboardArgsSchema,
            response=TotalizersSchema(),
            compute=compute_chats_totalizers,
            summary="Abandoned rooms, their share (whole percent, rounded down) and the mean chat "
            "duration, over every department together.",
            description=" As the department endpoints `total-abandoned-chats`, `percentage-abandoned-chats` "
            "and `average-chat-duration-time` define them, weighted by rooms.",
            reads_inactivity_timeout=True,
            example=_totalizers(
                ("Total_abandoned_chats", 12),
                ("Avg_of_abandoned_chats", "10%"),
                ("Avg_of_chat_duration_time", "00:21:05"),
            ),
        ),
        Endpoint(
            path="dashboards/agents-productivity-totalizers",
            args=DashboardArgsSchema,
            response=TotalizersSchema(),
            compute=compute_agents_productivity_totalizers,
            summary="The busiest hour of the window in the reporting timezone, the agents' mean available "
            "time per day and the mean service time.",
            description=" The available time is the mean over the agent activity documents of every day "
            "of the window; the service time is `average-service-time` over every department together, "
            "weighted by rooms.",
            example=_totalizers(
                ("Busiest_time", "3PM - 4PM"),
                ("Avg_of_available_service_time", "06:12:40"),
                ("Avg_of_service_time", "00:08:31"),
            ),
        ),
        Endpoint(
            path="dashboards/charts/chats",
            args=DashboardArgsSchema,
            response=ChatsSchema(),
            compute=compute_chats,
            summary="The rooms created in the window by status.",
            description=_STATUS_NOTE,
            example={"open": 5, "closed": 110, "queued": 2, "onhold": 3, "success": True},
        ),
        Endpoint(
            path="dashboards/charts/chats-per-agent",
            args=DashboardArgsSchema,
            response=ChatsPerAgentSchema(),
            compute=compute_chats_per_agent,
            summary="The served rooms created in the window by agent username and status.",
            description=_STATUS_NOTE,
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
    ),
)
