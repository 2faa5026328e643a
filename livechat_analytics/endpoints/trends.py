"""The trends family, under ``trends/``: each department metric as a series of local hours, days,
ISO weeks or months (optionally against the previous window, or per department), and the rooms by
local weekday and hour.

A series is one aggregate: the metric's own rooms and sums (:data:`.departments.ROOM_SUMS`), grouped
by UTC quarter hour instead of by department alone. Every UTC offset is a whole number of quarter
hours, so the slots fold exactly into the local buckets in Python, whatever the zone does (23- and
25-hour days, half- and quarter-hour offsets); the buckets' values then come from their added-up
sums as the endpoint computes a window's (:data:`.departments.ROW_VALUES`). Memory is bounded by
the window's slots and the departments, never by the rooms.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .. import schemas
from ..repository import Repository
from ..schemas import Query
from . import Endpoint, table
from .common import (
    BUCKETS,
    DAY,
    DEPARTMENT_KEY,
    TRANSFER_MESSAGE,
    Context,
    Pipeline,
    bucket_starts,
    busiest,
    first_of,
    in_window,
    livechat_rooms,
    local_iso,
    local_moment,
    milliseconds,
    quarter_hour,
    slot_bucket,
    timezone_name,
)
from .departments import METRICS, ROOM_SUMS, ROW_VALUES

FAMILY = "trends"
#: The most buckets a series may have.
MAX_BUCKETS = 1000
WEEKDAYS = tuple(calendar.day_name)  # Monday first
_MS = dt.timedelta(milliseconds=1)


# Query schemas


class TrendArgsSchema(schemas.DashboardArgsSchema):
    """The window, a department, the bucket, the comparison and the split by department."""

    group_by = fields.String(
        data_key="groupBy",
        load_default=DAY,
        validate=validate.OneOf(BUCKETS, error="Must be one of " + ", ".join(BUCKETS) + "."),
        metadata={
            "description": "The bucket: a local `hour`, `day`, ISO `week` (from Monday) or `month` "
            "in the request's timezone.",
            "enum": list(BUCKETS),
            "default": DAY,
        },
    )
    compare = fields.String(
        load_default=None,
        validate=validate.OneOf(("previous",), error="Must be previous."),
        metadata={
            "description": "`previous`: add `previous`, the same series over the window of equal "
            "length that ends just before `start`.",
            "enum": ["previous"],
        },
    )
    by_department = schemas.flag(
        "`true`: one series per department instead of one for all.", data_key="byDepartment"
    )

    @validates_schema
    def _at_most_max_buckets(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not {"start", "end", "group_by"} <= set(data) or data["start"] > data["end"]:
            return
        windows = [(data["start"], data["end"])]
        if data.get("compare"):
            windows.append(previous_window(data["start"], data["end"]))
        for start, end in windows:
            starts = bucket_starts(start, end, self.zone_of(data), data["group_by"], limit=MAX_BUCKETS)
            if len(starts) > MAX_BUCKETS:
                raise ValidationError(
                    f"Gives more than {MAX_BUCKETS} buckets for this window: choose a longer "
                    "bucket or a shorter window.",
                    field_name="groupBy",
                )


class TrendAnsweredArgsSchema(TrendArgsSchema):
    """``amount-of-chats`` also filters on whether the visitor got an answer."""

    answered = schemas.AnsweredArgsSchema._declared_fields["answered"]


def previous_window(start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The window of equal length that ends just before ``start`` (one millisecond before)."""
    last = start - _MS
    return last - (end - start), last


# Response schemas


class SeriesBaseSchema(Schema):
    """One series: the department (null for all departments together, or for rooms without one
    with ``byDepartment``) and its buckets."""

    OPTIONAL_FIELDS = ("name",)

    _id = fields.String(
        allow_none=True,
        metadata={"description": "The department id; null for every department together (or, "
                  "with `byDepartment=true`, for rooms without a department)."},
    )
    name = fields.String(
        allow_none=True,
        metadata={"description": "The department's name, when names are switched on."},
    )


