"""The department family: eight metrics, one row per department, under ``departments/``.

Each metric is one :class:`~.metric.Metric` row holding all its pieces: what it counts (its
``source``, a pure pipeline builder over the validated query), the sums it takes of each
department's documents, its row's final values from those sums (as MongoDB expressions, and as
their Python ``twin`` for sums added up per trend bucket), and what the dashboard page shows of it.
A missing piece fails when this module is imported. The row's values are final (rounded), so
``sort`` orders what the client sees, and one aggregate answers a request: the rows, then the page
and the total. What the metrics count and the table are here; the row type in :mod:`.metric`, the
query strings in :mod:`.query`, the rows in :mod:`.body`, business time in :mod:`.timed`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ...schemas import Query
from ..common import (
    SERVICE_MILLISECONDS,
    TRANSFER_MESSAGE,
    Context,
    Pipeline,
    both,
    count_if,
    first_of,
    first_text,
    in_window,
    is_abandoned,
    livechat_rooms,
    mean_rounded_up,
    seen,
    sum_or_zero,
)
from ..hours import chat_duration, service_time, waiting
from ..row import Family
from ..stored import is_date, is_number, is_text, where
from .body import (
    AmountOfChatsSchema,
    AverageChatDurationTimeSchema,
    AverageServiceTimeSchema,
    AverageWaitingTimeSchema,
    PercentageAbandonedChatsSchema,
    TotalAbandonedChatsSchema,
    TotalServiceTimeSchema,
    TotalTransferredChatsSchema,
)
from .metric import Metric, Sums, Tally
from .query import AnsweredArgsSchema, TimedArgsSchema
from .timed import Timed

# -- What the metrics count ---------------------------------------------------------------------------


def created_rooms(query: Query, context: Context, **conditions: Any) -> Pipeline:
    """The rooms of the query's department created in the window (both bounds inclusive), answered
    or not as asked, with the other ``conditions``."""
    if query.answered is True:
        conditions["waitingResponse"] = {"$ne": True}
    elif query.answered is False:
        conditions["waitingResponse"] = True
    return livechat_rooms(query, context, in_window(query.start, query.end), **conditions)


def closed_rooms(query: Query, context: Context, **conditions: Any) -> Pipeline:
    """Rocket.Chat's window for closed rooms: created on or after ``start``, closed by ``end``."""
    return livechat_rooms(query, context, {"$gte": query.start}, closedAt={"$lte": query.end}, **conditions)


def served_rooms(query: Query, context: Context) -> Pipeline:
    """Served rooms (a ``servedBy._id``) created in the window with a last message (a date)."""
    return created_rooms(
        query, context, **where(is_date("$responseBy.lastMessageTs"), is_text("$servedBy._id"))
    )


def rooms_with_service_time(query: Query, context: Context) -> Pipeline:
    """Closed rooms with a service time (a number)."""
    return closed_rooms(query, context, **where(is_number("$metrics.serviceTimeDuration")))


def answered_rooms(query: Query, context: Context) -> Pipeline:
    """Answered rooms created in the window."""
    return created_rooms(query, context, waitingResponse={"$ne": True})


def abandoned_rooms(query: Query, context: Context) -> Pipeline:
    """Closed rooms whose visitor stayed silent ``T`` or more after the agent's last message."""
    return closed_rooms(query, context, **where(is_abandoned(context)))


def transfers(query: Query, context: Context) -> Pipeline:
    """Transfer events in the window, each with the department its room has now (null for a
    missing room or one without a department).

    The messages are grouped by room first, so each room is looked up once however often it moved.
    """
    pipeline: Pipeline = [
        {"$match": {"t": TRANSFER_MESSAGE, "ts": in_window(query.start, query.end)}},
        {"$group": {"_id": "$rid", "ts": {"$push": "$ts"}}},
        {
            "$lookup": {
                "from": context.names["room"],
                "localField": "_id",
                "foreignField": "_id",
                "as": "room",
            }
        },
        # The room's department before the events are unwound: each event carries an id, not a room.
        {
            "$project": {
                "_id": 0,
                "departmentId": first_text("$room", "departmentId"),
                "ancestors": first_of("$room", "departmentAncestors"),
                "ts": 1,
            }
        },
        {"$unwind": "$ts"},
    ]
    # A transfer counts when the caller may see its room, in the department asked for.
    condition = seen(context.scope, query.department_id, ancestors="ancestors")
    if query.department_id is not None:
        condition = both(condition, {"departmentId": query.department_id})
    if condition:
        pipeline.append({"$match": condition})
    return pipeline


