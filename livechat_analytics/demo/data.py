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

from .. import config
from ..auth import MANAGER_PERMISSION, hash_token
from ..endpoints.common import INACTIVITY_SETTING, TRANSFER_MESSAGE
from ..repository import Repository

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


class _Course(NamedTuple):
    """How a new chat would go on if nothing stopped it: drawn whole, then cut at ``now``."""

    outcome: str
    """One of :data:`_OUTCOMES`."""
    served_at: dt.datetime
    """When an agent takes the chat, unless it goes unserved."""
    replies: list[dt.datetime]
    """The agent's replies."""
    visitor_wrote_at: dt.datetime | None
    """When the visitor writes after the last reply: only in a ``visitor-last`` chat."""
    closing: str
    """Who closes it: one of :data:`_CLOSINGS`."""
    close_at: dt.datetime


class _Cut(NamedTuple):
    """Where a chat stands at its cut: its close, or ``now`` for a room still open."""

    closed: bool
    at: dt.datetime
    served: bool
    """Whether an agent took the chat before the cut."""
    replies: list[dt.datetime]
    """The agent's replies before the cut."""
    visitor_wrote_last: bool
    """Whether the visitor wrote again after the replies, before the cut."""


class _Livechat(NamedTuple):
    """A livechat room being built: who it brings together, and its chat as it stands at the cut."""

    room_id: str
    ts: dt.datetime
    visitor: Document
    has_department_field: bool
    department: Document | None
    """The room's department after its transfers."""
    agent: Document
    """The agent who serves the room, if an agent does."""
    course: _Course
    cut: _Cut
    transfers: list[Document]

    @property
    def answered(self) -> bool:
        """Whether the agent replied and the visitor has not written since, by the cut."""
        return bool(self.cut.replies) and not self.cut.visitor_wrote_last

    @property
    def assigned_at(self) -> dt.datetime:
        """When the agent got the room: a transfer hands it to an agent of the new department."""
        served_at = self.course.served_at
        return max(served_at, self.transfers[-1]["ts"]) if self.transfers else served_at


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
        self.now = _taken_at(now)
        self.room_count = rooms
        self.seed = seed
        self.days = days
        rng = random.Random(seed)
        # What the monitoring pages read draws on a stream of its own, so that the rooms and the
        # documents drawn from ``rng`` stay what they were before it was added.
        monitoring = random.Random(f"monitoring-{seed}")
        created = self.now - dt.timedelta(days=days + 30)
        self.departments: list[Document] = [
            _department(rng, name, enabled, created) for name, _, enabled in _DEPARTMENTS
        ]
        self._department_weights = [weight for _, weight, _ in _DEPARTMENTS]
        self.agents: list[Document] = [
            _agent(rng, name, created, _agent_state(monitoring)) for name in _AGENTS
        ]
        self._members = _members(rng, self.departments, self.agents)
        for department in self.departments:
            department["numAgents"] = len(self._members[department["_id"]])
        self.department_agents: list[Document] = _department_agents(
            monitoring, self.departments, self._members
        )
        """Who works in which department (``rocketchat_livechat_department_agents``)."""
        self.agent_activity: list[Document] = _agent_activity(monitoring, self.agents, self.now, days)
        """Each agent's available time per day (``rocketchat_livechat_agent_activity``)."""
        self.manager: Document = _manager(created, manager_token)
        self.permission: Document = {"_id": MANAGER_PERMISSION, "roles": list(config.DEFAULT_ROLES)}
        self.setting: Document = {"_id": INACTIVITY_SETTING, "value": INACTIVITY_TIMEOUT}
        self._day_weights = _day_weights(self.now, days)
        self._chat_seed = rng.getrandbits(64)
        self.orphan_transfers: list[Document] = [
            self._orphan_transfer(rng) for _ in range(math.ceil(rooms / 300))
        ]
        """Transfer messages of rooms that were deleted since: the API credits them to ``null``."""

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

    def _department_field(self, rng: random.Random, ts: dt.datetime) -> tuple[bool, Document | None]:
        """Whether a new room has the ``departmentId`` field, and its first department: some rooms
        lack the field, some hold null."""
        draw = rng.random()
        if draw < _NO_DEPARTMENT_FIELD + _NULL_DEPARTMENT:
            return draw >= _NO_DEPARTMENT_FIELD, None
        return True, self._first_department(rng, ts)

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
        """A livechat room with its messages; ``extra`` draws what the monitoring pages read,
        ``returning`` holds recent visitors, some of whom come back."""
        chat = self._new_livechat(rng, extra, returning)
        room = _livechat_room(rng, extra, chat)
        messages = chat.transfers + _ordinary_messages(rng, room, chat.visitor, chat.agent, chat.cut.replies)
        messages.sort(key=lambda message: message["ts"])
        return Chat(room, messages)

    def _new_livechat(self, rng: random.Random, extra: random.Random, returning: list[Document]) -> _Livechat:
        """Who a new livechat room brings together, and how its chat goes until it is cut."""
        ts = self._created_at(rng)
        room_id = random_id(rng)
        visitor = _returning_visitor(extra, returning, _visitor(rng))
        has_department_field, department = self._department_field(rng, ts)
        course = _course(rng, ts)
        cut = self._cut(rng, ts, course)
        transfers, department = self._transfers(rng, room_id, department, ts, cut)
        agent = self._agent_of(rng, department)
        return _Livechat(
            room_id, ts, visitor, has_department_field, department, agent, course, cut, transfers
        )

    def _cut(self, rng: random.Random, ts: dt.datetime, course: _Course) -> _Cut:
        """Where ``course`` stands at its close, or at ``now`` when the room is still open: some recent
        chats go on even though they could have closed."""
        closed = course.close_at <= self.now and rng.random() >= _open_chance(self.now - ts)
        at = course.close_at if closed else self.now
        served = course.outcome != "unserved" and course.served_at <= at
        wrote = course.visitor_wrote_at
        return _Cut(
            closed=closed,
            at=at,
            served=served,
            replies=[reply for reply in course.replies if reply <= at] if served else [],
            visitor_wrote_last=wrote is not None and wrote <= at,
        )

    def _transfers(
        self, rng: random.Random, room_id: str, department: Document | None, ts: dt.datetime, cut: _Cut
    ) -> tuple[list[Document], Document | None]:
        """Some rooms with a department are transferred 1 to 3 times, after ``ts`` and before the
        first reply (so that the agent who answers is one of the final department); returns the
        transfers and the final department."""
        if department is None or rng.random() >= _TRANSFERRED_WITH_DEPARTMENT:
            return [], department
        span = ((cut.replies[0] if cut.replies else cut.at) - ts) // _MILLISECOND
        if span < 3:
            return [], department
        count = rng.choices((1, 2, 3), weights=(70, 22, 8))[0]
        times = sorted(ts + dt.timedelta(milliseconds=ms) for ms in rng.sample(range(1, span), count))
        enabled = [d for d in self.departments if d["enabled"]]
        transfers = []
        for moment in times:
            target = rng.choice([d for d in enabled if d is not department])
            transfers.append(self._transfer(rng, room_id, moment, department, target))
            department = target
        return transfers, department

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
    counts = _insert_fixed(database, names, data.fixed_documents())
    writer = _ChatWriter(database, names, counts, batch_size=batch_size, progress=progress)
    for chat in data.chats():
        writer.add(chat)
    writer.flush()
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


