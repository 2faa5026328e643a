"""The shared pieces of business time (livechat_analytics.endpoints.hours) on every backend: which
schedule a room gets (its department's ``businessHourId``, the default, none), and a room's
durations measured from the fields the ``$project`` reads."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from bson import DatetimeMS, Decimal128, Int64

from livechat_analytics.endpoints.common import is_true
from livechat_analytics.endpoints.hours import (
    DURATION_FIELDS,
    chat_duration,
    read_rooms,
    read_schedules,
    required_schedules,
    service_time,
    waiting,
)
from livechat_analytics.endpoints.stored import is_date, number, text
from livechat_analytics.errors import ApiError
from livechat_analytics.repository import Repository

UTC = dt.timezone.utc
HOURS = "rocketchat_livechat_business_hours"
DEPARTMENTS = "rocketchat_livechat_department"


def stored(schedule_id: Any, zone: str, *, kind: str = "custom", active: Any = True) -> dict[str, Any]:
    """A schedule open every Monday from 09:00 to 10:00 in ``zone``."""
    return {
        "_id": schedule_id,
        "active": active,
        "type": kind,
        "timezone": {"name": zone},
        "workHours": [
            {"day": "Monday", "start": {"time": "09:00"}, "finish": {"time": "10:00"}, "open": True}
        ],
    }


def zone_of(schedules, department: Any) -> str | None:
    found = schedules.of(department)
    return None if found is None else found.zone


def test_a_department_gets_its_own_active_schedule_else_the_default(database):
    database[HOURS].insert_many(
        [
            stored("z-default", "Asia/Kolkata", kind="default"),
            # Several defaults: the first by _id.
            stored("a-default", "Europe/Berlin", kind="default"),
            stored("own", "America/New_York"),
            stored("off", "Asia/Kathmandu", active=False),
            stored("odd-zone", "Mars/Olympus"),
            stored("inactive-default", "UTC", kind="default", active="true"),
        ]
    )
    database[DEPARTMENTS].insert_many(
        [
            {"_id": "own", "businessHourId": "own"},
            {"_id": "off", "businessHourId": "off"},
            {"_id": "odd-zone", "businessHourId": "odd-zone"},
            {"_id": "unknown", "businessHourId": "nowhere"},
            {"_id": "number", "businessHourId": 7},
            {"_id": "array", "businessHourId": ["own"]},
            {"_id": "none", "businessHourId": None},
            {"_id": "plain"},
        ]
    )
    schedules = read_schedules(Repository(database))
    assert zone_of(schedules, "own") == "America/New_York"
    for department in ("off", "odd-zone", "unknown", "number", "array", "none", "plain", "missing", None, 7):
        assert zone_of(schedules, department) == "Europe/Berlin", department
    assert schedules.any


def test_without_a_default_only_the_departments_that_name_one_have_one(database):
    database[HOURS].insert_many(
        [stored("own", "America/New_York"), stored("off", "UTC", kind="default", active=False)]
    )
    database[DEPARTMENTS].insert_many([{"_id": "own", "businessHourId": "own"}, {"_id": "other"}])
    schedules = read_schedules(Repository(database))
    assert zone_of(schedules, "own") == "America/New_York"
    assert zone_of(schedules, "other") is None
    assert zone_of(schedules, None) is None
    assert required_schedules(Repository(database)) == schedules


def test_an_active_schedule_that_no_room_gets_is_still_a_schedule(database):
    database[HOURS].insert_one(stored("unnamed", "UTC"))
    schedules = required_schedules(Repository(database))
    assert schedules.any
    assert zone_of(schedules, "d") is None


@pytest.mark.parametrize(
    "documents",
    [
        [],
        [stored("off", "UTC", kind="default", active=False)],
        [stored("odd", "Nowhere/Else", kind="default")],
    ],
    ids=["none", "inactive", "unknown-zone"],
)
def test_no_active_schedule_at_all(database, documents):
    if documents:
        database[HOURS].insert_many(documents)
    database[DEPARTMENTS].insert_one({"_id": "d", "businessHourId": "off"})
    assert not read_schedules(Repository(database)).any
    with pytest.raises(ApiError) as raised:
        required_schedules(Repository(database))
    assert raised.value.status == 400
    assert raised.value.body["details"] == {
        "businessHours": [
            "Must not be true: no active business-hours schedule is stored"
            " (rocketchat_livechat_business_hours), so there is nothing to count business time by."
        ]
    }


def at(hour: int, minute: int = 0) -> dt.datetime:
    """Monday 2 March 2026 in UTC."""
    return dt.datetime(2026, 3, 2, hour, minute, tzinfo=UTC)


def projected(database, **fields: Any) -> dict[str, Any]:
    """A room stored with ``fields``, as the ``$project`` of DURATION_FIELDS and read_rooms read it."""
    database["rocketchat_room"].insert_one({"_id": "r", **fields})
    [room] = read_rooms(database["rocketchat_room"].aggregate([{"$project": {"_id": 0, **DURATION_FIELDS}}]))
    return room


def test_durations_by_a_schedule_and_in_calendar_time(database):
    database[HOURS].insert_one(stored("utc", "UTC", kind="default"))
    [schedule] = [read_schedules(Repository(database)).default]
    room = projected(
        database,
        departmentId="d",
        ts=at(8, 30),
        closedAt=at(10, 30),
        servedBy={"_id": "agent", "ts": at(9, 45)},
        metrics={
            "response": {"ft": 3600.0, "fd": at(9, 30)},
            "chatDuration": 7200,
            "serviceTimeDuration": 2700,
        },
    )
    # Waiting 08:30 to 09:30, open from 09:00; chat 08:30 to 10:30; service 09:45 to 10:30.
    assert (waiting(room, schedule), chat_duration(room, schedule), service_time(room, schedule)) == (
        1800,
        3600,
        900,
    )
    assert (waiting(room, None), chat_duration(room, None), service_time(room, None)) == (3600, 7200, 2700)


def test_missing_dates_are_derived_and_odd_values_are_missing(database):
    database[HOURS].insert_one(stored("utc", "UTC", kind="default"))
    schedule = read_schedules(Repository(database)).default
    room = projected(
        database,
        departmentId=["d"],
        ts=at(8, 45),
        closedAt="yesterday",
        servedBy={"ts": 12},
        metrics={"response": {"ft": 1800}, "chatDuration": 5400, "serviceTimeDuration": -1},
    )
    assert room["departmentId"] is None
    # fd = ts + ft = 09:15; closedAt = ts + chatDuration = 10:15; no service time to derive from.
    assert waiting(room, schedule) == 900
    assert chat_duration(room, schedule) == 3600
    assert service_time(room, schedule) is None
    assert (waiting({}, schedule), chat_duration({}, schedule), service_time({}, None)) == (None, None, None)


#: Stored values of every kind, the odd ones of the stored-data tests among them, and good ones.
STORED = [
    float("nan"),
    float("inf"),
    float("-inf"),
    Decimal128("60"),
    Decimal128("1.5"),
    "60",
    True,
    False,
    [60],
    ["d"],
    {"s": 60},
    -60,
    -0.0,
    0,
    1.5,
    1e308,
    Int64(2**63 - 1),
    Int64(60),
    2**50,
    2**50 + 1,
    None,
    "d",
    "",
]


def test_the_python_readers_read_what_the_pipeline_readers_do(database):
    # read_rooms reads numbers, ids and flags from the raw fields as number(), text() and is_true()
    # read them in a pipeline: the same stored values give the same values.
    # mongomock cannot compare a Decimal128 with a string (as text() does): the ids and flags are
    # read from the other values only.
    stored_values = [
        {"_id": index, "v": value, "w": None if isinstance(value, Decimal128) else value}
        for index, value in enumerate(STORED)
    ]
    database["rocketchat_room"].insert_many(stored_values)
    by_pipeline = database["rocketchat_room"].aggregate(
        [
            {"$project": {"number": number("$v"), "text": text("$w"), "flag": is_true("$w")}},
            {"$sort": {"_id": 1}},
        ]
    )
    raw = database["rocketchat_room"].aggregate(
        [{"$project": {"number": "$v", "text": "$w", "flag": "$w"}}, {"$sort": {"_id": 1}}]
    )
    read = read_rooms(raw, numbers=("number",), texts=("text",), dates=(), flags=("flag",))
    assert [dict(room) for room in read] == [dict(room) for room in by_pipeline]


def test_dates_are_read_by_their_kind_and_those_python_cannot_hold_as_missing(database, backend):
    # The durations' pipelines hand dates over as stored, read by date_of() as is_date() reads them
    # in a pipeline. A date before year 1 or after 9999 must neither fail the read nor count; only
    # MongoDB stores one (SecantusDB and mongomock refuse it), so only the URI backend has them.
    first = dt.datetime(2026, 3, 1, 9, tzinfo=dt.timezone.utc)
    odd = [DatetimeMS(-62135596800001), DatetimeMS(253402300800000)] if backend == "uri" else []
    stored_values = [first, *odd, "2026-03-01", 60, True, None]
    database["rocketchat_room"].insert_many(
        [{"_id": index, "v": value} for index, value in enumerate(stored_values)]
    )
    by_pipeline = database["rocketchat_room"].aggregate(
        [{"$project": {"date": {"$cond": [is_date("$v"), "$v", None]}}}, {"$sort": {"_id": 1}}]
    )
    pipeline: list[dict[str, Any]] = [{"$project": {"date": "$v"}}, {"$sort": {"_id": 1}}]
    raw = Repository(database).stream("room", pipeline, any_dates=True)
    read = [room["date"] for room in read_rooms(raw, numbers=(), texts=(), dates=("date",))]
    assert read == [room["date"] for room in by_pipeline] == [first] + [None] * (len(stored_values) - 1)