def tally(**sums: str) -> Tally:
    """A metric's sums from a room table slot's: each named sum is the slot's sum named by its
    value (the first counts the metric's documents)."""
    return lambda slot, query: {name: slot.get(source, 0) for name, source in sums.items()}


def chats_tally(slot: Mapping[str, float], query: Any) -> dict[str, float]:
    """``amount-of-chats``' sum from a slot's: its rooms, those answered, or the others."""
    rooms, answered = slot.get("rooms", 0), slot.get("answered", 0)
    return {"rooms": rooms if query.answered is None else answered if query.answered else rooms - answered}


def counted(name: str) -> Sums:
    """The sums of a metric that counts its documents, into ``name``."""
    return lambda context: {name: {"$sum": 1}}


def abandoned_of_rooms(context: Context) -> dict[str, Any]:
    """Rooms, and those abandoned."""
    return {"rooms": {"$sum": 1}, "abandoned": count_if(is_abandoned(context))}


def mean_seconds(field: str, path: str) -> dict[str, Any]:
    """A metric's ``sums``, ``values`` and ``twin`` for ``field``, the mean of the seconds stored at
    ``path`` over its rooms, rounded up (a room without them adds 0 but counts)."""
    return {
        "sums": lambda context: {"rooms": {"$sum": 1}, "seconds": sum_or_zero(path)},
        "values": {field: mean_rounded_up("$seconds", "$rooms")},
        "twin": lambda sums: {field: _ceil(sums.get("seconds", 0), sums.get("rooms", 0))},
    }


def _ceil(total: float, divisor: float) -> int:
    """``$ceil`` of ``$divide``: one division of doubles, as MongoDB's, rounded up; 0 for no rooms."""
    return math.ceil(total / divisor) if divisor else 0


def _share(part: float, whole: float) -> int:
    """``100 * part / whole`` rounded down, multiplied first (29 of 100 is 29, not 28.999...); 0 of
    nothing."""
    return math.floor(part * 100 / whole) if whole else 0


# -- The table ------------------------------------------------------------------------------------

