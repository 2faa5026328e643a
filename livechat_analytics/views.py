"""The blueprint: one generic view serves every row of every family's table.

A request walks one path with named seams: authorize, parse, compute through the answer cache,
render. Its reads (user, permission, settings, the aggregate) run under ONE deadline, pymongo's
client-side operation timeout, which covers server selection and socket waits as well.
"""

from __future__ import annotations

import json
import logging
import time
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

import pymongo
from flask import Blueprint, Response, current_app, g, request
from flask.blueprints import BlueprintSetupState
from marshmallow import ValidationError
from pymongo.errors import PyMongoError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import BaseConverter, Rule

from . import config, errors, exposition, openapi, page, render, viewer
from .auth import Scope
from .cache import fingerprint
from .endpoints import ENDPOINTS, Endpoint
from .schemas import Query, load_query
from .state import State, current

blueprint = Blueprint(config.EXTENSION_KEY, __name__, template_folder="templates")
errors.register(blueprint)

#: The methods every path of ours answers.
ALLOWED = page.ALLOWED
#: The OpenAPI document, at the root and (as before the families) under ``departments/``.
OPENAPI_PATHS = ("openapi.json", "departments/openapi.json")
HEALTH_PATH = "health"
#: What the catch-all answers 405 (or OPTIONS) for, and 404 for the rest.
ROUTED = {*ENDPOINTS, *OPENAPI_PATHS, HEALTH_PATH}

#: What the last line of a CSV stream says of an error that is not the database's, as a 500 would.
UNEXPECTED = "Internal server error."

log = logging.getLogger("livechat_analytics")
#: One line per request, a JSON object: endpoint, status, user id, parameters, rows, total, ms.
request_log = logging.getLogger("livechat_analytics.request")


@blueprint.before_request
def _start_clock() -> None:
    g.livechat_analytics = {"started": time.perf_counter(), "user": None, "rows": None, "total": None}


@blueprint.after_request
def _log_request(response: Response) -> Response:
    seen = g.pop("livechat_analytics", None)
    if seen is not None:
        record = {
            "endpoint": errors.capped(request.path),
            "status": response.status_code,
            "user": seen["user"],
            # The query string only: the token travels in a header and is never logged.
            "params": _query_args(),
            "rows": seen["rows"],
            "total": seen["total"],
            "ms": round((time.perf_counter() - seen["started"]) * 1000, 1),
        }
        request_log.info(json.dumps(record), extra={"livechat_analytics": record})
    return response


def _query_args() -> dict[str, list[str]]:
    """Each query parameter with all its values.

    Werkzeug's ``request.args`` raises on raw bytes that are not UTF-8 (a client may send them
    unencoded): read those as U+FFFD, so they meet validation instead of answering 500.
    """
    try:
        return request.args.to_dict(flat=False)
    except UnicodeDecodeError:
        text = request.query_string.decode("utf-8", "replace")
        return MultiDict(parse_qsl(text, keep_blank_values=True, errors="replace")).to_dict(flat=False)


def answer(path: str) -> Response:
    """Answer the endpoint at ``path``: authorize, parse, compute through the answer cache, render,
    all within the request's deadline."""
    endpoint, state = ENDPOINTS[path], current()
    until = time.monotonic() + state.deadline  # also for a wait on another request's answer
    with pymongo.timeout(state.deadline):
        scope = authorize(state, endpoint)
        query = parse(state, path)
        context = state.context(endpoint, scope)
        as_csv = render.wants_csv(query.output, request.accept_mimetypes)
        if as_csv and endpoint.stream is not None:
            # A paged body streams from the cursor: the command runs here, within the deadline;
            # each later batch gets a deadline of its own.
            columns, rows = endpoint.stream(render.every_row(query), context, state.repository)
            errors.database_answered()
            return render.streamed_csv(
                path, query, rows, columns, deadline=state.deadline, on_failure=stream_failed
            )
        compute = partial(endpoint.compute, query, context, state.repository)
        if endpoint.kept:
            body = state.answers.compute(path, endpoint.permission, query, context, compute, until=until)
        else:  # a state of the moment: computed for each request, never kept
            body = compute()
    errors.database_answered()
    if isinstance(body, dict):
        g.livechat_analytics.update(rows=body.get("count"), total=body.get("total"))
    return render.answer(
        path,
        query,
        body,
        endpoint.response,
        as_csv=as_csv,
        max_age=state.answers.seconds if endpoint.kept else 0,
        vary=state.vary,
        salt=None if scope is None else fingerprint(scope),
    )


