"""The service-level family over HTTP on every backend: the examples worked out by hand (six rooms
against a target of 60 seconds, SLA policies, business hours in Berlin), each grouping, the breaches
and their order, the trend's buckets, CSV, the 400s and a monitor's scope."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import units
from support import OUR_INDEXES, ROOT, SERVER_BACKENDS, UTC, berlin_hours, first_stage_scans, get_answer

from livechat_analytics import Scope, indexes
from livechat_analytics.endpoints.common import Context
from livechat_analytics.endpoints.sla import outcome
from livechat_analytics.endpoints.sla.query import SlaQuery
from livechat_analytics.repository import Repository

ROOMS = "rocketchat_room"
POLICIES = "rocketchat_omnichannel_service_level_agreements"
HOURS = "rocketchat_livechat_business_hours"
DEPARTMENTS = "rocketchat_livechat_department"
#: The moment of the requests: Tuesday 5 March 2024, 12:00 UTC.
NOW = dt.datetime(2024, 3, 5, 12, tzinfo=UTC)
WINDOW = {"start": "2024-03-01", "end": "2024-03-10"}
S = dt.timedelta(seconds=1)


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request of these tests is made at :data:`NOW`."""
    monkeypatch.setattr(outcome, "now", lambda: NOW)


def room(_id: str, ts: dt.datetime, **fields) -> dict:
    """A livechat room, closed unless ``open=True``."""
    return {"_id": _id, "t": "l", "ts": ts, **fields}


def answered(_id: str, ft: float, **fields) -> dict:
    """A closed room first answered ``ft`` seconds after it was created (on 4 March, 10:00)."""
    ts = dt.datetime(2024, 3, 4, 10, tzinfo=UTC)
    return room(_id, ts, closedAt=ts + 600 * S, metrics={"response": {"ft": ft, "fd": ts + ft * S}}, **fields)


def six_rooms() -> list[dict]:
    """The contract's six rooms: answered after 30, 60 and 61 s; open and unanswered for 30 s; closed
    unanswered after 120 s and after 20 s."""
    ts = dt.datetime(2024, 3, 4, 9, tzinfo=UTC)
    return [
        answered("a30", 30, departmentId="d1", servedBy={"_id": "ana", "username": "ana"}),
        answered("a60", 60, departmentId="d1", servedBy={"_id": "bo", "username": "bo"}),
        answered("a61", 61, departmentId="d2", servedBy={"_id": "ana", "username": "ana"}),
        room("open", NOW - 30 * S, open=True, departmentId="d2"),
        room("left120", ts, closedAt=ts + 120 * S),
        room("left20", ts, closedAt=ts + 20 * S, departmentId="d1"),
    ]


def groups(client, headers, **params) -> list[dict]:
    return get_answer(client, "sla/compliance", headers, **{**WINDOW, **params})["groups"]


def counts(row: dict) -> dict:
    names = ("eligible", "met", "breached", "pending", "unansweredWithinTarget", "noTarget", "compliance")
    return {name: row[name] for name in names}


# -- The contract's examples -------------------------------------------------------------------------


def test_six_rooms_against_a_target_of_60_seconds(client, headers, database):
    database[ROOMS].insert_many(six_rooms())
    body = get_answer(client, "sla/compliance", headers, **WINDOW, target="60")
    assert body == {
        "groups": [
            {
                "_id": None,
                "eligible": 6,
                "met": 2,
                "breached": 2,
                "pending": 1,
                "unansweredWithinTarget": 1,
                "noTarget": 0,
                "compliance": 50.0,
                # The waits 30, 60, 61: the 2nd and the 3rd by nearest rank.
                "p50": 60,
                "p90": 61,
            }
        ],
        "count": 1,
        "offset": 0,
        "total": 1,
        "success": True,
    }


def test_the_open_room_breaches_once_its_target_has_run_out(client, headers, database, monkeypatch):
    database[ROOMS].insert_many(six_rooms())
    monkeypatch.setattr(outcome, "now", lambda: NOW + 31 * S)  # 61 s without an answer
    [row] = groups(client, headers, target="60")
    assert counts(row) == {
        "eligible": 6,
        "met": 2,
        "breached": 3,
        "pending": 0,
        "unansweredWithinTarget": 1,
        "noTarget": 0,
        "compliance": 40.0,
    }


