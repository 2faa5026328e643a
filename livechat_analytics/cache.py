"""Answers kept for a few seconds: the one seam between the view and the computation.

:class:`Answers` keeps each computed body in a Flask-Caching backend (in-process by default, Redis or
Memcached when workers or hosts should share it) under a key made of everything the body depends
on, and lets a burst of identical requests wait for the first one's computation instead of each
running its own aggregate. The view calls it after authentication and the permission check, so a
kept answer never skips either (the HTTP caching headers, ``ETag`` and ``Cache-Control``, are
:mod:`.render`'s). :class:`Recent` is the short per-process memory of the permission and settings
reads.
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
from typing import Any

from .version import __version__

_log = logging.getLogger("livechat_analytics")
#: While the cache backend fails, a reminder is logged this often (seconds), not each request.
_WARN_INTERVAL = 60.0
#: How often a request polls the shared backend while another process computes its answer.
_POLL_FIRST, _POLL_LONGEST = 0.01, 0.1


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
        fields = {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
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


def cacheable(body: Any) -> bool:
    """Plain data is kept; an iterator (a streamed body) is not, as only one response can read it."""
    return isinstance(body, (dict, list))


class Answers:
    """Computed bodies, kept ``seconds`` in ``backend`` (a cachelib/Flask-Caching cache; None: off).

    ``scope`` sets apart the answers of different databases sharing one backend. ``wait`` bounds how
    long a request waits for another process's computation (the request deadline).
    """

    def __init__(self, backend: Any, *, seconds: int, scope: str = "", wait: float = 20.0) -> None:
        self.backend = backend if seconds > 0 else None
        self.seconds = seconds if backend is not None else 0
        self.scope = scope
        self.wait = wait
        self.release = __version__
        self._flights: dict[str, Future[tuple[bool, Any]]] = {}
        self._lock = threading.Lock()
        self._warned = 0.0

    def key(self, path: str, permission: str, query: Any, context: Any) -> str:
        """The key of an answer: the endpoint, the permission it needs, the validated query and the
        context (settings read, collection names, timezone), this database and this release."""
        digest = fingerprint([self.release, self.scope, permission, query, context])
        return f"{path}:{digest}"

    def compute(
        self, path: str, permission: str, query: Any, context: Any, compute: Callable[[], Any]
    ) -> Any:
        """The body of ``path`` for ``query``: a kept one, the one a concurrent identical request is
        computing, or ``compute()``'s."""
        if self.backend is None:
            return compute()
        key = self.key(path, permission, query, context)
        body = self._call("get", key)
        if body is not None:
            return body
        with self._lock:
            flight = self._flights.get(key)
            leading = flight is None
            if flight is None:
                flight = self._flights[key] = Future()
        if not leading:
            kept, body = flight.result(timeout=self.wait)
            return body if kept else compute()
        try:
            body = self._lead(key, compute)
        except BaseException as error:
            flight.set_exception(error)
            raise
        else:
            flight.set_result((cacheable(body), body))
            return body
        finally:
            with self._lock:
                del self._flights[key]

    def _lead(self, key: str, compute: Callable[[], Any]) -> Any:
        """Compute the answer once across the processes sharing the backend, as far as it allows:
        the first takes a lock with the backend's atomic ``add``, the others poll for its answer."""
        lock = key + ":computing"
        # The lock outlives no computation: each ends within the request deadline.
        expiry = max(1, int(self.wait) + 1)
        held = bool(self._call("add", lock, uuid.uuid4().hex, timeout=expiry, failed=True))
        if not held:
            body = self._await(key, lock)
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

    def _await(self, key: str, lock: str) -> Any:
        """The answer another process is computing, or None once its lock is gone without one (it
        failed) or the wait is over."""
        until = time.monotonic() + self.wait
        pause = _POLL_FIRST
        while time.monotonic() < until:
            time.sleep(pause)
            pause = min(pause * 2, _POLL_LONGEST)
            body = self._call("get", key)
            if body is not None or not self._call("has", lock):
                return body if body is not None else self._call("get", key)
        return None

    def _call(self, method: str, *args: Any, failed: Any = None, **kwargs: Any) -> Any:
        """A backend call; when the backend fails, the request goes on without it (logged)."""
        try:
            return getattr(self.backend, method)(*args, **kwargs)
        except Exception as error:  # a cache outage must not fail the request
            now = time.monotonic()
            if now - self._warned > _WARN_INTERVAL:
                self._warned = now
                _log.warning("The answer cache failed, answering without it: %.200r", error)
            return failed
