"""A realistic Rocket.Chat livechat data set, generated deterministically: for the demo and for seeding.

:class:`DemoData` holds the few fixed documents (departments, agents, the demo manager, the
permission and the setting the API reads) and generates the rooms lazily, so :func:`insert` can
write a data set of any size in batches. The same ``seed`` and ``now`` always give the same documents.
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from . import config
from .auth import MANAGER_PERMISSION, hash_token
from .endpoints.common import INACTIVITY_SETTING, TRANSFER_MESSAGE
from .repository import Repository

Document = dict[str, Any]

#: The characters of a Rocket.Chat (Meteor) id, which is :data:`ID_LENGTH` of them.
ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"
ID_LENGTH = 17

#: The demo manager: fixed, so that the ``curl`` command the demo prints always logs in.
MANAGER_ID = "DemoManager234567"
MANAGER_USERNAME = "demo.manager"
#: The manager's raw resume token in the in-memory demo. Only its hash is stored; it is public, so
#: ``seed`` gives the manager it writes a fresh random token instead.
MANAGER_TOKEN = "livechat-analytics-demo-token"
#: The collection in which ``seed`` records how many documents it added to each collection: a
#: database holding more than that holds data of its own, which ``seed`` leaves alone.
SEEDS_COLLECTION = "livechat_analytics_seeds"

#: Livechat rooms generated when nobody says how many.
DEFAULT_ROOMS = 3000
DEFAULT_SEED = 1
#: Rooms are created over this many days before ``now``.
DAYS = 90
#: The ``Livechat_visitor_inactivity_timeout`` the data set stores, in seconds: Rocket.Chat's default.
INACTIVITY_TIMEOUT = config.INACTIVITY_TIMEOUT

UTC = dt.timezone.utc
_MILLISECOND = dt.timedelta(milliseconds=1)

# Name, share of the rooms, enabled. The disabled one only has rooms from before it was disabled.
_DEPARTMENTS = (
    ("Sales", 22, True),
    ("Support", 35, True),
    ("Billing", 15, True),
    ("Technical", 20, True),
    ("Onboarding", 8, False),
    # A second team of the same name (another region): names do not identify departments.
    ("Support", 10, True),
)
_DISABLED_SINCE = dt.timedelta(days=45)

_AGENTS = (
    "Ana Souza",
    "Bruno Lima",
    "Chloe Martin",
    "David Kim",
    "Emma Schulz",
    "Farid Haddad",
    "Grace Okafor",
    "Hiro Tanaka",
    "Isabel Rossi",
    "Jonas Berg",
)
_VISITOR_NAMES = ("Alex", "Maria", "John", "Priya", "Lucas", "Sofia", "Wei", "Fatima", "Noah", "Olga")

# Shares of all livechat rooms.
_NO_DEPARTMENT_FIELD = 0.08
_NULL_DEPARTMENT = 0.04
_TRANSFERRED = 0.12
# Only rooms with a department are transferred (from it to another).
_TRANSFERRED_WITH_DEPARTMENT = _TRANSFERRED / (1 - _NO_DEPARTMENT_FIELD - _NULL_DEPARTMENT)
_OTHER_ROOM = 0.04  # a channel or direct message room after this share of livechat rooms
_MESSAGES_SHOWN = 0.25  # rooms that also get some ordinary messages

# What happens to a new chat, weighted: about 15% end up unanswered (waitingResponse).
_OUTCOMES = ("unserved", "ignored", "visitor-last", "answered")
_OUTCOME_WEIGHTS = (4, 4, 7, 85)
# How an answered chat closes. About 12% of these are the ~10% abandoned rooms of the data set.
_CLOSINGS = ("visitor", "agent", "abandoned")
_CLOSING_WEIGHTS = (35, 53, 12)

# Chats per hour of the day (UTC) and per weekday (Monday first): business hours dominate.
_HOUR_WEIGHTS = (1, 1, 1, 1, 1, 1, 2, 3, 6, 10, 10, 10, 7, 10, 10, 10, 10, 7, 4, 2, 2, 2, 1, 1)
_WEEKDAY_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 0.95, 0.35, 0.25)

_TAGS = ("pricing", "bug", "refund", "login", "feedback", "upgrade")
_COMMENTS = (
    "Customer asks about an invoice",
    "Needs a technical answer",
    "Wants a quote",
    "Account setup question",
)
_PHRASES = (
    "Hi, I need some help",
    "Hello! How can I help you today?",
    "Can you check my order?",
    "Thanks, that solved it",
    "Let me look into that for you",
    "Is there a discount for yearly plans?",
)
_SYSTEM_USER = {"_id": "rocket.cat", "username": "rocket.cat"}

# Agents now: (status, statusLivechat), weighted.
_AGENT_STATES = (
    (("online", "available"), 5),
    (("away", "available"), 1),
    (("busy", "available"), 1),
    (("offline", "available"), 1),
    (("online", "not-available"), 1),
    (("offline", "not-available"), 2),
)
# Where chats come from, weighted, and the alias each channel shows.
_SOURCES = (("widget", 70), ("email", 12), ("sms", 8), ("api", 10))
_SOURCE_ALIASES = {"email": "support@example.com", "sms": "+1 555 0100", "api": "crm-integration"}
_ON_HOLD = 0.2  # of the open, served rooms
_RETURNING = 0.2  # rooms whose visitor chatted before
_CHANNELS = ("general", "support-team", "sales-floor", "random", "announcements")


def random_id(rng: random.Random) -> str:
    """A new id in Rocket.Chat's form: 17 characters of :data:`ID_ALPHABET`."""
    return "".join(rng.choices(ID_ALPHABET, k=ID_LENGTH))