def test_a_policy_of_one_minute_is_a_target_of_60_seconds_and_an_unknown_one_none(client, headers, database):
    database[POLICIES].insert_many(
        [
            {"_id": "one-minute", "name": "Fast", "dueTimeInMinutes": 1},
            {"_id": "zero", "name": "Odd", "dueTimeInMinutes": 0},
            {"_id": "text", "name": "Odd", "dueTimeInMinutes": "5"},
        ]
    )
    rooms = six_rooms()
    for document in rooms:
        document["slaId"] = "one-minute"
    rooms += [
        answered("unknown", 500, slaId="no-such-policy"),
        answered("zero", 500, slaId="zero"),
        answered("text", 500, slaId="text"),
        answered("none", 500),
    ]
    database[ROOMS].insert_many(rooms)
    [row] = groups(client, headers)
    assert counts(row) == {
        "eligible": 6,
        "met": 2,
        "breached": 2,
        "pending": 1,
        "unansweredWithinTarget": 1,
        "noTarget": 4,
        "compliance": 50.0,
    }
    # The waits of every answered room, with a target or not: 30, 60, 61 and four of 500.
    assert (row["p50"], row["p90"]) == (500, 500)
    # The request's target is every room's, whatever its policy.
    [row] = groups(client, headers, target="60")
    assert (row["eligible"], row["breached"], row["noTarget"]) == (10, 6, 0)


def test_business_hours_in_berlin(client, headers, database):
    """Friday 1 March 17:50 to Monday 4 March 09:05 (CET, UTC+1): 10 minutes on Friday, 5 on Monday.
    Saturday 2 March: nothing. The night desk of d1, Monday 22:00 to 06:00: a chat from Monday 23:00
    to Tuesday 07:00 lasted 7 of those hours."""
    night = {
        "_id": "night",
        "name": "Night desk",
        "active": True,
        "type": "custom",
        "timezone": {"name": "Europe/Berlin", "utc": "+01:00"},
        "workHours": [
            {"day": "Monday", "start": {"time": "22:00"}, "finish": {"time": "06:00"}, "open": True}
        ],
    }
    database[HOURS].insert_many([berlin_hours(), night])
    database[DEPARTMENTS].insert_one({"_id": "night", "name": "Night", "businessHourId": "night"})
    friday = dt.datetime(2024, 3, 1, 16, 50, tzinfo=UTC)
    monday = dt.datetime(2024, 3, 4, 8, 5, tzinfo=UTC)
    saturday = dt.datetime(2024, 3, 2, 10, tzinfo=UTC)
    late = dt.datetime(2024, 3, 4, 22, tzinfo=UTC)  # 23:00 in Berlin
    waited = (monday - friday).total_seconds()
    database[ROOMS].insert_many(
        [
            room(
                "weekend",
                friday,
                closedAt=monday + 60 * S,
                metrics={"response": {"ft": waited, "fd": monday}},
            ),
            room("saturday", saturday, closedAt=saturday + 600 * S, metrics={"response": {"ft": 300}}),
            room(
                "night",
                late,
                departmentId="night",
                closedAt=late + 8 * 3600 * S,
                metrics={"response": {"ft": 28800}},
            ),
        ]
    )
    body = get_answer(
        client, "sla/breaches", headers, **WINDOW, target="1", businessHours="true", sort='{"_id": 1}'
    )
    seconds = {row["_id"]: row["firstResponseSeconds"] for row in body["breaches"]}
    assert seconds == {"night": 25200, "weekend": 900}
    assert (body["businessHours"], body["roomsWithoutSchedule"], body["total"]) == (True, 0, 2)
    # Calendar time: the waits as stored.
    body = get_answer(client, "sla/breaches", headers, **WINDOW, target="1", sort='{"_id": 1}')
    assert {row["_id"]: row["firstResponseSeconds"] for row in body["breaches"]} == {
        "night": 28800,
        "saturday": 300,
        "weekend": waited,
    }
    assert "businessHours" not in body and "roomsWithoutSchedule" not in body


