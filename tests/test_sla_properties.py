"""The service-level family against plain Python: over generated rooms, SLA policies, targets and
business-hours schedules (around the daylight-saving changes of 2026 in Europe and North America,
rooms without a schedule, rooms that cross midnight), every number of ``sla/compliance`` (each
grouping), ``sla/breaches`` and ``trends/sla-compliance`` is the one computed here from the
documents stored, business time counted minute by minute (:func:`oracles.business_milliseconds`)."""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from oracles import business_milliseconds
from strategies import business_hours_documents, choose
from support import ROOT, UTC, add_user, answered, property_settings, store_rooms

from livechat_analytics.endpoints.sla import outcome

MS = dt.timedelta(milliseconds=1)
HOUR_MS = 3_600_000
#: The daylight-saving changes of 2026: Europe/Berlin and America/New_York, spring and autumn.
CHANGES = {
    "Europe/Berlin": (dt.datetime(2026, 3, 29, tzinfo=UTC), dt.datetime(2026, 10, 25, tzinfo=UTC)),
    "America/New_York": (dt.datetime(2026, 3, 8, tzinfo=UTC), dt.datetime(2026, 11, 1, tzinfo=UTC)),
}
#: The policies: their ``dueTimeInMinutes``, some of which are no target.
POLICIES = {"fast": 1, "half": 1.5, "slow": 90, "zero": 0, "text": "5", "negative": -2}
SLA_IDS = (*POLICIES, "unknown", None)
DEPARTMENTS = ("d1", "d2", None)
AGENTS = ("ana", "bo", None)
PRIORITIES = ("high", None)


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    """A zone and a change day of it, a window of four days around it, the moment of the request in
    it or after it, rooms, the schedules stored and the request's target and business time."""
    zone = draw(st.sampled_from(sorted(CHANGES)))
    day = draw(st.sampled_from(CHANGES[zone]))
    start, end = day - dt.timedelta(days=2), day + dt.timedelta(days=2) - MS
    now = start + draw(st.integers(0, 5 * 24 * HOUR_MS)) * MS
    target = draw(st.none() | st.integers(1, 30 * 3600) | st.sampled_from([60, 90]))
    size = draw(choose(st.integers(0, 4), st.integers(5, 16)))
    rooms = draw(st.lists(room_documents(start, target), min_size=size, max_size=size))
    default = draw(st.none() | business_hours_documents(zone))
    own = draw(st.none() | business_hours_documents(draw(st.sampled_from([zone, "UTC", "Asia/Kathmandu"]))))
    return {
        "zone": zone,
        "start": start,
        "end": end,
        "now": now,
        "rooms": [{**room, "_id": f"r{n}"} for n, room in enumerate(rooms)],
        "default": default,
        "own": None if own is None else {**own, "_id": "own", "type": "custom"},
        "target": target,
        "businessHours": draw(st.booleans()),
    }


@st.composite
def room_documents(draw: st.DrawFn, start: dt.datetime, target: int | None) -> dict[str, Any]:
    """A livechat room created around the window (some before or after it), open or closed, answered
    or not (``fd`` stored or not; often on a target), of a department, an agent, a policy and a
    priority or none."""
    ts = start + draw(st.integers(-6 * HOUR_MS, 100 * HOUR_MS)) * MS
    room: dict[str, Any] = {"t": "l", "ts": ts}
    for name, values in (("departmentId", DEPARTMENTS), ("slaId", SLA_IDS), ("priorityId", PRIORITIES)):
        value = draw(st.sampled_from(values))
        if value is not None:
            room[name] = value
    agent = draw(st.sampled_from(AGENTS))
    if agent is not None:
        room["servedBy"] = {"_id": agent, "username": agent.upper()}
    if draw(st.booleans()):
        room["open"] = True
    elif draw(st.integers(0, 5)):
        room["closedAt"] = ts + draw(st.integers(0, 40 * HOUR_MS)) * MS
    if draw(st.booleans()):
        on_target = st.sampled_from([60_000, 90_000, 5_400_000, (target or 1) * 1000])
        ft = draw(choose(st.integers(0, 40 * HOUR_MS), st.integers(0, 200_000), on_target))
        room["metrics"] = {"response": {"ft": ft / 1000}}
        if draw(st.booleans()):
            room["metrics"]["response"]["fd"] = ts + ft * MS
    return room


