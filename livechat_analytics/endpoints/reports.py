"""The report family, under ``dashboards/``: the conversation reports (rooms created in the window
counted per source, status, department, tag or agent) and the chart series of the analytics page.

Each answer is one aggregate over the rooms of the window, grouped as small as the answer needs
(per label, or per UTC quarter hour for the series), then shaped in Python: the groups are few, so
memory is bounded by the labels or by the window's quarter hours, never by the rooms.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from typing import Any

from .. import schemas
from ..auth import REPORTS_PERMISSION
from ..repository import Repository
from ..schemas import Query
from . import Endpoint, table
from .common import (
    CLOSED,
    DEPARTMENT_KEY,
    ONHOLD,
    OPEN,
    QUEUED,
    STATUS,
    Context,
    Pipeline,
    hour_range,
    human_messages,
    in_window,
    livechat_rooms,
    local_days,
    local_moment,
    quarter_hour,
    unique_labels,
)

FAMILY = "reports"

#: The labels of ``conversations-by-status``, Rocket.Chat's, for the statuses of :data:`.common.STATUS`.
STATUS_LABELS = {OPEN: "Open", CLOSED: "Closed", QUEUED: "Queued", ONHOLD: "On_Hold"}

Item = dict[str, Any]


def window_rooms(query: Query, department_id: str | None = None) -> Pipeline:
    """Livechat rooms created in the window (of one department when given)."""
    return livechat_rooms(department_id, in_window(query.start, query.end))


def ordered(items: list[Item], sort: tuple[tuple[str, int], ...]) -> list[Item]:
    """``data`` in the order asked: each key of ``sort`` in turn, later keys breaking ties."""
    for key, direction in reversed(sort):
        items.sort(key=lambda item: item[key], reverse=direction == -1)
    return items


def report(
    counts: Iterable[tuple[str, int]], query: Query, *, total: int, unspecified: int | None = None
) -> dict[str, Any]:
    """The body of a report: its items in order, ``total`` and, where it has one, ``unspecified``."""
    data = ordered([{"label": label, "value": int(value)} for label, value in counts], query.sort)
    body: dict[str, Any] = {"data": data, "total": int(total)}
    if unspecified is not None:
        body["unspecified"] = int(unspecified)
    return body


def _counted(repository: Repository, pipeline: Pipeline) -> dict[Any, dict[str, Any]]:
    """Run a pipeline whose groups hold ``value``; the groups by key."""
    return {group["_id"]: group for group in repository.aggregate("room", pipeline)}


def by_source(query: Query, context: Context, repository: Repository) -> dict[str, Any]:
    """Rooms created in the window per source: its alias, else its type."""
    label = {"$ifNull": ["$source.alias", "$source.type"]}
    groups = _counted(repository, [*window_rooms(query), {"$group": {"_id": label, "value": {"$sum": 1}}}])
    # Rooms without a source (or whose source names nothing) are not in the report, as Rocket.Chat.
    counts = [(str(key), group["value"]) for key, group in groups.items() if key is not None]
    return report(counts, query, total=sum(value for _, value in counts))


def by_status(query: Query, context: Context, repository: Repository) -> dict[str, Any]:
    """Rooms created in the window per status (open, closed, queued, on hold): they add up to
    ``total``."""
    groups = _counted(repository, [*window_rooms(query), {"$group": {"_id": STATUS, "value": {"$sum": 1}}}])
    counts = [(label, groups.get(status, {}).get("value", 0)) for status, label in STATUS_LABELS.items()]
    return report(counts, query, total=sum(value for _, value in counts))


def by_department(query: Query, context: Context, repository: Repository) -> dict[str, Any]:
    """Rooms created in the window per department, labelled by name; rooms without one in
    ``unspecified``."""
    groups = _counted(
        repository, [*window_rooms(query), {"$group": {"_id": DEPARTMENT_KEY, "value": {"$sum": 1}}}]
    )
    unspecified = groups.pop(None, {}).get("value", 0)
    names = repository.department_names(list(groups))
    labels = unique_labels([(key, _text(names.get(key)) or str(key)) for key in groups])
    counts = [(labels[key], group["value"]) for key, group in groups.items()]
    return report(counts, query, total=sum(value for _, value in counts), unspecified=unspecified)


def by_tags(query: Query, context: Context, repository: Repository) -> dict[str, Any]:
    """Rooms created in the window per tag: a room with two tags counts under each, and once in
    ``total``; rooms without tags in ``unspecified``."""
    tags = {"$cond": [{"$isArray": "$tags"}, "$tags", []]}
    pipeline = [
        *window_rooms(query),
        {
            "$facet": {
                "rooms": [{"$group": {"_id": {"$gt": [{"$size": tags}, 0]}, "value": {"$sum": 1}}}],
                "tags": [
                    # Each tag once per room, however often the room lists it.
                    {"$project": {"tag": {"$setUnion": [tags]}}},
                    {"$unwind": "$tag"},
                    {"$group": {"_id": "$tag", "value": {"$sum": 1}}},
                ],
            }
        },
    ]
    facet = (repository.aggregate("room", pipeline) or [{}])[0]
    rooms = {group["_id"]: group["value"] for group in facet.get("rooms", [])}
    counts = [
        (str(group["_id"]), group["value"]) for group in facet.get("tags", []) if group["_id"] is not None
    ]
    return report(counts, query, total=rooms.get(True, 0), unspecified=rooms.get(False, 0))


def by_agent(query: Query, context: Context, repository: Repository) -> dict[str, Any]:
    """Rooms created in the window per serving agent (``servedBy._id``), labelled by the agent's
    name, else username; rooms nobody served in ``unspecified``."""
    pipeline = [
        *window_rooms(query),
        {
            "$group": {
                "_id": {"$ifNull": ["$servedBy._id", None]},
                "username": {"$max": "$servedBy.username"},
                "value": {"$sum": 1},
            }
        },
        {
            "$lookup": {
                "from": context.names["users"],
                "localField": "_id",
                "foreignField": "_id",
                "as": "user",
            }
        },
        {
            "$project": {
                "value": 1,
                "username": 1,
                "user": {"$arrayElemAt": ["$user", 0]},
            }
        },
    ]
    groups = _counted(repository, pipeline)
    unspecified = groups.pop(None, {}).get("value", 0)
    named = []
    for key, group in groups.items():
        found = group.get("user")
        user: dict[str, Any] = found if isinstance(found, dict) else {}
        name = _text(user.get("name")) or _text(user.get("username")) or _text(group.get("username"))
        named.append((key, name or str(key)))
    labels = unique_labels(named)
    counts = [(labels[key], group["value"]) for key, group in groups.items()]
    return report(counts, query, total=sum(value for _, value in counts), unspecified=unspecified)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# -- charts-data ------------------------------------------------------------------------------


def _has(path: str) -> dict[str, Any]:
    """Whether a room has a value there that is not 0, as Rocket.Chat's charts test it."""
    return {"$ne": [{"$ifNull": [path, 0]}, 0]}