def test_business_hours_count_the_time_without_an_answer_and_the_rooms_without_a_schedule(
    client, headers, database
):
    """Only d1's schedule is stored (no default): the rooms of other departments are measured in
    calendar time. An open room of d1 created Monday 4 March 17:59 Berlin, asked about Tuesday 13:00
    Berlin, has waited 1 + 240 business minutes."""
    database[HOURS].insert_one(berlin_hours(type="custom"))
    database[DEPARTMENTS].insert_one({"_id": "d1", "businessHourId": "office"})
    created = dt.datetime(2024, 3, 4, 16, 59, tzinfo=UTC)
    database[ROOMS].insert_many(
        [
            room("d1-open", created, open=True, departmentId="d1"),
            room("d2-open", created, open=True, departmentId="d2"),
        ]
    )
    body = get_answer(client, "sla/breaches", headers, **WINDOW, target="600", businessHours="true")
    assert [(row["_id"], row["overBySeconds"]) for row in body["breaches"]] == [
        # Calendar: from 16:59 to 12:00 UTC the next day, less the target.
        ("d2-open", 19 * 3600 + 60 - 600),
        ("d1-open", 241 * 60 - 600),
    ]
    assert body["roomsWithoutSchedule"] == 1
    [row] = groups(client, headers, target="14460", businessHours="true")
    assert (row["pending"], row["breached"]) == (1, 1)


def test_business_hours_without_an_active_schedule_is_a_400(client, headers, database):
    database[HOURS].insert_one(berlin_hours(active=False))
    database[ROOMS].insert_many(six_rooms())
    reason = (
        "no active business-hours schedule is stored (rocketchat_livechat_business_hours), so there "
        "is nothing to count business time by."
    )
    message = f'The "businessHours" query parameter must not be true: {reason}'
    asked = [(path, {}) for path in ("sla/compliance", "sla/breaches", "trends/sla-compliance")]
    for path, more in [*asked, ("sla/breaches", {"format": "csv"}), ("sla/compliance", {"format": "csv"})]:
        response = client.get(
            f"{ROOT}/{path}", query_string={**WINDOW, "businessHours": "true", **more}, headers=headers
        )
        assert response.status_code == 400
        assert response.get_json() == {
            "success": False,
            "error": message,
            "errorType": "invalid-params",
            "details": {"businessHours": [f"Must not be true: {reason}"]},
        }


# -- Groups, names and order --------------------------------------------------------------------------


def grouped_rooms() -> list[dict]:
    """The six rooms, with departments, agents, policies and priorities (the target is the request's)."""
    more = {
        "a30": {"slaId": "fast", "priorityId": "high"},
        "a60": {"slaId": "fast"},
        "a61": {"priorityId": "high"},
        "open": {"slaId": "slow"},
    }
    return [{**document, **more.get(document["_id"], {})} for document in six_rooms()]


#: Per groupBy, the rows worked out by hand (target 60): _id, eligible, met, breached, pending,
#: unansweredWithinTarget, noTarget, compliance, p50, p90.
GROUPED = {
    "department": [
        (None, 1, 0, 1, 0, 0, 0, 0.0, None, None),
        ("d1", 3, 2, 0, 0, 1, 0, 100.0, 30, 60),
        ("d2", 2, 0, 1, 1, 0, 0, 0.0, 61, 61),
    ],
    "agent": [
        (None, 3, 0, 1, 1, 1, 0, 0.0, None, None),
        ("ana", 2, 1, 1, 0, 0, 0, 50.0, 30, 61),
        ("bo", 1, 1, 0, 0, 0, 0, 100.0, 60, 60),
    ],
    "sla": [
        (None, 3, 0, 2, 0, 1, 0, 0.0, 61, 61),
        ("fast", 2, 2, 0, 0, 0, 0, 100.0, 30, 60),
        ("slow", 1, 0, 0, 1, 0, 0, None, None, None),
    ],
    "priority": [
        (None, 4, 1, 1, 1, 1, 0, 50.0, 60, 60),
        ("high", 2, 1, 1, 0, 0, 0, 50.0, 30, 61),
    ],
}
FIELDS = ("_id", "eligible", "met", "breached", "pending", "unansweredWithinTarget", "noTarget")
FIELDS += ("compliance", "p50", "p90")


