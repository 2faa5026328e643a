"""Service levels' shared pieces: the stored schedules a request measures rooms by, and a room's
durations measured in business time (``shared/spec/SERVICE-LEVELS.md``).

A room's schedule is the active business-hours document its department names in
``businessHourId``, else the active ``default`` one, else none: a room without one is measured in
calendar time and counted in the answer's ``roomsWithoutSchedule``. The durations are measured from
the few fields of a room that :data:`DURATION_FIELDS` reads (each by its kind, so an odd value is a
missing one), never from whole documents:

- waiting: ``BH(e - ft, e)``, ``ft`` the first response time ``metrics.response.ft`` and ``e`` its
  date ``metrics.response.fd``, or ``ts + ft`` without it;
- chat duration: ``BH(ts, closedAt)``, ``closedAt`` being ``ts + metrics.chatDuration`` without it;
- service: ``BH(servedBy.ts, closedAt)``, ``servedBy.ts`` being ``closedAt -
  metrics.serviceTimeDuration`` without it.

Each is None when what it needs is missing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import fields

from ..business_hours import Schedule
from ..errors import ApiError, invalid_params
from ..repository import Repository
from .stored import date_of, flag_of, named, number_of

#: The ``type`` of the schedule used where a department names none.
DEFAULT = "default"
#: The parameter that asks for business time.
PARAMETER = "businessHours"
NO_SCHEDULE = (
    "Must not be true: no active business-hours schedule is stored"
    " (rocketchat_livechat_business_hours), so there is nothing to count business time by."
)


#: A ``$project`` of what a room's durations are measured from: its department, creation, close,
#: first response (seconds and date), chat duration, assignment and service time, each as stored: an
#: expression per field costs more than the field, so :func:`read_rooms` reads each by its kind in
#: Python, from a cursor that hands over any date (:meth:`.Repository.stream`, ``any_dates``).
DURATION_FIELDS: dict[str, Any] = {
    "departmentId": "$departmentId",
    "ts": "$ts",
    "closedAt": "$closedAt",
    "ft": "$metrics.response.ft",
    "fd": "$metrics.response.fd",
    "chatDuration": "$metrics.chatDuration",
    "servedTs": "$servedBy.ts",
    "serviceTime": "$metrics.serviceTimeDuration",
}
#: The fields of :data:`DURATION_FIELDS` that :func:`read_rooms` reads as numbers, ids and dates.
NUMBERS = ("ft", "chatDuration", "serviceTime")
TEXTS = ("departmentId",)
DATES = ("ts", "closedAt", "fd", "servedTs")


def read_rooms(
    rooms: Iterable[Mapping[str, Any]],
    *,
    numbers: tuple[str, ...] = NUMBERS,
    texts: tuple[str, ...] = TEXTS,
    dates: tuple[str, ...] = DATES,
    flags: tuple[str, ...] = (),
) -> Iterator[dict[str, Any]]:
    """Each room with its ``numbers``, ``texts`` (ids), ``dates`` and ``flags`` read by their kind
    (:mod:`.stored`): an odd value is a missing one (None), as the pipelines' readers have it. The
    fields a room lacks are read as missing too."""
    for room in rooms:
        read = dict(room)
        for name in numbers:
            read[name] = number_of(room.get(name))
        for name in texts:
            read[name] = named(room.get(name))
        for name in dates:
            read[name] = date_of(room.get(name))
        for name in flags:
            read[name] = flag_of(room.get(name))
        yield read


@dataclass(frozen=True)
class Schedules:
    """The active schedules of a request: the default one and each department's own."""

    default: Schedule | None = None
    departments: Mapping[str, Schedule] = field(default_factory=dict)
    #: Whether an active schedule is stored, whether or not a room gets it.
    stored: bool = False

    def of(self, department_id: Any) -> Schedule | None:
        """The schedule of a room of ``department_id`` (None for no department): the department's
        own, else the default, else None."""
        own = self.departments.get(department_id) if isinstance(department_id, str) else None
        return own or self.default

    @property
    def any(self) -> bool:
        """Whether any active schedule is stored."""
        return self.stored or self.default is not None or bool(self.departments)


