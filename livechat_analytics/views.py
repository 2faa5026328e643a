"""The blueprint: one generic view serves every row of every family's table.

Each request runs its reads (user, permission, settings, the aggregate) under ONE deadline,
pymongo's client-side operation timeout, which covers server selection and socket waits as well.
"""

from __future__ import annotations

import json
import logging
import pathlib
import time
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

import pymongo
from flask import Blueprint, Response, current_app, g, render_template, request, send_from_directory
from flask.blueprints import BlueprintSetupState
from marshmallow import ValidationError
from pymongo.errors import PyMongoError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Rule

from . import config, errors, export, openapi
from .cache import conditional
from .endpoints import ENDPOINTS, departments
from .endpoints.common import Context
from .schemas import load_query

blueprint = Blueprint(config.EXTENSION_KEY, __name__, template_folder="templates")
errors.register(blueprint)

#: The methods every path of ours answers.
ALLOWED = ("GET", "HEAD", "OPTIONS")
#: The OpenAPI document, at the root and (as before the families) under ``departments/``.
OPENAPI_PATHS = ("openapi.json", "departments/openapi.json")
HEALTH_PATH = "health"
#: What the catch-all answers 405 (or OPTIONS) for, and 404 for the rest.
_ROUTED = {*ENDPOINTS, *OPENAPI_PATHS, HEALTH_PATH}

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
    """Authenticate, authorize, validate the query and compute the body of the endpoint at ``path``,
    all within the request's deadline."""
    state = current_app.extensions[config.EXTENSION_KEY]
    endpoint = ENDPOINTS[path]
    with pymongo.timeout(state.deadline):
        user = state.authenticator.authenticate(request)
        if user is None:
            raise errors.not_logged_in()
        g.livechat_analytics["user"] = user.id
        if not state.authenticator.authorize(user, endpoint.permission):
            raise errors.unauthorized()
        try:
            query = load_query(state.args_schemas[path], _query_args())
        except ValidationError as error:
            raise errors.invalid_params(error.messages_dict) from error
        threshold = state.default_inactivity_timeout
        if endpoint.reads_inactivity_timeout:
            threshold = state.inactivity_timeout()
        context = Context(
            state.repository.names,
            inactivity_timeout=threshold,
            department_names=state.department_names,
            timezone=query.timezone,
        )
        # CSV is a rendering of the same query: a paged body streams its rows from the cursor
        # (the command runs here, within the deadline; each later batch gets a deadline of its own).
        as_csv = export.asked(query.output, request.accept_mimetypes)
        if as_csv and endpoint.rows is not None:
            columns, rows = endpoint.rows(export.every_row(query), context, state.repository)
            errors.database_answered()
            return export.response(path, query, rows, columns=columns, deadline=state.deadline)
        # After the permission check: a kept answer never skips it.
        compute = partial(endpoint.compute, query, context, state.repository)
        body = state.answers.compute(path, endpoint.permission, query, context, compute)
    errors.database_answered()
    if as_csv:
        dumped = endpoint.response.dump(body)
        return export.response(path, query, export.body_rows(endpoint.csv, dumped))
    if isinstance(body, dict):
        g.livechat_analytics.update(rows=body.get("count"), total=body.get("total"))
        body = {**body, "success": True}
    response = errors.json_response(endpoint.response.dump(body))
    return conditional(response, max_age=state.answers.seconds, vary=state.vary)


