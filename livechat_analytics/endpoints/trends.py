"""The trends family, under ``trends/``: each department metric as a series of local hours, days,
ISO weeks or months (optionally against the previous window, or per department), and the rooms by
local weekday and hour.

A series is one aggregate: the metric's own source and sums (its :class:`~.departments.metric.Metric`
row), grouped by UTC quarter hour instead of by department alone. Every UTC offset is a whole
number of quarter hours, so the slots fold exactly into the local buckets in Python, whatever the
zone does (23- and 25-hour days, half- and quarter-hour offsets); the buckets' values then come from
their added-up sums by the metric's Python twin of its values, as the endpoint computes a window's.
Memory is bounded by the window's slots and the departments, never by the rooms. A department
metric has its trend without asking: the family's table has a :class:`Trend` row per metric.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from marshmallow import Schema, ValidationError, fields, validates_schema

from ..repository import Repository
from ..schemas import (
    MAX_BUCKETS,
    ArgsSchema,
    DashboardArgsSchema,
    Query,
    choice,
    flag,
    in_calendar,
    succeeded,
)
from ..shape import Row, Series, Shape
from .common import (
    BUCKETS,
    DAY,
    DEPARTMENT_KEY,
    SLOT_MS,
    Context,
    Pipeline,
    bucket_starts,
    busiest,
    local_iso,
    local_moment,
    milliseconds,
    quarter_hour,
    slot_bucket,
    timezone_name,
    window_rooms,
)
from .departments import METRICS
from .departments.metric import Metric
from .departments.timed import Timed, measured
from .hours import Schedules, body_fields, in_business_time, required_schedules
from .row import Endpoint, Family
from .slots import entries, table_of
from .stored import named

WEEKDAYS = tuple(calendar.day_name)  # Monday first
_MS = dt.timedelta(milliseconds=1)


# Query schemas


@dataclass(frozen=True)
class TrendQuery(Query):
    """A series: its bucket, whether to add the previous window, and whether per department."""

    group_by: str = DAY
    compare: str | None = None
    by_department: bool = False
    #: Each room's duration in business time (the duration metrics' trends).
    business_hours: bool = False


class TrendArgsSchema(DashboardArgsSchema):
    """The window, a department, the bucket, the comparison and the split by department."""

    query_type = TrendQuery

    group_by = choice(
        BUCKETS,
        "The bucket: a local `hour`, `day`, ISO `week` (from Monday) or `month` in the request's timezone.",
        data_key="groupBy",
        load_default=DAY,
        metadata={"default": DAY},
    )
    compare = choice(
        ("previous",),
        "`previous`: add `previous`, the same series over the window of equal length that ends just "
        "before `start`; a 400 when it would begin before year 1.",
        error="Must be previous.",
        load_default=None,
    )
    by_department = flag("`true`: one series per department instead of one for all.", data_key="byDepartment")

    @validates_schema
    def _at_most_max_buckets(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not {"start", "end", "group_by"} <= set(data) or data["start"] > data["end"]:
            return
        windows = [(data["start"], data["end"])]
        if data.get("compare"):
            windows.append(self._previous(data))
        for start, end in windows:
            starts = bucket_starts(start, end, self.zone_of(data), data["group_by"], limit=MAX_BUCKETS)
            if len(starts) > MAX_BUCKETS:
                raise ValidationError(
                    f"Gives more than {MAX_BUCKETS} buckets for this window: choose a longer "
                    "bucket or a shorter window.",
                    field_name="groupBy",
                )

    def _previous(self, data: dict[str, Any]) -> tuple[dt.datetime, dt.datetime]:
        """The previous window, which must begin in the calendar (in UTC and in the timezone)."""
        try:
            start, end = previous_window(data["start"], data["end"])
        except OverflowError:
            start = None
        if start is None or not in_calendar(start, self.zone_of(data)):
            raise ValidationError(
                "Gives a previous window that begins before year 1 (in UTC or in the request's "
                'timezone): choose a later "start" or a shorter window.',
                field_name="compare",
            )
        return start, end


#: The parameters of a department metric that its trend takes too, by name, and what the trend's
#: schema with them is called.
_INHERITED = {"answered": "TrendAnsweredArgsSchema", "business_hours": "TrendTimedArgsSchema"}


def trend_args(metric: Metric) -> type[ArgsSchema]:
    """The query schema of a metric's trend: the trend's parameters, and the metric's own
    (``answered``, ``businessHours``)."""
    declared = metric.args._declared_fields
    own = {name: declared[name] for name in _INHERITED if name in declared}
    if not own:
        return TrendArgsSchema
    return type(_INHERITED[next(iter(own))], (TrendArgsSchema,), own)


def previous_window(start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The window of equal length that ends just before ``start`` (one millisecond before); an
    ``OverflowError`` when it would begin before year 1."""
    last = start - _MS
    return last - (end - start), last


