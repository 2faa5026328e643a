"""The totalizers of Rocket.Chat's "Real-time monitoring" page: a few numbers each, titled.

Each row answers from as few aggregates as its numbers allow: the counts over one set of rooms come
from one ``$group`` (or one ``$facet`` when they group the rooms differently), and only numbers read
from another collection (agent activity) cost another round trip. Builders are pure:
``(query, context) -> pipeline``; the ``compute`` functions run them and shape the body.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from ...repository import Repository
from ...schemas import DashboardArgsSchema, Query, number_or_text, succeeded
from ...shape import Listed
from ..common import (
    NOTHING,
    ONHOLD,
    OPEN,
    QUEUED,
    SERVICE_MILLISECONDS,
    STATUS_NOTE,
    Context,
    Pipeline,
    busiest,
    by_status,
    count_if,
    day_number,
    hms,
    hour_range,
    is_abandoned,
    is_not_true,
    livechat_rooms,
    local_moment,
    mean_or_zero,
    mean_parts,
    outside,
    quarter_hour,
    single,
    statuses,
    sum_if,
    sum_or_zero,
    total_human_messages,
    visible_agents,
    window_rooms,
)
from ..row import Endpoint
from ..slots import TALK, added, statuses_of, table_of, talked
from ..stored import is_date, is_text, number, read_once, where

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


# Builders


def conversation_totalizers(query: Query, context: Context) -> Pipeline:
    """The rooms by status, their human messages and their distinct visitors, in one ``$facet``."""
    return [
        *window_rooms(query, context),
        {
            "$facet": {
                "statuses": by_status(),
                "messages": total_human_messages(context),
                "visitors": [
                    {"$match": where(is_text("$v._id"))},
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
        *window_rooms(query, context),
        read_once(
            response=number("$metrics.response.avg"),
            firstResponse=number("$metrics.response.ft"),
            reaction=number("$metrics.reaction.ft"),
        ),
        {
            "$group": {
                "_id": None,
                **mean_parts("response", "$_response"),
                **mean_parts("firstResponse", "$_firstResponse"),
                **mean_parts("reaction", "$_reaction"),
                "waitingRooms": count_if(answered),
                "waitingSeconds": sum_if(answered, "$_firstResponse"),
            }
        },
    ]


def chats_totalizers(query: Query, context: Context) -> Pipeline:
    """Rooms created since ``start``: the closed ones (by ``end``) abandoned and their duration, and
    of those created by ``end`` how many were abandoned, in one ``$group``."""
    closed = is_date("$closedAt")
    closed_by_end = {"$cond": [closed, {"$lte": ["$closedAt", query.end]}, False]}
    created_by_end = {"$lte": ["$ts", query.end]}
    abandoned = {"$eq": ["$_abandoned", True]}
    return [
        *livechat_rooms(query, context, {"$gte": query.start}),
        read_once(abandoned=is_abandoned(context), chatDuration=number("$metrics.chatDuration")),
        {
            "$group": {
                "_id": None,
                "abandoned": count_if({"$and": [closed_by_end, abandoned]}),
                "rooms": count_if(created_by_end),
                "roomsAbandoned": count_if({"$and": [created_by_end, abandoned]}),
                "closed": count_if(closed_by_end),
                "durationSeconds": sum_if(closed_by_end, "$_chatDuration"),
            }
        },
    ]


def agents_productivity_rooms(query: Query, context: Context) -> Pipeline:
    """The rooms per UTC quarter hour, and the service time of the served rooms, in one ``$facet``.

    The quarter hours are folded into local hours in Python (:func:`local_moment`): the timezone's
    name is never handed to the database, which may not know it."""
    return [
        *window_rooms(query, context),
        {
            "$facet": {
                "hours": [{"$group": {"_id": quarter_hour(), "n": {"$sum": 1}}}],
                "service": [
                    {"$match": where(is_date("$responseBy.lastMessageTs"), is_text("$servedBy._id"))},
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
    if outside(context.scope, query.department_id):
        return [{"$match": NOTHING}]
    pipeline: Pipeline = [{"$match": {"date": days, **visible_agents(context.scope)}}]
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


# What the rows compute


#: The sums of ``productivity-totalizers``' aggregate, by the room table's sum each is.
PRODUCTIVITY = {
    **{
        f"{name}{part}": f"{name}{part}"
        for name in ("response", "firstResponse", "reaction")
        for part in ("Rooms", "Seconds")
    },
    "waitingRooms": "repliedRooms",
    "waitingSeconds": "repliedSeconds",
}
#: The sums of ``chats-totalizers``' aggregate, by the room table's sum each is.
CHATS = {
    "abandoned": "datedAbandoned",
    "rooms": "rooms",
    "roomsAbandoned": "abandoned",
    "closed": "datedRooms",
    "durationSeconds": "datedSeconds",
}


def _count(facet: list[dict[str, Any]]) -> int:
    return int(facet[0]["n"]) if facet else 0


def _ceil_mean(total: float, count: float) -> int:
    return -int(-total // count) if count else 0


def compute_conversation_totalizers(query: Query, context: Context, repository: Repository) -> dict:
    """Totals of the rooms, their open and on-hold ones, their human messages and visitors."""
    rooms, talk = table_of(query, context), table_of(query, context, TALK)
    if rooms is None or talk is None:
        facets = single(repository.aggregate("room", conversation_totalizers(query, context)))
        counted = statuses(facets.get("statuses", []))
        messages, visitors = _count(facets.get("messages", [])), _count(facets.get("visitors", []))
    else:
        counted = statuses_of(rooms, query, context)
        messages, visitors = talked(talk, query, context)
    return {
        "totalizers": [
            {"title": "Total_conversations", "value": sum(counted.values())},
            {"title": "Open_conversations", "value": counted[OPEN] + counted[QUEUED]},
            {"title": "On_Hold_conversations", "value": counted[ONHOLD]},
            {"title": "Total_messages", "value": messages},
            {"title": "Total_visitors", "value": visitors},
        ]
    }


def compute_productivity_totalizers(query: Query, context: Context, repository: Repository) -> dict:
    """Mean response, first response, reaction and waiting times as ``HH:MM:SS``."""
    table = table_of(query, context)
    if table is None:
        sums = single(repository.aggregate("room", productivity_totalizers(query, context)))
    else:
        sums = added(table, query, context, PRODUCTIVITY)

    def mean(name: str) -> str:
        return hms(mean_or_zero(sums.get(f"{name}Seconds", 0), sums.get(f"{name}Rooms", 0)))

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
    table = table_of(query, context)
    if table is None:
        sums = single(repository.aggregate("room", chats_totalizers(query, context)))
    else:
        sums = added(table, query, context, CHATS)
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
    facets = single(repository.aggregate("room", agents_productivity_rooms(query, context)))
    hours: dict[int, int] = {}
    for document in facets.get("hours", []):
        hour = local_moment(document["_id"], query.timezone).hour
        hours[hour] = hours.get(hour, 0) + int(document["n"])
    service = single(facets.get("service", []))
    activity = single(repository.aggregate("agent_activity", available_time(query, context)))
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


def _totalizers(*pairs: tuple[str, Any]) -> dict[str, Any]:
    return {"totalizers": [{"title": title, "value": value} for title, value in pairs], "success": True}


ROWS = (
    Endpoint(
        path="dashboards/conversation-totalizers",
        args=DashboardArgsSchema,
        response=TotalizersSchema(),
        compute=compute_conversation_totalizers,
        summary="Rooms created in the window, the open and on-hold ones, their messages written by "
        "people and their distinct visitors.",
        description=" `Open_conversations` counts the open and queued rooms." + STATUS_NOTE,
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
)
