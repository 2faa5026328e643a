"""``conversations`` over HTTP on every backend: the exact rows of a few hand-made rooms, in JSON
and CSV; the filters; the 400s of bad ones; the visitor's details only when switched on; the
permission and its default roles; a monitor's list."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any

import pytest
import units
from hypothesis import given
from hypothesis import strategies as st
from support import ROOT, UTC, add_user, berlin_hours

from livechat_analytics.endpoints import conversations

PATH = f"{ROOT}/conversations"
ROOMS = "rocketchat_room"
MESSAGES = "rocketchat_message"
TRANSFER = "livechat_transfer_history"
WINDOW = {"start": "2024-03-01", "end": "2024-03-01"}


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, 3, 1, hour, minute, tzinfo=UTC)


def store_rooms(database: Any) -> None:
    """Three rooms of 1 March and one of 2 March, a department, two transfers and a visitor."""
    database[ROOMS].insert_many(
        [
            {
                "_id": "closed",
                "t": "l",
                "ts": at(9),
                "closedAt": at(9, 30),
                "departmentId": "sales",
                "servedBy": {"_id": "ana", "username": "ana.s"},
                "source": {"type": "widget", "alias": "Website"},
                "tags": ["billing", "vip"],
                "metrics": {
                    "response": {"ft": 40, "avg": 35.5},
                    "reaction": {"ft": 38},
                    "chatDuration": 1800,
                    "serviceTimeDuration": 1700,
                    "visitorInactivity": 7200,
                },
                "msgs": 12,
                "closer": "user",
                "priorityId": "high",
                "slaId": "gold",
                "surveyFeedback": {"satisfaction": "5"},
                "v": {"_id": "visitor-1", "username": "guest-1"},
                "fname": "Vera",
                "contactId": "contact-1",
            },
            {
                "_id": "queued",
                "t": "l",
                "ts": at(10),
                "open": True,
                "waitingResponse": True,
                "source": {"type": "email"},
                "tags": "not-a-list",
                "surveyFeedback": {"satisfaction": 5},
                "v": {"_id": "visitor-2"},
            },
            {
                "_id": "onhold",
                "t": "l",
                "ts": at(11),
                "open": True,
                "onHold": True,
                "departmentId": "gone",
                "servedBy": {"_id": "bo", "username": "bo"},
                "msgs": "many",
            },
            {"_id": "tomorrow", "t": "l", "ts": dt.datetime(2024, 3, 2, 8, tzinfo=UTC)},
            {"_id": "channel", "t": "c", "ts": at(12)},
        ]
    )
    database["rocketchat_livechat_department"].insert_one({"_id": "sales", "name": "Sales"})
    database[MESSAGES].insert_many(
        [
            {"_id": "m1", "rid": "closed", "t": TRANSFER, "ts": at(9, 5)},
            {"_id": "m2", "rid": "closed", "t": TRANSFER, "ts": at(9, 10)},
            {"_id": "m3", "rid": "closed", "ts": at(9, 11), "msg": "hello"},
            {"_id": "m4", "rid": "queued", "t": "uj", "ts": at(10, 1)},
        ]
    )
    database["rocketchat_livechat_visitor"].insert_one(
        {
            "_id": "visitor-1",
            "visitorEmails": [{"address": "vera@example.com"}],
            "phone": [{"phoneNumber": "+4930123"}],
        }
    )


EMPTY_METRICS = {
    "firstResponseSeconds": None,
    "avgResponseSeconds": None,
    "firstReactionSeconds": None,
    "chatDurationSeconds": None,
    "serviceTimeSeconds": None,
}
CLOSED = {
    "_id": "closed",
    "createdAt": "2024-03-01T09:00:00.000Z",
    "closedAt": "2024-03-01T09:30:00.000Z",
    "status": "closed",
    "departmentId": "sales",
    "departmentName": "Sales",
    "agentId": "ana",
    "agentUsername": "ana.s",
    "source": "Website",
    "tags": ["billing", "vip"],
    "firstResponseSeconds": 40,
    "avgResponseSeconds": 35.5,
    "firstReactionSeconds": 38,
    "chatDurationSeconds": 1800,
    "serviceTimeSeconds": 1700,
    "messages": 12,
    "transfers": 2,
    "answered": True,
    "abandoned": True,
    "closer": "user",
    "priorityId": "high",
    "slaId": "gold",
    "rating": 5,
    "visitorId": "contact-1",
}
QUEUED = {
    "_id": "queued",
    "createdAt": "2024-03-01T10:00:00.000Z",
    "closedAt": None,
    "status": "queued",
    "departmentId": None,
    "departmentName": None,
    "agentId": None,
    "agentUsername": None,
    "source": "email",
    "tags": [],
    **EMPTY_METRICS,
    "messages": None,
    "transfers": 0,
    "answered": False,
    "abandoned": False,
    "closer": None,
    "priorityId": None,
    "slaId": None,
    "rating": None,
    "visitorId": "visitor-2",
}
ONHOLD = {
    "_id": "onhold",
    "createdAt": "2024-03-01T11:00:00.000Z",
    "closedAt": None,
    "status": "onhold",
    "departmentId": "gone",
    "departmentName": None,
    "agentId": "bo",
    "agentUsername": "bo",
    "source": None,
    "tags": [],
    **EMPTY_METRICS,
    "messages": None,
    "transfers": 0,
    "answered": True,
    "abandoned": False,
    "closer": None,
    "priorityId": None,
    "slaId": None,
    "rating": None,
    "visitorId": None,
}


def get(client: Any, headers: dict[str, str], **params: str) -> Any:
    response = client.get(PATH, query_string={**WINDOW, **params}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def listed(client: Any, headers: dict[str, str], **params: str) -> list[str]:
    return [row["_id"] for row in get(client, headers, **params).get_json()["conversations"]]


def test_the_rows_of_the_window_newest_first(client, headers, database):
    store_rooms(database)
    assert get(client, headers).get_json() == {
        "conversations": [ONHOLD, QUEUED, CLOSED],
        "count": 3,
        "offset": 0,
        "total": 3,
        "success": True,
    }


def test_a_page_sorted_by_any_column_ties_by_id(client, headers, database):
    store_rooms(database)
    body = get(client, headers, sort=json.dumps({"transfers": -1}), count="2").get_json()
    assert [row["_id"] for row in body["conversations"]] == ["closed", "onhold"]
    assert (body["count"], body["total"]) == (2, 3)
    assert listed(client, headers, sort=json.dumps({"departmentName": 1})) == ["onhold", "queued", "closed"]
    assert listed(client, headers, sort=json.dumps({"answered": 1}), offset="1") == ["closed", "onhold"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"departmentId": "sales"}, ["closed"]),
        ({"agentId": "bo"}, ["onhold"]),
        ({"status": "queued,closed"}, ["queued", "closed"]),
        ({"status": "onhold"}, ["onhold"]),
        ({"source": "Website"}, ["closed"]),
        ({"source": "widget"}, []),
        ({"tag": "vip"}, ["closed"]),
        ({"answered": "false"}, ["queued"]),
        ({"answered": "true"}, ["onhold", "closed"]),
        ({"abandoned": "true"}, ["closed"]),
        ({"abandoned": "false"}, ["onhold", "queued"]),
        ({"transferred": "true"}, ["closed"]),
        ({"transferred": "false"}, ["onhold", "queued"]),
        ({"rating": "5"}, ["closed"]),
        ({"slaOutcome": "met", "target": "40"}, ["closed"]),
        ({"slaOutcome": "breached", "target": "39"}, ["onhold", "queued", "closed"]),
        ({"slaOutcome": "noTarget"}, ["onhold", "queued", "closed"]),
        ({"status": "closed", "transferred": "true", "rating": "4"}, []),
    ],
)
def test_each_filter(client, headers, database, params, expected):
    store_rooms(database)
    assert listed(client, headers, **params) == expected


def test_the_csv_streams_every_row_tags_joined(client, headers, database):
    store_rooms(database)
    response = get(client, headers, format="csv")
    assert response.mimetype == "text/csv"
    assert response.get_data(as_text=True).splitlines() == [
        "_id,createdAt,closedAt,status,departmentId,departmentName,agentId,agentUsername,source,tags,"
        "firstResponseSeconds,avgResponseSeconds,firstReactionSeconds,chatDurationSeconds,"
        "serviceTimeSeconds,messages,transfers,answered,abandoned,closer,priorityId,slaId,rating,visitorId",
        "onhold,2024-03-01T11:00:00.000Z,,onhold,gone,,bo,bo,,,,,,,,,0,true,false,,,,,",
        "queued,2024-03-01T10:00:00.000Z,,queued,,,,,email,,,,,,,,0,false,false,,,,,visitor-2",
        "closed,2024-03-01T09:00:00.000Z,2024-03-01T09:30:00.000Z,closed,sales,Sales,ana,ana.s,Website,"
        "billing|vip,40,35.5,38,1800,1700,12,2,true,true,user,high,gold,5,contact-1",
    ]


def test_the_visitors_details_only_when_switched_on(make_app, headers, database):
    store_rooms(database)
    off = make_app().test_client()
    body = get(off, headers).get_data(as_text=True) + get(off, headers, format="csv").get_data(as_text=True)
    for detail in ("visitorName", "visitorEmail", "visitorPhone", "Vera", "vera@example.com", "+4930123"):
        assert detail not in body
    on = make_app(EXPORT_VISITOR_DETAILS=True).test_client()
    rows = get(on, headers).get_json()["conversations"]
    details = [(row["visitorName"], row["visitorEmail"], row["visitorPhone"]) for row in rows]
    assert details == [(None, None, None), (None, None, None), ("Vera", "vera@example.com", "+4930123")]
    lines = get(on, headers, format="csv").get_data(as_text=True).splitlines()
    assert lines[0].endswith(",visitorId,visitorName,visitorEmail,visitorPhone")
    # A cell that starts with + is written formula-safe.
    assert lines[3].endswith(",contact-1,Vera,vera@example.com,'+4930123")


@pytest.mark.parametrize(
    ("params", "details"),
    [
        (
            {"status": "open,done"},
            {"status": ["Must be one or more of open, closed, queued, onhold, separated by commas."]},
        ),
        (
            {"status": ""},
            {"status": ["Must be one or more of open, closed, queued, onhold, separated by commas."]},
        ),
        ({"rating": "6"}, {"rating": ["Must be a whole number from 1 to 5."]}),
        ({"rating": "4.5"}, {"rating": ["Must be a whole number from 1 to 5."]}),
        (
            {"slaOutcome": "late"},
            {"slaOutcome": ["Must be one of met, breached, pending, unansweredWithinTarget, noTarget."]},
        ),
        ({"abandoned": "yes"}, {"abandoned": ["Must be true or false."]}),
        ({"agentId": ""}, {"agentId": ["Must not be empty."]}),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(client, headers, params, details):
    response = client.get(PATH, query_string={**WINDOW, **params}, headers=headers)
    assert response.status_code == 400
    [(name, [message])] = details.items()
    assert response.get_json() == {
        "success": False,
        "error": f'The "{name}" query parameter m{message[1:]}',
        "errorType": "invalid-params",
        "details": details,
    }


def test_a_sort_on_an_unknown_column_is_a_400(client, headers):
    response = client.get(PATH, query_string={**WINDOW, "sort": '{"visitorName": 1}'}, headers=headers)
    assert response.status_code == 400
    assert list(response.get_json()["details"]) == ["sort"]


@pytest.mark.parametrize("role", ["admin", "livechat-manager", "livechat-monitor"])
def test_the_default_roles_hold_view_livechat_rooms(client, database, role):
    headers = add_user(database, "someone", token="t", roles=(role,))
    assert get(client, headers).get_json()["total"] == 0


def test_the_permission_document_decides(client, database):
    headers = add_user(database, "agent", token="t", roles=("livechat-agent",))
    assert client.get(PATH, query_string=WINDOW, headers=headers).status_code == 403
    database["rocketchat_permissions"].insert_one({"_id": "view-livechat-rooms", "roles": ["livechat-agent"]})
    assert get(client, headers).status_code == 200


def test_a_monitors_list_holds_their_units_rooms_only(make_app, database):
    documents = units.world()
    units.store(database, documents)
    client = make_app().test_client()
    window = {**units.WINDOW, "count": "0"}
    for caller in (units.MONITOR1, units.MONITOR2, units.LONE_MONITOR, units.MANAGER):
        response = client.get(PATH, query_string=window, headers=units.headers(caller))
        assert response.status_code == 200
        seen = sorted(row["_id"] for row in response.get_json()["conversations"])
        expected = units.in_window(units.visible(documents, caller))
        assert seen == sorted(room["_id"] for room in expected if room.get("t") == "l"), caller
        csv = client.get(PATH, query_string={**window, "format": "csv"}, headers=units.headers(caller))
        assert sorted(line.split(",")[0] for line in csv.get_data(as_text=True).splitlines()[1:]) == seen


def test_business_hours_measure_the_durations_by_the_schedule(client, headers, database):
    """Monday to Friday, 09:00 to 18:00 in Berlin (UTC+1 in March). A chat from Friday 17:50 to
    Monday 09:05, answered at Friday 18:10 and served from its start: a wait of 10 business
    minutes, a duration and a service time of 15; avg response and first reaction stay calendar."""
    database["rocketchat_livechat_business_hours"].insert_one(berlin_hours())
    database[ROOMS].insert_one(
        {
            "_id": "weekend",
            "t": "l",
            "ts": at(16, 50),
            "closedAt": dt.datetime(2024, 3, 4, 8, 5, tzinfo=UTC),
            "servedBy": {"_id": "ana", "username": "ana", "ts": at(16, 50)},
            "metrics": {
                "response": {"ft": 1200, "avg": 300},
                "reaction": {"ft": 1200},
                "chatDuration": 235_500,
                "serviceTimeDuration": 235_500,
            },
        }
    )
    body = get(client, headers, businessHours="true").get_json()
    [row] = body["conversations"]
    durations = {name: row[name] for name in EMPTY_METRICS}
    assert durations == {
        "firstResponseSeconds": 600,
        "avgResponseSeconds": 300,
        "firstReactionSeconds": 1200,
        "chatDurationSeconds": 900,
        "serviceTimeSeconds": 900,
    }
    assert (body["businessHours"], body["roomsWithoutSchedule"], body["total"]) == (True, 0, 1)
    lines = get(client, headers, businessHours="true", format="csv").get_data(as_text=True).splitlines()
    assert ",,600,300,1200,900,900,," in lines[1]


def many_rooms(database: Any) -> list[str]:
    """Eleven rooms of 1 March, several created at the same moment; their ids."""
    moments = [at(8), at(9), at(9), at(9), at(10), at(10), at(11), at(12), at(12), at(12), at(13)]
    ids = [f"r{index:02}" for index in range(len(moments))]
    database[ROOMS].insert_many(
        [{"_id": room, "t": "l", "ts": moment} for room, moment in zip(ids, moments, strict=True)]
    )
    return ids


@pytest.mark.parametrize("direction", [-1, 1])
def test_the_csv_reads_slices_of_creation_times_in_the_pages_order(
    client, headers, database, monkeypatch, direction
):
    # Slices of two rooms at least: the rooms created at once stay in one slice, and the CSV's
    # rows are the JSON's, in the same order (ties by _id), offset and count included.
    monkeypatch.setattr(conversations, "STREAM_BATCH_SIZE", 2)
    ids = many_rooms(database)
    moments = {room: database[ROOMS].find_one({"_id": room})["ts"] for room in ids}
    order = sorted(ids, key=lambda room: (direction * moments[room].timestamp(), room))
    sort = json.dumps({"createdAt": direction})
    assert listed(client, headers, sort=sort, count="100") == order
    for params in ({}, {"offset": "3"}, {"offset": "2", "count": "5"}):
        lines = get(client, headers, sort=sort, format="csv", **params).get_data(as_text=True).splitlines()
        end = int(params["count"]) + int(params["offset"]) if "count" in params else None
        assert [line.split(",")[0] for line in lines[1:]] == order[int(params.get("offset", 0)) : end]


@given(st.lists(st.integers(0, 5), max_size=30).map(sorted), st.integers(1, 4))
def test_time_slices_cover_the_times_in_runs_that_never_split_a_time(times, size):
    slices = list(conversations.time_slices(times, size))
    covered = [moment for first, last in slices for moment in times if first <= moment <= last]
    assert covered == times
    for (_, last), (first, _) in itertools.pairwise(slices):
        assert last < first
    for first, last in slices[:-1]:
        assert sum(first <= moment <= last for moment in times) >= size
