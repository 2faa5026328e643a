"""Business time for the department family: how a duration metric takes ``businessHours=true``.

A metric's :class:`Timed` piece measures each room it counts under its department's schedule
(:mod:`..hours`); the rooms are read once, summed per department in Python, and their rows paged as
the aggregate of calendar time would page them. The trends reuse the piece and :func:`measured`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ...business_hours import Schedule
from ...schemas import PageQuery
from ..hours import Schedules, read_rooms

#: A room's duration in business seconds by a schedule (calendar seconds without one), from the
#: fields of :data:`.hours.DURATION_FIELDS`; None when what it needs is missing.
Duration = Callable[[Mapping[str, Any], Schedule | None], float | None]


@dataclass(frozen=True)
class Timed:
    """How a duration metric takes ``businessHours=true``: each room it counts is measured by
    ``duration`` under its department's schedule, in whole milliseconds, and a room whose duration
    is missing adds 0 but counts, as in calendar time. The rooms and their milliseconds are the sums
    the metric's twin reads: ``rooms`` counts them, ``total`` adds them up in units of ``unit``
    milliseconds (1000: seconds)."""

    duration: Duration
    rooms: str
    total: str
    unit: int = 1000

    def milliseconds(self, room: Mapping[str, Any], schedule: Schedule | None) -> int:
        """The room's duration by ``schedule`` in whole milliseconds; 0 when missing."""
        seconds = self.duration(room, schedule)
        return 0 if seconds is None else round(seconds * 1000)

    def sums(self, rooms: int, milliseconds: int) -> dict[str, float]:
        """The sums of ``rooms`` rooms whose durations add up to ``milliseconds``."""
        return {self.rooms: rooms, self.total: milliseconds / self.unit}


def measured(
    timed: Timed, rooms: Iterable[Mapping[str, Any]], schedules: Schedules
) -> Iterator[tuple[Mapping[str, Any], int, bool]]:
    """Each room, its duration in milliseconds by its department's schedule, and whether it had
    one."""
    for room in read_rooms(rooms):
        schedule = schedules.of(room.get("departmentId"))
        yield room, timed.milliseconds(room, schedule), schedule is not None


def timed_rows(
    timed: Timed,
    twin: Callable[[Mapping[str, Any]], dict[str, int]],
    rooms: Iterable[Mapping[str, Any]],
    schedules: Schedules,
) -> tuple[list[dict[str, Any]], int]:
    """Every department's row in business time, its values by the metric's ``twin`` from the sums
    of its ``rooms``, and the rooms counted without a schedule."""
    totals: dict[str | None, list[int]] = {}
    without = 0
    for room, milliseconds, scheduled in measured(timed, rooms, schedules):
        total = totals.setdefault(room.get("departmentId"), [0, 0])
        total[0] += 1
        total[1] += milliseconds
        without += not scheduled
    rows = [{"_id": key, **twin(timed.sums(*total))} for key, total in totals.items()]
    return rows, without


def page_of_rows(rows: list[dict[str, Any]], query: PageQuery, *, key: str) -> dict[str, Any]:
    """The query's page of ``rows`` under ``key``, sorted and cut as the aggregate's would be, with
    its count, offset and total."""
    rows = ordered(rows, query.sort)
    end = None if query.count is None else query.offset + query.count
    page = rows[query.offset : end]
    return {key: page, "count": len(page), "offset": query.offset, "total": len(rows)}


def ordered(rows: list[dict[str, Any]], sort: tuple[tuple[str, int], ...]) -> list[dict[str, Any]]:
    """Rows in the order MongoDB's ``$sort`` gives them: by each key in turn, null (or missing)
    before any value."""
    for name, direction in reversed(sort):
        rows = sorted(rows, key=lambda row: _sort_key(row.get(name)), reverse=direction < 0)
    return rows


def _sort_key(value: Any) -> tuple[bool, Any]:
    return (False, 0) if value is None else (True, value)
