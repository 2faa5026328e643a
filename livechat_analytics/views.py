"""The blueprint: one generic view serves every row of the metric table."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import parse_qsl

from flask import Blueprint, Response, current_app, g, request
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import MethodNotAllowed, NotFound

from . import config, errors, openapi
from .metrics import METRICS, Context, paged
from .schemas import load_query

blueprint = Blueprint(config.EXTENSION_KEY, __name__)
errors.register(blueprint)

_ALLOWED = ["GET", "HEAD", "OPTIONS"]
#: What the catch-all answers 405 for (and 404 for the rest).
_ROUTED = {*METRICS, "openapi.json"}
_EVERY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]

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
            "endpoint": request.path,
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


def department_metric(metric: str) -> Response:
    """Authenticate, authorize, validate the query, run one aggregate, answer the envelope."""
    state = current_app.extensions[config.EXTENSION_KEY]
    user = state.authenticator.authenticate(request)
    if user is None:
        raise errors.not_logged_in()
    g.livechat_analytics["user"] = user.id
    if not state.authenticator.authorize(user):
        raise errors.unauthorized()
    try:
        query = load_query(state.args_schemas[metric], _query_args())
    except ValidationError as error:
        raise errors.invalid_params(error.messages_dict) from error
    definition = METRICS[metric]
    context = Context(state.repository.names)
    if definition.reads_inactivity_timeout:
        context = Context(state.repository.names, state.inactivity_timeout())
    pipeline = paged(definition.build(query, context), query)
    rows, total = state.repository.aggregate_page(definition.collection, pipeline)
    g.livechat_analytics.update(rows=len(rows), total=total)
    if state.department_names:
        names = state.repository.department_names([row["_id"] for row in rows])
        rows = [{**row, "name": names.get(row["_id"])} for row in rows]
    envelope = {"departments": rows, "count": len(rows), "offset": query.offset, "total": total}
    return errors.json_response(definition.envelope.dump({**envelope, "success": True}))


def openapi_document() -> Response:
    """The OpenAPI document of the API; public, as it describes the API and none of the data."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return errors.json_response(openapi.document(app, root=request.script_root))


def not_routed(rest: str = "") -> Response:
    """Anything else under the prefix: JSON 405 for a known path, JSON 404 otherwise."""
    if rest in _ROUTED:
        raise MethodNotAllowed(_ALLOWED, f"The {rest} endpoint answers GET only.")
    raise NotFound(f"There is no analytics endpoint at {request.path}.")


_PATHS = ", ".join(f'"{path}"' for path in METRICS)
blueprint.add_url_rule(f"/<any({_PATHS}):metric>", view_func=department_metric, methods=["GET"])
blueprint.add_url_rule("/openapi.json", view_func=openapi_document, methods=["GET"])
blueprint.add_url_rule("", view_func=not_routed, methods=_EVERY_METHOD, endpoint="root")
blueprint.add_url_rule("/", view_func=not_routed, methods=_EVERY_METHOD, endpoint="root_slash")
blueprint.add_url_rule("/<path:rest>", view_func=not_routed, methods=_EVERY_METHOD)
