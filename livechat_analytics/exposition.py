"""``GET <root>/metrics``: who may scrape, and the Prometheus exposition of :mod:`.metrics`.

Switched off (the default) the path is not routed, and the catch-all answers its JSON 404. On, a
scraper sends the bearer token when one is set, else the usual login headers of a user with
``view-livechat-manager`` who sees every department: the gauges cover them all, so a monitor whom
business units restrict is refused. Its rule takes every method and answers OPTIONS and 405 itself,
as the dashboard page's does.
"""

from __future__ import annotations

import hmac

import pymongo
from flask import Response, g, request
from flask.blueprints import BlueprintSetupState
from werkzeug.routing import Rule

from . import config, errors, page
from .auth import MANAGER_PERMISSION
from .metrics import MIMETYPE
from .state import State, current

#: Where the exposition is, under the analytics root.
PATH = "metrics"


def metrics() -> Response:
    """The exposition, for GET and HEAD, to an authorized scraper."""

    def exposed() -> Response:
        state = current()
        assert state.metrics is not None  # the rule exists only when they are on
        authorize(state)
        response = Response(state.metrics.exposition(), content_type=MIMETYPE)
        response.headers["Cache-Control"] = "no-store"
        return response

    return page.answer("metrics endpoint", exposed)


def authorize(state: State) -> None:
    """The request carries the metrics' bearer token, or (none set) logs in a user with
    ``view-livechat-manager`` who sees everything; else a 401 or 403."""
    if state.metrics_token is not None:
        if not bearer_matches(request.headers.get("Authorization"), state.metrics_token):
            raise errors.not_logged_in()
        return
    with pymongo.timeout(state.deadline):
        user = state.authenticator.authenticate(request)
        if user is None:
            raise errors.not_logged_in()
        g.livechat_analytics["user"] = user.id
        if not state.authenticator.authorize(user, MANAGER_PERMISSION) or state.scope(user) is not None:
            raise errors.unauthorized()


def bearer_matches(header: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header is ``Bearer <token>`` (the scheme in any case), the token
    compared in constant time."""
    scheme, _, given = (header or "").strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def register(state: BlueprintSetupState) -> None:
    """Add the exposition's rule to the app the blueprint registers on, when the metrics are on."""
    if not config.read(state.app.config, "METRICS"):
        return
    name = f"{state.name_prefix}.{state.name}".lstrip(".")
    rule = Rule(f"{state.url_prefix or ''}/{PATH}", endpoint=f"{name}.{PATH}", merge_slashes=False)
    state.app.url_map.add(rule)
    state.app.view_functions[f"{name}.{PATH}"] = metrics
