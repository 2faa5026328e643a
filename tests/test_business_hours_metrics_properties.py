"""Properties of ``businessHours=true``: over generated schedules, departments and rooms around the
daylight-saving changes of 2026 in Europe and North America (rooms across midnight, rooms without a
schedule), every row of the four duration metrics and every bucket of their day trends equals the
rules in plain Python, business time counted minute by minute (oracles.business_milliseconds)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from oracles import business_milliseconds
from strategies import MS, business_hours_documents, hours_long
from support import ROOT, UTC, property_settings

#: The days of 2026 the clocks change on: North America's and Europe's, spring and autumn.
CHANGES = (dt.date(2026, 3, 8), dt.date(2026, 3, 29), dt.date(2026, 10, 25), dt.date(2026, 11, 1))
REQUEST_ZONES = ("UTC", "Europe/Berlin", "America/New_York")
DEPARTMENTS = ("d1", "d2", "d3", None)
METRICS = {
    "average-waiting-time": "averageWaitingTimeInSeconds",
    "average-chat-duration-time": "averageChatDurationTimeInSeconds",
    "average-service-time": "averageServiceTimeInSeconds",
    "total-service-time": None,
}


def optional(draw: st.DrawFn, value: Any) -> Any:
    return draw(st.sampled_from([value, value, None]))


@st.composite
def rooms(draw: st.DrawFn, day: dt.datetime, number: int) -> dict[str, Any]:
    """A room created up to three days either side of ``day``, with the fields the durations read."""
    ts = day + draw(st.integers(-3 * 86_400_000, 3 * 86_400_000)) * MS
    room: dict[str, Any] = {"_id": f"r{number}", "t": "l", "ts": ts}
    department = draw(st.sampled_from(DEPARTMENTS))
    if department is not None:
        room["departmentId"] = department
    metrics: dict[str, Any] = {}
    ft = optional(draw, draw(hours_long(30)))
    if ft is not None:
        fd = draw(st.sampled_from([None, ts + ft * MS, ts + (ft + draw(hours_long(5))) * MS]))
        metrics["response"] = {"ft": ft / 1000, **({"fd": fd} if fd else {})}
    if draw(st.booleans()):
        room["waitingResponse"] = True
    if draw(st.booleans()):
        room["closedAt"] = ts + draw(hours_long(30)) * MS
    else:
        room["open"] = True
    if (served := optional(draw, ts + draw(hours_long(3)) * MS)) is not None:
        room["servedBy"] = {"_id": "agent", **({"ts": served} if draw(st.booleans()) else {})}
    if draw(st.booleans()):
        room["responseBy"] = {"lastMessageTs": ts + draw(hours_long(4)) * MS}
    for name in ("chatDuration", "serviceTimeDuration"):
        if (seconds := optional(draw, draw(hours_long(20)))) is not None:
            metrics[name] = seconds / 1000
    room["metrics"] = metrics
    return room


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, Any]:
    """Schedules (some inactive, some default), departments naming them or not, rooms, and a
    window of local days around a change in the request's timezone."""
    change = draw(st.sampled_from(CHANGES))
    count = draw(st.integers(0, 3))
    schedules = [
        {
            **draw(business_hours_documents()),
            "_id": f"s{index}",
            "type": draw(st.sampled_from(["default", "custom"])),
            "active": draw(st.sampled_from([True, True, False])),
        }
        for index in range(count)
    ]
    departments = []
    for department in ("d1", "d2"):
        hour = draw(st.sampled_from(["s0", "s1", "s2", "nope", None]))
        departments.append({"_id": department, **({"businessHourId": hour} if hour else {})})
    day = dt.datetime.combine(change, dt.time(12), tzinfo=UTC)
    stored = [draw(rooms(day, number)) for number in range(draw(st.integers(0, 7)))]
    return {
        "zone": draw(st.sampled_from(REQUEST_ZONES)),
        "first": change - dt.timedelta(days=2),
        "last": change + dt.timedelta(days=1),
        "schedules": schedules,
        "departments": departments,
        "rooms": stored,
    }


# -- The rules, in plain Python -----------------------------------------------------------------


def schedule_of(world: dict[str, Any], department: str | None) -> dict[str, Any] | None:
    """The department's active schedule, else the first active default by _id, else None."""
    active = {document["_id"]: document for document in world["schedules"] if document["active"] is True}
    own = next((d.get("businessHourId") for d in world["departments"] if d["_id"] == department), None)
    if own in active:
        return active[own]
    defaults = sorted(key for key, document in active.items() if document["type"] == "default")
    return active[defaults[0]] if defaults else None


def between(schedule: dict[str, Any] | None, a: dt.datetime, b: dt.datetime) -> int:
    """Business milliseconds in [a, b) by the schedule; calendar ones without."""
    if b <= a:
        return 0
    if schedule is None:
        return (b - a) // MS
    return business_milliseconds(schedule, a, b)


