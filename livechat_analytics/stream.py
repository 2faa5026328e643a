"""``GET <root>/live/stream``: the live queue and agents as Server-Sent Events.

The caller is authorized and the query parsed as for ``live/queue`` (same permission, same scope,
same parameters, the same JSON errors), and a place is taken among the process's
``LIVE_MAX_STREAMS`` (a JSON 503 with ``Retry-After`` past them). The first ``queue`` and
``agents`` events are computed in the request, within its deadline, so that a database error is
still the usual JSON error; after them the app's :class:`~.live_watch.Hub` hands the stream each
body that changed, and a ``: ping`` comment goes out every :data:`PING_SECONDS` of silence. Its rule
takes every method and answers OPTIONS and 405 itself, as the dashboard page's does.
"""

from __future__ import annotations

import json
import logging
import queue
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any, NamedTuple, cast

import pymongo
from flask import Flask, Response, current_app, request
from flask.blueprints import BlueprintSetupState
from pymongo.database import Database
from pymongo.errors import PyMongoError
from werkzeug.routing import Rule

from . import config, errors, page, views
from .auth import Scope
from .endpoints import ENDPOINTS
from .endpoints.live import agents_state, queue_state
from .live_watch import AWAIT_MS, ERROR, Bodies, Full, Hub, Key, Subscription, change_pipeline
from .state import State, current

#: Where the stream is, under the analytics root.
PATH = "live/stream"
#: The endpoints whose bodies the stream's events carry, by event name; the stream takes the
#: queue's parameters and permission.
EVENTS = {"queue": "live/queue", "agents": "live/agents"}
QUEUE = EVENTS["queue"]
#: Seconds of silence after which a ``: ping`` comment goes out: proxies keep the connection, and a
#: client that went is found out when the comment cannot be written.
PING_SECONDS = 15.0
#: Seconds between two checks of a stream's caller: a token revoked, a permission or a unit taken
#: away ends their stream within this (and a ping's wait), with an ``error`` event.
RECHECK_SECONDS = 15.0
#: The ``error`` event's words when a monitor's units changed while their stream was open.
SCOPE_CHANGED = "What you may see has changed; open the stream again."

log = logging.getLogger("livechat_analytics")


class Watched(NamedTuple):
    """What a stream listens to: streams of the same share one computation."""

    scope: Scope | None
    department_id: str | None
    names: bool


def live_stream() -> Response:
    """The stream, for GET and HEAD, to an authorized caller."""
    return page.answer("live stream", opened)