def _mean_of(path: str) -> dict[str, Any]:
    """The accumulators of a mean over the rooms that have the value."""
    return {
        "sum": {"$sum": {"$cond": [_has(path), path, 0]}},
        "n": {"$sum": {"$cond": [_has(path), 1, 0]}},
    }


#: Messages people wrote (no ``t``) that are not the visitor's (no ``token``): Rocket.Chat's.
#: Per chart: the accumulators of a quarter hour's rooms, and whether the point is their mean.
CHARTS: dict[str, dict[str, Any]] = {
    "Total_conversations": {"sum": {"$sum": 1}},
    "Avg_chat_duration": _mean_of("$metrics.chatDuration"),
    "Total_messages": {"sum": {"$sum": "$n"}},
    "Avg_first_response_time": _mean_of("$metrics.response.ft"),
    "Best_first_response_time": {
        "best": {"$min": {"$cond": [_has("$metrics.response.ft"), "$metrics.response.ft", None]}}
    },
    "Avg_response_time": _mean_of("$metrics.response.avg"),
    "Avg_reaction_time": _mean_of("$metrics.reaction.ft"),
}


def chart_pipeline(query: Query, context: Context) -> Pipeline:
    """The rooms of the window (and department) grouped by UTC quarter hour, with the chart's
    accumulators."""
    pipeline = window_rooms(query, query.department_id)
    if query.chart_name == "Total_messages":
        pipeline += human_messages(context, agents_only=True, keep=("ts",))
    return [*pipeline, {"$group": {"_id": quarter_hour(), **CHARTS[str(query.chart_name)]}}]


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


