"""One process's watch over the live state, shared by every open stream of ``live/stream``.

The :class:`Hub` holds the open streams, each subscribed to a key: what its caller may see, the
department and whether the queue names departments. One thread of the hub, started with the first
stream and ended with the last, waits on a MongoDB change stream of the rooms, the inquiries and the
users (:func:`change_pipeline`), or, where the server has none (mongomock, a standalone mongod), on
a clock of ``poll_seconds``. A change marks every key dirty; the thread then computes each key once,
at most once per :data:`SPACING` seconds, however many streams share it, and hands each stream the
bodies that differ from what it was last sent. A database error ends every stream with an error
body.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pymongo
from pymongo.errors import OperationFailure, PyMongoError

log = logging.getLogger("livechat_analytics")

#: What a stream listens to: the caller's scope, the department and the queue's names flag.
Key = Hashable
#: The bodies of a key, by event name (``queue``, ``agents``), as the JSON endpoints answer them.
Bodies = Mapping[str, Mapping[str, Any]]
#: The event that ends a stream: the database failed.
ERROR = "error"
#: A key's bodies are computed, and a stream is sent events, at most once per this many seconds.
SPACING = 1.0
#: How long one wait for a change lasts on the server, in milliseconds: the longest the thread
#: takes to see that the last stream has gone, or that a marked key's second has come.
AWAIT_MS = 250
#: What changes the live state in the users collection: their presence, availability and roles.
USER_FIELDS = ("status", "statusLivechat", "roles", "livechat")
#: What changes the live state in a room: whether it is open, who serves it, on hold, its queue.
ROOM_FIELDS = ("open", "servedBy", "onHold", "departmentId", "queuedAt", "t")


class Full(Exception):
    """Every stream this process allows is open."""


@dataclass(frozen=True)
class Message:
    """One event of a stream: its name and its JSON body."""

    event: str
    data: Mapping[str, Any]


@dataclass(eq=False)
class Subscription:
    """One open stream: its key, the events waiting for it, and what it was last sent of each."""

    key: Key
    waiting: queue.SimpleQueue[Message] = field(default_factory=queue.SimpleQueue)
    sent: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    ready: bool = False
    ended: bool = False


def change_pipeline(names: Mapping[str, str]) -> list[dict[str, Any]]:
    """The ``$match`` of the changes that may change the live state: a livechat room inserted or
    replaced, a room's :data:`ROOM_FIELDS` set or removed, a room deleted; any inquiry; a user
    inserted, replaced or deleted, or their :data:`USER_FIELDS` set or removed. Messages, which
    update every room's last message, are left out."""

    def touched(fields: tuple[str, ...]) -> list[dict[str, Any]]:
        return [
            *({f"updateDescription.updatedFields.{name}": {"$exists": True}} for name in fields),
            {"updateDescription.removedFields": {"$in": list(fields)}},
        ]

    whole = {"operationType": {"$in": ["insert", "replace"]}}
    return [
        {
            "$match": {
                "$or": [
                    {"ns.coll": names["room"], **whole, "fullDocument.t": "l"},
                    {"ns.coll": names["room"], "operationType": "update", "$or": touched(ROOM_FIELDS)},
                    {"ns.coll": names["room"], "operationType": "delete"},
                    {"ns.coll": names["inquiry"]},
                    {"ns.coll": names["users"], "operationType": {"$in": ["insert", "replace", "delete"]}},
                    {"ns.coll": names["users"], "operationType": "update", "$or": touched(USER_FIELDS)},
                ]
            }
        }
    ]


def same(one: Mapping[str, Any] | None, other: Mapping[str, Any]) -> bool:
    """Whether two bodies say the same, whatever moment (``at``) each was taken at."""
    return one is not None and {**one, "at": None} == {**other, "at": None}


