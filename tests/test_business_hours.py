"""Business hours (livechat_analytics.business_hours): schedules read from stored documents, and the
business seconds between two instants, worked out by hand in five zones around their daylight-saving
changes, then against a minute-by-minute oracle (oracles.business_milliseconds) on random schedules."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import business_milliseconds
from strategies import (
    CHANGE_DAYS,
    MS,
    SCHEDULE_ZONES,
    WEEKDAYS,
    business_hours_cases,
    business_hours_documents,
    choose,
)

from livechat_analytics.business_hours import Schedule
from livechat_analytics.config import zone_names

UTC = dt.timezone.utc
WORKDAYS = WEEKDAYS[:5]
BERLIN, NEW_YORK, SAO_PAULO = "Europe/Berlin", "America/New_York", "America/Sao_Paulo"
KOLKATA, KATHMANDU = "Asia/Kolkata", "Asia/Kathmandu"
HOUR = 3600


def entry(day: Any, start: Any, finish: Any, *, opened: Any = True) -> dict[str, Any]:
    """A ``workHours`` entry as stored; its ``utc`` and ``cron`` are stale on purpose (never read)."""
    return {
        "day": day,
        "start": {"time": start, "utc": {"dayOfWeek": "Sunday", "time": "07:13"}, "cron": {"hour": "7"}},
        "finish": {"time": finish, "utc": {"dayOfWeek": "Sunday", "time": "08:13"}, "cron": {"hour": "8"}},
        "open": opened,
    }


def stored(zone: Any, *entries: Any, **fields: Any) -> dict[str, Any]:
    """An active stored schedule in ``zone`` with these entries; ``fields`` replace any field."""
    document = {
        "_id": "hours",
        "name": "Default",
        "active": True,
        "type": "default",
        "timezone": {"name": zone, "utc": "+13"},
        "workHours": list(entries),
    }
    return {**document, **fields}


def schedule(zone: str, *entries: dict[str, Any]) -> Schedule:
    found = Schedule.from_document(stored(zone, *entries))
    assert found is not None
    return found


def daily(zone: str, days: tuple[str, ...], start: str, finish: str) -> Schedule:
    """The same hours on each of ``days``."""
    return schedule(zone, *(entry(day, start, finish) for day in days))


def at(zone: str, *fields: int, fold: int = 0) -> dt.datetime:
    """The instant of a wall-clock time in ``zone``, in UTC."""
    return dt.datetime(*fields, tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC)


def utc(*fields: int) -> dt.datetime:
    return dt.datetime(*fields, tzinfo=UTC)


OFFICE = daily(BERLIN, WORKDAYS, "09:00", "18:00")
NIGHT = schedule(BERLIN, entry("Monday", "22:00", "06:00"))


def always(zone: str) -> Schedule:
    """Open around the clock, as the server's default schedule: every day "00:00" to "23:59"."""
    return daily(zone, WEEKDAYS, "00:00", "23:59")


