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
time the change skips or repeats. The changes are found once per span of :data:`SPAN` and kept on
the schedule, so a call costs a few microseconds however long the chat.
"""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from .config import known_zone

_MINUTE_MS = 60_000
_DAY_MINUTES = 1440
_WEEK_MINUTES = 7 * _DAY_MINUTES
_DAY_MS = _DAY_MINUTES * _MINUTE_MS
_WEEK_MS = _WEEK_MINUTES * _MINUTE_MS
#: 1 January 1970 was a Thursday: three days after the Monday the week is counted from.
_THURSDAY_MS = 3 * _DAY_MS
#: How long a span of offset changes is, in milliseconds: found together and kept together.
SPAN = 128 * _DAY_MS
_UTC = dt.timezone.utc
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)
_MS = dt.timedelta(milliseconds=1)
#: The instants whose offsets are looked up: two days inside the years 1 to 9999, so that no local
#: time overflows a datetime. Before and after, the offset is the nearest one looked up.
_FIRST_MS = (dt.datetime.min.replace(tzinfo=_UTC) - _EPOCH) // _MS + 2 * _DAY_MS
_LAST_MS = (dt.datetime.max.replace(tzinfo=_UTC) - _EPOCH) // _MS - 2 * _DAY_MS

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAYS = {name: number for number, name in enumerate(_WEEKDAYS)}
_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")

Interval = tuple[int, int]


class _Changes(NamedTuple):
    """The offset changes in one span: ``starts`` the instants (ms since 1970, UTC) at which an
    offset begins; ``offsets[j]`` the offset (ms) from ``starts[j - 1]`` on (``offsets[0]`` at the
    span's start); ``corrections[j]`` the open milliseconds skipped (negative) or repeated
    (positive) by the changes up to ``starts[j - 1]``; ``total`` those of the whole span."""

    starts: list[int]
    offsets: list[int]
    corrections: list[int]
    total: int


@dataclass(frozen=True)
class Schedule:
    """A weekly schedule in a timezone: ``zone`` an IANA name, ``week`` the open intervals of the
    local week in minutes from Monday 00:00 (to 10080; one past the end wraps to the week's start).
    The intervals are kept sorted and merged, whatever order they come in."""

    zone: str
    week: tuple[Interval, ...]
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _starts: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _ends: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _before: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _weekly: int = field(init=False, repr=False, compare=False)
    _spans: dict[int, _Changes] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        zone = known_zone(self.zone)
        if zone is None:
            raise ValueError(f"not a known timezone: {self.zone!r}")
        week = _union(self.week)
        # A first, empty interval before the week: every moment of the week has one at or before it.
        starts = (-1, *(start * _MINUTE_MS for start, _ in week))
        ends = (-1, *(end * _MINUTE_MS for _, end in week))
        before = [0]
        for start, end in zip(starts, ends, strict=True):
            before.append(before[-1] + end - start)
        for name, value in (
            ("week", week),
            ("_zone", zone),
            ("_starts", starts),
            ("_ends", ends),
            ("_before", tuple(before)),
            ("_weekly", before[-1]),
        ):
            object.__setattr__(self, name, value)

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
        span, value = self._position(last)
        skipped = sum(self._changes(between).total for between in range(first // SPAN, span))
        return value - self._position(first)[1] + skipped

    def _position(self, instant: int) -> tuple[int, int]:
        """The span of ``instant`` (ms since 1970, UTC) and the open milliseconds up to it from the
        span's start, up to a constant of the span: the open time of the week up to its wall-clock
        time, plus the corrections of the span's offset changes up to it."""
        span = instant // SPAN
        changes = self._changes(span)
        j = bisect_right(changes.starts, instant)
        return span, self._open_before(instant + changes.offsets[j]) + changes.corrections[j]

    def _open_before(self, local: int) -> int:
        """The open milliseconds of the schedule before the wall-clock time ``local`` (ms since
        1970-01-01 00:00 local), counted from there."""
        weeks, within = divmod(local + _THURSDAY_MS, _WEEK_MS)
        i = bisect_right(self._starts, within) - 1
        return weeks * self._weekly + self._before[i] + min(within, self._ends[i]) - self._starts[i]

    def _changes(self, span: int) -> _Changes:
        """The offset changes of one span, found on first use and kept."""
        changes = self._spans.get(span)
        if changes is None:
            changes = self._spans[span] = _find_changes(self._zone, span, self._open_before)
        return changes


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
    moment = _EPOCH + dt.timedelta(milliseconds=min(max(instant, _FIRST_MS), _LAST_MS))
    offset = moment.astimezone(zone).utcoffset()
    return 0 if offset is None else offset // _MS


def _find_changes(zone: ZoneInfo, span: int, open_before: Any) -> _Changes:
    """The offset changes in ``(span * SPAN, (span + 1) * SPAN]``, each found by comparing the
    offsets a day apart and bisecting to the second where they differ: a pair of changes less than
    a day apart that returns to the same offset is not seen (no zone has had one from 1970 to
    2038).
    ``open_before`` gives the open time before a wall-clock time, to correct each change by."""
    first = span * SPAN
    offsets = [_offset(zone, first)]
    starts: list[int] = []
    corrections = [0]
    earlier = first
    for later in range(first + _DAY_MS, first + SPAN + 1, _DAY_MS):
        offset = _offset(zone, later)
        while offset != offsets[-1]:
            earlier = _change(zone, earlier, offsets[-1], later)
            starts.append(earlier)
            offsets.append(_offset(zone, earlier))
            skipped = open_before(earlier + offsets[-2]) - open_before(earlier + offsets[-1])
            corrections.append(corrections[-1] + skipped)
        earlier = later
    return _Changes(starts, offsets, corrections, corrections[-1])


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
