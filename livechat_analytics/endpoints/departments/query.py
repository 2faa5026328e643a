"""The query strings of the department family: a page of rows, their names, whether the visitor
got an answer (``amount-of-chats``) and business time (the duration metrics)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ...schemas import DashboardArgsSchema, PageArgs, PageQuery, Query, flag
from ..common import Context
from ..hours import PARAMETER


@dataclass(frozen=True)
class DepartmentQuery(PageQuery):
    """A page of department rows, with their names when asked for."""

    names: bool = False
    #: Each room's duration in business time, by its department's schedule (the metrics that
    #: take ``businessHours``).
    business_hours: bool = False


class DepartmentArgsSchema(PageArgs, DashboardArgsSchema):
    """The query string of the department endpoints."""

    query_type: ClassVar[type[Query]] = DepartmentQuery

    names = flag(
        "`true`: each row also has its department's `name` (`null` when unknown), as with "
        "`LIVECHAT_ANALYTICS_DEPARTMENT_NAMES` on; `false` or omitted: as that setting says. An "
        "addition to Rocket.Chat's API, whose rows have no name."
    )


class AnsweredArgsSchema(DepartmentArgsSchema):
    """``amount-of-chats`` also filters on whether the visitor got an answer."""

    answered = flag(
        "`true`: rooms whose visitor got an answer only; `false`: the others only; omitted: every room.",
        default=None,
    )


#: ``businessHours``, which the four duration metrics and their trends take.
BUSINESS_HOURS = flag(
    "`true`: each room's duration counts only the business time of its department's schedule (the "
    "department's `businessHourId`, else the default schedule; a room without one in calendar time, "
    "counted in `roomsWithoutSchedule`); a 400 when no active schedule is stored. `false` or omitted: "
    "calendar time, as Rocket.Chat counts.",
    data_key=PARAMETER,
)


class TimedArgsSchema(DepartmentArgsSchema):
    """The duration metrics also take ``businessHours``."""

    business_hours = BUSINESS_HOURS


def names_asked(query: Any, context: Context) -> bool:
    """Whether the rows carry their department's name: the setting, or ``names=true``."""
    return context.department_names or bool(getattr(query, "names", False))