@pytest.mark.parametrize("group_by", sorted(GROUPED))
def test_each_grouping(client, headers, database, group_by):
    database[ROOMS].insert_many(grouped_rooms())
    rows = groups(client, headers, target="60", groupBy=group_by)
    assert rows == [dict(zip(FIELDS, row, strict=True)) for row in GROUPED[group_by]]


def test_department_and_agent_groups_are_named_when_asked(client, headers, database):
    database[ROOMS].insert_many(grouped_rooms())
    database[DEPARTMENTS].insert_one({"_id": "d1", "name": "Sales"})
    database["users"].insert_one({"_id": "ana", "username": "ana", "name": "Ana Lima"})
    rows = groups(client, headers, target="60", groupBy="department", names="true")
    assert [(row["_id"], row["name"]) for row in rows] == [(None, None), ("d1", "Sales"), ("d2", None)]
    rows = groups(client, headers, target="60", groupBy="agent", names="true")
    assert [(row["_id"], row["name"]) for row in rows] == [(None, None), ("ana", "Ana Lima"), ("bo", None)]
    assert all("name" not in row for row in groups(client, headers, target="60", groupBy="sla", names="true"))


def test_groups_are_sorted_and_paged(client, headers, database):
    database[ROOMS].insert_many(grouped_rooms())
    body = get_answer(
        client,
        "sla/compliance",
        headers,
        **WINDOW,
        target="60",
        groupBy="department",
        sort='{"compliance": -1}',
        count="2",
    )
    assert [row["_id"] for row in body["groups"]] == ["d1", None]  # ties by _id: null first
    assert (body["count"], body["offset"], body["total"]) == (2, 0, 3)
    body = get_answer(
        client,
        "sla/compliance",
        headers,
        **WINDOW,
        target="60",
        groupBy="agent",
        sort='{"p50": 1}',
        offset="1",
    )
    assert [row["_id"] for row in body["groups"]] == ["ana", "bo"]  # null p50 first


def test_no_rooms_is_one_empty_row_or_no_groups(client, headers, database):
    assert groups(client, headers, target="60") == [
        {
            "_id": None,
            "eligible": 0,
            "met": 0,
            "breached": 0,
            "pending": 0,
            "unansweredWithinTarget": 0,
            "noTarget": 0,
            "compliance": None,
            "p50": None,
            "p90": None,
        }
    ]
    assert groups(client, headers, target="60", groupBy="department") == []


# -- Breaches -----------------------------------------------------------------------------------------

LEFT = {
    "_id": "left120",
    "ts": "2024-03-04T09:00:00.000Z",
    "departmentId": None,
    "agentId": None,
    "agentUsername": None,
    "target": 60,
    "firstResponseSeconds": None,
    "overBySeconds": 60,
}
LATE = {
    "_id": "a61",
    "ts": "2024-03-04T10:00:00.000Z",
    "departmentId": "d2",
    "agentId": "ana",
    "agentUsername": "ana",
    "target": 60,
    "firstResponseSeconds": 61,
    "overBySeconds": 1,
}


def test_breaches_furthest_over_first(client, headers, database):
    database[ROOMS].insert_many(six_rooms())
    body = get_answer(client, "sla/breaches", headers, **WINDOW, target="60")
    assert body == {"breaches": [LEFT, LATE], "count": 2, "offset": 0, "total": 2, "success": True}
    body = get_answer(client, "sla/breaches", headers, **WINDOW, target="60", count="1", offset="1")
    assert body == {"breaches": [LATE], "count": 1, "offset": 1, "total": 2, "success": True}
    body = get_answer(client, "sla/breaches", headers, **WINDOW, target="60", sort='{"ts": -1}')
    assert body["breaches"] == [LATE, LEFT]


