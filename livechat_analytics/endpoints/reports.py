"""The report family, under ``dashboards/``: the conversation reports, rooms created in the window
counted per source, status, department, tag or agent.

Each answer is one aggregate over the rooms of the window, grouped per label, then shaped in
Python: the groups are few, so memory is bounded by the labels, never by the rooms.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, ValidationError, fields, validates_schema

from ..auth import REPORTS_PERMISSION
from ..repository import Repository
from ..schemas import Query, Sort, WindowArgsSchema, succeeded
from ..shape import Listed
from .common import (
    CLOSED,
    DEPARTMENT_KEY,
    ONHOLD,
    OPEN,
    QUEUED,
    STATUS,
    Context,
    Pipeline,
    unique_labels,
    window_rooms,
)
from .filters import SOURCE
from .row import Endpoint, Family, first_paragraph
from .stored import text, texts

# -- Query schemas --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportQuery(Query):
    """A report's window, and the order of its items."""

    sort: tuple[tuple[str, int], ...] = (("value", -1),)


#: Rocket.Chat lets a report window pass a year "by some hours/days": 1.01 years of whole days.
LONGEST_REPORT_YEARS = 1.01


def _months_between(first: dt.date, last: dt.date) -> float:
    """Months from ``first`` to ``last`` (not before it), fractional as moment.js counts them:
    whole calendar months, then the rest as a share of the month that follows."""

    def plus_months(day: dt.date, months: int) -> dt.date:
        index = day.month - 1 + months
        year, month = day.year + index // 12, index % 12 + 1
        length = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
        return dt.date(year, month, min(day.day, length))

    if last.year == dt.MAXYEAR:
        # The month after December 9999 has no date; the Gregorian calendar repeats every 400
        # years, so 400 years earlier the months (and their fractions) are the same.
        first, last = first.replace(year=first.year - 400), last.replace(year=last.year - 400)
    whole = (last.year - first.year) * 12 + last.month - first.month
    anchor = plus_months(first, whole)
    if last < anchor:
        whole -= 1
        anchor = plus_months(first, whole)
    following = plus_months(first, whole + 1)
    return whole + (last - anchor).days / (following - anchor).days


class ReportArgsSchema(WindowArgsSchema):
    """The query string of the conversation reports: the window, at most about a year long, and
    the order of ``data``."""

    query_type = ReportQuery

    sort = Sort(load_default=(("value", -1),))

    @validates_schema
    def _at_most_a_year(self, data: dict[str, Any], **kwargs: Any) -> None:
        # As Rocket.Chat: whole days in the reporting timezone, 1.01 years at most.
        if "start" in data and "end" in data and data["start"] <= data["end"]:
            first = data["start"].astimezone(self.zone_of(data)).date()
            last = data["end"].astimezone(self.zone_of(data)).date()
            # A window of over 400 days is too long however its months fall (and may span
            # more than the 400 years that _months_between shifts by near the calendar's end).
            if (last - first).days > 400 or _months_between(first, last) / 12 > LONGEST_REPORT_YEARS:
                raise ValidationError('Must be less than 1 year after "start".', field_name="end")


class ReportByValueArgsSchema(ReportArgsSchema):
    """Reports whose ``data`` comes in ascending ``value`` by default, as Rocket.Chat's."""

    sort = Sort(load_default=(("value", 1),))


class ReportByLabelArgsSchema(ReportArgsSchema):
    """Reports whose ``data`` comes in ``label`` order by default, as Rocket.Chat's."""

    sort = Sort(load_default=(("label", 1),))


class ReportItemSchema(Schema):
    """One slice of a report."""

    label = fields.String(metadata={"description": "What the rooms share (a source, status, ...)."})
    value = fields.Integer(metadata={"description": "Rooms created in the window with it."})


def _report_fields(*, unspecified: bool) -> dict[str, fields.Field]:
    body: dict[str, fields.Field] = {
        "data": fields.List(fields.Nested(ReportItemSchema), metadata={"description": "One item per label."}),
        "total": fields.Integer(
            metadata={"description": "Rooms created in the window with the attribute, each counted once."}
        ),
    }
    if unspecified:
        body["unspecified"] = fields.Integer(
            metadata={"description": "Rooms created in the window without the attribute."}
        )
    body["success"] = succeeded()
    return body


class ReportSchema(Schema.from_dict(_report_fields(unspecified=False))):  # type: ignore[misc]
    """Rooms created in the window, counted per label."""

    CSV = Listed("data")


class ReportWithUnspecifiedSchema(Schema.from_dict(_report_fields(unspecified=True))):  # type: ignore[misc]
    """Rooms created in the window, counted per label, and those without the attribute."""

    CSV = Listed("data")


# -- The row type ---------------------------------------------------------------------------------

_WINDOW = (
    " Rooms created in the window (`start`, `end`, both inclusive); a window of more than a year "
    "(1.01 years of whole days in the reporting timezone, as Rocket.Chat) is refused."
)


@dataclass(frozen=True, kw_only=True)
class Report(Endpoint):
    """One report: its items counted by ``compute`` (whose docstring's first paragraph is the
    summary), with or without ``unspecified``."""

    response: Schema = field(init=False)
    permission: str = REPORTS_PERMISSION
    description: str = _WINDOW
    sortable: tuple[str, ...] = ("label", "value")
    #: Whether the body counts the rooms without the attribute.
    unspecified: bool

    def __post_init__(self) -> None:
        self._derive(
            response=ReportWithUnspecifiedSchema() if self.unspecified else ReportSchema(),
            summary=self.summary or first_paragraph(self.compute.__doc__, self.path),
            example={**self.example, "success": True},
        )
        super().__post_init__()