def duration(metric: str, room: dict[str, Any], schedule: dict[str, Any] | None) -> int:
    """The room's duration in milliseconds for ``metric``; 0 when it cannot be measured."""
    metrics = room["metrics"]
    if metric == "average-waiting-time":
        if "response" not in metrics:
            return 0
        ft = round(metrics["response"]["ft"] * 1000) * MS
        answered = metrics["response"].get("fd") or room["ts"] + ft
        return between(schedule, answered - ft, answered)
    if metric == "average-chat-duration-time":
        return between(schedule, room["ts"], room["closedAt"])
    closed = room.get("closedAt")
    served = room.get("servedBy", {}).get("ts")
    if served is None and closed is not None and "serviceTimeDuration" in metrics:
        served = closed - round(metrics["serviceTimeDuration"] * 1000) * MS
    return 0 if closed is None or served is None else between(schedule, served, closed)


def counted(metric: str, room: dict[str, Any], start: dt.datetime, end: dt.datetime) -> bool:
    """Whether the metric counts the room, as in calendar time."""
    created = start <= room["ts"] <= end
    closed = start <= room["ts"] and room.get("closedAt") is not None and room["closedAt"] <= end
    if metric == "average-waiting-time":
        return created and room.get("waitingResponse") is not True
    if metric == "average-service-time":
        return created and "responseBy" in room and "servedBy" in room
    if metric == "total-service-time":
        return closed and "serviceTimeDuration" in room["metrics"]
    return closed


def values(metric: str, rooms: int, milliseconds: int) -> dict[str, int]:
    """The row's values: a mean rounded up, or the count and the total rounded up."""
    if METRICS[metric] is None:
        return {"chats": rooms, "serviceTimeDuration": -(-milliseconds // 1000)}
    return {METRICS[metric]: math.ceil(milliseconds / (1000 * rooms)) if rooms else 0}


def expected(world: dict[str, Any], metric: str, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """The rows (by _id, null first), the day buckets and the rooms without a schedule."""
    zone = ZoneInfo(world["zone"])
    days = (world["last"] - world["first"]).days + 1
    rows: dict[Any, list[int]] = {}
    buckets = [[0, 0] for _ in range(days)]
    without = 0
    for room in world["rooms"]:
        if not counted(metric, room, start, end):
            continue
        schedule = schedule_of(world, room.get("departmentId"))
        milliseconds = duration(metric, room, schedule)
        without += schedule is None
        for total in (
            rows.setdefault(room.get("departmentId"), [0, 0]),
            buckets[(room["ts"].astimezone(zone).date() - world["first"]).days],
        ):
            total[0] += 1
            total[1] += milliseconds
    order = sorted(rows, key=lambda key: (key is not None, key or ""))
    return {
        "rows": [{"_id": key, **values(metric, *rows[key])} for key in order],
        "buckets": [values(metric, *bucket) for bucket in buckets],
        "without": without,
    }


# -- The property -------------------------------------------------------------------------------


def store(database, world: dict[str, Any]) -> None:
    for collection, documents in (
        ("rocketchat_livechat_business_hours", world["schedules"]),
        ("rocketchat_livechat_department", world["departments"]),
        ("rocketchat_room", world["rooms"]),
    ):
        database[collection].delete_many({})
        if documents:
            database[collection].insert_many([dict(document) for document in documents])


@given(world=worlds())
@property_settings(8)
def test_every_row_and_bucket_is_the_rules_in_plain_python(client, headers, database, world):
    store(database, world)
    zone = ZoneInfo(world["zone"])
    start = dt.datetime.combine(world["first"], dt.time(), tzinfo=zone).astimezone(UTC)
    end = (
        dt.datetime.combine(world["last"] + dt.timedelta(days=1), dt.time(), tzinfo=zone).astimezone(UTC) - MS
    )
    params = {
        "start": world["first"].isoformat(),
        "end": world["last"].isoformat(),
        "timezone": world["zone"],
        "businessHours": "true",
    }
    scheduled = any(document["active"] is True for document in world["schedules"])
    for metric in METRICS:
        rows = client.get(f"{ROOT}/departments/{metric}", query_string=params, headers=headers)
        trend = client.get(f"{ROOT}/trends/{metric}", query_string=params, headers=headers)
        if not scheduled:
            assert rows.status_code == trend.status_code == 400
            assert (
                rows.get_json()["details"] == trend.get_json()["details"] == {"businessHours": [NO_SCHEDULE]}
            )
            continue
        want = expected(world, metric, start, end)
        assert rows.status_code == trend.status_code == 200, (rows.get_json(), trend.get_json())
        answer = rows.get_json()
        assert answer["departments"] == want["rows"], metric
        assert (answer["total"], answer["roomsWithoutSchedule"]) == (len(want["rows"]), want["without"])
        [series] = trend.get_json()["series"]
        assert [{k: v for k, v in bucket.items() if k != "start"} for bucket in series["buckets"]] == want[
            "buckets"
        ]
        assert trend.get_json()["roomsWithoutSchedule"] == want["without"]


NO_SCHEDULE = (
    "Must not be true: no active business-hours schedule is stored"
    " (rocketchat_livechat_business_hours), so there is nothing to count business time by."
)
