"""The agent family on hand-made documents whose answers are worked out in the comments, and a
hypothesis property against plain Python, with the department family beside it."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import ROOT, UTC, property_settings

ROOMS = "rocketchat_room"
ACTIVITY = "rocketchat_livechat_agent_activity"
WINDOW = {"start": "2024-03-01", "end": "2024-03-31"}
START = dt.datetime(2024, 3, 1, tzinfo=UTC)
END = dt.datetime(2024, 3, 31, 23, 59, 59, 999000, tzinfo=UTC)


def at(day: int, hours: float = 0) -> dt.datetime:
    return dt.datetime(2024, 3, day, tzinfo=UTC) + dt.timedelta(hours=hours)


def served(room_id: str, agent: str | None, ts: dt.datetime | None = None, **metrics) -> dict:
    room = {"_id": room_id, "t": "l", "ts": ts or at(10), "metrics": metrics}
    if agent is not None:
        room["servedBy"] = {"_id": agent, "username": agent.upper(), "ts": room["ts"]}
    return room


def body(client, headers, path: str, **params) -> dict:
    response = client.get(f"{ROOT}/agents/{path}", query_string={**WINDOW, **params}, headers=headers)
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["count"] == len(answer["agents"])
    return answer


@pytest.fixture
def rooms(database):
    database[ROOMS].insert_many(
        [
            # u1: 100 s and 21.5 s: 2 chats, 121.5 s rounded up to 122; mean ceil(60.75) = 61.
            served("a", "u1", serviceTimeDuration=100),
            served("b", "u1", serviceTimeDuration=21.5),
            # u2: one room of 0 s counts; a room without a service time does not.
            served("c", "u2", serviceTimeDuration=0),
            served("d", "u2"),
            # u3, an inactive user: 10 s.
            served("h", "u3", serviceTimeDuration=10),
            # Not counted: nobody served it, created before the window, not a livechat room.
            served("e", None, serviceTimeDuration=50),
            served("f", "u1", ts=START - dt.timedelta(milliseconds=1), serviceTimeDuration=999),
            {**served("g", "u1", serviceTimeDuration=999), "t": "c"},
        ]
    )
    database["users"].insert_many(
        [
            {"_id": "u1", "username": "ana", "name": "Ana Souza", "active": True},
            {"_id": "u3", "username": "cy", "name": "Cy", "active": False},
        ]
    )


def test_average_service_time_with_the_agents_name_and_state(client, headers, rooms):
    assert body(client, headers, "average-service-time")["agents"] == [
        {
            "_id": "u1",
            "username": "U1",
            "name": "Ana Souza",
            "active": True,
            "averageServiceTimeInSeconds": 61,
        },
        # No user document: name and active are null.
        {"_id": "u2", "username": "U2", "name": None, "active": None, "averageServiceTimeInSeconds": 0},
        {"_id": "u3", "username": "U3", "name": "Cy", "active": False, "averageServiceTimeInSeconds": 10},
    ]


def test_total_service_time(client, headers, rooms):
    assert body(client, headers, "total-service-time")["agents"] == [
        {"_id": "u1", "username": "U1", "chats": 2, "serviceTimeDuration": 122},
        {"_id": "u2", "username": "U2", "chats": 1, "serviceTimeDuration": 0},
        {"_id": "u3", "username": "U3", "chats": 1, "serviceTimeDuration": 10},
    ]


def test_paged_and_sorted_by_the_users_name(client, headers, rooms):
    # Descending names, null lowest (as MongoDB sorts): Cy, Ana Souza, then u2 without a user.
    answer = body(client, headers, "average-service-time", sort='{"name": -1}')
    assert [row["_id"] for row in answer["agents"]] == ["u3", "u1", "u2"]
    page = body(client, headers, "average-service-time", sort='{"name": -1}', offset=1, count=1)
    assert (page["agents"][0]["_id"], page["count"], page["offset"], page["total"]) == ("u1", 1, 1, 3)
    ties = body(client, headers, "total-service-time", sort='{"chats": 1}')
    assert [row["_id"] for row in ties["agents"]] == ["u2", "u3", "u1"]


def test_sort_names_the_rows_fields(client, headers, rooms):
    response = client.get(
        f"{ROOT}/agents/total-service-time", query_string={**WINDOW, "sort": '{"name": 1}'}, headers=headers
    )
    assert response.status_code == 400
    assert response.get_json()["details"] == {
        "sort": [
            'Must be a JSON object such as {"_id": 1} whose keys are among _id, username, chats, '
            "serviceTimeDuration and whose values are 1 or -1."
        ]
    }


def period(day: int, start: int, stop: int | None) -> dict:
    return {"startedAt": at(day, start), "stoppedAt": None if stop is None else at(day, stop)}


@pytest.fixture
def activity(database):
    database[ACTIVITY].insert_many(
        [
            {"agentId": "u1", "date": 20240229, "availableTime": 7, "serviceHistory": []},
            {
                "agentId": "u1",
                "date": 20240331,
                "availableTime": 300.5,
                "serviceHistory": [period(31, 9, 10)],
            },
            {
                "agentId": "u1",
                "date": 20240301,
                "availableTime": 600,
                "serviceHistory": [period(1, 8, 9), period(1, 13, None)],
            },
            {"agentId": "u1", "date": 20240401, "availableTime": 9999},
            {"agentId": "u2", "date": 20240315, "availableTime": 1000},
            {"agentId": "ghost", "date": 20240310, "availableTime": 100, "serviceHistory": []},
        ]
    )
    database["users"].insert_many([{"_id": "u1", "username": "ana"}, {"_id": "u2", "username": "bo"}])


def test_available_for_service_history(client, headers, activity):
    # u1: 600 + 300.5 of the window's days, rounded up; the agent without a user has no username.
    assert body(client, headers, "available-for-service-history")["agents"] == [
        {"_id": "ghost", "username": None, "availableTimeInSeconds": 100},
        {"_id": "u1", "username": "ana", "availableTimeInSeconds": 901},
        {"_id": "u2", "username": "bo", "availableTimeInSeconds": 1000},
    ]


def test_the_full_report_lists_every_period_of_the_days_in_order(client, headers, activity):
    rows = body(client, headers, "available-for-service-history", fullReport="true")["agents"]
    assert [row["serviceHistory"] for row in rows] == [
        [],
        [
            {"startedAt": "2024-03-01T08:00:00.000Z", "stoppedAt": "2024-03-01T09:00:00.000Z"},
            {"startedAt": "2024-03-01T13:00:00.000Z", "stoppedAt": None},
            {"startedAt": "2024-03-31T09:00:00.000Z", "stoppedAt": "2024-03-31T10:00:00.000Z"},
        ],
        [],
    ]
    assert (
        "serviceHistory"
        not in body(client, headers, "available-for-service-history", fullReport="false")["agents"][0]
    )


def test_the_days_are_the_reporting_timezones(make_app, database, headers, activity):
    app = make_app(TIMEZONE="America/Sao_Paulo")
    # 02:00 UTC on 1 March is 23:00 on 29 February in São Paulo (UTC-3), 23:00 UTC on 31 March is
    # 20:00 that day: the days are 29 February to 31 March, so u1 has 7 + 600 + 300.5 = 908.
    window = {"start": "2024-03-01T02:00:00Z", "end": "2024-03-31T23:00:00Z"}
    rows = body(app.test_client(), headers, "available-for-service-history", **window)["agents"]
    assert {row["_id"]: row["availableTimeInSeconds"] for row in rows} == {
        "ghost": 100,
        "u1": 908,
        "u2": 1000,
    }


# A property: random rooms against plain Python, and the department family over the same rooms.

AGENTS = ("u1", "u2", "u3")
PROPERTY_SETTINGS = property_settings(25)


@st.composite
def random_rooms(draw) -> list[dict]:
    made = []
    for n in range(draw(st.integers(0, 14))):
        # Around the window's edges: a few days before the start to a few days after the end.
        ts = START + dt.timedelta(seconds=draw(st.integers(-3 * 86400, 34 * 86400)))
        room: dict = {"_id": f"r{n}", "t": draw(st.sampled_from(["l", "l", "l", "c"])), "ts": ts}
        agent = draw(st.sampled_from((*AGENTS, None)))
        if agent is not None:
            room["servedBy"] = {"_id": agent, "username": agent, "ts": ts}
        if draw(st.booleans()):
            room["closedAt"] = ts + dt.timedelta(seconds=draw(st.integers(0, 3 * 86400)))
            # Rocket.Chat writes a service time on close, for served rooms only.
            if agent is not None:
                room["metrics"] = {"serviceTimeDuration": draw(st.integers(0, 5000)) / 4}
        made.append(room)
    return made


def expected_agents(rooms: list[dict]) -> dict[str, tuple[int, int, int]]:
    """(chats, serviceTimeDuration, averageServiceTimeInSeconds) per agent, by Rocket.Chat's rules."""
    seconds: dict[str, list[float]] = {}
    for room in rooms:
        if room["t"] == "l" and START <= room["ts"] <= END and "servedBy" in room and "metrics" in room:
            seconds.setdefault(room["servedBy"]["_id"], []).append(room["metrics"]["serviceTimeDuration"])
    return {
        agent: (len(values), math.ceil(sum(values)), math.ceil(sum(values) / len(values)))
        for agent, values in seconds.items()
    }


