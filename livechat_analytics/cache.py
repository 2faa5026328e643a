"""Answers kept for a few seconds: the one seam between the view and the computation.

:class:`Answers` keeps each computed body in a Flask-Caching backend (in-process by default, Redis or
Memcached when workers or hosts should share it) under a key made of everything the body depends
on, and lets a burst of identical requests wait for the first one's computation instead of each
running its own aggregate. The view calls it after authentication and the permission check, so a
kept answer never skips either (the HTTP caching headers, ``ETag`` and ``Cache-Control``, are
:mod:`.render`'s). No backend holds a request past its deadline: each call to a shared one is
bounded (:func:`backend_timeout`), a failing one is skipped for a while (:class:`Breaker`), and a
request waiting for another's answer stops at its own deadline (:class:`WaitTimeout`).
:class:`Recent` is the short per-process memory of the permission and settings reads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from pymongo.errors import ExecutionTimeout

from .version import __version__

_log = logging.getLogger("livechat_analytics")
#: How often a request polls the shared backend while another process computes its answer.
_POLL_FIRST, _POLL_LONGEST = 0.01, 0.1
#: Each call to a shared backend may take this share of the request deadline, within these bounds
#: (seconds): a healthy Redis answers in a millisecond, a frozen one costs a request this much once.
BACKEND_TIMEOUT_SHARE = 0.1
BACKEND_TIMEOUT_BOUNDS = (0.1, 0.5)
#: A request waiting for another's answer waits until its own deadline plus this (seconds): the
#: driver looks for a server every half second and may give up that long past the first request's
#: deadline, and a burst should answer what the first request answered (its 503, say), not a 504
#: of its own a moment before.
WAIT_GRACE = 0.5


class Recent:
    """Values read from the database, reused in this process for ``seconds`` after each read.

    Rocket.Chat itself keeps settings and permissions in memory; this keeps them for a few seconds,
    so that a change still takes effect within ``seconds``. With ``seconds`` 0 every call reads.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._values: dict[Hashable, tuple[float, Any]] = {}

    def get(self, key: Hashable, read: Callable[[], Any]) -> Any:
        """The value kept for ``key`` if it was read less than ``seconds`` ago, else ``read()``."""
        if self.seconds <= 0:
            return read()
        kept = self._values.get(key)
        now = time.monotonic()
        if kept is not None and now - kept[0] < self.seconds:
            return kept[1]
        value = read()
        self._values[key] = (now, value)
        return value


def fingerprint(value: Any) -> str:
    """A digest of ``value`` that is the same in every process: dataclasses field by field,
    mappings sorted, dates in ISO 8601, timezones by name."""
    text = json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {
            field.name: _plain(getattr(value, field.name))
            for field in dataclasses.fields(value)
            if field.metadata.get("key", True)
        }
        return {"__type__": type(value).__qualname__, **fields}
    if isinstance(value, Mapping):
        return {"__map__": sorted([str(key), _plain(item)] for key, item in value.items())}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return {"__set__": sorted(json.dumps(_plain(item), sort_keys=True) for item in value)}
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return {"__date__": value.isoformat()}
    if isinstance(value, dt.tzinfo):
        return {"__zone__": getattr(value, "key", None) or str(value)}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return {"__repr__": repr(value)}


def backend_timeout(deadline: float) -> float:
    """The socket and connect timeout of a shared backend's calls for a request ``deadline``
    (seconds): :data:`BACKEND_TIMEOUT_SHARE` of it, within :data:`BACKEND_TIMEOUT_BOUNDS`."""
    low, high = BACKEND_TIMEOUT_BOUNDS
    return min(high, max(low, deadline * BACKEND_TIMEOUT_SHARE))


def redis_options(deadline: float) -> dict[str, Any]:
    """The redis-py client options of the answer cache: every socket wait bounded by
    :func:`backend_timeout`, and one immediate retry of a dropped connection (a restarted server),
    none of a timeout, none with a pause (redis-py's own default retries ten times, backing off)."""
    import redis  # the ``redis`` extra: imported only when it is chosen

    seconds = backend_timeout(deadline)
    retry = redis.retry.Retry(redis.backoff.NoBackoff(), 1, supported_errors=(redis.ConnectionError,))
    return {"socket_timeout": seconds, "socket_connect_timeout": seconds, "retry": retry}


