"""The chart series of Rocket.Chat's Omnichannel "Analytics" page: ``dashboards/charts-data``.

The rooms are grouped by UTC quarter hour in one aggregate, and the groups folded into local days or
hours in Python: memory is bounded by the window's quarter hours, never by the rooms.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError, fields, validates_schema

from ...repository import Repository
from ...schemas import (
    MAX_BUCKETS,
    Amount,
    DashboardArgsSchema,
    Query,
    choice,
    succeeded,
)
from ...shape import Parallel
from ..common import (
    Context,
    Pipeline,
    hour_range,
    human_messages,
    local_days,
    local_moment,
    quarter_hour,
    window_rooms,
)
from ..row import Endpoint
from ..stored import number, read_once


@dataclass(frozen=True)
class ChartQuery(Query):
    """The series asked for by ``chartName``."""

    chart_name: str | None = None


#: The chart names of ``dashboards/charts-data``, as Rocket.Chat's client sends them.
CHART_NAMES = (
    "Total_conversations",
    "Avg_chat_duration",
    "Total_messages",
    "Avg_first_response_time",
    "Best_first_response_time",
    "Avg_response_time",
    "Avg_reaction_time",
)


class ChartArgsSchema(DashboardArgsSchema):
    """The window, a department and the series of ``charts-data``."""

    query_type = ChartQuery

    chart_name = choice(
        CHART_NAMES,
        "The series: one of " + ", ".join(f"`{name}`" for name in CHART_NAMES),
        data_key="chartName",
        required=True,
    )

    @validates_schema
    def _at_most_max_buckets(self, data: dict[str, Any], **kwargs: Any) -> None:
        # Counted from the first and last days alone: the labels are built only once it passes.
        if "start" in data and "end" in data and data["start"] <= data["end"]:
            zone = self.zone_of(data)
            days = (data["end"].astimezone(zone).date() - data["start"].astimezone(zone).date()).days + 1
            if days > MAX_BUCKETS:
                raise ValidationError(
                    f"Gives {days} days, more than {MAX_BUCKETS}: choose a shorter window.",
                    field_name="end",
                )


class ChartSchema(Schema):
    """One series: a point per day of the window, or per hour when it is one day."""

    CSV = Parallel()

    chartLabel = fields.String(metadata={"description": "The chart name asked for."})
    dataLabels = fields.List(
        fields.String(),
        metadata={"description": 'Each point\'s day ("10/1", month/day) or hour ("1PM-2PM").'},
    )
    dataPoints = fields.List(
        Amount(),
        metadata={
            "description": "Each point's value: rooms or messages, or seconds to two decimals; "
            "0 for an empty day or hour."
        },
    )
    success = succeeded()


#: Whether a room has a number that is not 0 (its ``_value``, read once), as Rocket.Chat's charts
#: test it; a value that is no number is none (stored.py).
_HAS = {"$ne": [{"$ifNull": ["$_value", 0]}, 0]}
#: The accumulators of a mean over the rooms that have the value.
_MEAN = {
    "sum": {"$sum": {"$cond": [_HAS, "$_value", 0]}},
    "n": {"$sum": {"$cond": [_HAS, 1, 0]}},
}

#: The number each chart but the counts reads, as its rooms' ``_value``.
VALUES = {
    "Avg_chat_duration": "$metrics.chatDuration",
    "Avg_first_response_time": "$metrics.response.ft",
    "Best_first_response_time": "$metrics.response.ft",
    "Avg_response_time": "$metrics.response.avg",
    "Avg_reaction_time": "$metrics.reaction.ft",
}

#: Messages people wrote (no ``t``) that are not the visitor's (no ``token``): Rocket.Chat's.
#: Per chart: the accumulators of a quarter hour's rooms, and whether the point is their mean.
CHARTS: dict[str, dict[str, Any]] = {
    "Total_conversations": {"sum": {"$sum": 1}},
    "Avg_chat_duration": _MEAN,
    "Total_messages": {"sum": {"$sum": "$n"}},
    "Avg_first_response_time": _MEAN,
    "Best_first_response_time": {"best": {"$min": {"$cond": [_HAS, "$_value", None]}}},
    "Avg_response_time": _MEAN,
    "Avg_reaction_time": _MEAN,
}


def chart_pipeline(query: ChartQuery, context: Context) -> Pipeline:
    """The rooms of the window (and department) grouped by UTC quarter hour, with the chart's
    accumulators."""
    chart = str(query.chart_name)
    pipeline = window_rooms(query, context)
    if chart == "Total_messages":
        pipeline += human_messages(context, agents_only=True, keep=("ts",))
    if chart in VALUES:
        pipeline.append(read_once(value=number(VALUES[chart])))
    return [*pipeline, {"$group": {"_id": quarter_hour(), **CHARTS[chart]}}]


def _rounded(value: float) -> float:
    """To two decimals, halves up, as Rocket.Chat's ``Math.round(x * 100) / 100``."""
    return math.floor(value * 100 + 0.5) / 100


def _point(groups: list[dict[str, Any]], chart: str) -> float | int:
    if chart == "Best_first_response_time":
        found = [group["best"] for group in groups if group.get("best") is not None]
        return _rounded(min(found)) if found else 0
    total = sum(group.get("sum") or 0 for group in groups)
    if chart in ("Total_conversations", "Total_messages"):
        return int(total)
    rooms = sum(group.get("n") or 0 for group in groups)
    return _rounded(total / rooms) if rooms else 0


def charts_data(query: ChartQuery, context: Context, repository: Repository) -> dict[str, Any]:
    """One chart series: a point per day of the window in the reporting timezone, or per hour
    when the window is one day; a day or hour without rooms is 0."""
    chart = str(query.chart_name)
    days = local_days(query.start, query.end, query.timezone)
    buckets: Callable[[dt.datetime], Any]
    if len(days) == 1:
        keys: list[Any] = list(range(24))
        labels = [hour_range(hour, "-") for hour in keys]

        def buckets(moment: dt.datetime) -> Any:
            return moment.hour
    else:
        keys = days
        labels = [f"{day.month}/{day.day}" for day in days]

        def buckets(moment: dt.datetime) -> Any:
            return moment.date()

    grouped: dict[Any, list[dict[str, Any]]] = {key: [] for key in keys}
    for group in repository.aggregate("room", chart_pipeline(query, context)):
        key = buckets(local_moment(group["_id"], query.timezone))
        if key in grouped:
            grouped[key].append(group)
    return {
        "chartLabel": chart,
        "dataLabels": labels,
        "dataPoints": [_point(grouped[key], chart) for key in keys],
    }


ROWS = (
    Endpoint(
        path="dashboards/charts-data",
        args=ChartArgsSchema,
        response=ChartSchema(),
        compute=charts_data,
        summary=" ".join((charts_data.__doc__ or "").split()),
        description=(
            " Rooms created in the window (of `departmentId` when given). `Total_conversations`: rooms; "
            "`Total_messages`: messages people other than the visitor wrote in those rooms; the `Avg_` "
            "charts: the mean over the rooms that have the value (`metrics.chatDuration`, "
            "`metrics.response.ft`, `metrics.response.avg`, `metrics.reaction.ft`), "
            "`Best_first_response_time` the least `metrics.response.ft`, in seconds to two decimals. "
            f"A window that touches more than {MAX_BUCKETS} days is a 400 naming `end`."
        ),
        example={
            "chartLabel": "Total_conversations",
            "dataLabels": ["3/1", "3/2", "3/3"],
            "dataPoints": [12, 0, 7],
            "success": True,
        },
    ),
)