@cache
def trend_schema(path: str) -> Schema:
    """The 200 body of ``trends/<path>``: its buckets hold the department endpoint's row fields."""
    metric = METRICS[path]
    title = "".join(part.title() for part in path.split("-"))
    value_fields = {name: metric.row_schema._declared_fields[name] for name in metric.fields}
    bucket = Schema.from_dict(
        {
            "start": fields.String(
                metadata={"description": "The bucket's first moment, ISO 8601 with the zone's offset "
                          "then (the first bucket starts at `start`)."}
            ),
            **value_fields,
        },
        name=f"{title}BucketSchema",
    )
    series = type(
        f"{title}SeriesSchema",
        (SeriesBaseSchema,),
        {
            "__doc__": SeriesBaseSchema.__doc__,
            "buckets": fields.List(
                fields.Nested(bucket),
                metadata={"description": "Every bucket of the window in order, 0 when empty."},
            ),
        },
    )
    body = type(
        f"{title}TrendSchema",
        (Schema,),
        {
            "__doc__": f"`{path}` per local bucket: a series for all departments, or one per department.",
            "OPTIONAL_FIELDS": ("previous",),
            "metric": fields.String(metadata={"description": "The metric asked for."}),
            "groupBy": fields.String(metadata={"description": "The bucket.", "enum": list(BUCKETS)}),
            "timezone": fields.String(metadata={"description": "The timezone the buckets are in."}),
            "series": fields.List(fields.Nested(series), metadata={"description": "The series."}),
            "previous": fields.List(
                fields.Nested(series),
                metadata={"description": "With `compare=previous` only: the series of the previous "
                          "window of equal length."},
            ),
            "success": schemas.succeeded(),
        },
    )
    return body()


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


class HeatmapSchema(Schema):
    """Rooms created in the window by local weekday and hour, and the busiest cell."""

    timezone = fields.String(metadata={"description": "The timezone of the weekdays and hours."})
    weekdays = fields.List(
        fields.Nested(WeekdaySchema), metadata={"description": "Seven rows, Monday first."}
    )
    busiest = fields.Nested(
        BusiestSchema,
        allow_none=True,
        metadata={"description": "The cell with most rooms (the earliest among equals); null for none."},
    )
    success = schemas.succeeded()


# Pipelines


def room_series(path: str, query: Query, context: Context) -> Pipeline:
    """The metric's rooms, summed per UTC quarter hour (and department, with ``byDepartment``)."""
    select, sums = ROOM_SUMS[path]
    key = {"d": DEPARTMENT_KEY if query.by_department else None, "s": quarter_hour()}
    return [*select(query, context), {"$group": {"_id": key, **sums(context)}}]


def transfer_series(query: Query, context: Context) -> Pipeline:
    """Transfer events per UTC quarter hour, credited to the department each room has now: the
    messages grouped by room and slot first, so each room is looked up once per slot."""
    pipeline: Pipeline = [
        {"$match": {"t": TRANSFER_MESSAGE, "ts": in_window(query.start, query.end)}},
        {"$group": {"_id": {"r": "$rid", "s": quarter_hour()}, "events": {"$sum": 1}}},
        {"$project": {"_id": 0, "rid": "$_id.r", "s": "$_id.s", "events": 1}},
        {
            "$lookup": {
                "from": context.names["room"],
                "localField": "rid",
                "foreignField": "_id",
                "as": "room",
            }
        },
        {"$project": {"d": first_of("$room", "departmentId"), "s": 1, "events": 1}},
    ]
    if query.department_id is not None:
        pipeline.append({"$match": {"d": query.department_id}})
    key = {"d": "$d" if query.by_department else None, "s": "$s"}
    return [*pipeline, {"$group": {"_id": key, "numberOfTransferredRooms": {"$sum": "$events"}}}]


def series_pipeline(path: str, query: Query, context: Context) -> tuple[str, Pipeline]:
    """The collection and the pipeline of a metric's series."""
    if path == "total-transferred-chats":
        return "message", transfer_series(query, context)
    return "room", room_series(path, query, context)


# What the rows compute


def series(path: str, query: Query, context: Context, repository: Repository) -> list[dict[str, Any]]:
    """The series of the query's window: every bucket, from the sums of its slots."""
    starts = bucket_starts(query.start, query.end, context.timezone, query.group_by)
    starts_ms = [milliseconds(start) for start in starts]
    collection, pipeline = series_pipeline(path, query, context)
    sums: dict[str | None, list[dict[str, float]]] = {}
    if query.by_department and query.department_id is not None:
        sums[query.department_id] = [{} for _ in starts]
    if not query.by_department:
        sums[None] = [{} for _ in starts]
    for group in repository.aggregate(collection, pipeline):
        key = group["_id"]
        department = key.get("d") if query.by_department else None
        bucket = sums.setdefault(department, [{} for _ in starts])[slot_bucket(key["s"], starts_ms)]
        for name, value in group.items():
            if name != "_id":
                bucket[name] = bucket.get(name, 0) + (value or 0)
    labels = [local_iso(start, context.timezone) for start in starts]
    values = ROW_VALUES[path]
    names = None
    if context.department_names and query.by_department:
        names = repository.department_names(list(sums))
    answer = []
    for department in sorted(sums, key=lambda key: (key is not None, key or "")):
        row: dict[str, Any] = {"_id": department}
        if names is not None:
            row["name"] = names.get(department) if department is not None else None
        row["buckets"] = [
            {"start": label, **values(bucket)} for label, bucket in zip(labels, sums[department], strict=True)
        ]
        answer.append(row)
    return answer