# Each case: the schedule, the bounds and the business seconds worked out by hand.
EXAMPLES = {
    # Friday 17:50-18:00 and Monday 09:00-09:05.
    "friday evening to monday morning": (
        OFFICE,
        at(BERLIN, 2026, 5, 8, 17, 50),
        at(BERLIN, 2026, 5, 11, 9, 5),
        900,
    ),
    "within a saturday": (OFFICE, at(BERLIN, 2026, 5, 9, 10), at(BERLIN, 2026, 5, 9, 17), 0),
    "a wednesday from 08:00 to 20:00": (
        OFFICE,
        at(BERLIN, 2026, 5, 6, 8),
        at(BERLIN, 2026, 5, 6, 20),
        9 * HOUR,
    ),
    "a week": (OFFICE, at(BERLIN, 2026, 5, 4, 9), at(BERLIN, 2026, 5, 11, 9), 45 * HOUR),
    # 5 January to 1 June 2026 is 147 days, 21 weeks, over the spring change: 21 times 45 hours.
    "21 weeks": (OFFICE, at(BERLIN, 2026, 1, 5, 9), at(BERLIN, 2026, 6, 1, 9), 21 * 45 * HOUR),
    # Friday 17:00-18:00 and Monday 09:00-10:00; the clocks changed on the Sunday between.
    "over the spring change": (OFFICE, at(BERLIN, 2026, 3, 27, 17), at(BERLIN, 2026, 3, 30, 10), 2 * HOUR),
    # The overnight shift: Monday 23:00 to Tuesday 06:00.
    "overnight": (NIGHT, at(BERLIN, 2026, 5, 11, 23), at(BERLIN, 2026, 5, 12, 7), 25_200),
    "before the shift": (NIGHT, at(BERLIN, 2026, 5, 11, 21), at(BERLIN, 2026, 5, 11, 23), HOUR),
    # Tuesday 05:00-06:00 only: Tuesday evening is not Monday's shift.
    "after the shift": (NIGHT, at(BERLIN, 2026, 5, 12, 5), at(BERLIN, 2026, 5, 12, 23), HOUR),
    # Around the clock: the local days of the changes are 23 and 25 hours long.
    "berlin spring day": (always(BERLIN), at(BERLIN, 2026, 3, 29), at(BERLIN, 2026, 3, 30), 23 * HOUR),
    "berlin autumn day": (always(BERLIN), at(BERLIN, 2026, 10, 25), at(BERLIN, 2026, 10, 26), 25 * HOUR),
    "berlin day before": (always(BERLIN), at(BERLIN, 2026, 3, 28), at(BERLIN, 2026, 3, 29), 24 * HOUR),
    "new york spring day": (always(NEW_YORK), at(NEW_YORK, 2026, 3, 8), at(NEW_YORK, 2026, 3, 9), 23 * HOUR),
    "new york autumn day": (
        always(NEW_YORK),
        at(NEW_YORK, 2026, 11, 1),
        at(NEW_YORK, 2026, 11, 2),
        25 * HOUR,
    ),
    # Sunday 01:00-04:00 holds the changing hour: 02:00-03:00 is skipped in spring, twice in autumn.
    "berlin 01-04 spring": (
        daily(BERLIN, ("Sunday",), "01:00", "04:00"),
        at(BERLIN, 2026, 3, 28, 12),
        at(BERLIN, 2026, 3, 30, 12),
        2 * HOUR,
    ),
    "berlin 01-04 autumn": (
        daily(BERLIN, ("Sunday",), "01:00", "04:00"),
        at(BERLIN, 2026, 10, 24, 12),
        at(BERLIN, 2026, 10, 26, 12),
        4 * HOUR,
    ),
    "berlin 01-04 another sunday": (
        daily(BERLIN, ("Sunday",), "01:00", "04:00"),
        at(BERLIN, 2026, 4, 4, 12),
        at(BERLIN, 2026, 4, 6, 12),
        3 * HOUR,
    ),
    "new york 01-04 spring": (
        daily(NEW_YORK, ("Sunday",), "01:00", "04:00"),
        at(NEW_YORK, 2026, 3, 7, 12),
        at(NEW_YORK, 2026, 3, 9, 12),
        2 * HOUR,
    ),
    "new york 01-04 autumn": (
        daily(NEW_YORK, ("Sunday",), "01:00", "04:00"),
        at(NEW_YORK, 2026, 10, 31, 12),
        at(NEW_YORK, 2026, 11, 2, 12),
        4 * HOUR,
    ),
    # Open only inside the changing hour: never in spring, twice half an hour in autumn.
    "berlin 02:00-02:30 spring": (
        daily(BERLIN, ("Sunday",), "02:00", "02:30"),
        at(BERLIN, 2026, 3, 28, 12),
        at(BERLIN, 2026, 3, 30, 12),
        0,
    ),
    "berlin 02:00-02:30 autumn": (
        daily(BERLIN, ("Sunday",), "02:00", "02:30"),
        at(BERLIN, 2026, 10, 24, 12),
        at(BERLIN, 2026, 10, 26, 12),
        HOUR,
    ),
    # 01:30-02:00 once and 02:00-02:30 skipped; then 01:30-02:00 twice and 02:00-02:30 once.
    "new york 01:30-02:30 spring": (
        daily(NEW_YORK, ("Sunday",), "01:30", "02:30"),
        at(NEW_YORK, 2026, 3, 7, 12),
        at(NEW_YORK, 2026, 3, 9, 12),
        1800,
    ),
    "new york 01:30-02:30 autumn": (
        daily(NEW_YORK, ("Sunday",), "01:30", "02:30"),
        at(NEW_YORK, 2026, 10, 31, 12),
        at(NEW_YORK, 2026, 11, 2, 12),
        5400,
    ),
    # From the second 01:00 (EST, 06:00 UTC): the repeated hour once more.
    "new york second pass": (
        daily(NEW_YORK, ("Sunday",), "01:00", "02:00"),
        at(NEW_YORK, 2026, 11, 1, 1, fold=1),
        utc(2026, 11, 1, 12),
        HOUR,
    ),
    # Sao Paulo's summer time ended on Sunday 18 February 2018 at 00:00 (-02), back to Saturday
    # 23:00 (-03): Saturday 22:00-24:00 once and 23:00-24:00 again.
    "sao paulo 2018 autumn": (
        daily(SAO_PAULO, ("Saturday",), "22:00", "23:59"),
        utc(2018, 2, 17, 12),
        utc(2018, 2, 18, 12),
        3 * HOUR,
    ),
    # It began on Sunday 4 November 2018 at 00:00, which became 01:00: 00:00-01:00 never came.
    "sao paulo 2018 spring": (
        daily(SAO_PAULO, ("Sunday",), "00:00", "02:00"),
        utc(2018, 11, 3, 12),
        utc(2018, 11, 5, 12),
        HOUR,
    ),
    # Its last change, on 17 February 2019; none in November 2019 nor in February 2025.
    "sao paulo 2019 last autumn": (
        daily(SAO_PAULO, ("Saturday",), "22:00", "23:59"),
        utc(2019, 2, 16, 12),
        utc(2019, 2, 17, 12),
        3 * HOUR,
    ),
    "sao paulo 2019 no spring": (
        daily(SAO_PAULO, ("Sunday",), "00:00", "02:00"),
        utc(2019, 11, 2, 12),
        utc(2019, 11, 4, 12),
        2 * HOUR,
    ),
    "sao paulo 2025 no autumn": (
        daily(SAO_PAULO, ("Saturday",), "22:00", "23:59"),
        utc(2025, 2, 15, 12),
        utc(2025, 2, 16, 12),
        2 * HOUR,
    ),
    # +05:30: 03:30 UTC is 09:00 local, 04:15 UTC 09:45.
    "kolkata morning": (
        daily(KOLKATA, WORKDAYS, "09:30", "18:00"),
        utc(2026, 5, 11, 3, 30),
        utc(2026, 5, 11, 4, 15),
        900,
    ),
    # Friday 17:00-18:00 and Monday 09:30-10:00.
    "kolkata weekend": (
        daily(KOLKATA, WORKDAYS, "09:30", "18:00"),
        at(KOLKATA, 2026, 5, 8, 17),
        at(KOLKATA, 2026, 5, 11, 10),
        5400,
    ),
    # +05:45: 04:00 UTC is 09:45 local, 05:00 UTC 10:45.
    "kathmandu quarter hour": (
        daily(KATHMANDU, ("Sunday",), "10:00", "11:00"),
        utc(2026, 5, 10, 4),
        utc(2026, 5, 10, 5),
        2700,
    ),
    # Kathmandu went from +05:30 to +05:45 at 1986-01-01 00:00, a Wednesday: 00:00-00:15 never came.
    "kathmandu 1986": (
        daily(KATHMANDU, ("Wednesday",), "00:00", "01:00"),
        utc(1985, 12, 31, 12),
        utc(1986, 1, 1, 12),
        2700,
    ),
    # Changes of offset a week or a month apart are each counted: in the time between, noon to
    # 13:00 local is 12:30-13:00 of a chat from 12:30 to 14:00 local (13:30-15:00 UTC at -01, the
    # summer time Noronha had for one week of October 2000; 16:30-18:00 UTC at -04, Tucuman's two
    # weeks of June 2004; 12:30-14:00 UTC at +00, Casablanca's Ramadan of 2026).
    "noronha's week": (
        daily("America/Noronha", WEEKDAYS, "12:00", "13:00"),
        utc(2000, 10, 9, 13, 30),
        utc(2000, 10, 9, 15),
        1800,
    ),
    "tucuman's two weeks": (
        daily("America/Argentina/Tucuman", WEEKDAYS, "12:00", "13:00"),
        utc(2004, 6, 5, 16, 30),
        utc(2004, 6, 5, 18),
        1800,
    ),
    "casablanca's ramadan": (
        daily("Africa/Casablanca", WEEKDAYS, "12:00", "13:00"),
        utc(2026, 3, 1, 12, 30),
        utc(2026, 3, 1, 14),
        1800,
    ),
    # "23:59" is the end of the day: Monday into Tuesday has no one-minute hole.
    "23:59 ends the day": (
        daily("UTC", ("Monday", "Tuesday"), "00:00", "23:59"),
        utc(2026, 5, 11, 23, 59, 30),
        utc(2026, 5, 12, 0, 0, 30),
        60,
    ),
    "00:00-23:59 whole day": (
        daily("UTC", ("Monday",), "00:00", "23:59"),
        utc(2026, 5, 11),
        utc(2026, 5, 13),
        24 * HOUR,
    ),
    # A finish at the start is the next day's: 00:00 to 00:00 is the whole day.
    "00:00-00:00 whole day": (
        daily("UTC", ("Monday",), "00:00", "00:00"),
        utc(2026, 5, 10),
        utc(2026, 5, 13),
        24 * HOUR,
    ),
    "23:59-23:59 last minute": (
        daily("UTC", ("Monday",), "23:59", "23:59"),
        utc(2026, 5, 11),
        utc(2026, 5, 13),
        60,
    ),
    # Sunday's shift runs into Monday, the week's first day.
    "sunday into monday": (
        daily("UTC", ("Sunday",), "22:00", "02:00"),
        utc(2026, 5, 10, 23),
        utc(2026, 5, 11, 1),
        2 * HOUR,
    ),
    # Overlapping entries count once: Monday 09:00-13:00.
    "overlapping entries": (
        schedule("UTC", entry("Monday", "09:00", "12:00"), entry("Monday", "10:00", "13:00")),
        utc(2026, 5, 11, 8),
        utc(2026, 5, 11, 14),
        4 * HOUR,
    ),
    # Monday 22:00-24:00, then Tuesday 00:00-08:00 once although the shift covers 00:00-06:00.
    "shift and next day overlapping": (
        schedule("UTC", entry("Monday", "22:00", "06:00"), entry("Tuesday", "00:00", "08:00")),
        utc(2026, 5, 11, 12),
        utc(2026, 5, 12, 12),
        10 * HOUR,
    ),
    # An entry with open false is no business time: the week's Saturday counts nothing.
    "open false": (
        schedule(
            BERLIN,
            *(entry(day, "09:00", "18:00") for day in WORKDAYS),
            entry("Saturday", "09:00", "18:00", opened=False),
        ),
        at(BERLIN, 2026, 5, 9),
        at(BERLIN, 2026, 5, 10),
        0,
    ),
    "no entries": (schedule(BERLIN), at(BERLIN, 2026, 5, 4), at(BERLIN, 2026, 5, 18), 0),
    "the end before the start": (OFFICE, at(BERLIN, 2026, 5, 6, 12), at(BERLIN, 2026, 5, 6, 11), 0),
    "the end at the start": (OFFICE, at(BERLIN, 2026, 5, 6, 12), at(BERLIN, 2026, 5, 6, 12), 0),
}


