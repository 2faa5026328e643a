"""Property tests of odd stored values: rooms whose numbers, dates and ids are any mixture of the
right and the wrong type. Every endpoint answers 200, JSON and CSV, and the numbers equal plain
Python applying the rules of docs/stored-data.rst (oracles.number_at, date_at, text_at: a value of
the wrong type is a missing one) over the stored documents."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from oracles import date_at, hms, number_at, text_at
from strategies import DAY_MS, MS, moment, oddly_stored, room_documents
from support import NOW_ENDPOINTS, ROOT, answered, property_settings, store_rooms

from livechat_analytics.endpoints import ENDPOINTS

ROOMS = "rocketchat_room"
#: One day: 10 March 2024, UTC; the rooms lie on it and around it.
FIRST, LAST = 0, DAY_MS - 1
START, END = moment(FIRST), moment(LAST)
DAY = {"start": "2024-03-10", "end": "2024-03-10"}
DAYS = {"from": "2024-03-10", "to": "2024-03-10"}
T = 3600

#: What each endpoint needs besides its window; the overviews are asked for each name.
NEEDS: dict[str, list[dict[str, str]]] = {
    "overview": [{"name": name, **DAYS} for name in ("Conversations", "Productivity")],
    "agent-overview": [
        {"name": name, **DAYS}
        for name in ("Total_conversations", "Avg_chat_duration", "Total_messages", "Best_first_response_time")
    ],
    "dashboards/charts-data": [
        {"chartName": name, **DAY} for name in ("Avg_chat_duration", "Best_first_response_time")
    ],
    **{path: [{}] for path in NOW_ENDPOINTS},
}


def requests() -> list[tuple[str, dict[str, str]]]:
    """Every endpoint with the parameters it needs; the trends also per department."""
    asked = []
    for path in ENDPOINTS:
        for params in NEEDS.get(path, [DAY]):
            asked.append((path, params))
            if path.startswith("trends/") and path != "trends/heatmap":
                asked.append((path, {**params, "byDepartment": "true"}))
    return asked


@st.composite
def odd_rooms(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Rooms around the day, some of their values odd."""
    count = draw(st.integers(1, 12))
    rooms = []
    for number in range(count):
        room = draw(room_documents(FIRST, LAST, (T,)))
        rooms.append({"_id": f"room-{number}", **draw(oddly_stored(room))})
    return rooms


# The rules, in plain Python


def livechat(rooms: list[dict]) -> list[dict]:
    return [room for room in rooms if room.get("t") == "l"]


def in_window(rooms: list[dict]) -> list[dict]:
    return [room for room in livechat(rooms) if START <= room["ts"] <= END]


def closed_in_window(rooms: list[dict]) -> list[dict]:
    """Created on or after the start, closed (a date) by the end."""
    return [
        room
        for room in livechat(rooms)
        if room["ts"] >= START and (closed := date_at(room, "closedAt")) is not None and closed <= END
    ]


def numbers(rooms: list[dict], *path: str) -> list[float]:
    return [value for room in rooms if (value := number_at(room, *path)) is not None]


def or_zero(room: dict, *path: str) -> float:
    value = number_at(room, *path)
    return 0 if value is None else value


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0


def ceil_mean(total: float, count: int) -> int:
    return math.ceil(total / count) if count else 0


def abandoned(room: dict) -> bool:
    inactivity = number_at(room, "metrics", "visitorInactivity")
    return inactivity is not None and inactivity >= T


def per_department(rooms: list[dict], value: Any) -> list[dict]:
    """One row per department (a string ``departmentId``, else the null row), ``_id`` order."""
    groups: dict[str | None, list[dict]] = defaultdict(list)
    for room in rooms:
        groups[text_at(room, "departmentId")].append(room)
    keys = sorted(groups, key=lambda key: (key is not None, key or ""))
    return [{"_id": key, **value(groups[key])} for key in keys]


def service_milliseconds(room: dict) -> int:
    """Last message minus assignment, 0 when the assignment is no date."""
    assigned = date_at(room, "servedBy", "ts")
    if assigned is None:
        return 0
    return (room["responseBy"]["lastMessageTs"] - assigned) // MS


def department_rows(rooms: list[dict]) -> dict[str, list[dict]]:
    """The department rows of the room metrics."""
    closed = closed_in_window(rooms)
    window = in_window(rooms)
    served = [
        room
        for room in window
        if date_at(room, "responseBy", "lastMessageTs") is not None
        and text_at(room, "servedBy", "_id") is not None
    ]
    with_service = [room for room in closed if number_at(room, "metrics", "serviceTimeDuration") is not None]
    return {
        "average-chat-duration-time": per_department(
            closed,
            lambda group: {
                "averageChatDurationTimeInSeconds": ceil_mean(
                    sum(or_zero(room, "metrics", "chatDuration") for room in group), len(group)
                )
            },
        ),
        "total-service-time": per_department(
            with_service,
            lambda group: {
                "chats": len(group),
                "serviceTimeDuration": math.ceil(sum(numbers(group, "metrics", "serviceTimeDuration"))),
            },
        ),
        "total-abandoned-chats": per_department(
            [room for room in closed if abandoned(room)], lambda group: {"abandonedRooms": len(group)}
        ),
        "percentage-abandoned-chats": per_department(
            window,
            lambda group: {
                "percentageOfAbandonedChats": math.floor(sum(map(abandoned, group)) * 100 / len(group))
            },
        ),
        "average-service-time": per_department(
            served,
            lambda group: {
                "averageServiceTimeInSeconds": ceil_mean(
                    sum(map(service_milliseconds, group)), len(group) * 1000
                )
            },
        ),
    }


