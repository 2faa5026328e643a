"""Odd stored values, read by their kind (docs/stored-data.rst): a number that is no finite double,
int or long from 0 to 2**50, a date that is no date, an id or a label that is no string, each counts
as a missing one on every endpoint, JSON and CSV, on every backend. Every expected number is worked
out by hand from the documents stored here."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from bson import Decimal128, Int64
from documents import at
from support import ROOT, add_user, get_answer

ROOMS = "rocketchat_room"
DAY = {"start": "2024-03-04", "end": "2024-03-04"}
DAYS = {"from": "2024-03-04", "to": "2024-03-04"}
#: A report's items in label order: their values tie.
BY_LABEL = {**DAY, "sort": '{"label": 1}'}

#: Values that are no number to read: each counts as a missing one. Decimal128 too: a stored
#: NumberDecimal would make every sum a decimal.
ODD_NUMBERS = [
    float("nan"),
    float("inf"),
    float("-inf"),
    Decimal128("60"),
    Decimal128("1.5"),
    Decimal128("0.1234567890123456789012345"),
    "60",
    True,
    [60],
    {"s": 60},
    -60,
    1e308,
    Int64(2**63 - 1),
    2**50 + 1,
    None,
]


def good_room(
    number: int, chat: int, avg: int, ft: int, reaction: int, service: int, inactivity: int
) -> dict:
    """A closed, answered room of department d1 served by ana, 60 seconds of service, on 4 March."""
    return {
        "_id": f"good-{number}",
        "t": "l",
        "ts": at(4, 15),
        "closedAt": at(4, 16),
        "departmentId": "d1",
        "servedBy": {"_id": "ana", "username": "ana", "ts": at(4, 15)},
        "responseBy": {"_id": "ana", "username": "ana", "lastMessageTs": at(4, 15, 60)},
        "metrics": {
            "chatDuration": chat,
            "serviceTimeDuration": service,
            "visitorInactivity": inactivity,
            "response": {"avg": avg, "ft": ft, "tt": ft},
            "reaction": {"ft": reaction},
        },
    }


def odd_room(number: int, value: Any) -> dict:
    """A room like the good ones whose every number is ``value``."""
    room = good_room(number, value, value, value, value, value, value)
    room["_id"] = f"odd-{number}"
    return room


@pytest.fixture
def odd_numbers(request, database) -> dict[str, str]:
    """Two good rooms, two rooms whose numbers are all the odd value, and agent activity of ana
    on 4 March: 3600 and 7200 seconds, and two days of the odd value."""
    value = request.param
    database[ROOMS].insert_many(
        [
            good_room(1, chat=100, avg=10, ft=30, reaction=4, service=40, inactivity=5000),
            good_room(2, chat=200, avg=20, ft=50, reaction=6, service=80, inactivity=10),
            odd_room(3, value),
            odd_room(4, value),
        ]
    )
    database["rocketchat_livechat_agent_activity"].insert_many(
        [
            {"_id": f"a{n}", "agentId": "ana", "date": 20240304, "availableTime": v}
            for n, v in enumerate([3600, 7200, value, value])
        ]
    )
    database["users"].insert_one({"_id": "ana", "username": "ana", "name": "Ana", "active": True})
    return add_user(database)


def totalizers(body: dict) -> dict:
    return {item["title"]: item["value"] for item in body["totalizers"]}


def department_row(client, headers, path: str) -> dict:
    body = get_answer(client, f"departments/{path}", headers, **DAY)
    [row] = body["departments"]
    return row


@pytest.mark.parametrize("odd_numbers", ODD_NUMBERS, indirect=True, ids=repr)
def test_a_number_that_is_none_counts_as_missing_in_the_department_rows(client, odd_numbers):
    headers = odd_numbers
    # Closed rooms: four, the odd ones adding 0; abandoned: the good room of 5000 s, of four.
    assert department_row(client, headers, "average-chat-duration-time") == {
        "_id": "d1",
        "averageChatDurationTimeInSeconds": 75,
    }
    assert department_row(client, headers, "average-waiting-time") == {
        "_id": "d1",
        "averageWaitingTimeInSeconds": 20,
    }
    assert department_row(client, headers, "total-service-time") == {
        "_id": "d1",
        "chats": 2,
        "serviceTimeDuration": 120,
    }
    assert department_row(client, headers, "total-abandoned-chats") == {"_id": "d1", "abandonedRooms": 1}
    assert department_row(client, headers, "percentage-abandoned-chats") == {
        "_id": "d1",
        "percentageOfAbandonedChats": 25,
    }
    assert department_row(client, headers, "average-service-time") == {
        "_id": "d1",
        "averageServiceTimeInSeconds": 60,
    }
    trend = get_answer(client, "trends/average-chat-duration-time", headers, **DAY)
    assert [bucket["averageChatDurationTimeInSeconds"] for bucket in trend["series"][0]["buckets"]] == [75]


@pytest.mark.parametrize("odd_numbers", ODD_NUMBERS, indirect=True, ids=repr)
def test_a_number_that_is_none_counts_as_missing_on_the_boards(client, odd_numbers):
    headers = odd_numbers
    assert get_answer(client, "dashboards/charts/timings", headers, **DAY) == {
        "response": {"avg": 15, "longest": 50},
        "reaction": {"avg": 5, "longest": 6},
        "chatDuration": {"avg": 150, "longest": 200},
        "success": True,
    }
    assert totalizers(get_answer(client, "dashboards/productivity-totalizers", headers, **DAY)) == {
        "Avg_response_time": "00:00:15",
        "Avg_first_response_time": "00:00:40",
        "Avg_reaction_time": "00:00:05",
        "Avg_of_waiting_time": "00:00:20",
    }
    assert totalizers(get_answer(client, "dashboards/chats-totalizers", headers, **DAY)) == {
        "Total_abandoned_chats": 1,
        "Avg_of_abandoned_chats": "25%",
        "Avg_of_chat_duration_time": "00:01:15",
    }
    # Four days of activity, two of them adding 0: 10800 / 4.
    assert totalizers(get_answer(client, "dashboards/agents-productivity-totalizers", headers, **DAY)) == {
        "Busiest_time": "3PM - 4PM",
        "Avg_of_available_service_time": "00:45:00",
        "Avg_of_service_time": "00:01:00",
    }
    overview = get_answer(client, "overview", headers, name="Productivity", **DAYS)
    assert overview == [
        {"title": "Avg_response_time", "value": "00:00:15"},
        {"title": "Avg_first_response_time", "value": "00:00:40"},
        {"title": "Avg_reaction_time", "value": "00:00:05"},
    ]


AGENT_VALUES = {
    "Avg_chat_duration": "00:02:30",
    "Avg_first_response_time": "00:00:40",
    "Best_first_response_time": "00:00:30",
    "Avg_response_time": "00:00:15",
    "Avg_reaction_time": "00:00:05",
}
CHART_POINTS = {
    "Avg_chat_duration": 150.0,
    "Avg_first_response_time": 40.0,
    "Best_first_response_time": 30.0,
    "Avg_response_time": 15.0,
    "Avg_reaction_time": 5.0,
}


@pytest.mark.parametrize("odd_numbers", ODD_NUMBERS, indirect=True, ids=repr)
def test_a_number_that_is_none_counts_as_missing_per_agent_and_in_the_charts(client, odd_numbers):
    headers = odd_numbers
    for name, value in AGENT_VALUES.items():
        body = get_answer(client, "agent-overview", headers, name=name, **DAYS)
        assert body["data"] == [{"name": "ana", "value": value}], name
    for name, point in CHART_POINTS.items():
        body = get_answer(client, "dashboards/charts-data", headers, chartName=name, **DAY)
        assert body["dataPoints"] == [0] * 15 + [point] + [0] * 8, name
    agents = get_answer(client, "agents/total-service-time", headers, **DAY)["agents"]
    assert agents == [{"_id": "ana", "username": "ana", "chats": 2, "serviceTimeDuration": 120}]
    agents = get_answer(client, "agents/average-service-time", headers, **DAY)["agents"]
    assert [agent["averageServiceTimeInSeconds"] for agent in agents] == [60]
    agents = get_answer(client, "agents/available-for-service-history", headers, **DAY)["agents"]
    assert agents == [{"_id": "ana", "username": "ana", "availableTimeInSeconds": 10800}]


@pytest.mark.parametrize("odd_numbers", ODD_NUMBERS, indirect=True, ids=repr)
def test_a_paged_csv_is_whole_whatever_is_stored(client, odd_numbers):
    headers = odd_numbers
    answer = client.get(
        f"{ROOT}/departments/average-chat-duration-time",
        query_string={**DAY, "format": "csv"},
        headers=headers,
    )
    assert answer.status_code == 200
    assert answer.get_data(as_text=True) == "_id,averageChatDurationTimeInSeconds\r\nd1,75\r\n"
    answer = client.get(
        f"{ROOT}/agents/available-for-service-history", query_string={**DAY, "format": "csv"}, headers=headers
    )
    assert answer.get_data(as_text=True) == "_id,username,availableTimeInSeconds\r\nana,ana,10800\r\n"


# Dates, and numbers stored as strings


def test_a_date_stored_as_a_string_counts_as_missing(client, database):
    headers = add_user(database)
    served = good_room(1, chat=100, avg=10, ft=30, reaction=4, service=40, inactivity=10)
    assigned_as_text = good_room(2, chat=200, avg=20, ft=50, reaction=6, service=80, inactivity=10)
    assigned_as_text["servedBy"]["ts"] = "2024-03-04T15:00:00.000Z"
    last_as_text = good_room(3, chat=300, avg=20, ft=50, reaction=6, service=80, inactivity=10)
    last_as_text["responseBy"]["lastMessageTs"] = "2024-03-04T15:01:00.000Z"
    closed_as_text = good_room(4, chat=400, avg=20, ft=50, reaction=6, service=80, inactivity=10)
    closed_as_text["closedAt"] = "2024-03-04T16:00:00.000Z"
    database[ROOMS].insert_many([served, assigned_as_text, last_as_text, closed_as_text])
    # Served rooms with a last message: 1, 2 (adding 0) and 4; 60 s over three rooms.
    assert department_row(client, headers, "average-service-time") == {
        "_id": "d1",
        "averageServiceTimeInSeconds": 40,
    }
    trend = get_answer(client, "trends/average-service-time", headers, **DAY)
    assert [bucket["averageServiceTimeInSeconds"] for bucket in trend["series"][0]["buckets"]] == [40]
    assert totalizers(get_answer(client, "dashboards/agents-productivity-totalizers", headers, **DAY)) == {
        "Busiest_time": "3PM - 4PM",
        "Avg_of_available_service_time": "00:00:00",
        "Avg_of_service_time": "00:00:40",
    }
    # Closed in the window: 1, 2 and 3 (room 4's closedAt is no date): 600 / 3.
    assert department_row(client, headers, "average-chat-duration-time") == {
        "_id": "d1",
        "averageChatDurationTimeInSeconds": 200,
    }
    assert (
        totalizers(get_answer(client, "dashboards/chats-totalizers", headers, **DAY))[
            "Avg_of_chat_duration_time"
        ]
        == "00:03:20"
    )


def test_a_number_stored_as_a_string_is_no_number(client, database):
    headers = add_user(database)
    counted = good_room(1, chat=100, avg=147, ft=30, reaction=4, service=40, inactivity=10)
    as_text = good_room(2, chat=200, avg="300", ft="12", reaction=6, service=80, inactivity=10)
    as_text["responseBy"]["username"] = "bo"
    only_text = good_room(3, chat=200, avg="300", ft="12", reaction=6, service=80, inactivity=10)
    only_text["responseBy"]["username"] = "bo"
    only_text["ts"] = at(4, 18)
    database[ROOMS].insert_many([counted, as_text, only_text])
    # The mean is over the one room with a number: 147 s, not 147 / 3.
    assert (
        totalizers(get_answer(client, "dashboards/productivity-totalizers", headers, **DAY))[
            "Avg_response_time"
        ]
        == "00:02:27"
    )
    # bo's first responses are all strings: bo has no best time; the hour of 18:00 has none.
    body = get_answer(client, "agent-overview", headers, name="Best_first_response_time", **DAYS)
    assert body["data"] == [{"name": "ana", "value": "00:00:30"}]
    body = get_answer(client, "dashboards/charts-data", headers, chartName="Best_first_response_time", **DAY)
    assert body["dataPoints"] == [0] * 15 + [30.0] + [0] * 8


# Ids and labels that are no strings


@pytest.fixture
def odd_ids(database) -> dict[str, str]:
    """Rooms on 4 March: two good ones (d1 by ana, d2 by bo) and one each with an array or an object
    where a department id, an agent id or username, a source alias or a tag belongs; department d2
    is named by an array."""
    ts = dt.datetime(2024, 3, 4, 15, tzinfo=dt.timezone.utc)

    def room(name: str, **fields: Any) -> dict:
        return {"_id": name, "t": "l", "ts": ts, "open": True, "source": {"type": "widget"}, **fields}

    database[ROOMS].insert_many(
        [
            room(
                "a",
                departmentId="d1",
                servedBy={"_id": "ana", "username": "ana"},
                tags=["x", ["y"]],
                source={"type": "api", "alias": "app"},
            ),
            room("b", departmentId="d2", servedBy={"_id": "bo", "username": "bo"}, tags=[{"t": 1}]),
            room(
                "c",
                departmentId=["d1"],
                servedBy={"_id": ["ana"], "username": ["ana"]},
                source={"type": "api", "alias": ["app"]},
                tags="x",
            ),
            room(
                "d",
                departmentId={"_id": "d1"},
                servedBy={"_id": {"id": "ana"}, "username": 7},
                source={"type": ["api"], "alias": {"a": 1}},
            ),
        ]
    )
    database["rocketchat_livechat_department"].insert_many(
        [{"_id": "d1", "name": "Sales"}, {"_id": "d2", "name": ["Help"]}]
    )
    database["users"].insert_many(
        [{"_id": "ana", "username": "ana", "name": ["Ana"]}, {"_id": "bo", "username": "bo", "name": "Bo"}]
    )
    return add_user(database)


def test_an_id_that_is_no_string_is_no_department(client, odd_ids):
    headers = odd_ids
    body = get_answer(client, "departments/amount-of-chats", headers, **DAY)
    assert body["departments"] == [
        {"_id": None, "rooms": 2},
        {"_id": "d1", "rooms": 1},
        {"_id": "d2", "rooms": 1},
    ]
    body = get_answer(client, "departments/amount-of-chats", headers, departmentId="d1", **DAY)
    assert body["departments"] == [{"_id": "d1", "rooms": 1}]
    # d2's name is no string: keyed by its id.
    assert get_answer(client, "dashboards/charts/chats-per-department", headers, **DAY) == {
        "Sales": {"open": 1, "closed": 0},
        "d2": {"open": 1, "closed": 0},
        "success": True,
    }
    assert get_answer(client, "dashboards/conversations-by-department", headers, **BY_LABEL) == {
        "data": [{"label": "Sales", "value": 1}, {"label": "d2", "value": 1}],
        "total": 2,
        "unspecified": 2,
        "success": True,
    }
    trend = get_answer(client, "trends/amount-of-chats", headers, byDepartment="true", **DAY)
    assert [(series["_id"], series["buckets"][0]["rooms"]) for series in trend["series"]] == [
        (None, 2),
        ("d1", 1),
        ("d2", 1),
    ]


def test_an_id_or_label_that_is_no_string_is_no_agent_source_or_tag(client, odd_ids):
    headers = odd_ids
    assert get_answer(client, "dashboards/conversations-by-agent", headers, **DAY) == {
        "data": [{"label": "Bo", "value": 1}, {"label": "ana", "value": 1}],
        "total": 2,
        "unspecified": 2,
        "success": True,
    }
    # Room c: no string alias, its type; room d: neither, in no item.
    assert get_answer(client, "dashboards/conversations-by-source", headers, **BY_LABEL) == {
        "data": [{"label": "api", "value": 1}, {"label": "app", "value": 1}, {"label": "widget", "value": 1}],
        "total": 3,
        "success": True,
    }
    assert get_answer(client, "dashboards/conversations-by-tags", headers, **DAY) == {
        "data": [{"label": "x", "value": 1}],
        "total": 1,
        "unspecified": 3,
        "success": True,
    }
    assert get_answer(client, "dashboards/charts/chats-per-agent", headers, **DAY) == {
        "ana": {"open": 1, "closed": 0, "onhold": 0},
        "bo": {"open": 1, "closed": 0, "onhold": 0},
        "success": True,
    }
    body = get_answer(client, "agent-overview", headers, name="Total_conversations", **DAYS)
    assert body["data"] == [{"name": "ana", "value": "50.00%"}, {"name": "bo", "value": "50.00%"}]


def test_a_department_name_that_is_no_string_is_unknown(make_app, odd_ids):
    client = make_app(DEPARTMENT_NAMES=True).test_client()
    body = get_answer(client, "departments/amount-of-chats", odd_ids, **DAY)
    assert body["departments"] == [
        {"_id": None, "name": None, "rooms": 2},
        {"_id": "d1", "name": "Sales", "rooms": 1},
        {"_id": "d2", "name": None, "rooms": 1},
    ]
    trend = get_answer(client, "trends/amount-of-chats", odd_ids, byDepartment="true", **DAY)
    assert [(series["_id"], series["name"]) for series in trend["series"]] == [
        (None, None),
        ("d1", "Sales"),
        ("d2", None),
    ]


def test_a_user_name_or_active_of_another_type_is_unknown(client, database):
    headers = add_user(database)
    database[ROOMS].insert_one(good_room(1, chat=100, avg=10, ft=30, reaction=4, service=41, inactivity=10))
    database["users"].insert_one(
        {"_id": "ana", "username": ["ana"], "name": {"first": "Ana"}, "active": "yes"}
    )
    body = get_answer(client, "agents/average-service-time", headers, **DAY)
    assert body["agents"] == [
        {"_id": "ana", "username": "ana", "name": None, "active": None, "averageServiceTimeInSeconds": 41}
    ]
