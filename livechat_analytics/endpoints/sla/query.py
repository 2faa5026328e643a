"""The query strings of the service-level family: the window, a department, the target and
business time; the compliance's groups, the breaches' order, the trend's buckets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from marshmallow import fields, validate

from ...schemas import (
    DashboardArgsSchema,
    PageArgs,
    PageQuery,
    Query,
    Sort,
    WholeNumber,
    choice,
    flag,
)
from ..hours import PARAMETER
from ..trends import TrendArgsSchema, TrendQuery

#: The largest ``target``: 30 days, in seconds.
MAX_TARGET = 30 * 86400
TARGET_MESSAGE = f"Must be a whole number of seconds from 1 to {MAX_TARGET} (30 days)."

#: What ``sla/compliance`` groups by, and the field of a room each reads.
GROUPS = {
    "none": None,
    "department": "departmentId",
    "agent": "agentId",
    "sla": "slaId",
    "priority": "priorityId",
}


def _target() -> WholeNumber:
    return WholeNumber(
        load_default=None,
        validate=validate.Range(min=1, max=MAX_TARGET, error=TARGET_MESSAGE),
        error_messages={"invalid": TARGET_MESSAGE},
        metadata={
            "description": "The response target of every room, in whole seconds (1 to 30 days); "
            "omitted: each room's SLA policy (`slaId`, `dueTimeInMinutes`), rooms without one have no target."
        },
    )


def _business_hours() -> fields.Boolean:
    return flag(
        "`true`: measure the waits in business time, by each room's stored schedule (its "
        "department's, else the default one; calendar time without one); a 400 when no active "
        "schedule is stored.",
        data_key=PARAMETER,
    )


@dataclass(frozen=True)
class SlaQuery(PageQuery):
    """A page of service-level rows: the target, business time, the groups and their names."""

    target: int | None = None
    business_hours: bool = False
    group_by: str = "none"
    names: bool = False


class SlaArgsSchema(PageArgs, DashboardArgsSchema):
    """The window, a department, the target and business time, and the page."""

    query_type: ClassVar[type[Query]] = SlaQuery

    target = _target()
    business_hours = _business_hours()


class ComplianceArgsSchema(SlaArgsSchema):
    """``sla/compliance`` also groups, and names its groups."""

    group_by = choice(
        tuple(GROUPS),
        "One row for `none` (the default); per `department`, `agent` (the last agent, `servedBy`), "
        "`sla` (the room's `slaId`) or `priority` (its `priorityId`); `_id` null for rooms without one.",
        data_key="groupBy",
        load_default="none",
    )
    names = flag(
        "`true`: department and agent rows also have a `name` (`null` when unknown), as with "
        "`LIVECHAT_ANALYTICS_DEPARTMENT_NAMES` on."
    )


class BreachesArgsSchema(SlaArgsSchema):
    """``sla/breaches`` is sorted by the time over the target by default."""

    sort = Sort(load_default=(("overBySeconds", -1),))


@dataclass(frozen=True)
class SlaTrendQuery(TrendQuery):
    """A series of compliance: the trend's query, the target and business time."""

    target: int | None = None
    business_hours: bool = False


class SlaTrendArgsSchema(TrendArgsSchema):
    """The trend's parameters, the target and business time."""

    query_type = SlaTrendQuery

    target = _target()
    business_hours = _business_hours()