def test_breaches_in_csv_are_every_row(client, headers, database):
    database[ROOMS].insert_many(six_rooms())
    response = client.get(
        f"{ROOT}/sla/breaches", query_string={**WINDOW, "target": "60", "format": "csv"}, headers=headers
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert list(csv.reader(io.StringIO(response.get_data(as_text=True)))) == [
        [
            "_id",
            "ts",
            "departmentId",
            "agentId",
            "agentUsername",
            "target",
            "firstResponseSeconds",
            "overBySeconds",
        ],
        ["left120", "2024-03-04T09:00:00.000Z", "", "", "", "60", "", "60"],
        ["a61", "2024-03-04T10:00:00.000Z", "d2", "ana", "ana", "60", "61", "1"],
    ]


def test_compliance_in_csv(client, headers, database):
    database[ROOMS].insert_many(grouped_rooms())
    response = client.get(
        f"{ROOT}/sla/compliance",
        query_string={**WINDOW, "target": "60", "groupBy": "agent", "format": "csv"},
        headers=headers,
    )
    assert list(csv.reader(io.StringIO(response.get_data(as_text=True)))) == [
        list(FIELDS),
        ["", "3", "0", "1", "1", "1", "0", "0", "", ""],
        ["ana", "2", "1", "1", "0", "0", "0", "50", "30", "61"],
        ["bo", "1", "1", "0", "0", "0", "0", "100", "60", "60"],
    ]


# -- The trend ----------------------------------------------------------------------------------------


def bucket(start: str, eligible: int = 0, met: int = 0, breached: int = 0, compliance=None) -> dict:
    return {"start": start, "eligible": eligible, "met": met, "breached": breached, "compliance": compliance}


def test_the_trend_has_every_bucket_and_the_previous_window(client, headers, database):
    database[ROOMS].insert_many(six_rooms())
    days = {"start": "2024-03-03", "end": "2024-03-05", "target": "60"}
    body = get_answer(client, "trends/sla-compliance", headers, **days, compare="previous")
    assert body == {
        "metric": "sla-compliance",
        "groupBy": "day",
        "timezone": "UTC",
        "series": [
            {
                "_id": None,
                "buckets": [
                    bucket("2024-03-03T00:00:00+00:00"),
                    bucket("2024-03-04T00:00:00+00:00", 5, 2, 2, 50.0),
                    bucket("2024-03-05T00:00:00+00:00", 1),
                ],
            }
        ],
        "previous": [
            {
                "_id": None,
                "buckets": [
                    bucket("2024-02-29T00:00:00+00:00"),
                    bucket("2024-03-01T00:00:00+00:00"),
                    bucket("2024-03-02T00:00:00+00:00"),
                ],
            }
        ],
        "success": True,
    }


def test_the_trend_per_department_in_a_timezone(client, headers, database):
    """In Kolkata (UTC+5:30) the rooms of 4 March 10:00 UTC are on 4 March, the open one of 5 March
    11:59:30 UTC on 5 March; by department: null (left120), d1, d2."""
    database[ROOMS].insert_many(six_rooms())
    params = {"start": "2024-03-04", "end": "2024-03-05", "target": "60", "timezone": "Asia/Kolkata"}
    body = get_answer(client, "trends/sla-compliance", headers, **params, byDepartment="true")
    four, five = "2024-03-04T00:00:00+05:30", "2024-03-05T00:00:00+05:30"
    assert body["series"] == [
        {"_id": None, "buckets": [bucket(four, 1, 0, 1, 0.0), bucket(five)]},
        {"_id": "d1", "buckets": [bucket(four, 3, 2, 0, 100.0), bucket(five)]},
        {"_id": "d2", "buckets": [bucket(four, 1, 0, 1, 0.0), bucket(five, 1)]},
    ]


# -- Refusals and scope -------------------------------------------------------------------------------

TARGET = "Must be a whole number of seconds from 1 to 2592000 (30 days)."


@pytest.mark.parametrize("target", ["0", "2592001", "1.5", "-3", "abc", ""])
@pytest.mark.parametrize("path", ["sla/compliance", "sla/breaches", "trends/sla-compliance"])
def test_a_target_out_of_bounds_is_a_400_naming_it(client, headers, database, path, target):
    response = client.get(f"{ROOT}/{path}", query_string={**WINDOW, "target": target}, headers=headers)
    assert response.status_code == 400
    assert response.get_json() == {
        "success": False,
        "error": f'The "target" query parameter m{TARGET[1:]}',
        "errorType": "invalid-params",
        "details": {"target": [TARGET]},
    }


def test_the_bounds_of_target_are_allowed(client, headers, database):
    database[ROOMS].insert_many(six_rooms())
    [row] = groups(client, headers, target="1")
    assert (row["met"], row["breached"]) == (0, 6)
    [row] = groups(client, headers, target="2592000")
    assert (row["met"], row["breached"]) == (3, 0)


def test_other_endpoints_refuse_target_and_business_hours(client, headers, database):
    response = client.get(
        f"{ROOT}/departments/amount-of-chats", query_string={**WINDOW, "target": "60"}, headers=headers
    )
    assert response.status_code == 400
    assert response.get_json()["details"] == {"target": ["Is not allowed."]}


def test_a_monitor_sees_the_breaches_of_their_units_rooms_only(make_app, database):
    documents = units.world()
    units.store(database, documents)
    client = make_app().test_client()
    params = {**units.WINDOW, "target": "1", "count": "0"}
    everything = get_answer(client, "sla/breaches", units.headers(units.MANAGER), **params)["breaches"]
    theirs = get_answer(client, "sla/breaches", units.headers(units.MONITOR1), **params)["breaches"]
    visible = {document["_id"] for document in units.visible(documents, units.MONITOR1)}
    assert {row["_id"] for row in theirs} == {row["_id"] for row in everything if row["_id"] in visible}
    assert 0 < len(theirs) < len(everything)


# -- The rounding -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("met", "breached", "rate"),
    [(2, 1, 66.67), (1, 2, 33.33), (1, 5, 16.67), (1, 31, 3.13), (1, 7, 12.5), (0, 3, 0.0), (3, 0, 100.0)],
)
def test_compliance_is_rounded_half_up_to_two_decimals(met, breached, rate):
    """1 of 32 is 3.125 exactly: half up, 3.13."""
    assert outcome.compliance(met, breached) == rate
    assert outcome.compliance(0, 0) is None


