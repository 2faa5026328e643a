"""Every error the API answers, in Rocket.Chat's JSON shape, made in this one module."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Response
from pymongo.errors import ConnectionFailure, ExecutionTimeout, PyMongoError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, default_exceptions

log = logging.getLogger("livechat_analytics")

NOT_LOGGED_IN = "You must be logged in to do this."
UNAUTHORIZED = "User does not have the permissions required for this action [error-unauthorized]"


class ApiError(Exception):
    """An answer other than 200: a status and the JSON body that goes with it."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


def json_response(body: dict[str, Any], status: int = 200) -> Response:
    """Serialize ``body`` in the key order it was built in, whatever the host's JSON settings."""
    return Response(json.dumps(body) + "\n", status=status, mimetype="application/json")


def failure(error: str, error_type: str | None = None, details: Any = None) -> dict[str, Any]:
    """The body of every error: ``success``, ``error``, and ``errorType``/``details`` when known."""
    body: dict[str, Any] = {"success": False, "error": error}
    if error_type is not None:
        body["errorType"] = error_type
    if details is not None:
        body["details"] = details
    return body


def not_logged_in() -> ApiError:
    """401, exactly as Rocket.Chat words it (it carries ``status`` and ``message`` as well)."""
    return ApiError(
        401,
        {"success": False, "status": "error", "message": NOT_LOGGED_IN, "error": NOT_LOGGED_IN},
    )


def unauthorized() -> ApiError:
    """403 for a logged-in user without the permission."""
    return ApiError(403, failure(UNAUTHORIZED))


def invalid_params(details: dict[str, list[str]]) -> ApiError:
    """400 naming each bad parameter in one readable sentence, with the messages per parameter."""
    sentences = [
        f'The "{name}" query parameter {message[0].lower()}{message[1:]}'
        for name, messages in details.items()
        for message in messages
    ]
    return ApiError(400, failure(" ".join(sentences), "invalid-params", details))


def _api_error(error: ApiError) -> Response:
    return json_response(error.body, error.status)


def _http_error(error: HTTPException) -> Response:
    response = json_response(failure(error.description or error.name), error.code or 500)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def _database_error(error: PyMongoError) -> Response:
    if isinstance(error, ExecutionTimeout):
        log.warning("analytics query over its time limit: %s", error)
        body, status = failure("The query took too long.", "query-timeout"), 504
    elif isinstance(error, ConnectionFailure):
        log.error("database unavailable: %s", error)
        body, status = failure("The database is unavailable.", "database-unavailable"), 503
    else:
        log.error("database error: %s", error)
        body, status = failure("The database could not answer.", "database-error"), 500
    return json_response(body, status)


def _unexpected(error: Exception) -> Response:
    log.exception("unexpected error while answering an analytics request")
    return json_response(failure("Internal server error."), 500)


def register(blueprint: Blueprint) -> None:
    """Answer every error raised under ``blueprint`` with JSON; the host's handlers stay untouched."""
    blueprint.register_error_handler(ApiError, _api_error)
    blueprint.register_error_handler(HTTPException, _http_error)
    # Flask looks for handlers by status code first, the app's before the class-wide one here.
    for code in default_exceptions:
        blueprint.register_error_handler(code, _http_error)
    blueprint.register_error_handler(PyMongoError, _database_error)
    blueprint.register_error_handler(Exception, _unexpected)
