"""The demo's queue, kept moving: every few seconds a visitor opens a chat (or, the queue full, leaves
it), an agent with room takes the oldest one waiting they can, or an agent closes the chat taken
first, so that the live numbers change while someone watches.

It writes, which nothing else in the package does, so it writes only into the demo's own database in
memory: :class:`Mover` takes a :class:`MemoryDatabase`, which only the demo's ``memory_database()``
makes, and refuses anything else; a database the user names (``--mongo-uri``) is never one.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from pymongo.database import Database
from pymongo.errors import PyMongoError

from ..repository import Repository
from .document import MILLISECOND, UTC, Document, random_id
from .room import new_visitor
from .staff import MAX_CHATS_SETTING

#: Seconds between two moves of the demo's queue.
MOVE_SECONDS = 4.0
#: The queue grows no longer than this: the demo's numbers stay plausible.
MOST_QUEUED = 6
#: Chats being served that no move closes: the agents are never left idle by the mover.
LEAST_SERVED = 2
#: The name of the mover's thread.
THREAD_NAME = "livechat-analytics demo mover"

# The rooms of the queue and those being served (not on hold), as the live family counts them.
_QUEUED = {"t": "l", "open": True, "servedBy": {"$exists": False}, "onHold": {"$ne": True}}
_SERVED = {"t": "l", "open": True, "servedBy": {"$exists": True}, "onHold": {"$ne": True}}


class MemoryDatabase(Database):
    """The demo's own database, in a server it started in memory: the only database a
    :class:`Mover` writes to. Only the demo's ``memory_database()`` makes one."""