def trend(path: str) -> Any:
    """The ``compute`` of ``trends/<path>``: the series, and with ``compare`` the previous one."""

    def compute(query: Query, context: Context, repository: Repository) -> dict[str, Any]:
        body: dict[str, Any] = {
            "metric": path,
            "groupBy": query.group_by,
            "timezone": timezone_name(context.timezone),
            "series": series(path, query, context, repository),
        }
        if query.compare == "previous":
            start, end = previous_window(query.start, query.end)
            body["previous"] = series(path, _window(query, start, end), context, repository)
        return body

    compute.__doc__ = f"The series of `{path}`."
    return compute


def _window(query: Query, start: dt.datetime, end: dt.datetime) -> Query:
    return replace(query, start=start, end=end)


def heatmap_pipeline(query: Query, context: Context) -> Pipeline:
    """The rooms created in the window (of the department), counted per UTC quarter hour."""
    rooms = livechat_rooms(query.department_id, in_window(query.start, query.end))
    return [*rooms, {"$group": {"_id": quarter_hour(), "n": {"$sum": 1}}}]


def compute_heatmap(query: Query, context: Context, repository: Repository) -> dict[str, Any]:
    """Rooms created in the window by local weekday (Monday first) and hour, and the busiest cell."""
    cells: dict[tuple[int, int], int] = {}
    for group in repository.aggregate("room", heatmap_pipeline(query, context)):
        moment = local_moment(group["_id"], context.timezone)
        cell = (moment.weekday(), moment.hour)
        cells[cell] = cells.get(cell, 0) + int(group["n"])
    top = busiest(cells)
    return {
        "timezone": timezone_name(context.timezone),
        "weekdays": [
            {"weekday": name, "hours": [cells.get((day, hour), 0) for hour in range(24)]}
            for day, name in enumerate(WEEKDAYS)
        ],
        "busiest": None if top is None else {"weekday": WEEKDAYS[top[0]], "hour": top[1]},
    }


# CSV: one line per leaf, its keys as columns


def trend_rows(body: Any) -> list[Mapping[str, Any]]:
    """``period`` (``current`` or ``previous``), the department (``_id``, ``name`` when names are
    on), the bucket's ``start`` and its values: a line per bucket of each series."""
    rows: list[Mapping[str, Any]] = []
    for period in ("series", "previous"):
        for one in body.get(period) or []:
            department = {key: value for key, value in one.items() if key != "buckets"}
            for bucket in one["buckets"]:
                rows.append(
                    {"period": "current" if period == "series" else "previous", **department, **bucket}
                )
    return rows


def heatmap_rows(body: Any) -> list[Mapping[str, Any]]:
    """``weekday``, ``hour`` and ``rooms``: a line per cell, Monday 0:00 first."""
    return [
        {"weekday": day["weekday"], "hour": hour, "rooms": rooms}
        for day in body["weekdays"]
        for hour, rooms in enumerate(day["hours"])
    ]


def _example(path: str) -> dict[str, Any]:
    values = {name: 41 + index for index, name in enumerate(METRICS[path].fields)}
    return {
        "metric": path,
        "groupBy": "day",
        "timezone": "Europe/Berlin",
        "series": [
            {
                "_id": None,
                "buckets": [
                    {"start": "2024-03-01T00:00:00+01:00", **values},
                    {"start": "2024-03-02T00:00:00+01:00", **{name: 0 for name in values}},
                ],
            }
        ],
        "success": True,
    }


_SERIES_NOTE = (
    " A room counts in the bucket of its creation (a transfer in that of its message), under the "
    "endpoint's own rules for the window; each bucket's values are computed over its rooms as the "
    "endpoint computes a window's, so a one-bucket series is the endpoint's row, and the counts of a "
    "series add up to the endpoint's. Every bucket is present (0 when empty); the first and last are "
    f"clipped to `start` and `end`. More than {MAX_BUCKETS} buckets per series is a 400."
)

ENDPOINTS = table(
    *(
        Endpoint(
            path=f"{FAMILY}/{path}",
            args=TrendAnsweredArgsSchema if path == "amount-of-chats" else TrendArgsSchema,
            response=trend_schema(path),
            compute=trend(path),
            summary=f"`departments/{path}` per local hour, day, ISO week or month of the window.",
            description=_SERIES_NOTE,
            reads_inactivity_timeout=metric.reads_inactivity_timeout,
            example=_example(path),
            csv=trend_rows,
        )
        for path, metric in METRICS.items()
    ),
    Endpoint(
        path=f"{FAMILY}/heatmap",
        args=schemas.DashboardArgsSchema,
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
        csv=heatmap_rows,
    ),
    family=FAMILY,
)