@pytest.mark.parametrize(("hours", "a", "b", "seconds"), EXAMPLES.values(), ids=EXAMPLES.keys())
def test_business_seconds_worked_out_by_hand(hours: Schedule, a: dt.datetime, b: dt.datetime, seconds: int):
    assert hours.seconds(a, b) == seconds
    assert hours.milliseconds(a, b) == seconds * 1000


def test_the_bounds_may_be_in_any_zone():
    """The same instants written with other offsets give the same count."""
    a, b = at(BERLIN, 2026, 5, 8, 17, 50), at(BERLIN, 2026, 5, 11, 9, 5)
    assert OFFICE.seconds(a.astimezone(ZoneInfo(KATHMANDU)), b.astimezone(ZoneInfo(NEW_YORK))) == 900


def test_milliseconds_count_and_microseconds_are_taken_down():
    start = utc(2026, 5, 6, 10)
    assert OFFICE.seconds(start, start + dt.timedelta(milliseconds=1)) == 0.001
    assert OFFICE.seconds(start, start + dt.timedelta(microseconds=1999)) == 0.001
    assert (
        OFFICE.seconds(start + dt.timedelta(microseconds=999), start + dt.timedelta(microseconds=1000))
        == 0.001
    )
    assert OFFICE.seconds(start + dt.timedelta(microseconds=1), start + dt.timedelta(microseconds=999)) == 0


