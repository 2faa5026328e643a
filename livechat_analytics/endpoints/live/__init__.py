"""The live family, under ``live/``: the state of the queue and of the agents at the moment of the
request, for a supervisor on shift. No window: every open room and every agent counts, as the
caller may see them.

What each state is computed by is a plain function of ``(department_id, context, repository)``
that returns the body without ``success``: :func:`.queue.queue_state` and
:func:`.agent.agents_state`, which the endpoints here call and so may anything else that reports
the state (an exporter, a stream). Their answers are never kept by the answer cache: a state of the
moment kept for seconds would be a state of the past.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ...repository import Repository
from ..common import STATUS_NOTE, Context
from ..row import Endpoint, Family
from .agent import agents_state
from .body import AgentsSchema, QueueSchema
from .query import AgentsArgsSchema, QueueArgsSchema, QueueQuery
from .queue import queue_state

__all__ = ["FAMILY", "agents_state", "queue_state"]


def compute_queue(query: QueueQuery, context: Context, repository: Repository) -> dict[str, Any]:
    """The queue of the query's department (every one for none), named when asked for."""
    if query.names:
        context = replace(context, department_names=True)
    return queue_state(query.department_id, context, repository)


def compute_agents(query: Any, context: Context, repository: Repository) -> dict[str, Any]:
    """The agents of the query's department (every one for none)."""
    return agents_state(query.department_id, context, repository)


_NOW = " The state at the request, never kept by the answer cache."

FAMILY = Family(
    name="live",
    description="Now: the queue and the agents at the moment of the request.",
    endpoints=(
        Endpoint(
            path="live/queue",
            args=QueueArgsSchema,
            response=QueueSchema(),
            compute=compute_queue,
            kept=False,
            summary="The open livechat rooms now, per department: queued, the oldest wait, open and on hold.",
            description=STATUS_NOTE + _NOW,
            example={
                "departments": [
                    {"_id": None, "queued": 1, "oldestWaitSeconds": 35, "open": 2, "onHold": 0},
                    {
                        "_id": "GgYvrkAF63aeQmsh4",
                        "queued": 3,
                        "oldestWaitSeconds": 100,
                        "open": 7,
                        "onHold": 1,
                    },
                ],
                "total": {"queued": 4, "oldestWaitSeconds": 100, "open": 9, "onHold": 1},
                "at": "2024-03-01T12:00:00.000Z",
                "success": True,
            },
        ),
        Endpoint(
            path="live/agents",
            args=AgentsArgsSchema,
            response=AgentsSchema(),
            compute=compute_agents,
            kept=False,
            summary="The users holding the `livechat-agent` role now (of one department if asked): status, "
            "open and on-hold chats, maximum and occupancy.",
            description=_NOW,
            example={
                "agents": [
                    {
                        "_id": "agent1",
                        "username": "ana.souza",
                        "name": "Ana Souza",
                        "status": "online",
                        "statusLivechat": "available",
                        "openChats": 2,
                        "onHoldChats": 1,
                        "maxChats": 4,
                        "occupancy": 0.5,
                    }
                ],
                "at": "2024-03-01T12:00:00.000Z",
                "success": True,
            },
        ),
    ),
)