@pytest.mark.parametrize(
    ("waits", "p50", "p90"),
    [([7.2], 8, 8), ([1, 2], 1, 2), ([1, 2, 3, 4, 5, 6], 3, 6), ([*range(1, 11)], 5, 9), ([0.001, 5], 1, 5)],
)
def test_percentiles_are_nearest_rank_rounded_up(waits, p50, p90):
    """Position ceil(q * n): the 6th of 6 for p90 (5.4 up), the 9th of 10."""
    assert (outcome.nearest_rank(waits, 50), outcome.nearest_rank(waits, 90)) == (p50, p90)
    assert outcome.nearest_rank([], 50) is None


# -- The cost -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
@pytest.mark.parametrize("department", [None, "d1"])
@pytest.mark.parametrize("scope", [None, Scope(departments=frozenset({"d1"}), units=frozenset({"u1"}))])
def test_the_rooms_are_read_by_one_aggregate_whose_first_stage_scans_an_index(database, department, scope):
    database[ROOMS].insert_many(six_rooms())
    repository = Repository(database)
    query = SlaQuery(start=NOW - dt.timedelta(days=30), end=NOW, department_id=department)
    pipeline = outcome.rooms_pipeline(query, Context(repository.names, scope=scope))
    scans = first_stage_scans(database, repository.name("room"), pipeline)
    assert [scan["stage"] for scan in scans] == ["COLLSCAN"]
    indexes.ensure_indexes(repository)
    scans = first_stage_scans(database, repository.name("room"), pipeline)
    assert [scan["stage"] for scan in scans] == ["IXSCAN"] * len(scans) != []
    assert {scan["indexName"] for scan in scans} <= {name for _, name in OUR_INDEXES}