def test_the_server_fields_are_not_read():
    """``utc`` and ``cron`` of the entries and ``timezone.utc`` say other hours (each test's entries
    carry stale ones too): only ``time`` in ``timezone.name`` counts."""
    document = stored(BERLIN, entry("Monday", "09:00", "10:00"))
    document["workHours"][0]["start"]["utc"] = {"dayOfWeek": "Monday", "time": "00:00"}
    document["workHours"][0]["finish"]["utc"] = {"dayOfWeek": "Monday", "time": "23:00"}
    hours = Schedule.from_document(document)
    assert hours is not None
    assert hours.seconds(at(BERLIN, 2026, 5, 11), at(BERLIN, 2026, 5, 12)) == HOUR


# Each alone beside an entry open on Wednesday 09:00-10:00 UTC: left out, so a week counts one hour.
ODD_ENTRIES = {
    "open false": entry("Thursday", "09:00", "18:00", opened=False),
    "open 'true'": entry("Thursday", "09:00", "18:00", opened="true"),
    "open 1": entry("Thursday", "09:00", "18:00", opened=1),
    "open missing": {
        key: value for key, value in entry("Thursday", "09:00", "18:00").items() if key != "open"
    },
    "day lower case": entry("thursday", "09:00", "18:00"),
    "day abbreviated": entry("Thu", "09:00", "18:00"),
    "day a number": entry(3, "09:00", "18:00"),
    "day a list": entry(["Thursday"], "09:00", "18:00"),
    "day null": entry(None, "09:00", "18:00"),
    "one-digit hour": entry("Thursday", "9:00", "18:00"),
    "hour 24": entry("Thursday", "09:00", "24:00"),
    "minute 60": entry("Thursday", "09:60", "18:00"),
    "seconds": entry("Thursday", "09:00:00", "18:00"),
    "space before": entry("Thursday", " 09:00", "18:00"),
    "space after": entry("Thursday", "09:00", "18:00 "),
    "other digits": entry("Thursday", "\uff10\uff19:00", "18:00"),
    "a number": entry("Thursday", 900, "18:00"),
    "time null": entry("Thursday", None, "18:00"),
    "start a string": {**entry("Thursday", "09:00", "18:00"), "start": "09:00"},
    "finish missing": {
        key: value for key, value in entry("Thursday", "09:00", "18:00").items() if key != "finish"
    },
    "not a document": "Thursday 09:00-18:00",
    "null": None,
    "a list": ["Thursday", "09:00", "18:00"],
}


