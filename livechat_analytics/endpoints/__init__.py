"""The endpoints as data: every family is a module holding a table of :class:`Endpoint` rows.

A row is an endpoint's path (under the analytics root), its query schema, its response schema, what
it computes and the permission it needs. One generic view (:mod:`..views`) serves every row: it
authenticates, checks the row's permission, validates the query with the row's schema, runs the
row's computation within the request's deadline and serializes the body with the row's schema.
Adding an endpoint means adding a row to its family's table (and the builder and schema it names).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from marshmallow import Schema

from .. import schemas
from ..auth import MANAGER_PERMISSION
from ..repository import Repository
from .common import Context

Compute = Callable[[Any, Context, Repository], Any]
"""``compute(query, context, repository)``: the 200 body (``success`` aside) of a validated query."""

Stream = Callable[[Any, Context, Repository], tuple[list[str], Iterator[dict[str, Any]]]]
"""``rows(query, context, repository)``: the columns and the (dumped) rows of a paged body, from a
cursor whose command has run by the time it returns (the rows are read as they are iterated)."""

Render = Callable[[Any], list[Mapping[str, Any]]]
"""``csv(body)``: the rows of a (dumped) body as CSV lines, for bodies :mod:`..export` cannot
shape by itself."""


@dataclass(frozen=True)
class Endpoint:
    """One endpoint: everything the generic view needs to answer it."""

    #: Under the analytics root, without a leading slash: ``departments/amount-of-chats``.
    path: str
    #: The query schema; each app makes an instance with its settings (timezone, page size, ...).
    args: type[schemas.ArgsSchema]
    #: The schema of the 200 body, ``success`` included.
    response: Schema
    compute: Compute
    #: The Rocket.Chat permission a caller must hold; handed to the authenticator.
    permission: str = MANAGER_PERMISSION
    #: The family, which is also the OpenAPI tag.
    family: str = ""
    #: What the endpoint answers, in one sentence (the OpenAPI summary).
    summary: str = ""
    #: More for the OpenAPI description, after the summary.
    description: str = ""
    #: The fields ``sort`` may name, for schemas that take ``sort``.
    sortable: tuple[str, ...] = ("_id",)
    #: Whether its rows are departments, which carry a ``name`` (that ``sort`` may name) when
    #: department names are switched on.
    department_rows: bool = False
    #: Whether computing it needs ``T``, read from the settings on every request.
    reads_inactivity_timeout: bool = False
    #: A 200 body for the OpenAPI document.
    example: Mapping[str, Any] | None = field(default=None, compare=False)
    #: For a paged body: its rows streamed from the database, which a CSV answer writes.
    rows: Stream | None = field(default=None, compare=False)
    #: The rows of the body in CSV, when :func:`..export.rows_of` would not shape them well.
    csv: Render | None = field(default=None, compare=False)


def table(*rows: Endpoint, family: str) -> dict[str, Endpoint]:
    """A family's rows by path, each told its family."""
    return {row.path: replace(row, family=family) for row in rows}


def _families() -> dict[str, Endpoint]:
    # Imported here: the families import this module for Endpoint.
    from . import agents, dashboards, departments, overview, reports, trends

    every: dict[str, Endpoint] = {}
    for family in (departments, dashboards, overview, agents, reports, trends):
        every.update(family.ENDPOINTS)
    return every


#: Every endpoint of every family, by path.
ENDPOINTS: dict[str, Endpoint] = _families()