# Response schemas


class SeriesBaseSchema(Schema):
    """One series: the department (null for all departments together, or for rooms without one
    with ``byDepartment``) and its buckets."""

    OPTIONAL_FIELDS = ("name",)

    _id = fields.String(
        allow_none=True,
        metadata={
            "description": "The department id; null for every department together (or, "
            "with `byDepartment=true`, for rooms without a department)."
        },
    )
    name = fields.String(
        allow_none=True,
        metadata={"description": "The department's name, when names are switched on."},
    )


def series_body(
    title: str,
    values: Mapping[str, fields.Field],
    *,
    what: str,
    metric: str,
    head: Mapping[str, fields.Field] | None = None,
    tail: Mapping[str, fields.Field] | None = None,
) -> Schema:
    """The 200 body of a trend: ``values`` in each bucket of each series, named ``<title>...Schema``
    in the OpenAPI document; ``what`` the body's description, ``metric`` its ``metric`` field's;
    ``head`` fields after ``timezone`` and ``tail`` optional fields before ``success``."""
    bucket = Schema.from_dict(
        {
            "start": fields.String(
                metadata={
                    "description": "The bucket's first moment, ISO 8601 with the zone's offset "
                    "then (the first bucket starts at `start`)."
                }
            ),
            **values,
        },
        name=f"{title}BucketSchema",
    )
    series = type(
        f"{title}SeriesSchema",
        (SeriesBaseSchema,),
        {
            "__doc__": SeriesBaseSchema.__doc__,
            "buckets": fields.List(
                fields.Nested(bucket), metadata={"description": "Every bucket of the window in order."}
            ),
        },
    )
    body = type(
        f"{title}TrendSchema",
        (Schema,),
        {
            "__doc__": what,
            "OPTIONAL_FIELDS": ("previous", *(tail or {})),
            "CSV": Series(),
            "metric": fields.String(metadata={"description": metric}),
            "groupBy": fields.String(metadata={"description": "The bucket.", "enum": list(BUCKETS)}),
            "timezone": fields.String(metadata={"description": "The timezone the buckets are in."}),
            **(head or {}),
            "series": fields.List(fields.Nested(series), metadata={"description": "The series."}),
            "previous": fields.List(
                fields.Nested(series),
                metadata={
                    "description": "With `compare=previous` only: the series of the previous "
                    "window of equal length."
                },
            ),
            **(tail or {}),
            "success": succeeded(),
        },
    )
    return body()


def trend_schema(metric: Metric) -> Schema:
    """The 200 body of a metric's trend: its buckets hold the department endpoint's row fields."""
    path = name_of(metric)
    return series_body(
        "".join(part.title() for part in path.split("-")),
        {name: metric.row_schema._declared_fields[name] for name in metric.fields},
        what=f"`{path}` per local bucket: a series for all departments, or one per department.",
        metric="The metric asked for.",
        tail=body_fields() if metric.timed is not None else None,
    )