@pytest.mark.parametrize("odd", ODD_ENTRIES.values(), ids=ODD_ENTRIES.keys())
def test_odd_entries_are_left_out(odd: Any):
    hours = Schedule.from_document(stored("UTC", entry("Wednesday", "09:00", "10:00"), odd))
    assert hours is not None
    assert hours.seconds(utc(2026, 5, 11), utc(2026, 5, 18)) == HOUR


NOT_SCHEDULES = {
    "not a document": ["hours"],
    "null": None,
    "inactive": stored(BERLIN, entry("Monday", "09:00", "18:00"), active=False),
    "active 'true'": stored(BERLIN, entry("Monday", "09:00", "18:00"), active="true"),
    "active 1": stored(BERLIN, entry("Monday", "09:00", "18:00"), active=1),
    "active missing": {
        key: value
        for key, value in stored(BERLIN, entry("Monday", "09:00", "18:00")).items()
        if key != "active"
    },
    "unknown zone": stored("Mars/Olympus_Mons", entry("Monday", "09:00", "18:00")),
    "the host's zone": stored("localtime", entry("Monday", "09:00", "18:00")),
    "a posix copy": stored("posix/Europe/Berlin", entry("Monday", "09:00", "18:00")),
    "lower-case zone": stored("europe/berlin", entry("Monday", "09:00", "18:00")),
    "zone not a string": stored(1, entry("Monday", "09:00", "18:00")),
    "zone name missing": stored(BERLIN, entry("Monday", "09:00", "18:00"), timezone={"utc": "+01"}),
    "timezone a string": stored(BERLIN, entry("Monday", "09:00", "18:00"), timezone=BERLIN),
    "timezone missing": {
        key: value
        for key, value in stored(BERLIN, entry("Monday", "09:00", "18:00")).items()
        if key != "timezone"
    },
    "workHours missing": {key: value for key, value in stored(BERLIN).items() if key != "workHours"},
    "workHours null": stored(BERLIN, workHours=None),
    "workHours a document": stored(BERLIN, workHours={"0": entry("Monday", "09:00", "18:00")}),
    "workHours a string": stored(BERLIN, workHours="Monday"),
}


