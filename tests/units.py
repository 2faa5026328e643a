"""A small world of business units for the tests of who sees what: two units, departments in them,
in none and one that left its unit; rooms of each, transfers, agents and their activity; a manager,
an admin and monitors of every kind. And, in plain Python, what a caller may see of it: the rule
written from the contract (units from the monitors documents, their departments by ``ancestors``
and by agent membership, a room by ``departmentAncestors`` or ``departmentId``), never from the
package's code.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any

from pymongo.database import Database

from livechat_analytics import hash_token

UTC = dt.timezone.utc
Document = dict[str, Any]
World = dict[str, list[Document]]

# -- Collections ----------------------------------------------------------------------------------

ROOMS = "rocketchat_room"
MESSAGES = "rocketchat_message"
DEPARTMENTS = "rocketchat_livechat_department"
MONITORS = "rocketchat_livechat_unit_monitors"
DEPARTMENT_AGENTS = "rocketchat_livechat_department_agents"
ACTIVITY = "rocketchat_livechat_agent_activity"
USERS = "users"
SETTINGS = "rocketchat_settings"
COLLECTIONS = (ROOMS, MESSAGES, DEPARTMENTS, MONITORS, DEPARTMENT_AGENTS, ACTIVITY, USERS, SETTINGS)

#: The message type of a transfer.
TRANSFER = "livechat_transfer_history"

# -- Units and departments ------------------------------------------------------------------------

U1, U2 = "unit-north", "unit-south"
#: Names no department has: an answer that holds one lists a unit as a department.
UNIT_NAMES = {U1: "Northern Unit", U2: "Southern Unit"}

#: A and B in U1, C in U2, D in no unit; E was in U1 and left it (its rooms still carry U1);
#: F is in U1 and has no room.
A, B, C, D, E, F = "dep-a", "dep-b", "dep-c", "dep-d", "dep-e", "dep-f"
NAMES = {A: "Sales", B: "Billing", C: "Support", D: "Returns", E: "Legacy", F: "Quiet"}
UNIT_OF = {A: U1, B: U1, C: U2, F: U1}

# -- People ---------------------------------------------------------------------------------------

MANAGER = "manager"
ADMIN = "admin"
#: The monitor of U1, of U2, of no unit; a monitor of U1 who is also a livechat manager; a monitor
#: of U2 who also serves D as an agent.
MONITOR1 = "monitor1"
MONITOR2 = "monitor2"
LONE_MONITOR = "monitor-lone"
BOSS_MONITOR = "monitor-boss"
AGENT_MONITOR = "monitor-agent"

#: Each caller's roles, and the units each monitor monitors.
CALLER_ROLES: dict[str, tuple[str, ...]] = {
    MANAGER: ("user", "livechat-manager"),
    ADMIN: ("user", "admin"),
    MONITOR1: ("user", "livechat-monitor"),
    MONITOR2: ("user", "livechat-monitor"),
    LONE_MONITOR: ("user", "livechat-monitor"),
    BOSS_MONITOR: ("user", "livechat-monitor", "livechat-manager"),
    AGENT_MONITOR: ("user", "livechat-monitor", "livechat-agent"),
}
MONITORED = {MONITOR1: (U1,), MONITOR2: (U2,), BOSS_MONITOR: (U1,), AGENT_MONITOR: (U2,)}

#: The agents: status, livechat status, and the departments they serve. bo serves A and C; zed
#: serves none; the agent monitor serves D.
AGENTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "ana": ("online", "available", (A,)),
    "bo": ("away", "available", (A, C)),
    "cy": ("busy", "available", (B,)),
    "dee": ("online", "available", (C,)),
    "eli": ("offline", "available", (D,)),
    "fay": ("online", "not-available", (C,)),
    "gil": ("online", "available", (E,)),
    "zed": ("offline", "not-available", ()),
    AGENT_MONITOR: ("online", "available", (D,)),
}

# -- The window the tests ask about ---------------------------------------------------------------

WINDOW = {"start": "2024-03-01", "end": "2024-03-10"}
DAYS = {"from": "2024-03-01", "to": "2024-03-10"}
START = dt.datetime(2024, 3, 1, tzinfo=UTC)
END = dt.datetime(2024, 3, 10, 23, 59, 59, 999000, tzinfo=UTC)


def headers(user_id: str) -> dict[str, str]:
    """The headers that log a caller in."""
    return {"X-User-Id": user_id, "X-Auth-Token": user_id + "-token"}


def at(day: int, hour: int, minute: int = 0, *, month: int = 3) -> dt.datetime:
    """An instant of 2024, in March unless told."""
    return dt.datetime(2024, month, day, hour, minute, tzinfo=UTC)


# -- The documents ----------------------------------------------------------------------------------


def _department(department: str) -> Document:
    document: Document = {
        "_id": department,
        "name": NAMES[department],
        "enabled": True,
        "type": "d",
        "numAgents": sum(department in served for *_, served in AGENTS.values()),
    }
    if department in UNIT_OF:
        document |= {"parentId": UNIT_OF[department], "ancestors": [UNIT_OF[department]]}
    return document


def unit_documents() -> list[Document]:
    """The two units, department documents of type ``u``."""
    return [
        {
            "_id": unit,
            "name": name,
            "type": "u",
            "visibility": "public",
            "numMonitors": sum(unit in units for units in MONITORED.values()),
            "numDepartments": sum(parent == unit for parent in UNIT_OF.values()),
        }
        for unit, name in UNIT_NAMES.items()
    ]


def _user(user_id: str, roles: tuple[str, ...], **fields: Any) -> Document:
    return {
        "_id": user_id,
        "username": user_id,
        "name": user_id.replace("-", " ").title(),
        "type": "user",
        "active": True,
        "roles": list(roles),
        **fields,
    }


def _caller(user_id: str) -> Document:
    login = {"resume": {"loginTokens": [{"hashedToken": hash_token(user_id + "-token"), "when": at(1, 0)}]}}
    document = _user(user_id, CALLER_ROLES[user_id], services=login)
    if user_id in AGENTS:
        status, livechat, _ = AGENTS[user_id]
        document |= {"status": status, "statusLivechat": livechat}
    return document


def _agent(user_id: str) -> Document:
    status, livechat, _ = AGENTS[user_id]
    return _user(user_id, ("user", "livechat-agent"), status=status, statusLivechat=livechat)


_DEFAULT: Any = object()


def _chat(
    number: int,
    room_id: str,
    department: str | None,
    created: dt.datetime,
    status: str,
    agent: str | None,
    visitor: str,
    *,
    ancestors: Any = _DEFAULT,
    source: Document | None = None,
    tags: list[str] | None = None,
    inactivity: int | None = None,
) -> Document:
    """A livechat room as the server stores it: ``status`` is closed, open, onhold or queued; the
    numbers vary with ``number``; ``departmentAncestors`` is the department's unit unless told;
    department ``"missing"`` leaves ``departmentId`` out."""
    room: Document = {"_id": room_id, "t": "l", "ts": created, "v": {"_id": visitor, "token": visitor + "-t"}}
    if department != "missing":
        room["departmentId"] = department
    if ancestors is _DEFAULT:
        unit = UNIT_OF.get(department) if isinstance(department, str) else None
        ancestors = [unit] if unit else None
    if ancestors is not None:
        room["departmentAncestors"] = ancestors
    room["source"] = source or {"type": "widget"}
    if tags:
        room["tags"] = tags
    if agent is not None:
        room |= _served(number, created, agent)
    room |= _ended(number, created, status, inactivity) if status == "closed" else _open(status)
    if status != "queued":
        metrics = room.setdefault("metrics", {})
        metrics["response"] = {"avg": 20 + 3 * number, "ft": 40 + 5 * number, "tt": 60 + 9 * number}
        if agent is not None:
            metrics["reaction"] = {"ft": 10 + 2 * number}
    return room


def _served(number: int, created: dt.datetime, agent: str) -> Document:
    """Who took the room and when, and when they last wrote."""
    taken = created + dt.timedelta(seconds=30 + 7 * number)
    last = taken + dt.timedelta(seconds=240 + 11 * number)
    return {
        "servedBy": {"_id": agent, "username": agent, "ts": taken},
        "responseBy": {"_id": agent, "username": agent, "lastMessageTs": last},
    }


def _ended(number: int, created: dt.datetime, status: str, inactivity: int | None) -> Document:
    """A closed room's end and durations; the visitor's inactivity when given."""
    duration = 600 + 97 * number
    metrics: Document = {"chatDuration": duration, "serviceTimeDuration": duration - 45}
    if inactivity is not None:
        metrics["visitorInactivity"] = inactivity
    return {"closedAt": created + dt.timedelta(seconds=duration), "metrics": metrics}


def _open(status: str) -> Document:
    """An open room, on hold or waiting for an agent as told."""
    flags = {"onhold": {"onHold": True}, "queued": {"waitingResponse": True}}
    return {"open": True, **flags.get(status, {})}


def _rooms() -> list[Document]:
    app = {"type": "app", "alias": "WhatsApp"}
    api = {"type": "api"}
    specs: list[tuple[str, Any, dt.datetime, str, str | None, str, dict[str, Any]]] = [
        # A, in U1.
        ("r-a1", A, at(2, 9), "closed", "ana", "v1", {"tags": ["vip"]}),
        ("r-a2", A, at(3, 14), "closed", "bo", "v2", {"source": api}),
        ("r-a3", A, at(5, 10), "open", "ana", "v3", {}),
        ("r-a4", A, at(6, 16), "onhold", "bo", "v1", {}),
        ("r-a5", A, at(8, 11), "queued", None, "v4", {}),
        ("r-a6", A, at(9, 15), "closed", "ana", "v5", {"source": app, "tags": ["bug"], "inactivity": 1200}),
        ("r-a0", A, at(27, 10, month=2), "closed", "ana", "v2", {}),
        ("r-a9", A, at(14, 10), "open", "ana", "v6", {}),
        # Transferred from C to A: the server moved its ancestors to U1.
        ("r-ca", A, at(4, 13), "closed", "ana", "v7", {"tags": ["vip", "bug"]}),
        # B, in U1; b3 was created before B joined the unit, and carries no ancestors.
        ("r-b1", B, at(1, 8), "closed", "cy", "v8", {"inactivity": 2000}),
        ("r-b2", B, at(4, 9), "open", "cy", "v9", {"source": api, "tags": ["vip"]}),
        ("r-b3", B, at(7, 20), "closed", "cy", "v1", {"ancestors": None}),
        ("r-b4", B, at(10, 23), "queued", None, "v10", {}),
        # C, in U2; ac was transferred from A to C.
        ("r-c1", C, at(2, 10), "closed", "dee", "v11", {"tags": ["bug"], "inactivity": 950}),
        ("r-c2", C, at(3, 12), "open", "bo", "v12", {"source": app}),
        ("r-c3", C, at(5, 15), "onhold", "dee", "v13", {}),
        ("r-c4", C, at(6, 9), "queued", None, "v14", {}),
        ("r-ac", C, at(7, 11), "closed", "dee", "v15", {}),
        ("r-c0", C, at(28, 10, month=2), "closed", "dee", "v11", {}),
        # D, in no unit.
        ("r-d1", D, at(2, 17), "closed", "eli", "v16", {"tags": ["vip"]}),
        ("r-d2", D, at(5, 11), "open", AGENT_MONITOR, "v17", {"source": api}),
        ("r-d3", D, at(9, 10), "queued", None, "v18", {}),
        # E left U1; its rooms still carry the ancestor. ana, of A, served them.
        ("r-e1", E, at(3, 16), "closed", "ana", "v19", {"ancestors": [U1]}),
        ("r-e2", E, at(8, 13), "open", "ana", "v20", {"ancestors": [U1]}),
        # No department: missing, and null.
        ("r-n1", "missing", at(1, 9), "queued", None, "v21", {}),
        ("r-n2", None, at(4, 10), "closed", "zed", "v22", {"inactivity": 5000}),
        ("r-n3", "missing", at(6, 18), "open", "zed", "v23", {"tags": ["vip"]}),
    ]
    rooms = [
        _chat(number, room_id, department, created, status, agent, visitor, **extra)
        for number, (room_id, department, created, status, agent, visitor, extra) in enumerate(specs)
    ]
    rooms.append({"_id": "r-x1", "t": "c", "ts": at(5, 12), "name": "general"})
    return rooms


def _transfer(message_id: str, room_id: str, when: dt.datetime, by: str, previous: str, to: str) -> Document:
    return {
        "_id": message_id,
        "rid": room_id,
        "t": TRANSFER,
        "msg": "",
        "ts": when,
        "u": {"_id": by, "username": by},
        "transferData": {
            "transferredBy": {"_id": by, "username": by, "type": "agent"},
            "ts": when,
            "scope": "department",
            "previousDepartment": previous,
            "nextDepartment": {"_id": to, "name": NAMES[to]},
        },
    }


def _messages(rooms: list[Document]) -> list[Document]:
    """A visitor's message in every room, the agent's in the served ones, a system message in the
    closed ones; and transfers, one of a room that is gone."""
    messages: list[Document] = []
    for room in rooms:
        if room["t"] != "l":
            continue
        ts, agent = room["ts"], room.get("servedBy")
        messages.append({"_id": f"{room['_id']}-m1", "rid": room["_id"], "msg": "hi", "ts": ts, "token": "t"})
        if agent is not None:
            author = {"_id": agent["_id"], "username": agent["username"]}
            messages.append(
                {"_id": f"{room['_id']}-m2", "rid": room["_id"], "msg": "hello", "ts": ts, "u": author}
            )
        if room.get("closedAt"):
            messages.append(
                {
                    "_id": f"{room['_id']}-m3",
                    "rid": room["_id"],
                    "t": "livechat-close",
                    "ts": room["closedAt"],
                }
            )
    messages += [
        _transfer("t-ca", "r-ca", at(4, 13, 5), "dee", C, A),
        _transfer("t-b2", "r-b2", at(4, 9, 2), "eli", D, B),
        _transfer("t-ac", "r-ac", at(7, 11, 3), "ana", A, C),
        _transfer("t-ac2", "r-ac", at(7, 11, 9), "dee", C, C),
        _transfer("t-d1", "r-d1", at(2, 17, 4), "eli", D, D),
        _transfer("t-gone", "r-gone", at(5, 10), "dee", C, A),
    ]
    return messages


def _activity() -> list[Document]:
    documents = []
    for number, agent in enumerate(AGENTS):
        for day in (2, 5, 9):
            started = at(day, 8, number)
            seconds = 3600 + 600 * number + 60 * day
            documents.append(
                {
                    "_id": f"act-{agent}-{day}",
                    "agentId": agent,
                    "date": 20240300 + day,
                    "availableTime": seconds,
                    "serviceHistory": [
                        {"startedAt": started, "stoppedAt": started + dt.timedelta(seconds=seconds)}
                    ],
                }
            )
    return documents


def world() -> World:
    """Every document of the world, by collection: a fresh copy each time. The units are in
    ``units``, apart from the other departments, so that a test can store the world without them."""
    rooms = _rooms()
    agents = [_agent(agent) for agent in AGENTS if agent not in CALLER_ROLES]
    return {
        ROOMS: rooms,
        MESSAGES: _messages(rooms),
        DEPARTMENTS: [_department(department) for department in NAMES],
        "units": unit_documents(),
        MONITORS: [
            {"_id": f"mon-{monitor}-{unit}", "monitorId": monitor, "unitId": unit, "username": monitor}
            for monitor, units in MONITORED.items()
            for unit in units
        ],
        DEPARTMENT_AGENTS: [
            {
                "_id": f"da-{agent}-{department}",
                "agentId": agent,
                "departmentId": department,
                "username": agent,
                "departmentEnabled": True,
                "count": 0,
                "order": 0,
            }
            for agent, (*_, served) in AGENTS.items()
            for department in served
        ],
        ACTIVITY: _activity(),
        USERS: agents + [_caller(caller) for caller in CALLER_ROLES],
        SETTINGS: [{"_id": "Livechat_visitor_inactivity_timeout", "value": 900}],
    }


def store(database: Database, documents: World, *, units: bool = True) -> None:
    """Store the world (without its units when told)."""
    for collection in COLLECTIONS:
        if documents[collection]:
            database[collection].insert_many(copy.deepcopy(documents[collection]))
    if units:
        store_units(database, documents)


def store_units(database: Database, documents: World) -> None:
    """Store the units (department documents of type ``u``)."""
    database[DEPARTMENTS].insert_many(copy.deepcopy(documents["units"]))


# -- What a caller sees, in plain Python ---------------------------------------------------------


def units_of(documents: World, caller: str) -> set[str]:
    """The units a caller monitors."""
    return {document["unitId"] for document in documents[MONITORS] if document["monitorId"] == caller}


def departments_of(documents: World, caller: str) -> set[str]:
    """A restricted caller's departments: those under their units, and those they serve as an agent."""
    units = units_of(documents, caller)
    under = {d["_id"] for d in documents[DEPARTMENTS] if units & set(d.get("ancestors") or [])}
    served = {d["departmentId"] for d in documents[DEPARTMENT_AGENTS] if d["agentId"] == caller}
    return under | served


