"""The rules of the answers in plain Python, written from Rocket.Chat's behaviour and never from the
package's code: what the tests compare the answers with."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo


def status_of(room: dict[str, Any]) -> str:
    """A room's one status: closed when ``open`` is not true; else on hold when ``onHold`` is true;
    else queued when nobody serves it; else open."""
    if room.get("open") is not True:
        return "closed"
    if room.get("onHold") is True:
        return "onhold"
    if room.get("servedBy") is None:
        return "queued"
    return "open"


def lookup(document: dict[str, Any], *path: str) -> Any:
    """The value at ``path`` in the document, None when any key on the way is missing."""
    value: Any = document
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def present(rooms: Iterable[dict[str, Any]], *path: str) -> list[Any]:
    """The rooms' values at ``path``, where they have one."""
    return [value for room in rooms if (value := lookup(room, *path)) is not None]


def mean(values: list[float]) -> float:
    """The mean, 0 for no values."""
    return sum(values) / len(values) if values else 0


def ceil_mean(values: list[float]) -> int:
    """The mean rounded up to a whole number, 0 for no values."""
    return math.ceil(sum(values) / len(values)) if values else 0


def hms(seconds: float) -> str:
    """``HH:MM:SS`` of a duration rounded half up to whole seconds; the hours may pass 99."""
    whole = max(0, math.floor(seconds + 0.5))
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def hour_range(hour: int | None) -> str:
    """``"3PM - 4PM"`` for 15, ``"11PM - 12AM"`` for 23, ``"-"`` for no hour at all."""
    if hour is None:
        return "-"
    names = [f"{12 if clock % 12 == 0 else clock % 12}{'AM' if clock < 12 else 'PM'}" for clock in range(24)]
    return f"{names[hour]} - {names[(hour + 1) % 24]}"


def productivity(rooms: list[dict[str, Any]]) -> dict[str, str]:
    """The means of the rooms' response times, first response times and reaction times."""
    return {
        "Avg_response_time": hms(mean(present(rooms, "metrics", "response", "avg"))),
        "Avg_first_response_time": hms(mean(present(rooms, "metrics", "response", "ft"))),
        "Avg_reaction_time": hms(mean(present(rooms, "metrics", "reaction", "ft"))),
    }


# What the readers of stored values accept (docs/stored-data.rst); anything else is missing (None).

#: The largest number read.
LARGEST = 2**50


def number_at(document: dict[str, Any], *path: str) -> float | None:
    """The number at ``path``: a finite int or double from 0 to 2**50, else None."""
    value = lookup(document, *path)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if 0 <= value <= LARGEST else None


def date_at(document: dict[str, Any], *path: str) -> Any:
    """The date at ``path``, else None."""
    value = lookup(document, *path)
    return value if isinstance(value, dt.datetime) else None


def text_at(document: dict[str, Any], *path: str) -> str | None:
    """The string at ``path`` (an id or a label), else None."""
    value = lookup(document, *path)
    return value if isinstance(value, str) else None


# Business hours, by the wall-clock rule: an instant counts when its local time in the schedule's
# zone falls in an open entry; a local minute skipped by a change never occurs, a repeated one
# occurs twice. Stepped over UTC minutes: in the zones tested every offset is a whole number of
# quarter hours and every change falls on a whole minute, so each UTC minute is wholly in or out.

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def clock_minute(field: Any) -> int | None:
    """The minute of the day of a ``{"time": "HH:mm"}`` field, None unless exactly two ASCII
    digits of 00-23, a colon and two of 00-59."""
    time = field.get("time") if isinstance(field, dict) else None
    if not isinstance(time, str) or len(time) != 5 or time[2] != ":":
        return None
    hours, minutes = time[:2], time[3:]
    if not all(character in "0123456789" for character in hours + minutes):
        return None
    return int(hours) * 60 + int(minutes) if int(hours) < 24 and int(minutes) < 60 else None


def open_entries(document: dict[str, Any]) -> list[tuple[int, int, int]]:
    """The (weekday, start minute, finish minute) of each entry that counts; "23:59" finishes at
    1440."""
    entries = []
    for entry in document["workHours"]:
        if not isinstance(entry, dict) or entry.get("open") is not True:
            continue
        if entry.get("day") not in WEEKDAY_NAMES:
            continue
        start, finish = clock_minute(entry.get("start")), clock_minute(entry.get("finish"))
        if start is not None and finish is not None:
            entries.append((WEEKDAY_NAMES.index(entry["day"]), start, 1440 if finish == 1439 else finish))
    return entries


def is_open(entries: list[tuple[int, int, int]], local: dt.datetime) -> bool:
    """Whether the wall-clock time ``local`` is in an entry: the same day from start to finish, or,
    for an overnight entry (finish at or before start), from start to midnight and from the next
    day's midnight to finish."""
    weekday, minute = local.weekday(), local.hour * 60 + local.minute
    for day, start, finish in entries:
        if finish > start and weekday == day and start <= minute < finish:
            return True
        if finish <= start and (
            (weekday == day and minute >= start) or (weekday == (day + 1) % 7 and minute < finish)
        ):
            return True
    return False


def business_milliseconds(document: dict[str, Any], a: dt.datetime, b: dt.datetime) -> int:
    """The business milliseconds in ``[a, b)`` (both whole milliseconds, UTC), minute by minute."""
    entries = open_entries(document)
    zone = ZoneInfo(document["timezone"]["name"])
    total = 0
    minute = a.replace(second=0, microsecond=0)
    while minute < b:
        following = minute + dt.timedelta(minutes=1)
        if is_open(entries, minute.astimezone(zone)):
            total += (min(b, following) - max(a, minute)) // dt.timedelta(milliseconds=1)
        minute = following
    return total