@pytest.mark.parametrize("document", NOT_SCHEDULES.values(), ids=NOT_SCHEDULES.keys())
def test_documents_that_are_no_schedule(document: Any):
    assert Schedule.from_document(document) is None


def test_a_schedule_reads_as_its_week():
    """Sorted and merged minutes of the week from Monday 00:00; Sunday's shift wraps to Monday."""
    hours = schedule(
        BERLIN,
        entry("Sunday", "22:00", "02:00"),
        entry("Monday", "09:00", "12:00"),
        entry("Monday", "11:00", "23:59"),
        entry("Tuesday", "00:00", "06:00"),
    )
    assert hours == Schedule(BERLIN, ((0, 120), (540, 1440 + 360), (6 * 1440 + 1320, 7 * 1440)))
    assert hours.week == ((0, 120), (540, 1800), (9960, 10080))


def test_an_unknown_zone_is_refused_when_made_directly():
    with pytest.raises(ValueError, match="not a known timezone: 'Mars/Olympus_Mons'"):
        Schedule("Mars/Olympus_Mons", ())


def test_any_year_is_counted():
    """From the first moment Python has to the last: a schedule open around the clock counts every
    millisecond; Monday to Friday 09:00-18:00 in UTC, every weekday's nine hours (1 January of the
    year 1 was a Monday; 31 December 9999 a Friday)."""
    first, last = dt.datetime.min.replace(tzinfo=UTC), dt.datetime.max.replace(tzinfo=UTC)
    total = (last - first) // MS
    for zone in (NEW_YORK, KATHMANDU, "Pacific/Kiritimati", "Etc/GMT+12"):
        assert always(zone).milliseconds(first, last) == total
    days = (last.date() - first.date()).days + 1
    weekdays = days // 7 * 5 + min(days % 7, 5)
    assert daily("UTC", WORKDAYS, "09:00", "18:00").seconds(first, last) == weekdays * 9 * HOUR