def openapi_document() -> Response:
    """The OpenAPI document of the API; public, as it describes the API and none of the data."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return errors.json_response(openapi.document(app, root=request.script_root))


def health() -> Response:
    """For load balancers and probes: no authentication, no data; 200 when the database answers a
    ping within a short timeout, 503 otherwise."""
    state = current_app.extensions[config.EXTENSION_KEY]
    try:
        with pymongo.timeout(state.health_timeout):
            state.repository.ping()
    except PyMongoError as error:
        errors.database_trouble(error)
        body = {**errors.failure(errors.UNAVAILABLE, "database-unavailable"), "database": "unavailable"}
        return errors.unavailable(errors.json_response(body, 503))
    errors.database_answered()
    return errors.json_response({"success": True, "database": "ok"})


def not_routed(rest: str = "") -> Response:
    """Anything else under the root, whatever the method: the allowed methods for OPTIONS on a path
    of ours, JSON 405 for another method there, JSON 404 for any other path."""
    if rest in _ROUTED:
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


# The dashboard page: a thin client of the API above, and its files. Its rules take every method
# (as the catch-all's do) and answer OPTIONS and 405 themselves, at the path each app configures;
# switched off, the path falls through to the catch-all's 404. No authentication: the page and its
# files hold no data, and the page's requests to the API carry the usual headers.
DASHBOARD_FILES = pathlib.Path(__file__).parent / "static"
#: What the page's answers forbid the browser: any request to another origin, inline scripts.
DASHBOARD_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:;"
    " connect-src 'self'; frame-ancestors 'self'; form-action 'none'; base-uri 'none'"
)


def dashboard(filename: str | None = None) -> Response:
    """The dashboard page (``filename`` None) or one of its files, for GET and HEAD."""
    if request.method == "OPTIONS":
        return Response(status=200, headers={"Allow": ", ".join(ALLOWED)})
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(list(ALLOWED), "The dashboard answers GET only.")
    if filename is not None:
        response = send_from_directory(DASHBOARD_FILES, filename)
    else:
        response = Response(render_template("livechat_analytics/dashboard.html", **_page_settings()))
        response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = DASHBOARD_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _page_settings() -> dict[str, Any]:
    from . import __version__  # the package imports this module on its way to defining it

    settings = current_app.config
    return {
        "api_root": request.script_root + config.read(settings, "URL_PREFIX"),
        "version": __version__,
        "page_size": 0 if config.read(settings, "ALLOW_COUNT_ZERO") else config.read(settings, "MAX_COUNT"),
        # The department metrics as the page shows them: the rows declare it, the page only reads it.
        "metrics": [
            {
                "path": metric.path,
                "title": metric.title,
                "field": metric.shown,
                "unit": metric.unit,
                **({"also": {"field": metric.also[0], "title": metric.also[1]}} if metric.also else {}),
            }
            for metric in departments.METRICS.values()
        ],
    }


@blueprint.record
def _dashboard(state: BlueprintSetupState) -> None:
    if not config.read(state.app.config, "DASHBOARD"):
        return
    path = config.read(state.app.config, "DASHBOARD_PATH")
    if path in _ROUTED or path.split("/")[0] in {p.split("/")[0] for p in _ROUTED}:
        raise RuntimeError(f"{config.PREFIX}DASHBOARD_PATH {path!r} is taken by the API's own paths.")
    name = f"{state.name_prefix}.{state.name}".lstrip(".")
    prefix = state.url_prefix or ""
    rules = {"dashboard": f"{prefix}/{path}", "dashboard_static": f"{prefix}/{path}/static/<path:filename>"}
    for endpoint, rule in rules.items():
        state.app.url_map.add(Rule(rule, endpoint=f"{name}.{endpoint}", merge_slashes=False))
        state.app.view_functions[f"{name}.{endpoint}"] = dashboard


@blueprint.record
def _catch_all(state: BlueprintSetupState) -> None:
    # Rules made by hand: Flask's add_url_rule always lists methods, and only a rule without methods
    # matches every method (FOO, PROPFIND, CONNECT), so that those answer JSON 405 too.
    endpoint = f"{state.name_prefix}.{state.name}.not_routed".lstrip(".")
    prefix = state.url_prefix or ""
    for rule in {prefix or "/", prefix + "/", prefix + "/<path:rest>"}:
        state.app.url_map.add(Rule(rule, endpoint=endpoint, merge_slashes=False))
    state.app.view_functions[endpoint] = not_routed