def opened() -> Response:
    """Authorize, parse, take a place, send the first events: a stream, or the JSON error."""
    state = current()
    assert state.hub is not None  # every app's state has one
    with pymongo.timeout(state.deadline):
        scope = views.authorize(state, ENDPOINTS[QUEUE])
        query = views.parse(state, QUEUE)
        key = Watched(scope, query.department_id, bool(getattr(query, "names", False)))
        try:
            subscription = state.hub.subscribe(key)
        except Full:
            return errors.too_many_streams()
        try:
            first = bodies(state, key)
        except BaseException:
            state.hub.unsubscribe(subscription)
            raise
    errors.database_answered()
    state.hub.start(subscription, first)
    recheck = Recheck(current_app._get_current_object(), dict(request.environ), scope)  # type: ignore[attr-defined]
    response = Response(Events(state.hub, subscription, first, recheck), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on as it comes
    return response


def bodies(state: State, key: Key) -> dict[str, Mapping[str, Any]]:
    """The ``queue`` and ``agents`` bodies of a :class:`Watched` key, exactly as ``live/queue`` and
    ``live/agents`` answer them, serialized by their schemas."""
    watched = cast(Watched, key)
    context = state.context(ENDPOINTS[QUEUE], watched.scope)
    named = replace(context, department_names=True) if watched.names else context
    computed = {
        "queue": queue_state(watched.department_id, named, state.repository),
        "agents": agents_state(watched.department_id, context, state.repository),
    }
    return {
        event: ENDPOINTS[EVENTS[event]].response.dump({**body, "success": True})
        for event, body in computed.items()
    }


def frame(event: str, data: Mapping[str, Any]) -> str:
    """One Server-Sent Event: its name, and its body as one line of JSON."""
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


class Recheck:
    """Whether a stream's caller may still see what it sends: asked again every
    :data:`RECHECK_SECONDS`, with the headers the stream was opened with, as a request would."""

    def __init__(self, app: Flask, environ: dict[str, Any], scope: Scope | None) -> None:
        self._app, self._environ, self._scope = app, environ, scope

    def refused(self) -> Mapping[str, Any] | None:
        """The body of the ``error`` event that ends the stream (logged out, the permission gone,
        another scope, the database's trouble), or None: carry on."""
        with self._app.request_context(self._environ):
            state = current()
            try:
                with pymongo.timeout(state.deadline):
                    user = state.authenticator.authenticate(request)
                    if user is None:
                        return errors.not_logged_in().body
                    if not state.authenticator.authorize(user, ENDPOINTS[QUEUE].permission):
                        return errors.unauthorized().body
                    if state.scope(user) != self._scope:
                        return errors.failure(SCOPE_CHANGED, "scope-changed")
            except PyMongoError as error:
                return errors.database_trouble(error)[1]
        return None


class Events:
    """What a stream sends: the first bodies, then each change and the pings, until an ``error``
    event or the client goes; the caller is checked again every :data:`RECHECK_SECONDS`
    (:class:`Recheck`). :meth:`close` (called by the WSGI server however the response ends, even
    unread) frees the stream's place."""

    def __init__(self, hub: Hub, subscription: Subscription, first: Bodies, recheck: Recheck) -> None:
        self._hub, self._subscription, self._first, self._recheck = hub, subscription, first, recheck

    def __iter__(self) -> Iterator[str]:
        for event, body in self._first.items():
            yield frame(event, body)
        checked = time.monotonic()
        while True:
            try:
                message = self._subscription.waiting.get(timeout=PING_SECONDS)
            except queue.Empty:
                message = None
            if time.monotonic() - checked >= RECHECK_SECONDS:
                refused, checked = self._recheck.refused(), time.monotonic()
                if refused is not None:
                    yield frame(ERROR, refused)
                    return
            if message is None:
                yield ": ping\n\n"
                continue
            yield frame(message.event, message.data)
            if message.event == ERROR:
                return

    def close(self) -> None:
        """Free the stream's place."""
        self._hub.unsubscribe(self._subscription)


def hub(app: Flask, state: State) -> Hub:
    """The app's hub of streams, with its settings; no thread runs until the first stream."""
    settings = app.config

    def failed(error: Exception) -> Mapping[str, Any]:
        with app.app_context():
            if isinstance(error, PyMongoError):
                return errors.database_trouble(error)[1]
        log.error("the live stream's watch failed", exc_info=error)
        return errors.failure(views.UNEXPECTED)

    def counted(streams: int) -> None:
        if state.metrics is not None:
            state.metrics.streams.set(streams)

    def computed(keys: int) -> None:
        if state.metrics is not None:
            state.metrics.live_computations.inc(keys)

    repository = state.repository
    database = repository.database

    def watch() -> Any:
        return database.watch(change_pipeline(repository.names), max_await_time_ms=AWAIT_MS)

    # Only pymongo's database has change streams to ask for; any other (mongomock) is polled.
    return Hub(
        lambda key: bodies(state, key),
        watch if isinstance(database, Database) else None,
        poll_seconds=config.read(settings, "LIVE_POLL_SECONDS"),
        max_streams=config.read(settings, "LIVE_MAX_STREAMS"),
        deadline=state.deadline,
        failed=failed,
        counted=counted,
        computed=computed,
    )


def register(state: BlueprintSetupState) -> None:
    """Add the stream's rule to the app the blueprint registers on."""
    name = f"{state.name_prefix}.{state.name}".lstrip(".")
    endpoint = f"{name}.{PATH.replace('/', '_')}"
    rule = Rule(f"{state.url_prefix or ''}/{PATH}", endpoint=endpoint, merge_slashes=False)
    state.app.url_map.add(rule)
    state.app.view_functions[endpoint] = live_stream


views.blueprint.record(register)
