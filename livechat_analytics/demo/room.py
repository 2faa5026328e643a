"""One livechat room as Rocket.Chat stores it: how its chat goes (drawn whole, then cut at ``now``),
the room document with its metrics, its visitor, and the ordinary messages it holds besides."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from typing import NamedTuple

from .. import config
from .document import MILLISECOND, Chat, Document, author, new_message, random_id

#: The ``Livechat_visitor_inactivity_timeout`` the data set stores, in seconds: Rocket.Chat's default.
INACTIVITY_TIMEOUT = config.INACTIVITY_TIMEOUT

_VISITOR_NAMES = ("Alex", "Maria", "John", "Priya", "Lucas", "Sofia", "Wei", "Fatima", "Noah", "Olga")
_MESSAGES_SHOWN = 0.25  # rooms that also get some ordinary messages

# What happens to a new chat, weighted: about 15% end up unanswered (waitingResponse).
_OUTCOMES = ("unserved", "ignored", "visitor-last", "answered")
_OUTCOME_WEIGHTS = (4, 4, 7, 85)
# How an answered chat closes. About 12% of these are the ~10% abandoned rooms of the data set.
_CLOSINGS = ("visitor", "agent", "abandoned")
_CLOSING_WEIGHTS = (35, 53, 12)

_TAGS = ("pricing", "bug", "refund", "login", "feedback", "upgrade")
#: What people write.
PHRASES = (
    "Hi, I need some help",
    "Hello! How can I help you today?",
    "Can you check my order?",
    "Thanks, that solved it",
    "Let me look into that for you",
    "Is there a discount for yearly plans?",
)
_SYSTEM_USER = {"_id": "rocket.cat", "username": "rocket.cat"}

# Where chats come from, weighted, and the alias each channel shows.
_SOURCES = (("widget", 70), ("email", 12), ("sms", 8), ("api", 10))
_SOURCE_ALIASES = {"email": "support@example.com", "sms": "+1 555 0100", "api": "crm-integration"}
_ON_HOLD = 0.2  # of the open, served rooms
_RETURNING = 0.2  # rooms whose visitor chatted before


class Course(NamedTuple):
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


class Cut(NamedTuple):
    """Where a chat stands at its cut: its close, or ``now`` for a room still open."""

    closed: bool
    at: dt.datetime
    served: bool
    """Whether an agent took the chat before the cut."""
    replies: list[dt.datetime]
    """The agent's replies before the cut."""
    visitor_wrote_last: bool
    """Whether the visitor wrote again after the replies, before the cut."""


class Livechat(NamedTuple):
    """A livechat room being built: who it brings together, and its chat as it stands at the cut."""

    room_id: str
    ts: dt.datetime
    visitor: Document
    has_department_field: bool
    department: Document | None
    """The room's department after its transfers."""
    agent: Document
    """The agent who serves the room, if an agent does."""
    course: Course
    cut: Cut
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


def inquiry_of(chat: Chat) -> Document | None:
    """The inquiry (``rocketchat_livechat_inquiry``) of a livechat room waiting in the queue (open,
    nobody serving it), queued when it was created or last transferred; None for any other room."""
    room = chat.room
    if room.get("t") != "l" or room.get("open") is not True or "servedBy" in room:
        return None
    queued_at = max([room["ts"], *(transfer["ts"] for transfer in chat.transfers)])
    return {
        "_id": random_id(random.Random(room["_id"])),
        "rid": room["_id"],
        "name": room["fname"],
        "ts": room["ts"],
        "queuedAt": queued_at,
        "status": "queued",
        "t": "l",
        "v": room["v"],
        "department": room.get("departmentId"),
        "_updatedAt": queued_at,
    }


def new_visitor(rng: random.Random) -> Document:
    """A visitor new to the data set, as a room's ``v`` names it (with ``name`` for ``fname``)."""
    username = f"guest-{rng.randrange(1000, 100000)}"
    # Most visitors never tell their name.
    name = rng.choice(_VISITOR_NAMES) if rng.random() < 0.4 else username
    return {"_id": random_id(rng), "username": username, "name": name, "token": random_id(rng)}


def returning_visitor(rng: random.Random, returning: list[Document], visitor: Document) -> Document:
    """Now and then one of the ``returning`` recent visitors instead of the new ``visitor``, who
    otherwise joins them (the last 200 stay)."""
    if returning and rng.random() < _RETURNING:
        return rng.choice(returning)
    returning.append(visitor)
    del returning[:-200]
    return visitor


def draw_course(rng: random.Random, ts: dt.datetime) -> Course:
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
    return Course(outcome, served_at, replies, visitor_wrote_at, closing, _after(last, quiet))


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


def cut_course(rng: random.Random, ts: dt.datetime, course: Course, now: dt.datetime) -> Cut:
    """Where ``course`` (of a chat opened at ``ts``) stands at its close, or at ``now`` when the room
    is still open: some recent chats go on even though they could have closed."""
    closed = course.close_at <= now and rng.random() >= _open_chance(now - ts)
    at = course.close_at if closed else now
    served = course.outcome != "unserved" and course.served_at <= at
    wrote = course.visitor_wrote_at
    return Cut(
        closed=closed,
        at=at,
        served=served,
        replies=[reply for reply in course.replies if reply <= at] if served else [],
        visitor_wrote_last=wrote is not None and wrote <= at,
    )


def livechat_room(rng: random.Random, extra: random.Random, chat: Livechat) -> Document:
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


def _room_fields(rng: random.Random, chat: Livechat) -> Document:
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


def _waiting_fields(rng: random.Random, chat: Livechat) -> Document:
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


def _agent_fields(chat: Livechat) -> Document:
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


def _closed_fields(chat: Livechat) -> Document:
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


def _metrics(rng: random.Random, chat: Livechat) -> Document:
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


def _durations(chat: Livechat) -> Document:
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


def ordinary_messages(
    rng: random.Random,
    room: Document,
    visitor: Document,
    agent: Document,
    replies: list[dt.datetime],
) -> list[Document]:
    """A few of the other messages a livechat room holds, which the API must not count."""
    if rng.random() >= _MESSAGES_SHOWN:
        return []
    guest, staff = author(visitor), author(agent)
    navigated = room["ts"] - dt.timedelta(seconds=rng.randint(5, 300))
    messages = [
        new_message(
            rng,
            room["_id"],
            navigated,
            guest,
            t="livechat_navigation_history",
            navigation={"page": {"title": "Pricing", "location": {"href": "https://example.com/pricing"}}},
        ),
        new_message(rng, room["_id"], room["ts"], guest, msg=rng.choice(PHRASES), token=visitor["token"]),
    ]
    if replies:
        messages.append(new_message(rng, room["_id"], replies[0], staff, msg=rng.choice(PHRASES)))
    if "closedAt" in room:
        messages.append(new_message(rng, room["_id"], room["closedAt"], room["closedBy"], t="livechat-close"))
    return messages


def _source(rng: random.Random) -> Document:
    """Where a chat came from: ``{type, alias?}``."""
    kind = rng.choices([kind for kind, _ in _SOURCES], weights=[weight for _, weight in _SOURCES])[0]
    return {"type": kind, **({"alias": _SOURCE_ALIASES[kind]} if kind in _SOURCE_ALIASES else {})}


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
    return (later - earlier) // MILLISECOND / 1000
