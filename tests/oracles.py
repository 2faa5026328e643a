"""The rules of the answers in plain Python, written from Rocket.Chat's behaviour and never from the
package's code: what the tests compare the answers with."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any


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