class Mover:
    """Moves the demo's queue one step at a time (:meth:`step`), drawing with ``seed``, at the
    moments ``clock`` tells."""

    def __init__(
        self,
        database: MemoryDatabase,
        *,
        seed: int = 0,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        if not isinstance(database, MemoryDatabase):
            raise TypeError(
                "The demo's mover writes only into the demo's own database in memory"
                f" (memory_database()), not into {type(database).__name__} {database.name!r}."
            )
        self._names = Repository(database)
        self._database = database
        self._rng = random.Random(seed)
        self._clock = clock or (lambda: dt.datetime.now(UTC))

    def step(self) -> tuple[str, str] | None:
        """One move, drawn among those the bounds allow: ``("opened" | "left" | "assigned" |
        "closed", room id)``, or None when none can be made. A visitor leaves only a full queue."""
        moves: dict[str, Callable[[dt.datetime], str | None]] = {}
        queued = self._rooms().count_documents(_QUEUED)
        if queued < MOST_QUEUED:
            moves["opened"] = self._open
        else:
            moves["left"] = self._leave
        if queued:
            moves["assigned"] = self._assign
        if self._rooms().count_documents(_SERVED) > LEAST_SERVED:
            moves["closed"] = self._close
        now = _milliseconds(self._clock())
        for name in self._rng.sample(sorted(moves), len(moves)):  # the next one when one cannot
            room = moves[name](now)
            if room is not None:
                return name, room
        return None

    def _collection(self, name: str) -> Any:
        return self._database[self._names.name(name)]

    def _rooms(self) -> Any:
        return self._collection("room")

    def _open(self, now: dt.datetime) -> str:
        """A new visitor's chat in the queue of an enabled department, with its inquiry."""
        departments = [
            found["_id"]
            for found in self._collection("department").find(
                {"enabled": True, "type": {"$ne": "u"}}, {"_id": 1}
            )
        ]
        department = self._rng.choice(sorted(departments)) if departments else None
        visitor = new_visitor(self._rng)
        room = _queued_room(random_id(self._rng), visitor, department, now)
        self._collection("visitor").insert_one(_visitor(visitor, department, now))
        self._rooms().insert_one(room)
        self._collection("inquiry").insert_one(_inquiry(random_id(self._rng), room))
        return str(room["_id"])

    def _assign(self, now: dt.datetime) -> str | None:
        """The oldest queued room that an available agent of its department has room for, taken by
        that agent; None when no agent has room for any."""
        for room in self._rooms().find(_QUEUED, sort=[("ts", 1)]):
            agent = self._agent_with_room(room.get("departmentId"))
            if agent is not None:
                taken = {
                    "$set": _taken(room, agent, now),
                    "$unset": {"waitingResponse": ""},
                    "$inc": {"msgs": 1},
                }
                self._rooms().update_one({"_id": room["_id"]}, taken)
                self._collection("inquiry").update_one(
                    {"rid": room["_id"]}, {"$set": {"status": "taken", "takenAt": now, "_updatedAt": now}}
                )
                return str(room["_id"])
        return None

    def _leave(self, now: dt.datetime) -> str | None:
        """The oldest queued room, closed by its visitor, tired of waiting; its inquiry removed."""
        room = self._rooms().find_one(_QUEUED, sort=[("ts", 1)])
        if room is None:
            return None
        self._end(room, _left(room, now))
        return str(room["_id"])

    def _close(self, now: dt.datetime) -> str | None:
        """The served room taken first, closed by its agent; its inquiry removed."""
        room = self._rooms().find_one(_SERVED, sort=[("servedBy.ts", 1)])
        if room is None:
            return None
        self._end(room, _closed(room, now))
        return str(room["_id"])

    def _end(self, room: Document, closed: Document) -> None:
        """``room`` closed with the fields ``closed``, no longer open, its inquiry removed."""
        self._rooms().update_one({"_id": room["_id"]}, {"$set": closed, "$unset": {"open": ""}})
        self._collection("inquiry").delete_many({"rid": room["_id"]})

    def _agent_with_room(self, department: str | None) -> Document | None:
        """An agent of ``department`` (any agent for none), online or away and available, serving
        fewer open chats than their maximum: drawn with the mover's seed."""
        query: Document = {
            "roles": "livechat-agent",
            "statusLivechat": "available",
            "status": {"$in": ["online", "away"]},
        }
        if department is not None:
            members = self._collection("department_agents").find({"departmentId": department}, {"agentId": 1})
            query["_id"] = {"$in": [member["agentId"] for member in members]}
        fields = {"username": 1, "livechat.maxNumberSimultaneousChat": 1}
        agents = sorted(self._collection("users").find(query, fields), key=lambda agent: agent["_id"])
        setting = self._collection("settings").find_one({"_id": MAX_CHATS_SETTING}) or {}
        with_room = [agent for agent in agents if self._has_room(agent, setting.get("value"))]
        return self._rng.choice(with_room) if with_room else None

    def _has_room(self, agent: Document, setting: Any) -> bool:
        """Whether ``agent`` serves fewer open chats than their maximum (their own, else the
        ``setting``'s; none when neither is above 0)."""
        own = (agent.get("livechat") or {}).get("maxNumberSimultaneousChat")
        most = next((value for value in (own, setting) if isinstance(value, int) and value > 0), None)
        serving = self._rooms().count_documents({"t": "l", "open": True, "servedBy._id": agent["_id"]})
        return most is None or serving < most


@contextmanager
def moving(
    database: MemoryDatabase, *, interval: float = MOVE_SECONDS, seed: int = 0
) -> Iterator[threading.Thread]:
    """A thread moving the demo's queue every ``interval`` seconds while the block runs; stopped,
    and waited for, when it ends. A move the database refuses (it is going away) is left out."""
    mover = Mover(database, seed=seed)
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(interval):
            with suppress(PyMongoError):  # the next move tries again; the demo's end stops it
                mover.step()

    thread = threading.Thread(target=run, name=THREAD_NAME, daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join()


def _milliseconds(moment: dt.datetime) -> dt.datetime:
    """``moment`` to the millisecond, as the database stores it."""
    return moment - dt.timedelta(microseconds=moment.microsecond % 1000)


def _queued_room(room_id: str, visitor: Document, department: str | None, now: dt.datetime) -> Document:
    """A livechat room just opened by ``visitor`` in ``department``'s queue: open, nobody serving it."""
    return {
        "_id": room_id,
        "fname": visitor["name"],
        "t": "l",
        "ts": now,
        "v": {key: visitor[key] for key in ("_id", "username", "token")} | {"status": "online"},
        "cl": False,
        "source": {"type": "widget"},
        "usersCount": 1,
        "msgs": 1,
        "departmentId": department,
        "open": True,
        "waitingResponse": True,
        "queuedAt": now,
        "_updatedAt": now,
    }


def _visitor(visitor: Document, department: str | None, now: dt.datetime) -> Document:
    """The visitor document of a new visitor, first seen ``now``."""
    fields = ("_id", "username", "token", "name")
    return {key: visitor[key] for key in fields} | {"ts": now, "_updatedAt": now, "department": department}


def _inquiry(inquiry_id: str, room: Document) -> Document:
    """The queue's inquiry of a room just queued."""
    return {
        "_id": inquiry_id,
        "rid": room["_id"],
        "name": room["fname"],
        "ts": room["ts"],
        "queuedAt": room["queuedAt"],
        "status": "queued",
        "t": "l",
        "v": room["v"],
        "department": room["departmentId"],
        "_updatedAt": room["ts"],
    }


def _taken(room: Document, agent: Document, now: dt.datetime) -> Document:
    """What a room taken ``now`` by ``agent``, who answers at once, gains: its agent, its first
    response and how long the visitor waited for it."""
    waited = (now - room["ts"]) / dt.timedelta(seconds=1)
    who = {"_id": agent["_id"], "username": agent["username"]}
    return {
        "servedBy": who | {"ts": now},
        "responseBy": who | {"firstResponseTs": now, "lastMessageTs": now},
        "usersCount": 2,
        "metrics.response": {"avg": waited, "fd": now, "ft": waited, "total": 1, "tt": waited},
        "metrics.reaction": {"fd": now, "ft": waited, "tt": waited},
        "_updatedAt": now,
    }


def _left(room: Document, now: dt.datetime) -> Document:
    """What a queued room its visitor closed ``now`` gains: when, by whom, and how long it lasted."""
    visitor = room["v"]
    return {
        "closedAt": now,
        "closer": "visitor",
        "closedBy": {"_id": visitor["_id"], "username": visitor["username"]},
        "metrics.chatDuration": (now - room["ts"]) / dt.timedelta(seconds=1),
        "_updatedAt": now,
    }


def _closed(room: Document, now: dt.datetime) -> Document:
    """What a served room closed ``now`` by its agent gains: when, by whom, and how long it lasted."""
    served = room["servedBy"]
    closed_at = max(now, served["ts"] + MILLISECOND)
    return {
        "closedAt": closed_at,
        "closer": "user",
        "closedBy": {"_id": served["_id"], "username": served["username"]},
        "metrics.chatDuration": (closed_at - room["ts"]) / dt.timedelta(seconds=1),
        "metrics.serviceTimeDuration": (closed_at - served["ts"]) / dt.timedelta(seconds=1),
        "_updatedAt": closed_at,
    }
