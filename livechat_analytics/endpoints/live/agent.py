"""The agents now: each one's status, open and on-hold chats, maximum and occupancy.

The agents are the users holding the ``livechat-agent`` role (of one department: its agents in the
department agents that hold it), those a restricted caller may see; one aggregate counts their
open rooms by agent, and the ``Livechat_maximum_chats_per_agent`` setting is one ``_id`` read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...repository import Repository
from ..common import (
    NOTHING,
    ONHOLD,
    OPEN,
    STATUS,
    Context,
    Pipeline,
    both,
    count_if,
    outside,
    visible,
    visible_agents,
)
from ..dashboards.charts import AGENT_ROLE
from ..stored import named
from . import clock

#: The Rocket.Chat setting of the most chats an agent takes at once, for agents without their own.
MAX_CHATS_SETTING = "Livechat_maximum_chats_per_agent"
#: The statuses an agent row shows: ``status`` as stored when it is one of the first, else
#: ``offline``; ``statusLivechat`` ``available`` when stored so, else ``not-available``.
STATUSES = ("online", "away", "busy", "offline")
LIVECHAT_STATUSES = ("available", "not-available")
_FIELDS = {
    "username": 1,
    "name": 1,
    "status": 1,
    "statusLivechat": 1,
    "livechat.maxNumberSimultaneousChat": 1,
}


def agent_users(department_id: str | None, context: Context, repository: Repository) -> list[dict[str, Any]]:
    """The users holding the agent role that the caller may see: of the department's agents when
    one is named (none when the caller may not see it)."""
    if outside(context.scope, department_id):
        condition: dict[str, Any] = NOTHING
    elif department_id is None:
        condition = {"roles": AGENT_ROLE}
    else:
        found = repository.collection("department_agents").find(
            {"departmentId": department_id}, {"agentId": 1}
        )
        members = sorted({member["agentId"] for member in found if isinstance(member.get("agentId"), str)})
        condition = {"_id": {"$in": members}, "roles": AGENT_ROLE}
    condition = both(condition, visible_agents(context.scope, "_id"))
    return list(repository.collection("users").find(condition, _FIELDS))


def chats_by_agent(agent_ids: list[str], context: Context) -> Pipeline:
    """The open livechat rooms these agents serve that the caller may see: per agent, those open
    (``open``) and on hold (``onHold``)."""
    # The open rooms first, alone, as the open rooms' index holds them (indexes.py); then theirs.
    served = {"servedBy._id": {"$in": agent_ids}}
    return [
        {"$match": {"t": "l", "open": True}},
        {"$match": both(served, visible(context.scope))},
        {"$project": {"agent": "$servedBy._id", "status": STATUS}},
        {
            "$group": {
                "_id": "$agent",
                "open": count_if({"$eq": ["$status", OPEN]}),
                "onHold": count_if({"$eq": ["$status", ONHOLD]}),
            }
        },
    ]


def maximum(value: Any) -> int | None:
    """A maximum of chats as stored: a whole number above 0 (or its digits as text, as Rocket.Chat's
    agent form saves it); None for anything else."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if value > 0 else None


def occupancy(chats: int, most: int | None) -> float | None:
    """``chats / most`` rounded half up to two decimals, in integers first (so exactly); None
    without a maximum."""
    if most is None:
        return None
    return (chats * 200 + most) // (2 * most) / 100


def agent_row(user: Mapping[str, Any], chats: Mapping[str, Any], default: int | None) -> dict[str, Any]:
    """An agent's row: the user, the counts of their rooms, their maximum (else ``default``)."""
    settings = user.get("livechat")
    own = maximum(settings.get("maxNumberSimultaneousChat")) if isinstance(settings, Mapping) else None
    most = own or default
    open_chats = int(chats.get("open", 0))
    status = user.get("status")
    return {
        "_id": user["_id"],
        "username": named(user.get("username")),
        "name": named(user.get("name")),
        "status": status if status in STATUSES else "offline",
        "statusLivechat": "available" if user.get("statusLivechat") == "available" else "not-available",
        "openChats": open_chats,
        "onHoldChats": int(chats.get("onHold", 0)),
        "maxChats": most,
        "occupancy": occupancy(open_chats, most),
    }


def agents_state(department_id: str | None, context: Context, repository: Repository) -> dict[str, Any]:
    """The agents at this moment, sorted by username (then id; none first), and ``at``, the moment."""
    moment = clock.now()
    users = agent_users(department_id, context, repository)
    ids = [user["_id"] for user in users]
    counted = repository.aggregate("room", chats_by_agent(ids, context)) if ids else []
    chats = {document["_id"]: document for document in counted}
    default = maximum(repository.setting(MAX_CHATS_SETTING))
    rows = [agent_row(user, chats.get(user["_id"], {}), default) for user in users]
    rows.sort(key=lambda row: (row["username"] is not None, row["username"] or "", str(row["_id"])))
    return {"agents": rows, "at": clock.instant(moment)}