def restricted(documents: World, caller: str) -> bool:
    """Whether the caller is restricted (the units stored): a unit exists, they are neither admin
    nor manager, and they are a monitor."""
    roles = set(CALLER_ROLES[caller])
    managing = roles & {"admin", "livechat-manager"}
    return bool(documents["units"]) and not managing and "livechat-monitor" in roles


def visible(documents: World, caller: str, rooms: Iterable[Document] | None = None) -> list[Document]:
    """The rooms a caller sees (of ``rooms``, by default every stored room)."""
    rooms = documents[ROOMS] if rooms is None else rooms
    if not restricted(documents, caller):
        return list(rooms)
    units, departments = units_of(documents, caller), departments_of(documents, caller)
    return [
        room
        for room in rooms
        if units & set(room.get("departmentAncestors") or []) or room.get("departmentId") in departments
    ]


def in_window(rooms: Iterable[Document]) -> list[Document]:
    """The livechat rooms created in :data:`WINDOW`."""
    return [room for room in rooms if room["t"] == "l" and START <= room["ts"] <= END]


def amount_rows(rooms: Iterable[Document]) -> list[Document]:
    """``departments/amount-of-chats`` rows of these rooms: one per department, rooms without one
    under null, first, then by id."""
    counted = Counter(room.get("departmentId") for room in in_window(rooms))
    order = sorted(counted, key=lambda key: (key is not None, key or ""))
    return [{"_id": department, "rooms": counted[department]} for department in order]


