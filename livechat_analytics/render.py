"""Rendering an answer: a body as JSON (with its ETag and caching headers, 304 for a matching
``If-None-Match``), or as CSV in the shape its schema declares (:mod:`.shape`), a paged body
streamed straight from the database cursor.

The format is a parameter of the one view (``format=csv`` or ``Accept: text/csv``), not a view of
its own: the same query, the same computation, another rendering. A list or object left inside a
CSV cell is written as JSON text; a text cell that a spreadsheet would run as a formula is written
as text, prefixed with ``'``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

import pymongo
from flask import Response, request, stream_with_context
from marshmallow import Schema
from pymongo.errors import PyMongoError
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import generate_etag

from .schemas import PageQuery, Query
from .shape import Row, Shape

MIMETYPE = "text/csv"
#: What a spreadsheet reads as the start of a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Bytes gathered before a chunk is sent: few writes, and memory stays one chunk.
CHUNK = 64 * 1024


def json_response(body: Any, status: int = 200) -> Response:
    """Serialize ``body`` in the key order it was built in, whatever the host's JSON settings."""
    return Response(json.dumps(body) + "\n", status=status, mimetype="application/json")


def cached_json(body: Any, *, max_age: int, vary: Iterable[str] = (), salt: str | None = None) -> Response:
    """A 200 with ``ETag`` (a digest of the body, and of ``salt``: what the caller may see, so that
    a 304 answers only the caller's own body), ``Cache-Control: private, max-age`` and ``Vary`` on
    the login headers; 304 without a body when ``If-None-Match`` names the ETag."""
    response = json_response(body)
    response.cache_control.private = True
    response.cache_control.max_age = max_age
    for header in vary:
        response.vary.add(header)
    if salt is None:
        response.add_etag()
    else:
        response.set_etag(generate_etag(response.get_data() + salt.encode("ascii")))
    response.make_conditional(request)
    return response


def wants_csv(output: str | None, accept: MIMEAccept) -> bool:
    """Whether the client asked for CSV: ``format=csv``, or (without ``format``) an ``Accept``
    header that prefers ``text/csv`` to JSON."""
    if output is not None:
        return output == "csv"
    return accept.best_match(["application/json", MIMETYPE]) == MIMETYPE


def every_row(query: Query) -> Query:
    """The query of a streamed CSV answer: paging is ignored (every row) unless ``count`` was given."""
    if isinstance(query, PageQuery) and not query.count_given:
        return replace(query, count=None)
    return query


def answer(
    path: str,
    query: Query,
    body: Any,
    schema: Schema,
    *,
    as_csv: bool,
    max_age: int,
    vary: Iterable[str],
    salt: str | None = None,
) -> Response:
    """The 200 of a computed body: CSV in the schema's shape, or JSON with ``success``."""
    if as_csv:
        dumped = schema.dump(body)
        shape: Shape = schema.CSV  # type: ignore[attr-defined]
        rows = shape.rows(dumped)
        return csv_response(path, query, rows, columns_of(rows) or shape.columns(schema))
    if isinstance(body, dict):
        body = {**body, "success": True}
    return cached_json(schema.dump(body), max_age=max_age, vary=vary, salt=salt)


def cell(value: Any) -> Any:
    """A value as a CSV cell: numbers as they are, text made safe from formulas, null empty,
    booleans ``true``/``false``, lists and objects as JSON text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def columns_of(rows: Iterable[Row]) -> list[str]:
    """Every key of the rows, in the order they first appear."""
    return list(dict.fromkeys(key for row in rows for key in row))


def lines(rows: Iterable[Row], columns: list[str]) -> Iterator[str]:
    """The header and the rows as CSV text, in chunks of about :data:`CHUNK` characters."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([cell(name) for name in columns])
    for row in rows:
        writer.writerow([cell(row.get(name)) for name in columns])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def guarded(rows: Iterable[Row], deadline: float, on_trouble: Callable[[PyMongoError], Any]) -> Iterator[Row]:
    """The rows of a database cursor, each round trip under a deadline of its own.

    The request's deadline is over when the view returns; a stream outlives it, however slowly the
    client reads. So each fetch gets ``deadline`` seconds (a frozen database still ends the stream),
    and the cursor is closed however the stream ends. Trouble after the first line can no longer
    change the status: it goes to ``on_trouble``, and the file ends there.
    """
    iterator = iter(rows)
    try:
        while True:
            with pymongo.timeout(deadline):
                try:
                    row = next(iterator)
                except StopIteration:
                    return
            yield row
    except PyMongoError as error:
        on_trouble(error)
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()


def filename(path: str, query: Query) -> str:
    """``<endpoint>_<start>_<end>.csv``, the bounds as days in the request's timezone (endpoints
    without a window: ``<endpoint>.csv``)."""
    name = path.replace("/", "-")
    if query.start > dt.datetime.min.replace(tzinfo=dt.timezone.utc) and query.end.year < 9999:
        first = query.start.astimezone(query.timezone).date().isoformat()
        last = query.end.astimezone(query.timezone).date().isoformat()
        name = f"{name}_{first}_{last}"
    return name + ".csv"


def csv_response(path: str, query: Query, rows: Iterable[Row], columns: list[str]) -> Response:
    """A CSV answer of ``rows`` under ``columns``, streamed in chunks."""
    text = stream_with_context(lines(rows, columns))
    response = Response(text, content_type=f"{MIMETYPE}; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename(path, query)}"'
    return response


def streamed_csv(
    path: str,
    query: Query,
    rows: Iterable[Row],
    columns: list[str],
    *,
    deadline: float,
    on_trouble: Callable[[PyMongoError], Any],
) -> Response:
    """A CSV answer of the rows of a database cursor (see :func:`guarded`)."""
    return csv_response(path, query, guarded(rows, deadline, on_trouble), columns)