# Properties. The minute-by-minute oracle costs up to a second per ten days: few examples.


@settings(max_examples=150, deadline=None, database=None)
@given(case=business_hours_cases())
def test_business_time_equals_the_minute_by_minute_count(
    case: tuple[dict[str, Any], dt.datetime, dt.datetime],
):
    document, a, b = case
    hours = Schedule.from_document(document)
    assert hours is not None
    assert hours.milliseconds(a, b) == business_milliseconds(document, a, b)


def taken_down(moment: dt.datetime) -> dt.datetime:
    """The moment without its microseconds past the millisecond."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


#: Any moment Python has, often from 1970 to 2100 (where the zones' changes are counted), to the
#: millisecond or not.
anywhen = choose(
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(dt.datetime(1970, 1, 1), dt.datetime(2100, 12, 31), timezones=st.just(UTC)),
    st.datetimes(dt.datetime(1970, 1, 1), dt.datetime(2100, 12, 31), timezones=st.just(UTC)).map(taken_down),
)


@st.composite
def schedules_anywhere(draw: st.DrawFn) -> Schedule:
    """A random schedule (the property strategies' entries) in any known zone."""
    document = draw(business_hours_documents())
    document["timezone"]["name"] = draw(st.sampled_from(sorted(zone_names())))
    hours = Schedule.from_document(document)
    assert hours is not None
    return hours


@settings(max_examples=200, deadline=None, database=None)
@given(hours=schedules_anywhere(), moments=st.lists(anywhen, min_size=3, max_size=3))
def test_business_time_adds_up_and_stays_within_the_span(hours: Schedule, moments: list[dt.datetime]):
    a, b, c = sorted(moments)
    assert hours.milliseconds(a, c) == hours.milliseconds(a, b) + hours.milliseconds(b, c)
    assert 0 <= hours.milliseconds(a, b) <= (taken_down(b) - taken_down(a)) // MS
    assert hours.milliseconds(c, a) == 0 and hours.seconds(c, a) == 0


@settings(max_examples=100, deadline=None, database=None)
@given(zone=st.sampled_from(sorted(zone_names())), a=anywhen, b=anywhen)
def test_around_the_clock_is_calendar_time(zone: str, a: dt.datetime, b: dt.datetime):
    """Every instant has a wall-clock time, and every one is open: calendar time, whatever the
    changes of offset in between."""
    assert always(zone).milliseconds(a, b) == max(0, (taken_down(b) - taken_down(a)) // MS)


@settings(max_examples=100, deadline=None, database=None)
@given(
    zone=st.sampled_from(list(SCHEDULE_ZONES)),
    day=choose(
        st.sampled_from(CHANGE_DAYS).map(lambda instant: instant.date()),
        st.dates(dt.date(2018, 1, 1), dt.date(2027, 12, 31)),
    ),
)
def test_around_the_clock_a_local_day_is_24_hours_but_on_a_change(zone: str, day: dt.date):
    """From one local midnight to the next: 24 hours, but 23 when the offset gains an hour over the
    day (spring) and 25 when it loses one (autumn)."""
    local = ZoneInfo(zone)
    start = dt.datetime.combine(day, dt.time(), local)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), local)
    hours = {dt.timedelta(0): 24, dt.timedelta(hours=1): 23, dt.timedelta(hours=-1): 25}
    expected = hours[end.utcoffset() - start.utcoffset()]  # type: ignore[operator]
    assert always(zone).milliseconds(start, end) == expected * HOUR * 1000