FAMILY = Family(
    name="departments",
    description="Livechat metrics, one row per department; rooms without one in the `_id: null` row.",
    endpoints=(
        Metric(
            path="departments/amount-of-chats",
            summary="Rooms created in the window, answered or not as asked.",
            args=AnsweredArgsSchema,
            row_schema=AmountOfChatsSchema,
            source=created_rooms,
            sums=counted("rooms"),
            values={"rooms": 1},
            twin=lambda sums: {"rooms": int(sums.get("rooms", 0))},
            tally=chats_tally,
            title="Chats",
            shown="rooms",
        ),
        Metric(
            path="departments/total-transferred-chats",
            summary="Transfer events in the window, credited to the department each room has now.",
            collection="message",
            row_schema=TotalTransferredChatsSchema,
            source=transfers,
            sums=counted("numberOfTransferredRooms"),
            values={"numberOfTransferredRooms": 1},
            twin=lambda sums: {"numberOfTransferredRooms": int(sums.get("numberOfTransferredRooms", 0))},
            title="Transferred chats",
            shown="numberOfTransferredRooms",
        ),
        Metric(
            path="departments/average-service-time",
            summary="Mean time from assignment to the agent's last message, over served rooms created in "
            "the window; a room without `servedBy.ts` adds 0 but counts.",
            args=TimedArgsSchema,
            row_schema=AverageServiceTimeSchema,
            source=served_rooms,
            timed=Timed(service_time, "rooms", "milliseconds", unit=1),
            sums=lambda context: {"rooms": {"$sum": 1}, "milliseconds": {"$sum": SERVICE_MILLISECONDS}},
            values={"averageServiceTimeInSeconds": mean_rounded_up("$milliseconds", "$rooms", 1000)},
            twin=lambda sums: {
                "averageServiceTimeInSeconds": _ceil(sums.get("milliseconds", 0), sums.get("rooms", 0) * 1000)
            },
            tally=tally(rooms="served", milliseconds="serviceMilliseconds"),
            title="Average service time",
            shown="averageServiceTimeInSeconds",
            unit="seconds",
        ),
        Metric(
            path="departments/total-service-time",
            summary="Closed, served rooms: how many, and their service time added up.",
            args=TimedArgsSchema,
            row_schema=TotalServiceTimeSchema,
            source=rooms_with_service_time,
            timed=Timed(service_time, "chats", "seconds"),
            sums=lambda context: {
                "chats": {"$sum": 1},
                "seconds": sum_or_zero("$metrics.serviceTimeDuration"),
            },
            values={"chats": 1, "serviceTimeDuration": {"$ceil": "$seconds"}},
            twin=lambda sums: {
                "chats": int(sums.get("chats", 0)),
                "serviceTimeDuration": math.ceil(sums.get("seconds", 0)),
            },
            tally=tally(chats="timedChats", seconds="serviceSeconds"),
            title="Total service time",
            shown="serviceTimeDuration",
            unit="seconds",
            also=("chats", "Chats served"),
        ),
        Metric(
            path="departments/average-chat-duration-time",
            summary="Mean duration of the closed rooms (a missing duration adds 0 but counts).",
            args=TimedArgsSchema,
            row_schema=AverageChatDurationTimeSchema,
            source=closed_rooms,
            timed=Timed(chat_duration, "rooms", "seconds"),
            **mean_seconds("averageChatDurationTimeInSeconds", "$metrics.chatDuration"),
            tally=tally(rooms="closedRooms", seconds="chatSeconds"),
            title="Average chat duration",
            shown="averageChatDurationTimeInSeconds",
            unit="seconds",
        ),
        Metric(
            path="departments/average-waiting-time",
            summary="Mean time to the agent's first reply, over answered rooms created in the window.",
            args=TimedArgsSchema,
            row_schema=AverageWaitingTimeSchema,
            source=answered_rooms,
            timed=Timed(waiting, "rooms", "seconds"),
            **mean_seconds("averageWaitingTimeInSeconds", "$metrics.response.ft"),
            tally=tally(rooms="answered", seconds="waitingSeconds"),
            title="Average waiting time",
            shown="averageWaitingTimeInSeconds",
            unit="seconds",
        ),
        Metric(
            path="departments/total-abandoned-chats",
            summary="Closed rooms whose visitor stayed silent for at least `T` after the agent's last "
            "message.",
            reads_inactivity_timeout=True,
            row_schema=TotalAbandonedChatsSchema,
            source=abandoned_rooms,
            sums=counted("abandonedRooms"),
            values={"abandonedRooms": 1},
            twin=lambda sums: {"abandonedRooms": int(sums.get("abandonedRooms", 0))},
            tally=tally(abandonedRooms="closedAbandoned"),
            title="Abandoned chats",
            shown="abandonedRooms",
        ),
        Metric(
            path="departments/percentage-abandoned-chats",
            summary="Share of the rooms created in the window (open or closed) that were abandoned, "
            "rounded down.",
            reads_inactivity_timeout=True,
            row_schema=PercentageAbandonedChatsSchema,
            source=created_rooms,
            sums=abandoned_of_rooms,
            values={
                "percentageOfAbandonedChats": {
                    "$floor": {"$divide": [{"$multiply": ["$abandoned", 100]}, "$rooms"]}
                }
            },
            twin=lambda sums: {
                "percentageOfAbandonedChats": _share(sums.get("abandoned", 0), sums.get("rooms", 0))
            },
            tally=tally(rooms="rooms", abandoned="abandoned"),
            title="Abandoned chats (%)",
            shown="percentageOfAbandonedChats",
            unit="percent",
        ),
    ),
)

#: The family's metrics, by path.
METRICS: dict[str, Metric] = {row.path: row for row in FAMILY.endpoints if isinstance(row, Metric)}
