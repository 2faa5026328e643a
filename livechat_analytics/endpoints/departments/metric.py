"""The row type of the department family: a :class:`Metric` holds every piece of one metric, from
what it counts to what the page shows and how it takes business time (:mod:`.timed`); a missing
piece fails when the row is made."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...repository import Repository
from ...schemas import ArgsSchema, Query, envelope_schema
from ..common import DEPARTMENT_KEY, Context, Pipeline, department_names, dumped
from ..hours import DURATION_FIELDS, body_fields, in_business_time, required_schedules
from ..row import PagedMetric
from ..slots import Table, table_of, totals
from ..stored import named
from .query import DepartmentArgsSchema, names_asked
from .timed import Timed, page_of_rows, timed_rows

Source = Callable[[Query, Context], Pipeline]
Sums = Callable[[Context], dict[str, Any]]
Twin = Callable[[Mapping[str, Any]], dict[str, int]]
#: A metric's sums from a slot's of the room table (:mod:`..slots`), for a query; the first one
#: counts the documents the metric counts (a department without any has no row).
Tally = Callable[[Mapping[str, float], Any], dict[str, float]]

#: What the page shows of a metric's value.
UNITS = ("count", "seconds", "percent")

_ABANDONED = (
    " A room is abandoned when its visitor stayed silent for at least `T` seconds after the "
    "agent's last message: `T` is Rocket.Chat's `Livechat_visitor_inactivity_timeout` "
    "setting, or `LIVECHAT_ANALYTICS_INACTIVITY_TIMEOUT` when that is not set."
)


@dataclass(frozen=True, kw_only=True)
class Metric(PagedMetric):
    """One department metric: a page of rows, one per department, and every piece the trends and
    the page reuse."""

    args: type[ArgsSchema] = DepartmentArgsSchema
    description: str = field(init=False, default="")
    sortable: tuple[str, ...] = field(init=False, default=())
    department_rows: bool = field(init=False, default=True)
    example: Any = field(init=False, default=None, compare=False)
    #: The documents it counts (rooms, or transfer messages), each with its ``departmentId`` and
    #: the moment ``ts`` it counts at.
    source: Source
    #: The ``$group`` accumulators of a department's (or a bucket's) documents.
    sums: Sums
    #: The row's values, as ``$project`` expressions over the sums ...
    values: Mapping[str, Any]
    #: ... and in Python, over sums added up (missing sums are 0).
    twin: Twin
    #: The page's card: its title, the field it shows and how (a count, seconds or a percent), and
    #: another field shown beside it.
    title: str
    shown: str
    unit: str = "count"
    also: tuple[str, str] | None = None
    #: How it takes ``businessHours=true`` (its ``args`` then has the parameter); None: it does not.
    timed: Timed | None = None
    #: Its sums from the room table's, the same as :attr:`sums` gives; None: it counts no rooms.
    tally: Tally | None = None

    ROWS = "departments"
    GROUPS = "Department groups"

    def __post_init__(self) -> None:
        self._derive(
            description=_ABANDONED if self.reads_inactivity_timeout else "",
            sortable=("_id", *self.fields),
            example=self._example(),
        )
        super().__post_init__()
        if self.timed is not None:
            envelope = envelope_schema(
                self.row_schema, rows=self.ROWS, groups=self.GROUPS, optional=body_fields()
            )
            self._derive(response=envelope)
        self._check()
        self._check_timed()

    @property
    def fields(self) -> tuple[str, ...]:
        """The row's value fields, which ``sort`` may name besides ``_id``."""
        return tuple(name for name in self.row_schema._declared_fields if name not in ("_id", "name"))

    def _check(self) -> None:
        """Every piece names the row's fields, no more and no fewer."""
        expected = set(self.fields)
        pieces = {"values": set(self.values), "twin": set(self.twin({}))}
        for piece, names in pieces.items():
            if names != expected:
                raise TypeError(
                    f"{self.path}: its {piece} name {sorted(names)}, its row has {sorted(expected)}."
                )
        if self.shown not in expected or (self.also is not None and self.also[0] not in expected):
            raise TypeError(f"{self.path}: the page shows a field its row does not have.")
        if self.unit not in UNITS:
            raise TypeError(f"{self.path}: unit {self.unit!r} is not one of {', '.join(UNITS)}.")
        if self.tally is not None and set(self.tally({}, Query())) != set(self.sums(Context({}))):
            raise TypeError(f"{self.path}: its tally and its sums name different sums.")

    def _check_timed(self) -> None:
        """A metric takes ``businessHours`` exactly when it says how, into sums its twin reads."""
        takes = "business_hours" in self.args._declared_fields
        if takes != (self.timed is not None):
            raise TypeError(f"{self.path}: its args and its timed piece disagree on businessHours.")
        if self.timed is None:
            return
        names = {self.timed.rooms, self.timed.total}
        if not names <= set(self.sums(Context({}))):
            raise TypeError(f"{self.path}: its timed piece names {sorted(names)}, not all among its sums.")
        if self.timed.unit not in (1, 1000):
            raise TypeError(f"{self.path}: its timed piece adds up milliseconds or seconds only.")

    def timed_pipeline(self, query: Any, context: Context) -> Pipeline:
        """The source, each room cut down to what its durations are measured from."""
        return [*self.source(query, context), {"$project": {"_id": 0, **DURATION_FIELDS}}]

    def pipeline(self, query: Any, context: Context) -> Pipeline:
        """The source, summed per department, and the row's values."""
        return [
            *self.source(query, context),
            {"$group": {"_id": DEPARTMENT_KEY, **self.sums(context)}},
            {"$project": {"_id": 1, **self.values}},
        ]

    def annotation(self, query: Any, context: Context) -> tuple[Pipeline, tuple[str, ...]]:
        """The departments' names, when they are switched on or asked for."""
        return (department_names(context.names) if names_asked(query, context) else []), ("name",)

    def columns(self, query: Any, context: Context) -> list[str]:
        """The CSV columns: the id, the name when names are on or asked for, and the values."""
        return ["_id", *(["name"] if names_asked(query, context) else []), *self.fields]

    def _page(self, query: Any, context: Context, repository: Repository) -> dict[str, Any]:
        """The page and the total: in business time when asked, else from the room table when the
        window has one, else from one aggregate."""
        return self._computed(query, context, repository) or super()._page(query, context, repository)

    def _rows(
        self, query: Any, context: Context, repository: Repository
    ) -> tuple[list[str], Iterator[dict[str, Any]]]:
        """The CSV rows: in business time when asked, or from the room table (the rows alone),
        else from the cursor."""
        page = self._computed(query, context, repository)
        if page is None:
            return super()._rows(query, context, repository)
        return self.columns(query, context), dumped(page[self.ROWS], self.row_schema())

    def _computed(self, query: Any, context: Context, repository: Repository) -> dict[str, Any] | None:
        """The page computed in Python: in business time when asked, else from the room table when
        the window has one; None: the aggregate's."""
        if getattr(query, "business_hours", False):
            return self._timed_page(query, context, repository)
        table = self._table(query, context)
        if table is None:
            return None
        return self._page_of(self._tallied(table, query, context), query, context, repository)

    def _table(self, query: Any, context: Context) -> Table | None:
        """The room table of the query's window, when the metric derives from it and it has one."""
        return None if self.tally is None else table_of(query, context)

    def _tallied(self, table: Table, query: Any, context: Context) -> list[dict[str, Any]]:
        """Each department's row from its totals in the room table."""
        assert self.tally is not None  # only a metric with a tally has a table
        rows = []
        for department, total in totals(table, query, context):
            sums = self.tally(total, query)
            if next(iter(sums.values())):
                rows.append({"_id": department, **self.twin(sums)})
        return rows

    def _timed_page(self, query: Any, context: Context, repository: Repository) -> dict[str, Any]:
        """The page of the rows in business time, from one read of the window's rooms, with the
        rooms counted without a schedule."""
        assert self.timed is not None  # only metrics with a timed piece take businessHours
        schedules = required_schedules(repository)
        rooms = repository.stream(self.collection, self.timed_pipeline(query, context), any_dates=True)
        rows, without = timed_rows(self.timed, self.twin, rooms, schedules)
        return {**self._page_of(rows, query, context, repository), **in_business_time(without)}

    def _page_of(
        self, rows: list[dict[str, Any]], query: Any, context: Context, repository: Repository
    ) -> dict[str, Any]:
        """The page of rows computed in Python: named, sorted and cut as the aggregate's would be."""
        if names_asked(query, context):
            names = repository.department_names([row["_id"] for row in rows])
            for row in rows:
                row["name"] = named(names.get(row["_id"]))
        return page_of_rows(rows, query, key=self.ROWS)

    def _example(self) -> dict[str, Any]:
        """A 200 body for the OpenAPI document: one department's row and the no-department row."""
        rows = [
            {"_id": "GgYvrkAF63aeQmsh4", **{name: 42 + index for index, name in enumerate(self.fields)}},
            {"_id": None, **{name: 7 + index for index, name in enumerate(self.fields)}},
        ]
        return {"departments": rows, "count": 2, "offset": 0, "total": 2, "success": True}