def read_schedules(repository: Repository) -> Schedules:
    """The active schedules stored, and the departments that name one (the first default by
    ``_id`` when several are stored). Ids are strings: one of another type names nothing."""
    schedules: dict[str, Schedule] = {}
    default = None
    stored = False
    for document in repository.collection("business_hours").find({"active": True}).sort("_id", 1):
        schedule = Schedule.from_document(document)
        if schedule is None:
            continue
        stored = True
        if isinstance(document.get("_id"), str):
            schedules[document["_id"]] = schedule
        if default is None and document.get("type") == DEFAULT:
            default = schedule
    named = repository.collection("department").find(
        {"businessHourId": {"$exists": True}}, {"businessHourId": 1}
    )
    departments = {}
    for document in named:
        hour_id = document.get("businessHourId")
        own = schedules.get(hour_id) if isinstance(hour_id, str) else None
        if own is not None and isinstance(document["_id"], str):
            departments[document["_id"]] = own
    return Schedules(default, departments, stored)


def required_schedules(repository: Repository) -> Schedules:
    """:func:`read_schedules`, or a 400 naming ``businessHours`` when no active one is stored."""
    schedules = read_schedules(repository)
    if not schedules.any:
        raise no_schedule()
    return schedules


def no_schedule() -> ApiError:
    """The 400 of ``businessHours=true`` where no active schedule is stored."""
    return invalid_params({PARAMETER: [NO_SCHEDULE]})


def _seconds(schedule: Schedule | None, start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    """Business seconds of ``[start, end)`` by ``schedule``, calendar seconds without one; None
    when a bound is missing."""
    if start is None or end is None:
        return None
    if schedule is None:
        return max(0.0, (end - start).total_seconds())
    return schedule.seconds(start, end)


def _after(moment: dt.datetime | None, seconds: float | None) -> dt.datetime | None:
    """``moment`` plus ``seconds`` (either missing: None); a moment past the calendar is None."""
    if moment is None or seconds is None:
        return None
    try:
        return moment + dt.timedelta(seconds=seconds)
    except OverflowError:
        return None


def waiting(room: Mapping[str, Any], schedule: Schedule | None) -> float | None:
    """The room's waiting time to its first response, in business seconds by ``schedule``."""
    ft = room.get("ft")
    answered = room.get("fd") or _after(room.get("ts"), ft)
    return _seconds(schedule, _after(answered, None if ft is None else -ft), answered)


def chat_duration(room: Mapping[str, Any], schedule: Schedule | None) -> float | None:
    """The room's duration from creation to close, in business seconds by ``schedule``."""
    closed = room.get("closedAt") or _after(room.get("ts"), room.get("chatDuration"))
    return _seconds(schedule, room.get("ts"), closed)


def service_time(room: Mapping[str, Any], schedule: Schedule | None) -> float | None:
    """The room's service time from assignment to close, in business seconds by ``schedule``."""
    closed = room.get("closedAt")
    service = room.get("serviceTime")
    served = room.get("servedTs") or _after(closed, None if service is None else -service)
    return _seconds(schedule, served, closed)


def body_fields() -> dict[str, fields.Field]:
    """What ``businessHours=true`` adds to a body beside its rows (a CSV answer writes the rows
    alone), for the response schemas."""
    return {
        "businessHours": fields.Boolean(
            metadata={"enum": [True], "description": "With `businessHours=true` only: true."}
        ),
        "roomsWithoutSchedule": fields.Integer(
            metadata={
                "description": "With `businessHours=true` only: the rooms counted that no schedule "
                "applies to, measured in calendar time."
            }
        ),
    }


def in_business_time(without_schedule: int) -> dict[str, Any]:
    """The fields of :func:`body_fields` in an answer counted in business time, ``without_schedule``
    rooms measured in calendar time."""
    return {"businessHours": True, "roomsWithoutSchedule": without_schedule}