def charts_data(query: Query, context: Context, repository: Repository) -> dict[str, Any]:
    """One chart series: a point per day of the window in the reporting timezone, or per hour
    when the window is one day; a day or hour without rooms is 0."""
    chart = str(query.chart_name)
    days = local_days(query.start, query.end, context.timezone)
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
        key = buckets(local_moment(group["_id"], context.timezone))
        if key in grouped:
            grouped[key].append(group)
    return {
        "chartLabel": chart,
        "dataLabels": labels,
        "dataPoints": [_point(grouped[key], chart) for key in keys],
    }


_WINDOW = (
    " Rooms created in the window (`start`, `end`, both inclusive); a window of more than a year "
    "(1.01 years of whole days in the reporting timezone, as Rocket.Chat) is refused."
)


def _report_row(
    path: str,
    compute: Callable[[Query, Context, Repository], dict[str, Any]],
    args: type[schemas.ArgsSchema],
    example: dict[str, Any],
    *,
    unspecified: bool,
) -> Endpoint:
    summary = " ".join((compute.__doc__ or path).split("\n\n")[0].split()).replace("``", "`")
    return Endpoint(
        path=f"dashboards/{path}",
        args=args,
        response=(schemas.ReportWithUnspecifiedSchema if unspecified else schemas.ReportSchema)(),
        compute=compute,
        permission=REPORTS_PERMISSION,
        summary=summary,
        description=_WINDOW,
        sortable=("label", "value"),
        example={**example, "success": True},
    )


ENDPOINTS = table(
    _report_row(
        "conversations-by-source",
        by_source,
        schemas.ReportArgsSchema,
        {"data": [{"label": "widget", "value": 31}, {"label": "api", "value": 4}], "total": 35},
        unspecified=False,
    ),
    _report_row(
        "conversations-by-status",
        by_status,
        schemas.ReportArgsSchema,
        {
            "data": [
                {"label": "Closed", "value": 28},
                {"label": "Open", "value": 4},
                {"label": "Queued", "value": 2},
                {"label": "On_Hold", "value": 1},
            ],
            "total": 35,
        },
        unspecified=False,
    ),
    _report_row(
        "conversations-by-department",
        by_department,
        schemas.ReportByValueArgsSchema,
        {
            "data": [{"label": "Billing", "value": 9}, {"label": "Sales", "value": 22}],
            "total": 31,
            "unspecified": 4,
        },
        unspecified=True,
    ),
    _report_row(
        "conversations-by-tags",
        by_tags,
        schemas.ReportByValueArgsSchema,
        {
            "data": [{"label": "refund", "value": 3}, {"label": "pricing", "value": 7}],
            "total": 9,
            "unspecified": 26,
        },
        unspecified=True,
    ),
    _report_row(
        "conversations-by-agent",
        by_agent,
        schemas.ReportByLabelArgsSchema,
        {
            "data": [{"label": "Ana Souza", "value": 12}, {"label": "bruno", "value": 20}],
            "total": 32,
            "unspecified": 3,
        },
        unspecified=True,
    ),
    Endpoint(
        path="dashboards/charts-data",
        args=schemas.ChartArgsSchema,
        response=schemas.ChartSchema(),
        compute=charts_data,
        summary=" ".join((charts_data.__doc__ or "").split()),
        description=(
            " Rooms created in the window (of `departmentId` when given). `Total_conversations`: rooms; "
            "`Total_messages`: messages people other than the visitor wrote in those rooms; the `Avg_` "
            "charts: the mean over the rooms that have the value (`metrics.chatDuration`, "
            "`metrics.response.ft`, `metrics.response.avg`, `metrics.reaction.ft`), "
            "`Best_first_response_time` the least `metrics.response.ft`, in seconds to two decimals."
        ),
        example={
            "chartLabel": "Total_conversations",
            "dataLabels": ["3/1", "3/2", "3/3"],
            "dataPoints": [12, 0, 7],
            "success": True,
        },
    ),
    family=FAMILY,
)
