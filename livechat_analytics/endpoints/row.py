"""The rows of the families' tables: an endpoint is one row, and one generic view serves them all.

A row holds everything the view needs to answer it: its path under the analytics root, its query
schema, its response schema (which declares its CSV shape), what it computes and the permission it
needs, with the words and the example of its OpenAPI operation. A family is a module holding one
:class:`Family`: its name and description (the OpenAPI tag) and its rows, each written as one
keyword call of the family's row type, a subclass of :class:`Endpoint` when the family's rows share
more than that (a page of rows per department or agent, a report).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from marshmallow import Schema

from ..auth import MANAGER_PERMISSION
from ..repository import Repository
from ..schemas import ArgsSchema, PageQuery, envelope_schema
from ..shape import Shape
from .common import Context, Pipeline, dumped, page_stages, paged

Compute = Callable[[Any, Context, Repository], Any]
"""``compute(query, context, repository)``: the 200 body (``success`` aside) of a validated query."""

Stream = Callable[[Any, Context, Repository], tuple[list[str], Iterator[dict[str, Any]]]]
"""``stream(query, context, repository)``: the columns and the (dumped) rows of a paged body, from
a cursor whose command has run by the time it returns (the rows are read as they are iterated)."""


def first_paragraph(text: str | None, default: str) -> str:
    """A docstring's first paragraph on one line, reStructuredText's double backquotes made
    Markdown's single ones: what a builder counts, as an OpenAPI summary."""
    first = (text or default).split("\n\n")[0]
    return " ".join(first.split()).replace("``", "`")


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    """One endpoint: everything the generic view needs to answer it."""

    #: Under the analytics root, without a leading slash: ``departments/amount-of-chats``.
    path: str
    #: The query schema; each app makes an instance with its settings (timezone, page size, ...).
    args: type[ArgsSchema]
    #: The schema of the 200 body, ``success`` included; its ``CSV`` names the body's shape.
    response: Schema
    compute: Compute
    #: The Rocket.Chat permission a caller must hold; handed to the authenticator.
    permission: str = MANAGER_PERMISSION
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
    #: Whether the answer cache may keep its answers; a state of the moment (``live/``) is never kept.
    kept: bool = True
    #: A 200 body for the OpenAPI document.
    example: Any = field(default=None, compare=False)
    #: For a paged body: its rows streamed from the database, which a CSV answer writes.
    stream: Stream | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(getattr(self.response, "CSV", None), Shape):
            raise TypeError(f"{self.path}: {type(self.response).__name__} declares no CSV shape.")

    @property
    def shape(self) -> Shape:
        """How the body becomes CSV rows."""
        return self.response.CSV  # type: ignore[attr-defined,no-any-return]

    def _derive(self, **values: Any) -> None:
        """Set fields that a row type derives from its own (the dataclass is frozen)."""
        for name, value in values.items():
            object.__setattr__(self, name, value)


@dataclass(frozen=True, kw_only=True)
class PagedMetric(Endpoint, ABC):
    """A metric answered as a page of rows (one per department, agent, ...), from one aggregate.

    A family subclasses it to name the envelope's list (:attr:`ROWS`) and what ``total`` counts,
    and to say how a request's rows are built (:meth:`pipeline`); it may annotate or finish the
    rows. The response, the computation, the CSV stream and the summary follow from those.
    """

    response: Schema = field(init=False)
    compute: Compute = field(init=False)
    stream: Stream | None = field(init=False, default=None)
    #: The collection the pipeline starts on.
    collection: str = "room"
    #: The schema of one row.
    row_schema: type[Schema]

    ROWS: ClassVar[str] = "rows"
    GROUPS: ClassVar[str] = "Rows"

    def __post_init__(self) -> None:
        self._derive(
            response=envelope_schema(self.row_schema, rows=self.ROWS, groups=self.GROUPS),
            compute=self._page,
            stream=self._rows,
        )
        super().__post_init__()

    @abstractmethod
    def pipeline(self, query: Any, context: Context) -> Pipeline:
        """The stages producing one document per row with its final values (no page)."""

    def annotation(self, query: Any, context: Context) -> tuple[Pipeline, tuple[str, ...]]:
        """Stages that add fields to the rows, and the fields they add (none by default)."""
        return [], ()

    def columns(self, query: Any, context: Context) -> list[str]:
        """The columns of the CSV rows: the row schema's fields."""
        return list(self.row_schema._declared_fields)

    def finish(self, row: dict[str, Any], query: Any) -> dict[str, Any]:
        """A row as the client sees it (as the pipeline left it by default)."""
        return row

    def _page_stages(self, query: PageQuery, context: Context) -> Pipeline:
        annotate, annotated = self.annotation(query, context)
        return page_stages(
            sort=query.sort, offset=query.offset, count=query.count, annotate=annotate, annotated=annotated
        )

    def _page(self, query: PageQuery, context: Context, repository: Repository) -> dict[str, Any]:
        """The page and the total, from one aggregate."""
        pipeline = paged(self.pipeline(query, context), self._page_stages(query, context))
        rows, total = repository.aggregate_page(self.collection, pipeline)
        rows = [self.finish(row, query) for row in rows]
        return {self.ROWS: rows, "count": len(rows), "offset": query.offset, "total": total}

    def _rows(
        self, query: PageQuery, context: Context, repository: Repository
    ) -> tuple[list[str], Iterator[dict[str, Any]]]:
        """The page's rows (every row when ``count`` is None) from the cursor, without the total:
        what a CSV answer streams."""
        pipeline = [*self.pipeline(query, context), *self._page_stages(query, context)]
        cursor = repository.stream(self.collection, pipeline)
        rows = (self.finish(row, query) for row in cursor)
        return self.columns(query, context), dumped(rows, self.row_schema(), close=cursor)


@dataclass(frozen=True)
class Family:
    """A family of endpoints: its name and what it answers (the OpenAPI tag), and its rows."""

    name: str
    description: str
    endpoints: tuple[Endpoint, ...]
