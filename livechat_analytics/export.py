"""CSV answers: every endpoint's body (or, for paged endpoints, its rows straight from the database
cursor) as lines of comma-separated cells, streamed.

The format is a parameter of the one view (``format=csv`` or ``Accept: text/csv``), not a view of
its own: the same query, the same computation, another rendering. How each body becomes rows:

- a page of rows (``departments``, ``agents``): one line per row, every row unless ``count`` is given;
- totalizers and other lists of objects (``totalizers``, a report's ``data``, ``overview``): one line
  per object, its keys as columns (``title,value``; ``label,value``; ``name,value``);
- parallel lists (``charts-data``): one line per point, the lists' names as columns, the body's
  other values repeated on each line;
- a body keyed by names (``chats-per-agent``, ``timings``): one line per name, the name in ``name``;
- a flat body (``charts/chats``, ``agents-status``): one line with its keys as columns;
- the trends' series and heatmap: one line per leaf (see :mod:`.endpoints.trends`).

A list or object left inside a cell is written as JSON text. A text cell that a spreadsheet would
run as a formula is written as text, prefixed with ``'``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

import pymongo
from flask import Response, stream_with_context
from pymongo.errors import PyMongoError
from werkzeug.datastructures import MIMEAccept

from . import errors
from .schemas import Query

MIMETYPE = "text/csv"
#: What a spreadsheet reads as the start of a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Bytes gathered before a chunk is sent: few writes, and memory stays one chunk.
CHUNK = 64 * 1024

Row = Mapping[str, Any]


def asked(output: str | None, accept: MIMEAccept) -> bool:
    """Whether the client asked for CSV: ``format=csv``, or (without ``format``) an ``Accept``
    header that prefers ``text/csv`` to JSON."""
    if output is not None:
        return output == "csv"
    return accept.best_match(["application/json", MIMETYPE]) == MIMETYPE


def every_row(query: Query) -> Query:
    """The query of a CSV answer: paging is ignored (every row) unless ``count`` was given."""
    return query if query.count_given else replace(query, count=None)


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


def rows_of(body: Any) -> list[Row]:
    """The rows of a (dumped) JSON body, by its shape (see the module's description)."""
    if isinstance(body, list):
        return [item if isinstance(item, Mapping) else {"value": item} for item in body]
    if not isinstance(body, Mapping):
        return [{"value": body}]
    body = {key: value for key, value in body.items() if key != "success"}
    objects = [key for key, value in body.items() if _objects(value)]
    for key in ("departments", "agents", "totalizers", "data", *objects):
        if key in objects:
            return list(body[key])
    if body and all(isinstance(value, Mapping) for value in body.values()):
        return [{"name": name, **value} for name, value in body.items()]
    parallel = [key for key, value in body.items() if isinstance(value, list)]
    if parallel and len({len(body[key]) for key in parallel}) == 1:
        shared = {key: value for key, value in body.items() if key not in parallel}
        points = zip(*(body[key] for key in parallel), strict=True)
        return [{**shared, **dict(zip(parallel, point, strict=True))} for point in points]
    return [body]


def _objects(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, Mapping) for item in value)


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


def guarded(rows: Iterable[Row], deadline: float) -> Iterator[Row]:
    """The rows of a database cursor, each round trip under a deadline of its own.

    The request's deadline is over when the view returns; a stream outlives it, however slowly the
    client reads. So each fetch gets ``deadline`` seconds (a frozen database still ends the stream),
    and the cursor is closed however the stream ends. Trouble after the first line can no longer
    change the status: it is logged, and the file ends there.
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
        errors.database_trouble(error)
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


def response(
    path: str,
    query: Query,
    rows: Iterable[Row],
    *,
    columns: list[str] | None = None,
    deadline: float | None = None,
) -> Response:
    """A streamed CSV answer. ``rows`` from a cursor come with ``deadline`` (see :func:`guarded`);
    without ``columns`` the rows are few and name their own."""
    if deadline is not None:
        rows = guarded(rows, deadline)
    else:
        rows = list(rows)
        columns = columns or columns_of(rows)
    text = stream_with_context(lines(rows, columns or []))
    answer = Response(text, content_type=f"{MIMETYPE}; charset=utf-8")
    answer.headers["Content-Disposition"] = f'attachment; filename="{filename(path, query)}"'
    return answer


def body_rows(render: Callable[[Any], list[Row]] | None, body: Any) -> list[Row]:
    """The rows of a body: by the endpoint's own ``render`` when it has one, else by its shape."""
    return render(body) if render is not None else rows_of(body)