def _insert_fixed(database: Database, names: Repository, fixed: dict[str, list[Document]]) -> Counts:
    """Write the fixed documents where nothing is, and count them: the orphan transfers are the
    messages written so far."""
    written = {
        collection: _insert_new(database[names.name(collection)], documents)
        for collection, documents in fixed.items()
    }
    return Counts(
        departments=written["department"],
        users=written["users"],
        messages=written["message"],
        transfers=written["message"],
        kept=sum(map(len, fixed.values())) - sum(written.values()),
    )


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


class _ChatWriter:
    """Writes the generated chats for :func:`insert` in batches, and adds them to ``counts``.

    The rooms go out when a batch of rooms is full, the messages (with the visitors met since) when
    a batch of messages is: a data set of any size is never held whole.
    """

    def __init__(
        self,
        database: Database,
        names: Repository,
        counts: Counts,
        *,
        batch_size: int,
        progress: Callable[[int], None] | None,
    ) -> None:
        self._database = database
        self._names = names
        self._counts = counts
        self._batch_size = batch_size
        self._progress = progress
        self._rooms: list[Document] = []
        self._livechat_rooms = 0  # of self._rooms, for progress
        self._messages: list[Document] = []
        self._visitors: list[Document] = []
        self._seen: set[str] = set()  # the visitors' ids, so that each is written once

    def add(self, chat: Chat) -> None:
        """Count ``chat`` and queue its documents; write the batches it fills."""
        self._rooms.append(chat.room)
        self._messages.extend(chat.messages)
        self._counts.messages += len(chat.messages)
        if chat.room["t"] == "l":
            self._add_livechat(chat)
        else:
            self._counts.other_rooms += 1
        if len(self._rooms) >= self._batch_size:
            self._write_rooms()
        if len(self._messages) >= self._batch_size:
            self._write_messages()

    def flush(self) -> None:
        """Write what is queued."""
        self._write_rooms()
        self._write_messages()

    def _add_livechat(self, chat: Chat) -> None:
        visitor_id = chat.room["v"]["_id"]
        if visitor_id not in self._seen:
            self._seen.add(visitor_id)
            self._visitors.append(visitor_of(chat.room))
            self._counts.visitors += 1
        self._counts.rooms += 1
        self._counts.transfers += len(chat.transfers)
        self._livechat_rooms += 1

    def _write_rooms(self) -> None:
        self._write("room", self._rooms)
        if self._progress is not None and self._livechat_rooms:
            self._progress(self._livechat_rooms)
        self._livechat_rooms = 0

    def _write_messages(self) -> None:
        self._write("message", self._messages)
        self._write("visitor", self._visitors)

    def _write(self, collection: str, documents: list[Document]) -> None:
        """One ``insert_many`` of the queued ``documents``, which it empties: none when there are none."""
        if documents:
            self._database[self._names.name(collection)].insert_many(documents)
            documents.clear()


