"""Every error the API answers, in Rocket.Chat's JSON shape, made in this one module.

What an error repeats of the request (a path, parameter names) is capped, and database trouble is
logged as one short line when it starts, not once per request while it lasts.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response
from pymongo.errors import ConnectionFailure, PyMongoError, ServerSelectionTimeoutError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, default_exceptions

from .logs import TroubleLog
from .render import json_response
from .state import current

log = logging.getLogger("livechat_analytics")

NOT_LOGGED_IN = "You must be logged in to do this."
UNAUTHORIZED = "User does not have the permissions required for this action [error-unauthorized]"
UNAVAILABLE = "The database is unavailable."
TIMED_OUT = "The query took too long."
TOO_MANY_STREAMS = "Too many live streams are open; try again later."

#: How long a client should wait before trying again after a 503, in seconds.
RETRY_AFTER_SECONDS = 5
#: The longest text an error repeats from the request, in characters.
MAX_ECHO = 200
#: The most parameters a 400 names one by one.
MAX_NAMED = 10


class ApiError(Exception):
    """An answer other than 200: a status and the JSON body that goes with it."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


def failure(error: str, error_type: str | None = None, details: Any = None) -> dict[str, Any]:
    """The body of every error: ``success``, ``error``, and ``errorType``/``details`` when known."""
    body: dict[str, Any] = {"success": False, "error": error}
    if error_type is not None:
        body["errorType"] = error_type
    if details is not None:
        body["details"] = details
    return body


def capped(text: str, limit: int = MAX_ECHO) -> str:
    """``text`` as an error may repeat it: at most ``limit`` characters, saying how many are left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


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
    """400 naming each bad parameter in one readable sentence, with the messages per parameter.

    At most :data:`MAX_NAMED` parameters are named (each name capped), and the sentence says how many
    more there are: a client that sends thousands of unknown names gets a short answer.
    """
    named = {capped(name, MAX_ECHO // 2): messages for name, messages in list(details.items())[:MAX_NAMED]}
    sentences = [
        f'The "{name}" query parameter {message[0].lower()}{message[1:]}'
        for name, messages in named.items()
        for message in messages
    ]
    more = len(details) - len(named)
    if more:
        sentences.append(f"({more} more parameters are not named here.)")
    return ApiError(400, failure(" ".join(sentences), "invalid-params", named))


def unavailable(response: Response) -> Response:
    """A 503 with ``Retry-After``."""
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def too_many_streams() -> Response:
    """503 with ``Retry-After``: every live stream this process allows is open."""
    return unavailable(json_response(failure(TOO_MANY_STREAMS, "too-many-streams"), 503))


def _trouble() -> TroubleLog:
    return current().trouble


def database_trouble(error: PyMongoError) -> tuple[int, dict[str, Any]]:
    """Log ``error`` (see :class:`~.logs.TroubleLog`) and say how to answer it: status and body.

    No server within the deadline is a 503; a deadline passed on a selected server (a slow or frozen
    database) a 504; a lost connection a 503; anything else the database said a 500.
    """
    summary = _short(error)
    if isinstance(error, ServerSelectionTimeoutError):
        _trouble().trouble(logging.ERROR, f"database unavailable: {summary}")
        return _counted("unavailable", 503, failure(UNAVAILABLE, "database-unavailable"))
    if error.timeout:
        _trouble().trouble(logging.WARNING, f"analytics request over its time limit: {summary}")
        return _counted("timeout", 504, failure(TIMED_OUT, "query-timeout"))
    if isinstance(error, ConnectionFailure):
        _trouble().trouble(logging.ERROR, f"database unavailable: {summary}")
        return _counted("unavailable", 503, failure(UNAVAILABLE, "database-unavailable"))
    log.error("database error: %s", summary)
    return _counted("other", 500, failure("The database could not answer.", "database-error"))


def _counted(kind: str, status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """``status`` and ``body``, the error counted by ``kind`` in the metrics when they are on."""
    metrics = current().metrics
    if metrics is not None:
        metrics.database_error(kind)
    return status, body


def database_answered() -> None:
    """The database answered a request: end a spell of trouble, if there was one."""
    _trouble().answered()


def _short(error: PyMongoError) -> str:
    """The error's first sentence, without the driver's topology dump."""
    text = str(error)
    for cut in (", Timeout:", ", Topology Description:", " (configured timeouts:"):
        text = text.split(cut)[0]
    return f"{type(error).__name__}: {capped(text)}"


def _api_error(error: ApiError) -> Response:
    return json_response(error.body, error.status)


def _http_error(error: HTTPException) -> Response:
    response = json_response(failure(error.description or error.name), error.code or 500)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def _database_error(error: PyMongoError) -> Response:
    status, body = database_trouble(error)
    response = json_response(body, status)
    return unavailable(response) if status == 503 else response


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