def boards(rooms: list[dict]) -> dict[str, Any]:
    """The totalizers and timings of the day."""
    window = in_window(rooms)
    answered = [room for room in window if room.get("waitingResponse") is not True]
    since = [room for room in livechat(rooms) if room["ts"] >= START]
    by_end = [room for room in since if room["ts"] <= END]
    closed = closed_in_window(rooms)

    def timing(*path: str, longest: tuple[str, ...]) -> dict[str, float]:
        return {
            "avg": int(mean(numbers(window, *path))),
            "longest": max(numbers(window, *longest), default=0),
        }

    return {
        "productivity": {
            "Avg_response_time": hms(mean(numbers(window, "metrics", "response", "avg"))),
            "Avg_first_response_time": hms(mean(numbers(window, "metrics", "response", "ft"))),
            "Avg_reaction_time": hms(mean(numbers(window, "metrics", "reaction", "ft"))),
            "Avg_of_waiting_time": hms(
                ceil_mean(sum(or_zero(room, "metrics", "response", "ft") for room in answered), len(answered))
            ),
        },
        "chats": {
            "Total_abandoned_chats": sum(map(abandoned, closed)),
            "Avg_of_abandoned_chats": f"{100 * sum(map(abandoned, by_end)) // len(by_end) if by_end else 0}%",
            "Avg_of_chat_duration_time": hms(
                ceil_mean(sum(or_zero(room, "metrics", "chatDuration") for room in closed), len(closed))
            ),
        },
        "timings": {
            "response": timing("metrics", "response", "avg", longest=("metrics", "response", "ft")),
            "reaction": timing("metrics", "reaction", "ft", longest=("metrics", "reaction", "ft")),
            "chatDuration": timing("metrics", "chatDuration", longest=("metrics", "chatDuration")),
            "success": True,
        },
    }


def best_first_responses(rooms: list[dict]) -> list[dict[str, str]]:
    """Each responding agent's least first response time, best first."""
    best: dict[str, float] = {}
    for room in in_window(rooms):
        agent, value = text_at(room, "responseBy", "username"), number_at(room, "metrics", "response", "ft")
        if agent is not None and value is not None:
            best[agent] = min(best.get(agent, value), value)
    return [
        {"name": agent, "value": hms(value)}
        for agent, value in sorted(best.items(), key=lambda i: (i[1], i[0]))
    ]


def chat_duration_points(rooms: list[dict]) -> list[float]:
    """The mean chat duration of each UTC hour, over the rooms with a duration that is not 0."""
    hours: dict[int, list[float]] = defaultdict(list)
    for room in in_window(rooms):
        value = number_at(room, "metrics", "chatDuration")
        if value:
            hours[room["ts"].hour].append(value)
    return [math.floor(mean(hours[hour]) * 100 + 0.5) / 100 if hours[hour] else 0 for hour in range(24)]


# The properties


def totalizers(body: dict) -> dict:
    return {item["title"]: item["value"] for item in body["totalizers"]}


@property_settings(12)
@given(rooms=odd_rooms())
def test_odd_values_give_the_documented_numbers(database, client, headers, rooms):
    store_rooms(database, rooms)
    for path, rows in department_rows(rooms).items():
        body = answered(client, headers, f"departments/{path}", {**DAY, "count": "0"})
        assert body["departments"] == rows, path
    expected = boards(rooms)
    body = answered(client, headers, "dashboards/productivity-totalizers", DAY)
    assert totalizers(body) == expected["productivity"]
    assert totalizers(answered(client, headers, "dashboards/chats-totalizers", DAY)) == expected["chats"]
    assert answered(client, headers, "dashboards/charts/timings", DAY) == expected["timings"]
    body = answered(client, headers, "agent-overview", {"name": "Best_first_response_time", **DAYS})
    assert body["data"] == best_first_responses(rooms)
    body = answered(client, headers, "dashboards/charts-data", {"chartName": "Avg_chat_duration", **DAY})
    assert body["dataPoints"] == chat_duration_points(rooms)


@property_settings(6)
@given(rooms=odd_rooms())
def test_every_endpoint_answers_200_whatever_is_stored(database, client, headers, rooms):
    store_rooms(database, rooms)
    for path, params in requests():
        answered(client, headers, path, params)
        response = client.get(f"{ROOT}/{path}", query_string={**params, "format": "csv"}, headers=headers)
        assert (response.status_code, response.mimetype) == (200, "text/csv"), (path, response.data)
        assert response.get_data(as_text=True).endswith("\r\n"), path
