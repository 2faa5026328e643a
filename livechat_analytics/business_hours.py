"""Business hours: the business time between two instants, by a stored schedule.

A schedule is a ``rocketchat_livechat_business_hours`` document read by :meth:`Schedule.from_document`.
An instant is business time when its wall-clock time in the schedule's ``timezone.name`` falls in an
open interval: for each ``workHours`` entry whose ``open`` is true, from ``start.time`` (included) to
``finish.time`` (excluded) on the entry's ``day``. The rules of reading one:

- the document is a schedule only when ``active`` is true, ``timezone.name`` is a known IANA zone
  (:func:`~.config.known_zone`) and ``workHours`` is a list; else there is none;
- an entry counts only when ``open`` is exactly true, ``day`` an English weekday name (``"Monday"``)
  and both times ``"HH:mm"`` (00-23, 00-59); any other entry is left out, as odd stored data counts
  as missing everywhere (:mod:`.endpoints.stored`). A list with no such entry is a schedule that is
  never open;
- ``"23:59"`` as ``finish.time`` is the end of the day (24:00); a ``finish.time`` at or before
  ``start.time`` runs past midnight into the next day (an overnight shift; ``"00:00"`` to
  ``"00:00"`` is the whole day); intervals that overlap count once;
- the ``utc`` and ``cron`` fields are not read: the server derives them and they may be stale.

Daylight-saving changes fall out of the wall-clock rule: a local time the spring change skips is
never business time, one the autumn change repeats is two instants and counts twice, so a schedule
open around the clock counts 23 hours on the spring day and 25 on the autumn one.

:meth:`Schedule.seconds` is ``F(b) - F(a)``, with ``F(t)`` the business milliseconds from an origin
to ``t``: the open time of the weekly schedule up to ``t``'s wall-clock time (a closed form: whole
weeks and a bisection within the week), corrected at each change of the zone's offset by the open
time the change skips (spring) or repeats (autumn). The changes of a zone are found once per process
and the corrections once per schedule, so a call costs a few microseconds however long the chat.
The changes are those from 1970 to 2100: before, the zone's offset is taken as in 1970; after, as
at the end of 2100 (the count never fails, it is exact only there).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from .config import known_zone

_MINUTE_MS = 60_000
_DAY_MINUTES = 1440
_WEEK_MINUTES = 7 * _DAY_MINUTES
_DAY_MS = _DAY_MINUTES * _MINUTE_MS
_WEEK_MS = _WEEK_MINUTES * _MINUTE_MS
#: 1 January 1970 was a Thursday: three days after the Monday the week is counted from.
_THURSDAY_MS = 3 * _DAY_MS
_UTC = dt.timezone.utc
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)
_MS = dt.timedelta(milliseconds=1)
#: The changes of offset looked for: from 1970 (the epoch, 0) to the end of 2100, in milliseconds.
_LAST_CHANGE_MS = (dt.datetime(2101, 1, 1, tzinfo=_UTC) - _EPOCH) // _MS
#: How far apart the offsets compared are: no zone has changed its offset twice within 6 days since
#: 1970 (the closest two were about 7 days apart, in Brazil in 2000), so none is missed.
_STEP_MS = 6 * _DAY_MS

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAYS = {name: number for number, name in enumerate(_WEEKDAYS)}
_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")

Interval = tuple[int, int]


@dataclass(frozen=True)
class Schedule:
    """A weekly schedule in a timezone: ``zone`` an IANA name (:func:`~.config.zone_names`),
    ``week`` the open intervals of the local week, in minutes from Monday 00:00 to 10080 (the part
    of an interval past 10080 is the next week's start). They are kept sorted and merged."""

    zone: str
    week: tuple[Interval, ...]
    _starts: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _ends: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _before: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _weekly: int = field(init=False, repr=False, compare=False)
    _changes: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _offsets: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _corrections: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if known_zone(self.zone) is None:
            raise ValueError(f"not a known timezone: {self.zone!r}")
        week = _union(self.week)
        # A first, empty interval before the week: every moment of the week has one at or before it.
        starts = (-1, *(start * _MINUTE_MS for start, _ in week))
        ends = (-1, *(end * _MINUTE_MS for _, end in week))
        before = [0]
        for start, end in zip(starts, ends, strict=True):
            before.append(before[-1] + end - start)
        changes, offsets = _zone_changes(self.zone)
        for name, value in (
            ("week", week),
            ("_starts", starts),
            ("_ends", ends),
            ("_before", tuple(before)),
            ("_weekly", before[-1]),
            ("_changes", changes),
            ("_offsets", offsets),
        ):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_corrections", self._correct())

    @classmethod
    def from_document(cls, document: Any) -> Schedule | None:
        """The schedule a stored business-hours document holds, or None when it can hold none
        (inactive, an unknown zone, no ``workHours`` list): the rules of the module."""
        if not isinstance(document, dict) or document.get("active") is not True:
            return None
        zone = document.get("timezone")
        hours = document.get("workHours")
        if not isinstance(zone, dict) or known_zone(zone.get("name")) is None or not isinstance(hours, list):
            return None
        entries = (_interval(entry) for entry in hours)
        return cls(zone["name"], tuple(entry for entry in entries if entry is not None))

    def seconds(self, a: dt.datetime, b: dt.datetime) -> float:
        """The business time in ``[a, b)`` in seconds, to the millisecond (each instant taken down
        to its millisecond); 0 when ``b`` is not after ``a``. Both are aware datetimes."""
        return self.milliseconds(a, b) / 1000

    def milliseconds(self, a: dt.datetime, b: dt.datetime) -> int:
        """The business time in ``[a, b)`` in whole milliseconds (:meth:`seconds`)."""
        first, last = _milliseconds(a), _milliseconds(b)
        if last <= first:
            return 0
        return self._open_until(last) - self._open_until(first)

    def _open_until(self, instant: int) -> int:
        """``F``: the open milliseconds up to ``instant`` (ms since 1970, UTC) from an origin: the
        open time of the week up to its wall-clock time, corrected by the changes before it."""
        j = bisect_right(self._changes, instant)
        return self._open_before(instant + self._offsets[j]) + self._corrections[j]

    def _open_before(self, local: int) -> int:
        """The open milliseconds of the schedule before the wall-clock time ``local`` (ms since
        1970-01-01 00:00 local), counted from there."""
        weeks, within = divmod(local + _THURSDAY_MS, _WEEK_MS)
        i = bisect_right(self._starts, within) - 1
        return weeks * self._weekly + self._before[i] + min(within, self._ends[i]) - self._starts[i]

    def _correct(self) -> tuple[int, ...]:
        """The corrections: ``[j]`` is the open time the first ``j`` changes skipped (less) or
        repeated (more): at a change the wall clock jumps from ``instant + offsets[j - 1]`` to
        ``instant + offsets[j]``, and ``F`` must not jump with it."""
        corrections = [0]
        for j, instant in enumerate(self._changes, start=1):
            before, after = instant + self._offsets[j - 1], instant + self._offsets[j]
            corrections.append(corrections[-1] + self._open_before(before) - self._open_before(after))
        return tuple(corrections)


def _milliseconds(moment: dt.datetime) -> int:
    """An aware datetime as whole milliseconds since 1970 (UTC), taken down."""
    since = moment - _EPOCH
    return since.days * _DAY_MS + since.seconds * 1000 + since.microseconds // 1000


def _minute(value: Any) -> int | None:
    """The minute of the day a ``{time: "HH:mm"}`` field names, or None."""
    time = value.get("time") if isinstance(value, dict) else None
    found = _TIME.fullmatch(time) if isinstance(time, str) else None
    return None if found is None else int(found[1]) * 60 + int(found[2])


def _interval(entry: Any) -> Interval | None:
    """The open interval of a ``workHours`` entry in minutes of the week, or None when the entry
    is closed or odd; ``"23:59"`` ends the day and a finish at or before the start is the next
    day's."""
    if not isinstance(entry, dict) or entry.get("open") is not True:
        return None
    day = entry.get("day")
    weekday = _DAYS.get(day) if isinstance(day, str) else None
    start, finish = _minute(entry.get("start")), _minute(entry.get("finish"))
    if weekday is None or start is None or finish is None:
        return None
    if finish == _DAY_MINUTES - 1:
        finish = _DAY_MINUTES
    if finish <= start:
        finish += _DAY_MINUTES
    return weekday * _DAY_MINUTES + start, weekday * _DAY_MINUTES + finish


def _union(intervals: tuple[Interval, ...]) -> tuple[Interval, ...]:
    """Intervals of the week sorted and merged, the part past the week's end (Sunday's overnight
    shift) moved to its start."""
    pieces: list[Interval] = []
    for start, end in intervals:
        if end > _WEEK_MINUTES:
            pieces += [(start, _WEEK_MINUTES), (0, end - _WEEK_MINUTES)]
        elif start < end:
            pieces.append((start, end))
    merged: list[Interval] = []
    for start, end in sorted(pieces):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


def _offset(zone: ZoneInfo, instant: int) -> int:
    """The zone's UTC offset in milliseconds at ``instant`` (ms since 1970, UTC)."""
    offset = (_EPOCH + dt.timedelta(milliseconds=instant)).astimezone(zone).utcoffset()
    return 0 if offset is None else offset // _MS


@functools.cache
def _zone_changes(name: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The changes of the zone's offset from 1970 to 2100: the instants (ms since 1970, UTC) at
    which an offset begins, and the offsets (ms), the first the one before the first change. Each
    change is found by comparing offsets :data:`_STEP_MS` apart and bisecting to the second where
    they differ; kept for the process (a few milliseconds per zone)."""
    zone = ZoneInfo(name)
    changes: list[int] = []
    offsets = [_offset(zone, 0)]
    earlier = 0
    for later in range(_STEP_MS, _LAST_CHANGE_MS + _STEP_MS, _STEP_MS):
        offset = _offset(zone, later)
        while offset != offsets[-1]:
            earlier = _change(zone, earlier, offsets[-1], later)
            changes.append(earlier)
            offsets.append(_offset(zone, earlier))
        earlier = later
    return tuple(changes), tuple(offsets)


def _change(zone: ZoneInfo, earlier: int, offset: int, later: int) -> int:
    """The first whole second after ``earlier`` whose offset is not ``offset``, up to ``later``
    (whose offset is not), by bisection: offsets change on whole seconds."""
    low, high = earlier // 1000, later // 1000
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(zone, middle * 1000) == offset:
            low = middle
        else:
            high = middle
    return high * 1000