class Chat(NamedTuple):
    """One generated room and the messages written in it (transfers included), oldest first."""

    room: Document
    messages: list[Document]

    @property
    def transfers(self) -> list[Document]:
        """The room's ``livechat_transfer_history`` messages."""
        return [message for message in self.messages if message.get("t") == TRANSFER_MESSAGE]


@dataclass
class Counts:
    """What :func:`insert` wrote."""

    departments: int = 0
    users: int = 0
    rooms: int = 0
    """Livechat rooms."""
    other_rooms: int = 0
    """Channels and direct message rooms, which the API must ignore."""
    messages: int = 0
    """All messages, transfers included."""
    transfers: int = 0
    """Transfer messages, those of deleted rooms included."""
    visitors: int = 0
    """Visitors, each once however many rooms they opened."""
    kept: int = 0
    """Fixed documents left as they were: their id was taken, or a unique field such as a username."""


class AlreadyInserted(Exception):
    """The rooms of this data set are in the database already: :func:`insert` wrote nothing."""


class DemoData:
    """A livechat data set: ``rooms`` livechat rooms created over the ``days`` days before ``now``.

    The fixed documents are attributes; :meth:`chats` generates the rooms, the same ones on every
    call. ``now`` (aware; default: the current time) is when the data set was "taken": nothing
    happens after it, and rooms still going then are open.
    """

    def __init__(
        self,
        *,
        rooms: int = DEFAULT_ROOMS,
        seed: int = DEFAULT_SEED,
        now: dt.datetime | None = None,
        days: int = DAYS,
        manager_token: str = MANAGER_TOKEN,
    ) -> None:
        if rooms < 0 or days < 1:
            raise ValueError("rooms must be at least 0 and days at least 1.")
        now = dt.datetime.now(UTC) if now is None else now
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime.")
        # BSON dates hold milliseconds: whole milliseconds keep stored and generated times equal.
        self.now = now.astimezone(UTC).replace(microsecond=now.microsecond // 1000 * 1000)
        self.room_count = rooms
        self.seed = seed
        self.days = days
        rng = random.Random(seed)
        created = self.now - dt.timedelta(days=days + 30)
        self.departments: list[Document] = []
        self._department_weights: list[int] = []
        for name, weight, enabled in _DEPARTMENTS:
            self.departments.append(_department(rng, name, enabled, created))
            self._department_weights.append(weight)
        self.agents: list[Document] = [_agent(rng, name, created) for name in _AGENTS]
        # Each agent works in one department, some in a second: every department has agents.
        self._members: dict[str, list[Document]] = {d["_id"]: [] for d in self.departments}
        for index, agent in enumerate(self.agents):
            homes = {index % len(self.departments)}
            if rng.random() < 0.4:
                homes.add(rng.randrange(len(self.departments)))
            for home in sorted(homes):
                self._members[self.departments[home]["_id"]].append(agent)
        for department in self.departments:
            department["numAgents"] = len(self._members[department["_id"]])
        # What the monitoring pages read draws on a stream of its own, so that the rooms and the
        # documents above stay what they were before it was added.
        extra = random.Random(f"monitoring-{seed}")
        states, weights = zip(*_AGENT_STATES, strict=True)
        for agent in self.agents:
            agent["status"], agent["statusLivechat"] = extra.choices(states, weights=weights)[0]
        self.department_agents: list[Document] = [
            {
                "_id": random_id(extra),
                "agentId": agent["_id"],
                "departmentId": department["_id"],
                "username": agent["username"],
                "departmentEnabled": department["enabled"],
                "count": 0,
                "order": 0,
            }
            for department in self.departments
            for agent in self._members[department["_id"]]
        ]
        """Who works in which department (``rocketchat_livechat_department_agents``)."""
        self.agent_activity: list[Document] = [
            document
            for ago in range(days, -1, -1)
            for agent in self.agents
            if (document := self._activity(extra, agent, (self.now - dt.timedelta(days=ago)).date()))
        ]
        """Each agent's available time per day (``rocketchat_livechat_agent_activity``)."""
        self.manager: Document = _manager(created, manager_token)
        self.permission: Document = {
            "_id": MANAGER_PERMISSION,
            "roles": list(config.DEFAULT_ROLES),
        }
        self.setting: Document = {"_id": INACTIVITY_SETTING, "value": INACTIVITY_TIMEOUT}
        # Busier weekdays, and a business that grows a little over the period.
        self._day_weights = [
            _WEEKDAY_WEIGHTS[(self.now - dt.timedelta(days=ago)).weekday()] * (1.3 - 0.3 * ago / days)
            for ago in range(days)
        ]
        self._chat_seed = rng.getrandbits(64)
        self.orphan_transfers: list[Document] = [
            self._orphan_transfer(rng) for _ in range(math.ceil(rooms / 300))
        ]
        """Transfer messages of rooms that were deleted since: the API credits them to ``null``."""

    def _activity(self, rng: random.Random, agent: Document, day: dt.date) -> Document | None:
        """The agent's sessions of ``day``: most weekdays, few weekend days; None when off."""
        if rng.random() < (0.75 if day.weekday() >= 5 else 0.1):
            return None
        start = dt.datetime.combine(day, dt.time(7), UTC) + dt.timedelta(minutes=rng.randrange(180))
        history = []
        for _ in range(rng.randint(1, 3)):
            stop = start + dt.timedelta(minutes=rng.randrange(60, 240), milliseconds=rng.randrange(60_000))
            if start > self.now:
                break
            history.append({"startedAt": start, "stoppedAt": min(stop, self.now)})
            start = stop + dt.timedelta(minutes=rng.randrange(15, 90))
        if not history:
            return None
        available = sum((session["stoppedAt"] - session["startedAt"]) // _MILLISECOND for session in history)
        return {
            "_id": random_id(rng),
            "agentId": agent["_id"],
            "date": day.year * 10000 + day.month * 100 + day.day,
            "availableTime": available // 1000,
            "serviceHistory": history,
            "lastStartedAt": history[-1]["startedAt"],
            "lastStoppedAt": history[-1]["stoppedAt"],
        }

    def fixed_documents(self) -> dict[str, list[Document]]:
        """Every document but the rooms' and the visitors', by collection (the keys of
        :meth:`Repository.name`)."""
        return {
            "department": self.departments,
            "users": [*self.agents, self.manager],
            "permissions": [self.permission],
            "settings": [self.setting],
            "message": self.orphan_transfers,
            "department_agents": self.department_agents,
            "agent_activity": self.agent_activity,
        }

    def chats(self) -> Iterator[Chat]:
        """The rooms with their messages, generated one by one: the livechat rooms, and now and then
        a channel or a direct message room."""
        rng = random.Random(self._chat_seed)
        extra = random.Random(self._chat_seed + 1)
        returning: list[Document] = []
        for _ in range(self.room_count):
            yield self._livechat(rng, extra, returning)
            if rng.random() < _OTHER_ROOM:
                yield self._other_room(rng)

    def _created_at(self, rng: random.Random) -> dt.datetime:
        while True:
            ago = rng.choices(range(self.days), weights=self._day_weights)[0]
            hour = rng.choices(range(24), weights=_HOUR_WEIGHTS)[0]
            day = (self.now - dt.timedelta(days=ago)).replace(hour=0, minute=0, second=0, microsecond=0)
            moment = day + dt.timedelta(hours=hour, milliseconds=rng.randrange(3_600_000))
            if moment <= self.now:  # today's later hours have not happened yet
                return moment

    def _first_department(self, rng: random.Random, ts: dt.datetime) -> Document:
        weights = [
            weight if department["enabled"] or ts < self.now - _DISABLED_SINCE else 0
            for department, weight in zip(self.departments, self._department_weights, strict=True)
        ]
        return rng.choices(self.departments, weights=weights)[0]

    def _agent_of(self, rng: random.Random, department: Document | None) -> Document:
        members = self._members[department["_id"]] if department is not None else self.agents
        return rng.choice(members)

    def _livechat(self, rng: random.Random, extra: random.Random, returning: list[Document]) -> Chat:
        """A livechat room; ``extra`` draws what the monitoring pages read, ``returning`` holds
        recent visitors, some of whom come back."""
        ts = self._created_at(rng)
        room_id = random_id(rng)
        visitor = _visitor(rng)
        if returning and extra.random() < _RETURNING:
            visitor = extra.choice(returning)
        else:
            returning.append(visitor)
            del returning[:-200]

        draw = rng.random()
        has_department_field = draw >= _NO_DEPARTMENT_FIELD
        department = None
        if draw >= _NO_DEPARTMENT_FIELD + _NULL_DEPARTMENT:
            department = self._first_department(rng, ts)

        # The chat as it would go on, then cut where it stands at ``now`` (or at its close).
        outcome = rng.choices(_OUTCOMES, weights=_OUTCOME_WEIGHTS)[0]
        served_at = _after(ts, 2 + rng.expovariate(1 / 45))
        replies: list[dt.datetime] = []
        if outcome in ("visitor-last", "answered"):
            reply = _after(served_at, 3 + rng.expovariate(1 / 40))
            for index in range(rng.randint(1, 10)):
                if index:
                    reply = _after(reply, rng.uniform(20, 240))
                replies.append(reply)
        visitor_wrote_at = _after(replies[-1], rng.uniform(10, 180)) if outcome == "visitor-last" else None
        if visitor_wrote_at is not None:
            last = visitor_wrote_at
        elif replies:
            last = replies[-1]
        else:
            last = served_at if outcome == "ignored" else ts
        # Who closes, and how long after the last message.
        closing = "visitor"
        if outcome == "answered":
            closing = rng.choices(_CLOSINGS, weights=_CLOSING_WEIGHTS)[0]
            if closing == "agent":
                quiet = rng.uniform(15, 1800)
            elif closing == "abandoned":
                # The inactivity job closes the room shortly after the timeout.
                quiet = INACTIVITY_TIMEOUT + rng.uniform(0, 300)
            else:
                quiet = rng.uniform(5, 120)
        elif outcome == "unserved":
            quiet = rng.uniform(60, 1800)  # the visitor gives up waiting
        else:
            closing = rng.choice(("visitor", "agent"))
            quiet = rng.uniform(60, 3600)
        close_at = _after(last, quiet)
        closed = close_at <= self.now and rng.random() >= _open_chance(self.now - ts)
        cut = close_at if closed else self.now

        served = outcome != "unserved" and served_at <= cut
        replies = [reply for reply in replies if reply <= cut] if served else []
        answered = bool(replies) and not (visitor_wrote_at is not None and visitor_wrote_at <= cut)

        transfers: list[Document] = []
        if department is not None and rng.random() < _TRANSFERRED_WITH_DEPARTMENT:
            # Before the first reply, so that the agent who answers is one of the final department.
            end = replies[0] if replies else cut
            transfers, department = self._transfers(rng, room_id, department, ts, end)
        agent = self._agent_of(rng, department)

        room: Document = {
            "_id": room_id,
            "fname": visitor["name"],
            "t": "l",
            "ts": ts,
            "v": {k: visitor[k] for k in ("_id", "username", "token")} | {"status": "online"},
            "cl": False,
            "source": _source(extra),
            "usersCount": 2 if served else 1,
            "msgs": 1 + len(replies) + (visitor_wrote_at is not None and visitor_wrote_at <= cut),
            "_updatedAt": cut,
        }
        if has_department_field:
            room["departmentId"] = department["_id"] if department is not None else None
        if not closed:
            room["open"] = True
            if served and extra.random() < _ON_HOLD:
                room["onHold"] = True
        if not answered:
            room["waitingResponse"] = True
        metrics: Document = {}
        assigned_at = served_at
        if served:
            # A transfer hands the room to an agent of the new department.
            assigned_at = max(served_at, transfers[-1]["ts"]) if transfers else served_at
            room["servedBy"] = {"_id": agent["_id"], "username": agent["username"], "ts": assigned_at}
        if replies:
            times = [_seconds(replies[0], ts)] + [_seconds(b, a) for a, b in itertools.pairwise(replies)]
            total = round(sum(times), 3)
            metrics["response"] = {
                "avg": round(total / len(times), 3),
                "fd": replies[0],
                "ft": times[0],
                "total": len(times),
                "tt": total,
            }
        if served:
            # The agent takes the chat (reacts) a little after it is offered.
            reacted = _after(served_at, extra.uniform(1, 30))
            if reacted <= cut:
                seconds = _seconds(reacted, ts)
                metrics["reaction"] = {"fd": reacted, "ft": seconds, "tt": seconds}
        if answered:
            room["responseBy"] = {
                "_id": agent["_id"],
                "username": agent["username"],
                "firstResponseTs": replies[0],
                "lastMessageTs": replies[-1],
            }
        if closed:
            room["closedAt"] = close_at
            metrics["chatDuration"] = _seconds(close_at, ts)
            if served:
                metrics["serviceTimeDuration"] = _seconds(close_at, assigned_at)
            if closing == "visitor":
                room["closer"] = "visitor"
                room["closedBy"] = {"_id": visitor["_id"], "username": visitor["username"]}
            else:
                room["closer"] = "user"
                closer = agent if closing == "agent" else _SYSTEM_USER
                room["closedBy"] = {"_id": closer["_id"], "username": closer["username"]}
                if answered:
                    # Rocket.Chat records how long the visitor stayed silent after the agent's last message.
                    metrics["visitorInactivity"] = _seconds(close_at, replies[-1])
            if rng.random() < 0.3:
                room["tags"] = rng.sample(_TAGS, rng.randint(1, 2))
        if metrics:
            room["metrics"] = metrics

        messages = transfers + self._ordinary_messages(rng, room, visitor, agent, replies)
        messages.sort(key=lambda message: message["ts"])
        return Chat(room, messages)

    def _transfers(
        self,
        rng: random.Random,
        room_id: str,
        department: Document,
        start: dt.datetime,
        end: dt.datetime,
    ) -> tuple[list[Document], Document]:
        """1 to 3 department transfers between ``start`` and ``end``; returns them and the final
        department."""
        span = (end - start) // _MILLISECOND
        if span < 3:
            return [], department
        count = rng.choices((1, 2, 3), weights=(70, 22, 8))[0]
        times = sorted(start + dt.timedelta(milliseconds=ms) for ms in rng.sample(range(1, span), count))
        enabled = [d for d in self.departments if d["enabled"]]
        transfers = []
        for ts in times:
            target = rng.choice([d for d in enabled if d is not department])
            transfers.append(self._transfer(rng, room_id, ts, department, target))
            department = target
        return transfers, department

    def _ordinary_messages(
        self,
        rng: random.Random,
        room: Document,
        visitor: Document,
        agent: Document,
        replies: list[dt.datetime],
    ) -> list[Document]:
        """A few of the other messages a livechat room holds, which the API must not count."""
        if rng.random() >= _MESSAGES_SHOWN:
            return []
        guest, staff = _author(visitor), _author(agent)
        navigated = room["ts"] - dt.timedelta(seconds=rng.randint(5, 300))
        messages = [
            _message(
                rng,
                room["_id"],
                navigated,
                guest,
                t="livechat_navigation_history",
                navigation={
                    "page": {"title": "Pricing", "location": {"href": "https://example.com/pricing"}}
                },
            ),
            _message(rng, room["_id"], room["ts"], guest, msg=rng.choice(_PHRASES), token=visitor["token"]),
        ]
        if replies:
            messages.append(_message(rng, room["_id"], replies[0], staff, msg=rng.choice(_PHRASES)))
        if "closedAt" in room:
            messages.append(
                _message(rng, room["_id"], room["closedAt"], room["closedBy"], t="livechat-close")
            )
        return messages

    def _other_room(self, rng: random.Random) -> Chat:
        """A channel or a direct message room between agents, with a few messages."""
        ts = self._created_at(rng)
        members = rng.sample(self.agents, 2)
        room: Document = {"_id": random_id(rng), "ts": ts, "_updatedAt": ts}
        if rng.random() < 0.6:
            name = f"{rng.choice(_CHANNELS)}-{rng.randrange(100, 1000)}"
            owner = members[0]
            room |= {
                "t": "c",
                "name": name,
                "fname": name,
                "u": {"_id": owner["_id"], "username": owner["username"]},
            }
        else:
            room |= {
                "t": "d",
                "usernames": [member["username"] for member in members],
                "uids": [member["_id"] for member in members],
            }
        span = (self.now - ts) // _MILLISECOND
        messages = [
            _message(
                rng,
                room["_id"],
                ts + dt.timedelta(milliseconds=rng.randrange(span + 1)),
                _author(author),
                msg=rng.choice(_PHRASES),
            )
            for author in rng.choices(members, k=rng.randint(1, 4))
        ]
        messages.sort(key=lambda message: message["ts"])
        room |= {"msgs": len(messages), "usersCount": 2}
        return Chat(room, messages)

    def _orphan_transfer(self, rng: random.Random) -> Document:
        previous, target = rng.sample([d for d in self.departments if d["enabled"]], 2)
        return self._transfer(rng, random_id(rng), self._created_at(rng), previous, target)

    def _transfer(
        self, rng: random.Random, room_id: str, ts: dt.datetime, previous: Document, target: Document
    ) -> Document:
        """The message of a transfer from ``previous`` to ``target``, made by an agent of ``previous``."""
        user = _author(self._agent_of(rng, previous))
        data: Document = {
            "transferredBy": {**user, "type": "agent"},
            "ts": ts,
            "scope": "department",
            "previousDepartment": previous["_id"],
            "nextDepartment": {"_id": target["_id"], "name": target["name"]},
        }
        if rng.random() < 0.4:
            data["comment"] = rng.choice(_COMMENTS)
        return _message(rng, room_id, ts, user, t=TRANSFER_MESSAGE, transferData=data)


def insert(
    database: Database,
    data: DemoData,
    *,
    batch_size: int = 1000,
    collection_prefix: str = config.COLLECTION_PREFIX,
    users_collection: str = config.USERS_COLLECTION,
    progress: Callable[[int], None] | None = None,
) -> Counts:
    """Write ``data`` into ``database`` (pymongo or mongomock), ``batch_size`` documents per
    ``insert_many``.

    The fixed documents (departments, users, the permission and the setting, the orphan transfers)
    only go where nothing is: one whose id or unique field is taken is left out, so a real
    Rocket.Chat database keeps its own. The rooms and their messages are inserted; when the first
    room is there already (this seed was written before), :class:`AlreadyInserted` is raised
    before anything is written.

    ``progress`` is called after each batch of rooms with the number of livechat rooms it held.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1.")
    if already_inserted(database, data, collection_prefix=collection_prefix):
        raise AlreadyInserted(f"The rooms of seed {data.seed} are already in this database.")
    names = Repository(database, collection_prefix=collection_prefix, users_collection=users_collection)
    fixed = data.fixed_documents()
    written = {
        collection: _insert_new(database[names.name(collection)], documents)
        for collection, documents in fixed.items()
    }
    counts = Counts(
        departments=written["department"],
        users=written["users"],
        messages=written["message"],
        transfers=written["message"],
        kept=sum(map(len, fixed.values())) - sum(written.values()),
    )
    rooms: list[Document] = []
    messages: list[Document] = []
    visitors: list[Document] = []
    seen: set[str] = set()
    livechat_rooms = 0

    def write_rooms() -> None:
        nonlocal livechat_rooms
        if rooms:
            database[names.name("room")].insert_many(rooms)
            rooms.clear()
        if progress is not None and livechat_rooms:
            progress(livechat_rooms)
        livechat_rooms = 0

    def write_messages() -> None:
        if messages:
            database[names.name("message")].insert_many(messages)
            messages.clear()
        if visitors:
            database[names.name("visitor")].insert_many(visitors)
            visitors.clear()

    for chat in data.chats():
        rooms.append(chat.room)
        messages.extend(chat.messages)
        counts.messages += len(chat.messages)
        if chat.room["t"] == "l":
            if chat.room["v"]["_id"] not in seen:
                seen.add(chat.room["v"]["_id"])
                visitors.append(visitor_of(chat.room))
                counts.visitors += 1
            counts.rooms += 1
            counts.transfers += len(chat.transfers)
            livechat_rooms += 1
        else:
            counts.other_rooms += 1
        if len(rooms) >= batch_size:
            write_rooms()
        if len(messages) >= batch_size:
            write_messages()
    write_rooms()
    write_messages()
    return counts


def already_inserted(
    database: Database, data: DemoData, *, collection_prefix: str = config.COLLECTION_PREFIX
) -> bool:
    """Whether the first room of ``data`` is in ``database``: then :func:`insert` would refuse."""
    first = next(data.chats(), None)
    rooms = database[Repository(database, collection_prefix=collection_prefix).name("room")]
    return first is not None and rooms.find_one({"_id": first.room["_id"]}, {"_id": 1}) is not None


def document_counts(database: Database, names: Repository) -> dict[str, int]:
    """How many documents each Rocket.Chat collection holds, by real name."""
    return {name: database[name].estimated_document_count() for name in names.names.values()}


def foreign_documents(database: Database, names: Repository) -> dict[str, int]:
    """The collections holding more documents than the recorded ``seed`` runs added, with how many
    more: empty for an empty database and for one that only ``seed`` wrote."""
    seeded: collections.Counter[str] = collections.Counter()
    for record in database[SEEDS_COLLECTION].find({}, {"added": 1}):
        added = record.get("added")
        if isinstance(added, dict):
            seeded.update({name: n for name, n in added.items() if isinstance(n, int)})
    counts = document_counts(database, names)
    return {name: n - seeded[name] for name, n in counts.items() if n > seeded[name]}


def record_seed(database: Database, seed: int, added: dict[str, int], *, now: dt.datetime) -> None:
    """Record that ``seed`` added ``added`` documents (by collection), for :func:`foreign_documents`."""
    database[SEEDS_COLLECTION].insert_one({"seed": seed, "added": added, "at": now})


def _insert_new(collection: Collection, documents: list[Document]) -> int:
    """Insert each document whose ``_id`` is free, and never touch one that is there: how many went in.

    One read for the ids taken and one unordered ``insert_many`` for the rest, so that a day-by-day
    collection (agent activity) costs two round trips, not one per document.
    """
    if not documents:
        return 0
    ids = [document["_id"] for document in documents]
    taken = {found["_id"] for found in collection.find({"_id": {"$in": ids}}, {"_id": 1})}
    fresh = [document for document in documents if document["_id"] not in taken]
    if not fresh:
        return 0
    try:
        return len(collection.insert_many(fresh, ordered=False).inserted_ids)
    except BulkWriteError as error:  # a unique field is taken, say the username of a real user
        return int(error.details.get("nInserted", 0))


def _department(rng: random.Random, name: str, enabled: bool, created: dt.datetime) -> Document:
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


def _agent(rng: random.Random, name: str, created: dt.datetime) -> Document:
    return {
        "_id": random_id(rng),
        "username": name.lower().replace(" ", "."),
        "name": name,
        "type": "user",
        "active": True,
        "roles": ["user", "livechat-agent"],
        "status": "online",
        "statusLivechat": "available",
        "createdAt": created,
        "_updatedAt": created,
    }


def _manager(created: dt.datetime, token: str) -> Document:
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


def _source(rng: random.Random) -> Document:
    """Where a chat came from: ``{type, alias?}``."""
    kind = rng.choices([kind for kind, _ in _SOURCES], weights=[weight for _, weight in _SOURCES])[0]
    return {"type": kind, **({"alias": _SOURCE_ALIASES[kind]} if kind in _SOURCE_ALIASES else {})}


def visitor_of(room: Document) -> Document:
    """The visitor document (``rocketchat_livechat_visitor``) of a livechat room's ``v``, as first
    seen in that room."""
    visitor = room["v"]
    return {
        "_id": visitor["_id"],
        "username": visitor["username"],
        "token": visitor["token"],
        "name": room["fname"],
        "ts": room["ts"],
        "_updatedAt": room["ts"],
        "department": room.get("departmentId"),
    }


def _visitor(rng: random.Random) -> Document:
    username = f"guest-{rng.randrange(1000, 100000)}"
    # Most visitors never tell their name.
    name = rng.choice(_VISITOR_NAMES) if rng.random() < 0.4 else username
    return {"_id": random_id(rng), "username": username, "name": name, "token": random_id(rng)}


def _message(
    rng: random.Random, room_id: str, ts: dt.datetime, user: Document, *, msg: str = "", **fields: Any
) -> Document:
    return {
        "_id": random_id(rng),
        "rid": room_id,
        "msg": msg,
        "ts": ts,
        "u": user,
        "_updatedAt": ts,
        **fields,
    }


def _author(user: Document) -> Document:
    """How a message names its author."""
    return {"_id": user["_id"], "username": user["username"], "name": user["name"]}


def _open_chance(age: dt.timedelta) -> float:
    """How likely a room that could have closed by now is still open: some recent chats go on."""
    if age < dt.timedelta(hours=6):
        return 0.35
    if age < dt.timedelta(days=1):
        return 0.12
    if age < dt.timedelta(days=3):
        return 0.03
    return 0.005


def _after(moment: dt.datetime, seconds: float) -> dt.datetime:
    return moment + dt.timedelta(milliseconds=round(seconds * 1000))


def _seconds(later: dt.datetime, earlier: dt.datetime) -> float:
    return (later - earlier) // _MILLISECOND / 1000