_LATE = "the answer another request is computing did not come within this request's deadline"


class WaitTimeout(ExecutionTimeout):
    """The request's deadline (and :data:`WAIT_GRACE`) passed while it waited for the answer
    another request computes: a 504, as the database's own time limit (``error.timeout`` is true)."""


class Breaker:
    """Skips a failing backend: after a failed call (an error or a timeout) no call is made for
    ``seconds``; then one call tries the backend while the others still skip it, and its success
    closes the breaker, its failure opens it again. Logged once when it opens, once when it closes."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._until: float | None = None  # None: closed
        self._opened = 0.0
        self._skipped = 0

    @property
    def open(self) -> bool:
        """Whether calls are being skipped or tried one at a time."""
        return self._until is not None

    def allows(self) -> bool:
        """Whether a call may go to the backend now (counted when not)."""
        if self._until is None:  # the usual case, without taking the lock
            return True
        now = time.monotonic()
        with self._lock:
            if self._until is None:
                return True
            if now < self._until:
                self._skipped += 1
                return False
            # This call tries the backend; the others skip it until it answers or fails.
            self._until = now + self.seconds
            return True

    def failed(self, error: Exception) -> None:
        """A call failed: skip the backend for ``seconds`` from now."""
        now = time.monotonic()
        with self._lock:
            opening = self._until is None
            self._until = now + self.seconds
            if opening:
                self._opened, self._skipped = now, 0
        if opening:
            # Not repr(): redis-py's errors show only their class there.
            _log.warning(
                "The answer cache failed, answering without it: %s: %.200s", type(error).__name__, error
            )

    def succeeded(self, started: float) -> None:
        """A call that began at ``started`` answered: close the breaker, unless the call began
        before it opened (a slow call from before the failure says nothing of the backend now)."""
        if self._until is None:
            return
        with self._lock:
            if self._until is None or started < self._opened:
                return
            self._until = None
            outage, skipped = time.monotonic() - self._opened, self._skipped
        _log.warning(
            "The answer cache answers again after %.1f s without it (%d calls skipped)", outage, skipped
        )


def cacheable(body: Any) -> bool:
    """Plain data is kept; an iterator (a streamed body) is not, as only one response can read it."""
    return isinstance(body, (dict, list))


class Answers:
    """Computed bodies, kept ``seconds`` in ``backend`` (a cachelib/Flask-Caching cache; None: off).

    ``scope`` sets apart the answers of different databases sharing one backend. ``wait`` is the
    request deadline, which bounds how long a request waits for another's computation when the
    caller names no deadline of its own. After a failed backend call the backend is skipped for
    ``breaker_seconds`` (:class:`Breaker`). ``looked_up`` is told, for each computation asked of a
    backend, whether a kept answer was found (a request that then waits for another's computation
    found none).
    """

    def __init__(
        self,
        backend: Any,
        *,
        seconds: int,
        scope: str = "",
        wait: float = 20.0,
        breaker_seconds: float = 10.0,
        looked_up: Callable[[bool], object] | None = None,
    ) -> None:
        self.backend = backend if seconds > 0 else None
        self.seconds = seconds if backend is not None else 0
        self.scope = scope
        self.wait = wait
        self.release = __version__
        self.breaker = Breaker(breaker_seconds)
        #: Told of each look-up whether it found a kept answer (the metrics' hits and misses).
        self.looked_up = looked_up or (lambda found: None)
        self._flights: dict[str, Future[tuple[bool, Any]]] = {}
        self._lock = threading.Lock()

    def key(self, path: str, permission: str, query: Any, context: Any) -> str:
        """The key of an answer: the endpoint, the permission it needs, the validated query and the
        context (settings read, collection names, timezone), this database and this release."""
        digest = fingerprint([self.release, self.scope, permission, query, context])
        return f"{path}:{digest}"

    def compute(
        self,
        path: str,
        permission: str,
        query: Any,
        context: Any,
        compute: Callable[[], Any],
        *,
        until: float | None = None,
        counted: bool = True,
    ) -> Any:
        """The body of ``path`` for ``query``: a kept one, the one a concurrent identical request is
        computing, or ``compute()``'s. ``until`` is the request's deadline (a ``time.monotonic()``
        instant; default: ``wait`` from now): a request waits for another's answer until then, plus
        :data:`WAIT_GRACE`, and no longer (:class:`WaitTimeout`); one waiting in this process gets
        what the first one got, its error included. ``counted``: the look-up is told to
        ``looked_up`` (an answer's; not a part of one, such as a room table)."""
        if self.backend is None:
            return compute()
        until = (time.monotonic() + self.wait if until is None else until) + WAIT_GRACE
        key = self.key(path, permission, query, context)
        body = self._call("get", key)
        if counted:
            self.looked_up(body is not None)
        if body is not None:
            return body
        with self._lock:
            flight = self._flights.get(key)
            leading = flight is None
            if flight is None:
                flight = self._flights[key] = Future()
        if not leading:
            kept, body = self._follow(flight, until)
            return body if kept else compute()
        try:
            body = self._lead(key, compute, until)
        except BaseException as error:
            flight.set_exception(error)
            raise
        else:
            flight.set_result((cacheable(body), body))
            return body
        finally:
            with self._lock:
                del self._flights[key]

    @staticmethod
    def _follow(flight: Future[tuple[bool, Any]], until: float) -> tuple[bool, Any]:
        """What the first request of this process got, raised if it failed; a :class:`WaitTimeout`
        if that takes longer than this request's deadline."""
        try:
            return flight.result(timeout=max(0.0, until - time.monotonic()))
        except FutureTimeout:
            raise WaitTimeout(_LATE) from None

    def _lead(self, key: str, compute: Callable[[], Any], until: float) -> Any:
        """Compute the answer once across the processes sharing the backend, as far as it allows:
        the first takes a lock with the backend's atomic ``add``, the others poll for its answer."""
        lock = key + ":computing"
        # The lock outlives no computation: each ends within the request deadline.
        expiry = max(1, int(self.wait) + 1)
        held = bool(self._call("add", lock, uuid.uuid4().hex, timeout=expiry, failed=True))
        if not held:
            body = self._await(key, lock, until)
            if body is not None:
                return body
        try:
            body = compute()
            if cacheable(body):
                self._call("set", key, body, timeout=self.seconds)
            return body
        finally:
            if held:
                self._call("delete", lock)

    def _await(self, key: str, lock: str, until: float) -> Any:
        """The answer another process is computing, or None once its lock is gone without one (it
        failed) or the backend fails; a :class:`WaitTimeout` at ``until``."""
        pause = _POLL_FIRST
        while True:
            left = until - time.monotonic()
            if left <= 0:
                raise WaitTimeout(_LATE)
            time.sleep(min(pause, left))
            pause = min(pause * 2, _POLL_LONGEST)
            body = self._call("get", key)
            if body is not None or not self._call("has", lock):
                return body if body is not None else self._call("get", key)

    def kept(self, keys: list[str]) -> list[Any]:
        """The values kept under ``keys`` (None for each one not kept), in one backend call; all
        None when the backend is off or fails."""
        if self.backend is None or not keys:
            return [None] * len(keys)
        found = self._call("get_many", *keys)
        return list(found) if found is not None else [None] * len(keys)

    def keep(self, values: Mapping[str, Any], seconds: int) -> None:
        """Keep ``values`` by key for ``seconds``, in one backend call (nothing when it is off)."""
        if self.backend is not None and values:
            self._call("set_many", dict(values), timeout=seconds)

    def _call(self, method: str, *args: Any, failed: Any = None, **kwargs: Any) -> Any:
        """A backend call, unless the :class:`Breaker` skips the backend; when the call fails, the
        request goes on without it and the breaker opens."""
        if not self.breaker.allows():
            return failed
        started = time.monotonic()
        try:
            answer = getattr(self.backend, method)(*args, **kwargs)
        except Exception as error:  # a cache outage must not fail the request
            self.breaker.failed(error)
            return failed
        self.breaker.succeeded(started)
        return answer
