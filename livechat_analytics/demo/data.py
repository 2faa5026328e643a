"""The data set, :class:`DemoData`: its fixed documents, and its rooms generated one by one.

Here is drawn where each room goes (when it opens, its department and agent, its transfers) and
now and then a channel or a direct message room; the livechat room itself is drawn by :mod:`.room`,
the people and teams by :mod:`.staff`.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator

from .. import config
from ..auth import MANAGER_PERMISSION
from ..endpoints.common import INACTIVITY_SETTING, TRANSFER_MESSAGE
from .document import MILLISECOND, UTC, Chat, Document, author, new_message, random_id
from .room import (
    INACTIVITY_TIMEOUT,
    PHRASES,
    Cut,
    Livechat,
    cut_course,
    draw_course,
    livechat_room,
    new_visitor,
    ordinary_messages,
    returning_visitor,
)
from .service import NIGHT_DESK, business_hours, policies, priorities, service_fields
from .staff import (
    MANAGER_TOKEN,
    MAX_CHATS,
    MAX_CHATS_SETTING,
    agent_activity,
    department_agents,
    draw_agent_state,
    draw_maximums,
    draw_members,
    new_agent,
    new_department,
    new_manager,
)
from .survey import survey_fields

#: Livechat rooms generated when nobody says how many.
DEFAULT_ROOMS = 3000
DEFAULT_SEED = 1
#: Rooms are created over this many days before ``now``.
DAYS = 90

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

# Shares of all livechat rooms.
_NO_DEPARTMENT_FIELD = 0.08
_NULL_DEPARTMENT = 0.04
_TRANSFERRED = 0.12
# Only rooms with a department are transferred (from it to another).
_TRANSFERRED_WITH_DEPARTMENT = _TRANSFERRED / (1 - _NO_DEPARTMENT_FIELD - _NULL_DEPARTMENT)
_OTHER_ROOM = 0.04  # a channel or direct message room after this share of livechat rooms

# Chats per hour of the day (UTC) and per weekday (Monday first): business hours dominate.
_HOUR_WEIGHTS = (1, 1, 1, 1, 1, 1, 2, 3, 6, 10, 10, 10, 7, 10, 10, 10, 10, 7, 4, 2, 2, 2, 1, 1)
_WEEKDAY_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 0.95, 0.35, 0.25)

_COMMENTS = (
    "Customer asks about an invoice",
    "Needs a technical answer",
    "Wants a quote",
    "Account setup question",
)
_CHANNELS = ("general", "support-team", "sales-floor", "random", "announcements")


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
            new_department(rng, name, enabled, created) for name, _, enabled in _DEPARTMENTS
        ]
        self._department_weights = [weight for _, weight, _ in _DEPARTMENTS]
        self.agents: list[Document] = [
            new_agent(rng, name, created, draw_agent_state(monitoring)) for name in _AGENTS
        ]
        # The live state draws on a stream of its own too.
        draw_maximums(random.Random(f"live-{seed}"), self.agents)
        self._members = draw_members(rng, self.departments, self.agents)
        for department in self.departments:
            department["numAgents"] = len(self._members[department["_id"]])
        self.department_agents: list[Document] = department_agents(
            monitoring, self.departments, self._members
        )
        """Who works in which department (``rocketchat_livechat_department_agents``)."""
        self.agent_activity: list[Document] = agent_activity(monitoring, self.agents, self.now, days)
        """Each agent's available time per day (``rocketchat_livechat_agent_activity``)."""
        self.manager: Document = new_manager(created, manager_token)
        self.permission: Document = {"_id": MANAGER_PERMISSION, "roles": list(config.DEFAULT_ROLES)}
        self.setting: Document = {"_id": INACTIVITY_SETTING, "value": INACTIVITY_TIMEOUT}
        self.max_chats_setting: Document = {"_id": MAX_CHATS_SETTING, "value": MAX_CHATS}
        """The most chats an agent without a maximum of their own takes at once."""
        self._day_weights = _day_weights(self.now, days)
        self._chat_seed = rng.getrandbits(64)
        self.orphan_transfers: list[Document] = [
            self._orphan_transfer(rng) for _ in range(math.ceil(rooms / 300))
        ]
        """Transfer messages of rooms that were deleted since: the API credits them to ``null``."""
        # The service levels draw on a stream of their own too, which leaves the rest as it was.
        levels = random.Random(f"service-levels-{seed}")
        self.business_hours: list[Document] = business_hours(levels, created)
        """The default schedule, then the custom one of the department that names it."""
        self.policies: list[Document] = policies(levels, created)
        """The SLA policies (``rocketchat_omnichannel_service_level_agreements``)."""
        self.priorities: list[Document] = priorities(levels, created)
        """The priorities (``rocketchat_livechat_priority``)."""
        night_desk = next(department for department in self.departments if department["name"] == NIGHT_DESK)
        night_desk["businessHourId"] = self.business_hours[1]["_id"]

    def fixed_documents(self) -> dict[str, list[Document]]:
        """Every document but the rooms' and the visitors', by collection (the keys of
        :meth:`Repository.name`, and ``priority``, a collection the API does not read)."""
        return {
            "department": self.departments,
            "users": [*self.agents, self.manager],
            "permissions": [self.permission],
            "settings": [self.setting, self.max_chats_setting],
            "message": self.orphan_transfers,
            "department_agents": self.department_agents,
            "agent_activity": self.agent_activity,
            "business_hours": self.business_hours,
            "sla": self.policies,
            "priority": self.priorities,
        }

    def chats(self) -> Iterator[Chat]:
        """The rooms with their messages, generated one by one: the livechat rooms, and now and then
        a channel or a direct message room."""
        rng = random.Random(self._chat_seed)
        extra = random.Random(self._chat_seed + 1)
        levels = random.Random(f"room-service-levels-{self.seed}")
        # The ratings draw on a stream of their own, which leaves the rest as it was.
        ratings = random.Random(f"room-ratings-{self.seed}")
        returning: list[Document] = []
        for _ in range(self.room_count):
            chat = self._livechat(rng, extra, returning)
            chat.room.update(service_fields(levels, self.policies, self.priorities))
            chat.room.update(survey_fields(ratings, chat.room))
            yield chat
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
        room = livechat_room(rng, extra, chat)
        messages = chat.transfers + ordinary_messages(rng, room, chat.visitor, chat.agent, chat.cut.replies)
        messages.sort(key=lambda message: message["ts"])
        return Chat(room, messages)

    def _new_livechat(self, rng: random.Random, extra: random.Random, returning: list[Document]) -> Livechat:
        """Who a new livechat room brings together, and how its chat goes until it is cut."""
        ts = self._created_at(rng)
        room_id = random_id(rng)
        visitor = returning_visitor(extra, returning, new_visitor(rng))
        has_department_field, department = self._department_field(rng, ts)
        course = draw_course(rng, ts)
        cut = cut_course(rng, ts, course, self.now)
        transfers, department = self._transfers(rng, room_id, department, ts, cut)
        agent = self._agent_of(rng, department)
        return Livechat(
            room_id, ts, visitor, has_department_field, department, agent, course, cut, transfers
        )

    def _transfers(
        self, rng: random.Random, room_id: str, department: Document | None, ts: dt.datetime, cut: Cut
    ) -> tuple[list[Document], Document | None]:
        """Some rooms with a department are transferred 1 to 3 times, after ``ts`` and before the
        first reply (so that the agent who answers is one of the final department); returns the
        transfers and the final department."""
        if department is None or rng.random() >= _TRANSFERRED_WITH_DEPARTMENT:
            return [], department
        span = ((cut.replies[0] if cut.replies else cut.at) - ts) // MILLISECOND
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
        span = (self.now - ts) // MILLISECOND
        messages = [
            new_message(
                rng,
                room["_id"],
                ts + dt.timedelta(milliseconds=rng.randrange(span + 1)),
                author(writer),
                msg=rng.choice(PHRASES),
            )
            for writer in rng.choices(members, k=rng.randint(1, 4))
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
        user = author(self._agent_of(rng, previous))
        data: Document = {
            "transferredBy": {**user, "type": "agent"},
            "ts": ts,
            "scope": "department",
            "previousDepartment": previous["_id"],
            "nextDepartment": {"_id": target["_id"], "name": target["name"]},
        }
        if rng.random() < 0.4:
            data["comment"] = rng.choice(_COMMENTS)
        return new_message(rng, room_id, ts, user, t=TRANSFER_MESSAGE, transferData=data)


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