@given(rooms=random_rooms())
@PROPERTY_SETTINGS
def test_agent_rows_and_the_department_total_agree_with_plain_python(client, headers, database, rooms):
    database[ROOMS].delete_many({})
    if rooms:
        database[ROOMS].insert_many(rooms)
    expected = expected_agents(rooms)
    total = body(client, headers, "total-service-time", count=0)
    average = body(client, headers, "average-service-time", count=0)
    assert {row["_id"]: (row["chats"], row["serviceTimeDuration"]) for row in total["agents"]} == {
        agent: values[:2] for agent, values in expected.items()
    }
    assert {row["_id"]: row["averageServiceTimeInSeconds"] for row in average["agents"]} == {
        agent: values[2] for agent, values in expected.items()
    }
    assert total["total"] == average["total"] == len(expected)

    # The department endpoint counts the rooms created on or after the start and CLOSED by the end
    # (Rocket.Chat's window); the agent endpoints those CREATED in the window. Every room with a
    # service time here was served and is closed, so the agents count exactly the department's
    # rooms plus those created in the window and closed after its end.
    response = client.get(
        f"{ROOT}/departments/total-service-time", query_string={**WINDOW, "count": 0}, headers=headers
    )
    departments = sum(row["chats"] for row in response.get_json()["departments"])
    closed_after = sum(
        room["t"] == "l" and "metrics" in room and START <= room["ts"] <= END < room["closedAt"]
        for room in rooms
    )
    assert sum(row["chats"] for row in total["agents"]) == departments + closed_after
