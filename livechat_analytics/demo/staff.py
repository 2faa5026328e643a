"""The people and teams of the data set, fixed whatever its size: the departments, the agents and who
works where, the agents' daily activity, and the demo manager."""

from __future__ import annotations

import datetime as dt
import random

from ..auth import hash_token
from .document import MILLISECOND, UTC, Document, random_id

#: The demo manager: fixed, so that the ``curl`` command the demo prints always logs in.
MANAGER_ID = "DemoManager234567"
MANAGER_USERNAME = "demo.manager"
#: The manager's raw resume token in the in-memory demo. Only its hash is stored; it is public, so
#: ``seed`` gives the manager it writes a fresh random token instead.
MANAGER_TOKEN = "livechat-analytics-demo-token"

# Agents now: (status, statusLivechat), weighted.
_AGENT_STATES = (
    (("online", "available"), 5),
    (("away", "available"), 1),
    (("busy", "available"), 1),
    (("offline", "available"), 1),
    (("online", "not-available"), 1),
    (("offline", "not-available"), 2),
)


def new_department(rng: random.Random, name: str, enabled: bool, created: dt.datetime) -> Document:
    """A department named ``name``, created at ``created``; its ``numAgents`` comes once it has agents."""
    return {
        "_id": random_id(rng),
        "name": name,
        "enabled": enabled,
        "description": f"{name} team",
        "email": f"{name.lower()}@example.com",
        "showOnRegistration": True,
        "showOnOfflineForm": True,
        "type": "d",
        "archived": False,
        "_updatedAt": created,
    }


def new_agent(rng: random.Random, name: str, created: dt.datetime, state: tuple[str, str]) -> Document:
    """An agent whose ``status`` and ``statusLivechat`` are ``state``."""
    status, status_livechat = state
    return {
        "_id": random_id(rng),
        "username": name.lower().replace(" ", "."),
        "name": name,
        "type": "user",
        "active": True,
        "roles": ["user", "livechat-agent"],
        "status": status,
        "statusLivechat": status_livechat,
        "createdAt": created,
        "_updatedAt": created,
    }


def draw_agent_state(rng: random.Random) -> tuple[str, str]:
    """An agent's ``status`` and ``statusLivechat`` now, weighted by :data:`_AGENT_STATES`."""
    states, weights = zip(*_AGENT_STATES, strict=True)
    state: tuple[str, str] = rng.choices(states, weights=weights)[0]
    return state


#: The Rocket.Chat setting of the most chats an agent takes at once, and the demo's value.
MAX_CHATS_SETTING = "Livechat_maximum_chats_per_agent"
MAX_CHATS = 4


def draw_maximums(rng: random.Random, agents: list[Document]) -> None:
    """Give some agents a maximum of chats of their own (``livechat.maxNumberSimultaneousChat``);
    the others take the setting's, :data:`MAX_CHATS`."""
    for agent in agents:
        if rng.random() < 0.5:
            agent["livechat"] = {"maxNumberSimultaneousChat": rng.choice((2, 3, 5, 6))}


def draw_members(
    rng: random.Random, departments: list[Document], agents: list[Document]
) -> dict[str, list[Document]]:
    """The agents of each department, by its id: each agent works in one department, some in a
    second, so that every department has agents."""
    members: dict[str, list[Document]] = {department["_id"]: [] for department in departments}
    for index, agent in enumerate(agents):
        homes = {index % len(departments)}
        if rng.random() < 0.4:
            homes.add(rng.randrange(len(departments)))
        for home in sorted(homes):
            members[departments[home]["_id"]].append(agent)
    return members


def department_agents(
    rng: random.Random, departments: list[Document], members: dict[str, list[Document]]
) -> list[Document]:
    """One document per agent and department the agent works in."""
    return [
        {
            "_id": random_id(rng),
            "agentId": agent["_id"],
            "departmentId": department["_id"],
            "username": agent["username"],
            "departmentEnabled": department["enabled"],
            "count": 0,
            "order": 0,
        }
        for department in departments
        for agent in members[department["_id"]]
    ]


def agent_activity(
    rng: random.Random, agents: list[Document], now: dt.datetime, days: int
) -> list[Document]:
    """The agents' sessions of each day from ``days`` days before ``now`` to today, the days they
    worked."""
    return [
        document
        for ago in range(days, -1, -1)
        for agent in agents
        if (document := _activity(rng, agent, (now - dt.timedelta(days=ago)).date(), now))
    ]


def _activity(rng: random.Random, agent: Document, day: dt.date, now: dt.datetime) -> Document | None:
    """The agent's sessions of ``day`` until ``now``: most weekdays, few weekend days; None when off."""
    if rng.random() < (0.75 if day.weekday() >= 5 else 0.1):
        return None
    start = dt.datetime.combine(day, dt.time(7), UTC) + dt.timedelta(minutes=rng.randrange(180))
    history = []
    for _ in range(rng.randint(1, 3)):
        stop = start + dt.timedelta(minutes=rng.randrange(60, 240), milliseconds=rng.randrange(60_000))
        if start > now:
            break
        history.append({"startedAt": start, "stoppedAt": min(stop, now)})
        start = stop + dt.timedelta(minutes=rng.randrange(15, 90))
    if not history:
        return None
    available = sum((session["stoppedAt"] - session["startedAt"]) // MILLISECOND for session in history)
    return {
        "_id": random_id(rng),
        "agentId": agent["_id"],
        "date": day.year * 10000 + day.month * 100 + day.day,
        "availableTime": available // 1000,
        "serviceHistory": history,
        "lastStartedAt": history[-1]["startedAt"],
        "lastStoppedAt": history[-1]["stoppedAt"],
    }


def new_manager(created: dt.datetime, token: str) -> Document:
    """The demo manager, who logs in with ``token``."""
    return {
        "_id": MANAGER_ID,
        "username": MANAGER_USERNAME,
        "name": "Demo Manager",
        "type": "user",
        "active": True,
        "roles": ["livechat-manager"],
        "services": {"resume": {"loginTokens": [{"hashedToken": hash_token(token), "when": created}]}},
        "createdAt": created,
        "_updatedAt": created,
    }
