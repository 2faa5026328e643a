"""The blueprint: one generic view serves every row of the metric table."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from marshmallow import ValidationError
from werkzeug.exceptions import MethodNotAllowed, NotFound

from . import errors
from .metrics import METRICS, Context, paged
from .schemas import envelope_schema, load_query

blueprint = Blueprint("livechat_analytics", __name__)
errors.register(blueprint)

_ENVELOPES = {path: envelope_schema(metric.row_schema) for path, metric in METRICS.items()}
_ALLOWED = ["GET", "HEAD", "OPTIONS"]
_EVERY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]


def department_metric(metric: str) -> Response:
    """Authenticate, authorize, validate the query, run one aggregate, answer the envelope."""
    state = current_app.extensions["livechat_analytics"]
    user = state.authenticator.authenticate(request)
    if user is None:
        raise errors.not_logged_in()
    if not state.authenticator.authorize(user):
        raise errors.unauthorized()
    try:
        query = load_query(state.args_schemas[metric], request.args.to_dict(flat=False))
    except ValidationError as error:
        raise errors.invalid_params(error.messages_dict) from error
    definition = METRICS[metric]
    context = Context(state.collection_names)
    if definition.reads_inactivity_timeout:
        context = Context(state.collection_names, state.inactivity_timeout())
    pipeline = paged(definition.build(query, context), query)
    rows, total = state.repository.aggregate_page(definition.collection, pipeline)
    envelope = {"departments": rows, "count": len(rows), "offset": query.offset, "total": total}
    return errors.json_response(_ENVELOPES[metric].dump({**envelope, "success": True}))


def not_routed(rest: str = "") -> Response:
    """Anything else under the prefix: JSON 405 for a known path, JSON 404 otherwise."""
    if rest in METRICS:
        raise MethodNotAllowed(_ALLOWED, f"The {rest} endpoint answers GET only.")
    raise NotFound(f"There is no analytics endpoint at {request.path}.")


_PATHS = ", ".join(f'"{path}"' for path in METRICS)
blueprint.add_url_rule(f"/<any({_PATHS}):metric>", view_func=department_metric, methods=["GET"])
blueprint.add_url_rule("", view_func=not_routed, methods=_EVERY_METHOD, endpoint="root")
blueprint.add_url_rule("/", view_func=not_routed, methods=_EVERY_METHOD, endpoint="root_slash")
blueprint.add_url_rule("/<path:rest>", view_func=not_routed, methods=_EVERY_METHOD)
