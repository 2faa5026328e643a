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
from functools import cached_property
from typing import Any, ClassVar

from marshmallow import Schema

from .. import schemas
from ..auth import MANAGER_PERMISSION
from ..repository import Repository
from .common import Context, Pipeline, dumped, page_stages, paged

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


@dataclass(frozen=True)
class PagedMetric:
    """A metric answered as a page of rows (one per department, agent, ...), from one aggregate:
    the collection its pipeline starts on, its row schema and its pipeline builder.

    The builder is a pure function of the validated query and the :class:`~.common.Context` that
    returns the stages producing one document per row with its final values; :meth:`pipeline` adds
    the page and the total. A family subclasses it to name its envelope's list (:attr:`ROWS`) and
    what ``total`` counts, and may annotate or finish the rows.
    """

    path: str
    collection: str
    row_schema: type[schemas.Schema]
    build: Callable[[Any, Context], Pipeline]
    args: type[schemas.ArgsSchema] = schemas.ArgsSchema

    #: The family the metric belongs to (its paths are under it), the key of the envelope's list of
    #: rows, and what ``total`` counts.
    FAMILY: ClassVar[str] = ""
    ROWS: ClassVar[str] = "rows"
    GROUPS: ClassVar[str] = "Rows"

    @cached_property
    def envelope(self) -> schemas.Schema:
        """The schema of the 200 body, rows of :attr:`row_schema`."""
        return schemas.envelope_schema(self.row_schema, rows=self.ROWS, groups=self.GROUPS)

    @property
    def summary(self) -> str:
        """The builder's first paragraph, which says what is counted (the rest is for maintainers);
        reStructuredText's double backquotes become Markdown's single ones."""
        first = (self.build.__doc__ or self.path).split("\n\n")[0]
        return " ".join(first.split()).replace("``", "`")

    def annotation(self, context: Context) -> tuple[Pipeline, tuple[str, ...]]:
        """Stages that add fields to the rows, and the fields they add (none by default)."""
        return [], ()

    def columns(self, query: Any, context: Context) -> list[str]:
        """The columns of the CSV rows: the row schema's fields."""
        return list(self.row_schema._declared_fields)

    def stream(self, query: Any, context: Context, repository: Repository) -> tuple[list[str], Iterator[Any]]:
        """The page's rows (every row when ``count`` is None) from the cursor, without the total:
        what a CSV answer streams."""
        annotate, annotated = self.annotation(context)
        page = page_stages(
            sort=query.sort, offset=query.offset, count=query.count, annotate=annotate, annotated=annotated
        )
        cursor = repository.stream(self.collection, [*self.build(query, context), *page])
        rows = (self.finish(row, query) for row in cursor)
        return self.columns(query, context), dumped(rows, self.row_schema(), close=cursor)

    def pipeline(self, query: Any, context: Context) -> Pipeline:
        """The whole pipeline of a request: the rows, then the page and the total."""
        annotate, annotated = self.annotation(context)
        return paged(
            self.build(query, context),
            sort=query.sort,
            offset=query.offset,
            count=query.count,
            annotate=annotate,
            annotated=annotated,
        )

    def finish(self, row: dict[str, Any], query: Any) -> dict[str, Any]:
        """A row as the client sees it (as the pipeline left it by default)."""
        return row

    def compute(self, query: Any, context: Context, repository: Repository) -> dict[str, Any]:
        """One aggregate for the page and the total."""
        rows, total = repository.aggregate_page(self.collection, self.pipeline(query, context))
        rows = [self.finish(row, query) for row in rows]
        return {self.ROWS: rows, "count": len(rows), "offset": query.offset, "total": total}

    def endpoint(self, **row: Any) -> Endpoint:
        """This metric as a row of its family's endpoint table; ``row`` adds to the row."""
        return Endpoint(
            path=f"{self.FAMILY}/{self.path}",
            args=self.args,
            response=self.envelope,
            compute=self.compute,
            summary=self.summary,
            rows=self.stream,
            **row,
        )


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