def authorize(state: State, endpoint: Endpoint) -> Scope | None:
    """The caller is logged in and holds the endpoint's permission (checked on every request: a
    kept answer never skips it), or the request ends here with a 401 or 403; then what they may see
    (None: everything)."""
    user = state.authenticator.authenticate(request)
    if user is None:
        raise errors.not_logged_in()
    g.livechat_analytics["user"] = user.id
    if not state.authenticator.authorize(user, endpoint.permission):
        raise errors.unauthorized()
    return state.scope(user)


def parse(state: State, path: str) -> Query:
    """The validated query of the endpoint at ``path``, or a 400 naming each bad parameter."""
    try:
        return load_query(state.args_schemas[path], _query_args())
    except ValidationError as error:
        raise errors.invalid_params(error.messages_dict) from error


def stream_failed(error: Exception) -> str:
    """What the last line of a CSV stream that failed says, the ``error`` the JSON answer would have
    had; logged as that answer's would be (database trouble once while it lasts)."""
    if isinstance(error, PyMongoError):
        return str(errors.database_trouble(error)[1]["error"])
    log.error("a CSV stream failed after its first line", exc_info=error)
    return UNEXPECTED


def openapi_document() -> Response:
    """The OpenAPI document of the API; public, as it describes the API and none of the data."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return render.json_response(openapi.document(app, root=request.script_root))


def health() -> Response:
    """For load balancers and probes: no authentication, no data; 200 when the database answers a
    ping within a short timeout, 503 otherwise."""
    state = current()
    try:
        with pymongo.timeout(state.health_timeout):
            state.repository.ping()
    except PyMongoError as error:
        errors.database_trouble(error)
        body = {**errors.failure(errors.UNAVAILABLE, "database-unavailable"), "database": "unavailable"}
        return errors.unavailable(render.json_response(body, 503))
    errors.database_answered()
    return render.json_response({"success": True, "database": "ok"})


def not_routed(rest: str = "") -> Response:
    """Anything else under the root, whatever the method: the allowed methods for OPTIONS on a path
    of ours, JSON 405 for another method there, JSON 404 for any other path."""
    if rest in ROUTED:
        if request.method == "OPTIONS":
            return Response(status=200, headers={"Allow": ", ".join(ALLOWED)}, mimetype="text/plain")
        raise MethodNotAllowed(list(ALLOWED), f"The {rest} endpoint answers GET only.")
    raise NotFound(f"There is no analytics endpoint at {errors.capped(request.path)}.")


def _route(rule: str, view: Any, endpoint: str, **defaults: Any) -> None:
    # No automatic OPTIONS (not_routed answers it, naming only our methods), and a double slash is a
    # path of its own (a 404), not a redirect.
    blueprint.add_url_rule(
        rule,
        endpoint=endpoint.replace(".", "_"),  # Flask keeps dots for blueprint names
        view_func=view,
        methods=["GET"],
        defaults=defaults,
        provide_automatic_options=False,
        merge_slashes=False,
    )


for _path in ENDPOINTS:
    _route(f"/{_path}", answer, _path, path=_path)
for _path in OPENAPI_PATHS:
    _route(f"/{_path}", openapi_document, _path)
_route(f"/{HEALTH_PATH}", health, HEALTH_PATH)


@blueprint.record
def _pages(state: BlueprintSetupState) -> None:
    page.register(state, taken=ROUTED)
    viewer.register(state, taken=ROUTED)
    exposition.register(state)


class _Rest(BaseConverter):
    """Whatever follows the root: empty, slashes (doubled, leading, trailing), line breaks, any
    character. Werkzeug's ``path`` takes neither a leading slash nor a line break."""

    part_isolating = False
    regex = "(?s:.*)"
    weight = 400


class _CatchAllRule(Rule):
    """A rule whose ``<rest:...>`` is :class:`_Rest`, without adding a converter to the host's map."""

    def get_converter(self, variable_name: str, converter_name: str, args: Any, kwargs: Any) -> BaseConverter:
        if converter_name == "rest":
            return _Rest(self.map)
        return super().get_converter(variable_name, converter_name, args, kwargs)


def catch_all_rules(prefix: str, endpoint: str) -> list[Rule]:
    """The rules that hand every path under ``prefix`` (and ``prefix`` itself) to :func:`not_routed`,
    whatever the method. Rules made by hand: Flask's add_url_rule always lists methods, and only a
    rule without methods matches every method (FOO, PROPFIND, CONNECT), so that those answer JSON
    405 too."""
    return [
        _CatchAllRule(rule, endpoint=endpoint, merge_slashes=False)
        for rule in dict.fromkeys([prefix or "/", prefix + "/<rest:rest>"])
    ]


@blueprint.record
def _catch_all(state: BlueprintSetupState) -> None:
    endpoint = f"{state.name_prefix}.{state.name}.not_routed".lstrip(".")
    for rule in catch_all_rules(state.url_prefix or "", endpoint):
        state.app.url_map.add(rule)
    state.app.view_functions[endpoint] = not_routed