def _taken_at(now: dt.datetime | None) -> dt.datetime:
    """When the data set is taken (default: the current time), in UTC and whole milliseconds: BSON
    dates hold milliseconds, so that stored and generated times stay equal."""
    now = dt.datetime.now(UTC) if now is None else now
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime.")
    return now.astimezone(UTC).replace(microsecond=now.microsecond // 1000 * 1000)


def _day_weights(now: dt.datetime, days: int) -> list[float]:
    """How busy each of the ``days`` days before ``now`` is, most recent first: busier weekdays, and
    a business that grows a little over the period."""
    return [
        _WEEKDAY_WEIGHTS[(now - dt.timedelta(days=ago)).weekday()] * (1.3 - 0.3 * ago / days)
        for ago in range(days)
    ]


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


def _agent(rng: random.Random, name: str, created: dt.datetime, state: tuple[str, str]) -> Document:
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


def _agent_state(rng: random.Random) -> tuple[str, str]:
    """An agent's ``status`` and ``statusLivechat`` now, weighted by :data:`_AGENT_STATES`."""
    states, weights = zip(*_AGENT_STATES, strict=True)
    state: tuple[str, str] = rng.choices(states, weights=weights)[0]
    return state


def _members(
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


def _department_agents(
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


def _agent_activity(
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


def _returning_visitor(rng: random.Random, returning: list[Document], visitor: Document) -> Document:
    """Now and then one of the ``returning`` recent visitors instead of the new ``visitor``, who
    otherwise joins them (the last 200 stay)."""
    if returning and rng.random() < _RETURNING:
        return rng.choice(returning)
    returning.append(visitor)
    del returning[:-200]
    return visitor


def _course(rng: random.Random, ts: dt.datetime) -> _Course:
    """How a chat opened at ``ts`` goes on, drawn whole: where it stands at ``now`` comes later."""
    outcome = rng.choices(_OUTCOMES, weights=_OUTCOME_WEIGHTS)[0]
    served_at = _after(ts, 2 + rng.expovariate(1 / 45))
    replies = _replies(rng, served_at) if outcome in ("visitor-last", "answered") else []
    visitor_wrote_at = _after(replies[-1], rng.uniform(10, 180)) if outcome == "visitor-last" else None
    if visitor_wrote_at is not None:
        last = visitor_wrote_at
    elif replies:
        last = replies[-1]
    else:
        last = served_at if outcome == "ignored" else ts
    closing, quiet = _closing(rng, outcome)
    return _Course(outcome, served_at, replies, visitor_wrote_at, closing, _after(last, quiet))


def _replies(rng: random.Random, served_at: dt.datetime) -> list[dt.datetime]:
    """When the agent who took a chat at ``served_at`` replies: 1 to 10 times."""
    replies = [_after(served_at, 3 + rng.expovariate(1 / 40))]
    for _ in range(rng.randint(1, 10) - 1):
        replies.append(_after(replies[-1], rng.uniform(20, 240)))
    return replies


def _closing(rng: random.Random, outcome: str) -> tuple[str, float]:
    """Who closes a chat of ``outcome`` (one of :data:`_CLOSINGS`), and how many seconds after its
    last message."""
    if outcome == "answered":
        closing = rng.choices(_CLOSINGS, weights=_CLOSING_WEIGHTS)[0]
        if closing == "agent":
            return closing, rng.uniform(15, 1800)
        if closing == "abandoned":
            # The inactivity job closes the room shortly after the timeout.
            return closing, INACTIVITY_TIMEOUT + rng.uniform(0, 300)
        return closing, rng.uniform(5, 120)
    if outcome == "unserved":
        return "visitor", rng.uniform(60, 1800)  # the visitor gives up waiting
    return rng.choice(("visitor", "agent")), rng.uniform(60, 3600)


def _livechat_room(rng: random.Random, extra: random.Random, chat: _Livechat) -> Document:
    """The room document of ``chat``: ``extra`` draws its source, whether it is on hold and when the
    agent reacted, ``rng`` its tags."""
    room = _room_fields(extra, chat)
    room |= _waiting_fields(extra, chat)
    room |= _agent_fields(chat)
    room |= _closed_fields(chat)
    if chat.cut.closed and rng.random() < 0.3:
        room["tags"] = rng.sample(_TAGS, rng.randint(1, 2))
    metrics = _metrics(extra, chat)
    if metrics:
        room["metrics"] = metrics
    return room


def _room_fields(rng: random.Random, chat: _Livechat) -> Document:
    """The fields every livechat room has, and ``departmentId`` where the room has that field."""
    visitor = chat.visitor
    room: Document = {
        "_id": chat.room_id,
        "fname": visitor["name"],
        "t": "l",
        "ts": chat.ts,
        "v": {k: visitor[k] for k in ("_id", "username", "token")} | {"status": "online"},
        "cl": False,
        "source": _source(rng),
        "usersCount": 2 if chat.cut.served else 1,
        "msgs": 1 + len(chat.cut.replies) + chat.cut.visitor_wrote_last,
        "_updatedAt": chat.cut.at,
    }
    if chat.has_department_field:
        room["departmentId"] = chat.department["_id"] if chat.department is not None else None
    return room


def _waiting_fields(rng: random.Random, chat: _Livechat) -> Document:
    """``open`` (and now and then ``onHold``) for a room still open, ``waitingResponse`` for one
    whose visitor waits for an answer."""
    fields: Document = {}
    if not chat.cut.closed:
        fields["open"] = True
        if chat.cut.served and rng.random() < _ON_HOLD:
            fields["onHold"] = True
    if not chat.answered:
        fields["waitingResponse"] = True
    return fields


def _agent_fields(chat: _Livechat) -> Document:
    """``servedBy`` for a room an agent took, ``responseBy`` for one the agent answered."""
    agent = chat.agent
    fields: Document = {}
    if chat.cut.served:
        fields["servedBy"] = {"_id": agent["_id"], "username": agent["username"], "ts": chat.assigned_at}
    if chat.answered:
        fields["responseBy"] = {
            "_id": agent["_id"],
            "username": agent["username"],
            "firstResponseTs": chat.cut.replies[0],
            "lastMessageTs": chat.cut.replies[-1],
        }
    return fields


def _closed_fields(chat: _Livechat) -> Document:
    """When a closed room closed, and who closed it: the visitor, the agent, or the inactivity job
    (Rocket.Chat's system user)."""
    if not chat.cut.closed:
        return {}
    if chat.course.closing == "visitor":
        closer, user = "visitor", chat.visitor
    else:
        closer, user = "user", (chat.agent if chat.course.closing == "agent" else _SYSTEM_USER)
    return {
        "closedAt": chat.course.close_at,
        "closer": closer,
        "closedBy": {"_id": user["_id"], "username": user["username"]},
    }


def _metrics(rng: random.Random, chat: _Livechat) -> Document:
    """The room's ``metrics``: how fast the agent responded and reacted, and how long a closed chat
    lasted."""
    metrics: Document = {}
    if chat.cut.replies:
        metrics["response"] = _response(chat.ts, chat.cut.replies)
    if chat.cut.served:
        # The agent takes the chat (reacts) a little after it is offered.
        reacted = _after(chat.course.served_at, rng.uniform(1, 30))
        if reacted <= chat.cut.at:
            seconds = _seconds(reacted, chat.ts)
            metrics["reaction"] = {"fd": reacted, "ft": seconds, "tt": seconds}
    if chat.cut.closed:
        metrics |= _durations(chat)
    return metrics


def _response(ts: dt.datetime, replies: list[dt.datetime]) -> Document:
    """``metrics.response`` of a room opened at ``ts``: the wait for each reply, the first's counted
    from the opening."""
    times = [_seconds(replies[0], ts)] + [_seconds(b, a) for a, b in itertools.pairwise(replies)]
    total = round(sum(times), 3)
    return {
        "avg": round(total / len(times), 3),
        "fd": replies[0],
        "ft": times[0],
        "total": len(times),
        "tt": total,
    }


def _durations(chat: _Livechat) -> Document:
    """The metrics of a closed room: how long the chat, the agent's service and the visitor's
    last silence lasted."""
    close_at = chat.course.close_at
    durations: Document = {"chatDuration": _seconds(close_at, chat.ts)}
    if chat.cut.served:
        durations["serviceTimeDuration"] = _seconds(close_at, chat.assigned_at)
    if chat.course.closing != "visitor" and chat.answered:
        # Rocket.Chat records how long the visitor stayed silent after the agent's last message.
        durations["visitorInactivity"] = _seconds(close_at, chat.cut.replies[-1])
    return durations


def _ordinary_messages(
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
            navigation={"page": {"title": "Pricing", "location": {"href": "https://example.com/pricing"}}},
        ),
        _message(rng, room["_id"], room["ts"], guest, msg=rng.choice(_PHRASES), token=visitor["token"]),
    ]
    if replies:
        messages.append(_message(rng, room["_id"], replies[0], staff, msg=rng.choice(_PHRASES)))
    if "closedAt" in room:
        messages.append(_message(rng, room["_id"], room["closedAt"], room["closedBy"], t="livechat-close"))
    return messages


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