class Hub:
    """The open streams of one app in one process, and the thread that keeps them up to date.

    ``compute`` gives a key's bodies (it reads the database); ``watch`` opens a change stream (it
    raises where the server has none; None for a database that is not pymongo's, which is polled);
    ``failed`` says what the final ``error`` event of an error (the database's, or a fault) holds.
    ``deadline`` bounds each read, in seconds; ``counted`` is told the number of open streams
    whenever it changes, ``computed`` how many keys a round computed.
    """

    def __init__(
        self,
        compute: Callable[[Key], Bodies],
        watch: Callable[[], Any] | None,
        *,
        poll_seconds: float,
        max_streams: int,
        deadline: float,
        failed: Callable[[Exception], Mapping[str, Any]],
        counted: Callable[[int], Any] = lambda count: None,
        computed: Callable[[int], Any] = lambda count: None,
    ) -> None:
        self._compute, self._watch, self._failed, self._counted = compute, watch, failed, counted
        self._computed = computed
        self.poll_seconds, self.max_streams, self.deadline = poll_seconds, max_streams, deadline
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._streams: list[Subscription] = []
        self._thread: threading.Thread | None = None
        #: How many rounds of computation the thread made, and how many keys' bodies it computed in
        #: them, all keys together: :meth:`counts`.
        self._rounds = self._recomputations = 0
        #: Whether the running thread follows a change stream (False: it polls; None: not running).
        self.watching: bool | None = None

    @property
    def open_streams(self) -> int:
        """The streams open now."""
        with self._lock:
            return len(self._streams)

    def counts(self) -> tuple[int, int]:
        """The rounds of computation so far, and the keys' bodies computed in them."""
        with self._lock:
            return self._rounds, self._recomputations

    def subscribe(self, key: Key) -> Subscription:
        """Take a stream's place for ``key`` (:class:`Full` when none is left); it gets events once
        :meth:`start` hands it its first bodies."""
        with self._lock:
            if len(self._streams) >= self.max_streams:
                raise Full
            subscription = Subscription(key)
            self._streams.append(subscription)
            self._counted(len(self._streams))
            return subscription

    def start(self, subscription: Subscription, first: Bodies) -> None:
        """The stream was sent ``first``: from now on it gets what differs, and the thread runs."""
        with self._lock:
            subscription.sent.update(first)
            subscription.ready = True
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="livechat-analytics-live", daemon=True)
                self._thread.start()

    def unsubscribe(self, subscription: Subscription) -> None:
        """Free a stream's place: the client went, or the stream ended."""
        with self._lock:
            if subscription in self._streams:
                self._streams.remove(subscription)
                self._counted(len(self._streams))
        self._wake.set()

    def _serving(self) -> bool:
        """Whether a started stream is still open; if none, the thread is done."""
        with self._lock:
            if any(subscription.ready and not subscription.ended for subscription in self._streams):
                return True
            self._thread, self.watching = None, None
            return False

    def _run(self) -> None:
        try:
            changes = self._changes()
            self.watching = changes is not None
            try:
                self._follow(changes)
            finally:
                if changes is not None:
                    with contextlib.suppress(PyMongoError):
                        changes.close()
        except Exception as error:  # the database's, or a fault: either ends every stream, said
            self._fail(error)

    def _changes(self) -> Any:
        """A change stream, or None where the database has none."""
        if self._watch is None:
            return None
        try:
            with pymongo.timeout(self.deadline):
                return self._watch()
        except OperationFailure as error:
            if error.timeout:
                raise
            # A server without change streams: a standalone mongod says 40573.
            log.info(
                "no change streams (%s): reading the live state every %s s", error.code, self.poll_seconds
            )
            return None

    def _follow(self, changes: Any) -> None:
        """Until the last stream goes: wait for a change (or the poll), then recompute the keys,
        at most once per :data:`SPACING`."""
        dirty, last = False, time.monotonic()
        polled = last
        while self._serving():
            if changes is not None:
                with pymongo.timeout(self.deadline):
                    dirty = changes.try_next() is not None or dirty
            elif not dirty:
                if time.monotonic() - polled < self.poll_seconds:
                    self._sleep(polled + self.poll_seconds - time.monotonic())
                    continue
                dirty, polled = True, time.monotonic()
            early = last + SPACING - time.monotonic()
            if dirty and early > 0 and changes is None:
                self._sleep(early)
            elif dirty and early <= 0:
                self._recompute()
                dirty, last = False, time.monotonic()

    def _sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or until a stream goes."""
        self._wake.wait(max(0.0, seconds))
        self._wake.clear()

    def _recompute(self) -> None:
        """Compute each distinct key of the open streams once, and hand each stream what changed."""
        with self._lock:
            keys = list(dict.fromkeys(s.key for s in self._streams if s.ready and not s.ended))
        computed = {}
        for key in keys:
            with pymongo.timeout(self.deadline):
                computed[key] = self._compute(key)
        with self._lock:
            self._rounds += 1
            self._recomputations += len(computed)
            for subscription in self._streams:
                if subscription.key in computed and subscription.ready and not subscription.ended:
                    _hand(subscription, computed[subscription.key])
        self._computed(len(computed))

    def _fail(self, error: Exception) -> None:
        """End every stream with an ``error`` event saying what ``error`` means; the thread ends."""
        body = self._failed(error)
        with self._lock:
            for subscription in self._streams:
                if not subscription.ended:
                    subscription.ended = True
                    subscription.waiting.put(Message(ERROR, body))
            self._thread, self.watching = None, None


def _hand(subscription: Subscription, bodies: Bodies) -> None:
    """Queue the bodies that differ from what the stream was last sent."""
    for event, body in bodies.items():
        if not same(subscription.sent.get(event), body):
            subscription.sent[event] = body
            subscription.waiting.put(Message(event, body))