class WeekdaySchema(Schema):
    """One local weekday's rooms, hour by hour."""

    weekday = fields.String(metadata={"description": "The weekday, Monday first.", "enum": list(WEEKDAYS)})
    hours = fields.List(
        fields.Integer(), metadata={"description": "24 counts: rooms created in each local hour, 0 to 23."}
    )


class BusiestSchema(Schema):
    """The busiest cell."""

    weekday = fields.String(metadata={"description": "Its weekday."})
    hour = fields.Integer(metadata={"description": "Its local hour, 0 to 23."})


class Cells(Shape):
    """``weekday``, ``hour`` and ``rooms``: a line per cell of the heatmap, Monday 0:00 first."""

    def rows(self, body: Any) -> list[Row]:
        return [
            {"weekday": day["weekday"], "hour": hour, "rooms": rooms}
            for day in body["weekdays"]
            for hour, rooms in enumerate(day["hours"])
        ]

    def columns(self, schema: Schema) -> list[str]:
        return ["weekday", "hour", "rooms"]


class HeatmapSchema(Schema):
    """Rooms created in the window by local weekday and hour, and the busiest cell."""

    CSV = Cells()

    timezone = fields.String(metadata={"description": "The timezone of the weekdays and hours."})
    weekdays = fields.List(
        fields.Nested(WeekdaySchema), metadata={"description": "Seven rows, Monday first."}
    )
    busiest = fields.Nested(
        BusiestSchema,
        allow_none=True,
        metadata={"description": "The cell with most rooms (the earliest among equals); null for none."},
    )
    success = succeeded()


# Pipelines


def name_of(metric: Metric) -> str:
    """The metric's name, its path under ``departments/``: also its trend's under ``trends/``."""
    return metric.path.removeprefix("departments/")


def series_pipeline(metric: Metric, query: TrendQuery, context: Context) -> Pipeline:
    """The metric's source, summed per UTC quarter hour (and department, with ``byDepartment``)."""
    key = {"d": DEPARTMENT_KEY if query.by_department else None, "s": quarter_hour()}
    return [*metric.source(query, context), {"$group": {"_id": key, **metric.sums(context)}}]


SeriesSums = dict[str | None, list[dict[str, float]]]


def _asked(query: TrendQuery, starts_ms: list[int]) -> SeriesSums:
    """The series asked for, every bucket empty: all departments together, or with
    ``byDepartment`` the department asked for (the others appear with their rooms)."""
    if not query.by_department:
        return {None: [{} for _ in starts_ms]}
    if query.department_id is not None:
        return {query.department_id: [{} for _ in starts_ms]}
    return {}


def _slot_sums(
    metric: Metric, query: TrendQuery, context: Context, repository: Repository, starts_ms: list[int]
) -> SeriesSums:
    """Each series' sums per bucket, from the sums of its slots (in the room table when the window
    has one); every bucket of each series asked for is there, empty or not."""
    sums = _asked(query, starts_ms)
    for department, slot, group in _slots(metric, query, context, repository):
        department = department if query.by_department else None
        bucket = sums.setdefault(department, [{} for _ in starts_ms])[slot_bucket(slot, starts_ms)]
        for name, value in group.items():
            bucket[name] = bucket.get(name, 0) + (value or 0)
    return sums


def _slots(
    metric: Metric, query: TrendQuery, context: Context, repository: Repository
) -> Iterator[tuple[str | None, float, Mapping[str, float]]]:
    """The metric's sums per department and slot holding any of its documents: from the room
    table when the window has one, else from an aggregate of its own."""
    table = None if metric.tally is None else table_of(query, context)
    if table is None:
        for group in repository.aggregate(metric.collection, series_pipeline(metric, query, context)):
            yield group["_id"].get("d"), group["_id"]["s"], {k: v for k, v in group.items() if k != "_id"}
        return
    assert metric.tally is not None
    for department, slot, sums in entries(table, query, context):
        tallied = metric.tally(sums, query)
        if next(iter(tallied.values())):
            yield department, slot, tallied