# -- The oracle ---------------------------------------------------------------------------------------


def schedule_of(case: dict[str, Any], room: dict[str, Any]) -> dict[str, Any] | None:
    """The stored schedule a room is measured by: d1's own, else the default, else none."""
    if room.get("departmentId") == "d1" and case["own"] is not None:
        return case["own"]
    return case["default"]


def span_ms(schedule: dict[str, Any] | None, a: dt.datetime, b: dt.datetime, business: bool) -> int:
    """Milliseconds of ``[a, b)``: business ones by ``schedule`` when asked and there is one."""
    if business and schedule is not None:
        return business_milliseconds(schedule, a, b)
    return max(0, (b - a) // MS)


def target_of(case: dict[str, Any], room: dict[str, Any]) -> Fraction | None:
    """The room's target in seconds: the request's, else its policy's positive number of minutes."""
    if case["target"] is not None:
        return Fraction(case["target"])
    minutes = POLICIES.get(room.get("slaId"))
    if isinstance(minutes, (int, float)) and minutes > 0:
        return Fraction(minutes) * 60
    return None


def judged(case: dict[str, Any], room: dict[str, Any]) -> dict[str, Any]:
    """The room's wait (milliseconds), target, outcome and seconds over the target."""
    business, schedule = case["businessHours"], schedule_of(case, room)
    response = room.get("metrics", {}).get("response", {})
    wait = None
    if "ft" in response:
        ft = round(response["ft"] * 1000) * MS
        answered_at = response.get("fd", room["ts"] + ft)
        wait = span_ms(schedule, answered_at - ft, answered_at, business) if business else ft // MS
    target = target_of(case, room)
    outcome, over = None, None
    if target is not None:
        late = (
            wait if wait is not None else span_ms(schedule, room["ts"], closed_or_now(case, room), business)
        )
        if Fraction(late, 1000) > target:
            outcome, over = "breached", math.ceil(Fraction(late, 1000) - target)
        elif wait is not None:
            outcome = "met"
        else:
            outcome = "pending" if room.get("open") else "unansweredWithinTarget"
    return {"room": room, "wait": wait, "target": target, "outcome": outcome, "over": over}


def closed_or_now(case: dict[str, Any], room: dict[str, Any]) -> dt.datetime:
    """Where the time without an answer ends: the request's moment, the close, or the creation."""
    return case["now"] if room.get("open") else room.get("closedAt", room["ts"])


def in_window(case: dict[str, Any]) -> list[dict[str, Any]]:
    return [judged(case, room) for room in case["rooms"] if case["start"] <= room["ts"] <= case["end"]]


def rate(met: int, breached: int) -> float | None:
    if met + breached == 0:
        return None
    return float((Decimal(100 * met) / Decimal(met + breached)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def rank(waits: list[int], q: Fraction) -> int | None:
    """Nearest rank, in whole seconds rounded up."""
    if not waits:
        return None
    return math.ceil(Fraction(sorted(waits)[max(1, math.ceil(q * len(waits))) - 1], 1000))


def group_row(key: Any, rooms: list[dict[str, Any]]) -> dict[str, Any]:
    outcomes = [room["outcome"] for room in rooms]
    waits = [room["wait"] for room in rooms if room["wait"] is not None]
    row = {"_id": key, "eligible": sum(outcome is not None for outcome in outcomes)}
    for name in ("met", "breached", "pending", "unansweredWithinTarget"):
        row[name] = outcomes.count(name)
    row["noTarget"] = outcomes.count(None)
    row["compliance"] = rate(row["met"], row["breached"])
    row["p50"], row["p90"] = rank(waits, Fraction(1, 2)), rank(waits, Fraction(9, 10))
    return row


KEYS = {"department": "departmentId", "agent": "servedBy", "sla": "slaId", "priority": "priorityId"}


def key_of(room: dict[str, Any], group_by: str) -> Any:
    value = room.get(KEYS[group_by])
    return value["_id"] if group_by == "agent" and value is not None else value


def expected_groups(case: dict[str, Any], group_by: str) -> list[dict[str, Any]]:
    rooms = in_window(case)
    if group_by == "none":
        return [group_row(None, rooms)]
    keys = sorted(
        {key_of(room["room"], group_by) for room in rooms}, key=lambda key: (key is not None, key or "")
    )
    return [group_row(key, [room for room in rooms if key_of(room["room"], group_by) == key]) for key in keys]


def expected_breaches(case: dict[str, Any]) -> list[tuple]:
    rows = [
        (
            room["room"]["_id"],
            room["over"],
            None if room["wait"] is None else room["wait"] / 1000,
            room["target"],
        )
        for room in in_window(case)
        if room["outcome"] == "breached"
    ]
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def expected_buckets(case: dict[str, Any]) -> list[dict[str, Any]]:
    """Per local day of the zone, the window's rooms created that day."""
    zone = ZoneInfo(case["zone"])
    first, last = case["start"].astimezone(zone).date(), case["end"].astimezone(zone).date()
    rooms = in_window(case)
    buckets = []
    for n in range((last - first).days + 1):
        day = first + dt.timedelta(days=n)
        begins = max(case["start"], dt.datetime.combine(day, dt.time(), tzinfo=zone))
        ours = [room["outcome"] for room in rooms if room["room"]["ts"].astimezone(zone).date() == day]
        met, breached = ours.count("met"), ours.count("breached")
        buckets.append(
            {
                "start": begins.astimezone(zone).isoformat(),
                "eligible": sum(outcome is not None for outcome in ours),
                "met": met,
                "breached": breached,
                "compliance": rate(met, breached),
            }
        )
    return buckets


# -- The property -------------------------------------------------------------------------------------


def store(database, case: dict[str, Any]) -> None:
    store_rooms(database, case["rooms"])
    hours = database["rocketchat_livechat_business_hours"]
    hours.delete_many({})
    for document in (case["default"], case["own"]):
        if document is not None:
            hours.insert_one(dict(document))


@pytest.fixture
def manager(database) -> dict[str, str]:
    """The policies and d1's schedule stored; the headers of a manager."""
    database["rocketchat_omnichannel_service_level_agreements"].insert_many(
        [{"_id": name, "dueTimeInMinutes": minutes} for name, minutes in POLICIES.items()]
    )
    database["rocketchat_livechat_department"].insert_one({"_id": "d1", "businessHourId": "own"})
    return add_user(database)


@property_settings(25)
@given(case=cases(), group_by=st.sampled_from(["none", *KEYS]))
def test_every_number_is_plain_pythons(make_app, database, manager, monkeypatch, case, group_by):
    store(database, case)
    monkeypatch.setattr(outcome, "now", lambda: case["now"])
    client = make_app().test_client()
    headers = manager
    params = {
        "start": case["start"].isoformat(),
        "end": case["end"].isoformat(),
        "businessHours": "true" if case["businessHours"] else "false",
        "count": "0",
        **({} if case["target"] is None else {"target": str(case["target"])}),
    }
    if case["businessHours"] and case["default"] is None and case["own"] is None:
        response = client.get(f"{ROOT}/sla/compliance", query_string=params, headers=headers)
        assert response.status_code == 400 and list(response.get_json()["details"]) == ["businessHours"]
        return
    body = answered(client, headers, "sla/compliance", {**params, "groupBy": group_by})
    assert body["groups"] == expected_groups(case, group_by)
    if case["businessHours"]:
        without = [room for room in in_window(case) if schedule_of(case, room["room"]) is None]
        assert body["roomsWithoutSchedule"] == len(without)
    body = answered(client, headers, "sla/breaches", params)
    got = [
        (row["_id"], row["overBySeconds"], row["firstResponseSeconds"], Fraction(row["target"]))
        for row in body["breaches"]
    ]
    assert got == expected_breaches(case)
    trend = {key: value for key, value in params.items() if key != "count"}
    body = answered(client, headers, "trends/sla-compliance", {**trend, "timezone": case["zone"]})
    assert body["series"] == [{"_id": None, "buckets": expected_buckets(case)}]