def store_visible(target: Database, documents: World, caller: str) -> None:
    """Store in ``target`` what a restricted caller may see, for the manager to ask about: their
    rooms and those rooms' messages; their departments' agents, agent activity and agent users;
    every department (no unit); the settings; and the manager."""
    rooms = visible(documents, caller)
    room_ids = {room["_id"] for room in rooms}
    departments = departments_of(documents, caller)
    memberships = [d for d in documents[DEPARTMENT_AGENTS] if d["departmentId"] in departments]
    agents = {membership["agentId"] for membership in memberships}
    servers = {room["servedBy"]["_id"] for room in rooms if "servedBy" in room}
    # Else the manager's answer would lack a served room's agent (its name, say) that the monitor's has.
    assert servers <= agents, f"the world is inconsistent: {servers - agents} serve rooms {caller} sees"
    chosen: World = {
        ROOMS: rooms,
        MESSAGES: [message for message in documents[MESSAGES] if message["rid"] in room_ids],
        DEPARTMENTS: documents[DEPARTMENTS],
        DEPARTMENT_AGENTS: memberships,
        ACTIVITY: [activity for activity in documents[ACTIVITY] if activity["agentId"] in agents],
        USERS: [user for user in documents[USERS] if user["_id"] in agents or user["_id"] == MANAGER],
        SETTINGS: documents[SETTINGS],
    }
    for collection, chosen_documents in chosen.items():
        if chosen_documents:
            target[collection].insert_many(copy.deepcopy(chosen_documents))
