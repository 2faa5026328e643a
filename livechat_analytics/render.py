"""Rendering an answer: a body as JSON (with its ETag and caching headers, 304 for a matching
``If-None-Match``), or as CSV in the shape its schema declares (:mod:`.shape`), a paged body
streamed straight from the database cursor (ended by :data:`INCOMPLETE` when the stream fails).

The format is a parameter of the one view (``format=csv`` or ``Accept: text/csv``), not a view of
its own: the same query, the same computation, another rendering. A list or object left inside a
CSV cell is written as JSON text; a text cell that a spreadsheet might run as a formula is written
as text, prefixed with ``'`` (see :func:`formula_like`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

import pymongo
from flask import Response, request, stream_with_context
from marshmallow import Schema
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import generate_etag

from .schemas import PageQuery, Query
from .shape import Row, Shape

MIMETYPE = "text/csv"
#: What a spreadsheet reads as the start of a formula (OWASP's list, tab and carriage return aside).
FORMULA_SIGNS = ("=", "+", "-", "@")
#: What a cell may not start with at all: a spreadsheet may skip it, then read a formula.
FORMULA_STARTS = ("\t", "\r", "\n")
#: What a spreadsheet may pass over before a formula: the categories of control and format
#: (invisible) characters, besides whitespace.
INVISIBLE = ("Cc", "Cf")
#: The last line of a streamed CSV that failed: this, then what the JSON error would have said.
INCOMPLETE = "#incomplete: "
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
    return "'" + text if formula_like(text) else text


def formula_like(text: str) -> bool:
    """Whether a spreadsheet might read ``text`` as a formula: it starts with a tab or a line break,
    or its first character other than whitespace and invisible ones, read as its compatibility form
    (NFKC: a full-width equals sign as ``=``), is one of :data:`FORMULA_SIGNS`."""
    if text.startswith(FORMULA_STARTS):
        return True
    for character in unicodedata.normalize("NFKC", text):
        if not character.isspace() and unicodedata.category(character) not in INVISIBLE:
            return character in FORMULA_SIGNS
    return False


def columns_of(rows: Iterable[Row]) -> list[str]:
    """Every key of the rows, in the order they first appear."""
    return list(dict.fromkeys(key for row in rows for key in row))


def lines(
    rows: Iterable[Row], columns: list[str], on_failure: Callable[[Exception], str] | None = None
) -> Iterator[str]:
    """The header and the rows as CSV text, in chunks of about :data:`CHUNK` characters.

    With ``on_failure``, rows that fail (the database, or a row that cannot be written) end the
    text with every line written so far and then :data:`INCOMPLETE` and what ``on_failure`` says
    of the error (it logs it): the status went out with the first chunk, and a file cut short
    must say so.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([cell(name) for name in columns])
    try:
        for row in rows:
            writer.writerow([cell(row.get(name)) for name in columns])
            if buffer.tell() >= CHUNK:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    except Exception as error:
        if on_failure is None:
            raise
        writer.writerow([INCOMPLETE + on_failure(error)])
    yield buffer.getvalue()


def guarded(rows: Iterable[Row], deadline: float) -> Iterator[Row]:
    """The rows of a database cursor, each round trip under a deadline of its own.

    The request's deadline is over when the view returns; a stream outlives it, however slowly the
    client reads. So each fetch gets ``deadline`` seconds (a frozen database still ends the stream,
    raising), and the cursor is closed however the stream ends.
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


def csv_response(
    path: str,
    query: Query,
    rows: Iterable[Row],
    columns: list[str],
    on_failure: Callable[[Exception], str] | None = None,
) -> Response:
    """A CSV answer of ``rows`` under ``columns``, streamed in chunks (see :func:`lines`)."""
    text = stream_with_context(lines(rows, columns, on_failure))
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
    on_failure: Callable[[Exception], str],
) -> Response:
    """A CSV answer of the rows of a database cursor (see :func:`guarded`), ended by
    :data:`INCOMPLETE` when the stream fails (see :func:`lines`)."""
    return csv_response(path, query, guarded(rows, deadline), columns, on_failure)