#: The labels of ``conversations-by-status``, Rocket.Chat's, for the statuses of :data:`.common.STATUS`.
STATUS_LABELS = {OPEN: "Open", CLOSED: "Closed", QUEUED: "Queued", ONHOLD: "On_Hold"}

Item = dict[str, Any]


def ordered(items: list[Item], sort: tuple[tuple[str, int], ...]) -> list[Item]:
    """``data`` in the order asked: each key of ``sort`` in turn, later keys breaking ties."""
    for key, direction in reversed(sort):
        items.sort(key=lambda item: item[key], reverse=direction == -1)
    return items


def report(
    counts: Iterable[tuple[str, int]], query: ReportQuery, *, total: int, unspecified: int | None = None
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


def by_source(query: ReportQuery, context: Context, repository: Repository) -> dict[str, Any]:
    """Rooms created in the window per source: its alias, else its type."""
    groups = _counted(
        repository, [*window_rooms(query, context), {"$group": {"_id": SOURCE, "value": {"$sum": 1}}}]
    )
    # Rooms without a source (or whose source names nothing) are not in the report, as Rocket.Chat.
    counts = [(str(key), group["value"]) for key, group in groups.items() if key is not None]
    return report(counts, query, total=sum(value for _, value in counts))


def by_status(query: ReportQuery, context: Context, repository: Repository) -> dict[str, Any]:
    """Rooms created in the window per status (open, closed, queued, on hold): they add up to
    ``total``."""
    groups = _counted(
        repository, [*window_rooms(query, context), {"$group": {"_id": STATUS, "value": {"$sum": 1}}}]
    )
    counts = [(label, groups.get(status, {}).get("value", 0)) for status, label in STATUS_LABELS.items()]
    return report(counts, query, total=sum(value for _, value in counts))


def by_department(query: ReportQuery, context: Context, repository: Repository) -> dict[str, Any]:
    """Rooms created in the window per department, labelled by name; rooms without one in
    ``unspecified``."""
    groups = _counted(
        repository, [*window_rooms(query, context), {"$group": {"_id": DEPARTMENT_KEY, "value": {"$sum": 1}}}]
    )
    unspecified = groups.pop(None, {}).get("value", 0)
    names = repository.department_names(list(groups))
    labels = unique_labels([(key, _text(names.get(key)) or str(key)) for key in groups])
    counts = [(labels[key], group["value"]) for key, group in groups.items()]
    return report(counts, query, total=sum(value for _, value in counts), unspecified=unspecified)


def by_tags(query: ReportQuery, context: Context, repository: Repository) -> dict[str, Any]:
    """Rooms created in the window per tag: a room with two tags counts under each, and once in
    ``total``; rooms without tags in ``unspecified``."""
    tags = texts("$tags")
    pipeline = [
        *window_rooms(query, context),
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


def by_agent(query: ReportQuery, context: Context, repository: Repository) -> dict[str, Any]:
    """Rooms created in the window per serving agent (``servedBy._id``), labelled by the agent's
    name, else username; rooms nobody served in ``unspecified``."""
    pipeline = [
        *window_rooms(query, context),
        {
            "$group": {
                "_id": text("$servedBy._id"),
                "username": {"$max": text("$servedBy.username")},
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


FAMILY = Family(
    name="reports",
    description="Conversation reports: rooms created in the window counted per source, status, "
    "department, tag or agent. They need the `view-livechat-reports` permission.",
    endpoints=(
        Report(
            path="dashboards/conversations-by-source",
            args=ReportArgsSchema,
            compute=by_source,
            unspecified=False,
            example={"data": [{"label": "widget", "value": 31}, {"label": "api", "value": 4}], "total": 35},
        ),
        Report(
            path="dashboards/conversations-by-status",
            args=ReportArgsSchema,
            compute=by_status,
            unspecified=False,
            example={
                "data": [
                    {"label": "Closed", "value": 28},
                    {"label": "Open", "value": 4},
                    {"label": "Queued", "value": 2},
                    {"label": "On_Hold", "value": 1},
                ],
                "total": 35,
            },
        ),
        Report(
            path="dashboards/conversations-by-department",
            args=ReportByValueArgsSchema,
            compute=by_department,
            unspecified=True,
            example={
                "data": [{"label": "Billing", "value": 9}, {"label": "Sales", "value": 22}],
                "total": 31,
                "unspecified": 4,
            },
        ),
        Report(
            path="dashboards/conversations-by-tags",
            args=ReportByValueArgsSchema,
            compute=by_tags,
            unspecified=True,
            example={
                "data": [{"label": "refund", "value": 3}, {"label": "pricing", "value": 7}],
                "total": 9,
                "unspecified": 26,
            },
        ),
        Report(
            path="dashboards/conversations-by-agent",
            args=ReportByLabelArgsSchema,
            compute=by_agent,
            unspecified=True,
            example={
                "data": [{"label": "Ana Souza", "value": 12}, {"label": "bruno", "value": 20}],
                "total": 32,
                "unspecified": 3,
            },
        ),
    ),
)