def _timed_sums(
    metric: Metric,
    timed: Timed,
    query: TrendQuery,
    context: Context,
    repository: Repository,
    starts_ms: list[int],
    schedules: Schedules,
) -> tuple[SeriesSums, int]:
    """Each series' sums per bucket in business time, from one read of the window's rooms (each in
    the bucket of its creation), and the rooms counted without a schedule."""
    totals: dict[tuple[str | None, int], list[int]] = {}
    without = 0
    rooms = repository.stream(metric.collection, metric.timed_pipeline(query, context), any_dates=True)
    for room, duration, scheduled in measured(timed, rooms, schedules):
        department = room.get("departmentId") if query.by_department else None
        bucket = slot_bucket(milliseconds(room["ts"]) // SLOT_MS, starts_ms)
        total = totals.setdefault((department, bucket), [0, 0])
        total[0] += 1
        total[1] += duration
        without += not scheduled
    sums = _asked(query, starts_ms)
    for (department, bucket), (count, duration) in totals.items():
        sums.setdefault(department, [{} for _ in starts_ms])[bucket] = timed.sums(count, duration)
    return sums, without


def series(
    metric: Metric,
    query: TrendQuery,
    context: Context,
    repository: Repository,
    schedules: Schedules | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """The series of the query's window: every bucket, its values from the sums of its slots, or
    with ``schedules`` from its rooms' durations in business time; and the rooms counted without a
    schedule."""
    starts = bucket_starts(query.start, query.end, query.timezone, query.group_by)
    starts_ms = [milliseconds(start) for start in starts]
    without = 0
    if schedules is None or metric.timed is None:
        sums = _slot_sums(metric, query, context, repository, starts_ms)
    else:
        sums, without = _timed_sums(metric, metric.timed, query, context, repository, starts_ms, schedules)
    labels = [local_iso(start, query.timezone) for start in starts]
    return department_series(query, context, repository, labels, sums, metric.twin), without


def department_series(
    query: TrendQuery,
    context: Context,
    repository: Repository,
    labels: list[str],
    groups: Mapping[str | None, Sequence[Any]],
    values: Callable[[Any], Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """One series per key of ``groups`` (null first, then by id), its buckets ``{start, ...}``
    with the ``values`` of each of the key's groups, and the departments' names when they are
    switched on and the series are per department."""
    names = None
    if context.department_names and query.by_department:
        names = repository.department_names(list(groups))
    answer = []
    for department in sorted(groups, key=lambda key: (key is not None, key or "")):
        row: dict[str, Any] = {"_id": department}
        if names is not None:
            row["name"] = named(names.get(department)) if department is not None else None
        row["buckets"] = [
            {"start": label, **values(group)} for label, group in zip(labels, groups[department], strict=True)
        ]
        answer.append(row)
    return answer


def rooms_per_slot(query: Query, context: Context, repository: Repository) -> Iterator[tuple[float, int]]:
    """The rooms created in the window per slot holding any: from the room table when the window
    has one, else from an aggregate."""
    table = table_of(query, context)
    if table is None:
        for group in repository.aggregate("room", heatmap_pipeline(query, context)):
            yield group["_id"], int(group["n"])
        return
    for _, slot, sums in entries(table, query, context):
        if sums.get("rooms"):
            yield slot, int(sums["rooms"])


def heatmap_pipeline(query: Query, context: Context) -> Pipeline:
    """The rooms created in the window (of the department), counted per UTC quarter hour."""
    return [*window_rooms(query, context), {"$group": {"_id": quarter_hour(), "n": {"$sum": 1}}}]


def compute_heatmap(query: Query, context: Context, repository: Repository) -> dict[str, Any]:
    """Rooms created in the window by local weekday (Monday first) and hour, and the busiest cell."""
    cells: dict[tuple[int, int], int] = {}
    for slot, rooms in rooms_per_slot(query, context, repository):
        moment = local_moment(slot, query.timezone)
        cell = (moment.weekday(), moment.hour)
        cells[cell] = cells.get(cell, 0) + rooms
    top = busiest(cells)
    return {
        "timezone": timezone_name(query.timezone),
        "weekdays": [
            {"weekday": name, "hours": [cells.get((day, hour), 0) for hour in range(24)]}
            for day, name in enumerate(WEEKDAYS)
        ],
        "busiest": None if top is None else {"weekday": WEEKDAYS[top[0]], "hour": top[1]},
    }


# The row type

_SERIES_NOTE = (
    " A room counts in the bucket of its creation (a transfer in that of its message), under the "
    "endpoint's own rules for the window; each bucket's values are computed over its rooms as the "
    "endpoint computes a window's, so a one-bucket series is the endpoint's row, and the counts of a "
    "series add up to the endpoint's. Every bucket is present (0 when empty); the first and last are "
    f"clipped to `start` and `end`. More than {MAX_BUCKETS} buckets per series is a 400 naming `groupBy`; "
    "with `compare=previous`, a previous window that would begin before year 1 one naming `compare`."
)


@dataclass(frozen=True, kw_only=True)
class Trend(Endpoint):
    """A department metric per local hour, day, ISO week or month: everything follows from it."""

    path: str = field(init=False)
    args: type[ArgsSchema] = field(init=False)
    response: Schema = field(init=False)
    compute: Any = field(init=False)
    description: str = _SERIES_NOTE
    metric: Metric

    def __post_init__(self) -> None:
        name = name_of(self.metric)
        self._derive(
            path=f"trends/{name}",
            args=trend_args(self.metric),
            response=trend_schema(self.metric),
            compute=self._series,
            summary=f"`departments/{name}` per local hour, day, ISO week or month of the window.",
            reads_inactivity_timeout=self.metric.reads_inactivity_timeout,
            example=self._example(),
        )
        super().__post_init__()

    def _series(self, query: TrendQuery, context: Context, repository: Repository) -> dict[str, Any]:
        """The series, and with ``compare`` the previous one; in business time when asked (the
        rooms without a schedule counted over both)."""
        schedules = required_schedules(repository) if query.business_hours else None
        current, without = series(self.metric, query, context, repository, schedules)
        body: dict[str, Any] = {
            "metric": name_of(self.metric),
            "groupBy": query.group_by,
            "timezone": timezone_name(query.timezone),
            "series": current,
        }
        if query.compare == "previous":
            start, end = previous_window(query.start, query.end)
            earlier = replace(query, start=start, end=end)
            body["previous"], before = series(self.metric, earlier, context, repository, schedules)
            without += before
        if schedules is not None:
            body.update(in_business_time(without))
        return body

    def _example(self) -> dict[str, Any]:
        values = {name: 41 + index for index, name in enumerate(self.metric.fields)}
        buckets = [
            {"start": "2024-03-01T00:00:00+01:00", **values},
            {"start": "2024-03-02T00:00:00+01:00", **{name: 0 for name in values}},
        ]
        return {
            "metric": name_of(self.metric),
            "groupBy": "day",
            "timezone": "Europe/Berlin",
            "series": [{"_id": None, "buckets": buckets}],
            "success": True,
        }


FAMILY = Family(
    name="trends",
    description="Each department metric per local hour, day, ISO week or month, against the previous "
    "window if asked, and the rooms by local weekday and hour.",
    endpoints=(
        *(Trend(metric=metric) for metric in METRICS.values()),
        Endpoint(
            path="trends/heatmap",
            args=DashboardArgsSchema,
            response=HeatmapSchema(),
            compute=compute_heatmap,
            summary="Rooms created in the window by local weekday and hour (Monday first), and the busiest "
            "cell.",
            description=" A 25-hour day counts its repeated hour in that hour; a 23-hour day has no rooms in "
            "the hour it skips.",
            example={
                "timezone": "Europe/Berlin",
                "weekdays": [{"weekday": name, "hours": [0] * 9 + [4, 7, 3] + [0] * 12} for name in WEEKDAYS],
                "busiest": {"weekday": "Monday", "hour": 10},
                "success": True,
            },
        ),
    ),
)
