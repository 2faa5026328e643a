"""The overview family (``overview``, ``agent-overview``): every number against plain Python over the
demo data set, hand-made rooms with worked answers, and the errors."""

from __future__ import annotations

import collections

import pytest
from documents import DAYS, MANAGER, SMALL_DAYS, Stored, store_small_data_set, stored
from oracles import hms, hour_range, lookup, mean, productivity
from support import ROOT, get_answer

from livechat_analytics.demo import DemoData

AGENT_OVERVIEW_NAMES = (
    "Total_conversations, Avg_chat_duration, Total_messages, Avg_first_response_time,"
    " Best_first_response_time, Avg_response_time, Avg_reaction_time"
)


# The demo data set, against plain Python


@pytest.fixture
def seen(database, demo_data: DemoData) -> Stored:
    """The stored demo data set, in plain Python."""
    return stored(database)


def test_the_demo_overview(client, seen):
    window, statuses, hours = seen.window, seen.statuses, seen.hours
    days = collections.Counter(room["ts"].date() for room in window)
    busiest_day = min(days, key=lambda day: (-days[day], day))
    assert get_answer(client, "overview", MANAGER, name="Conversations", **DAYS) == [
        {"title": "Total_conversations", "value": len(window)},
        {"title": "Open_conversations", "value": statuses["open"] + statuses["queued"]},
        {"title": "On_Hold_conversations", "value": statuses["onhold"]},
        {"title": "Total_messages", "value": sum(seen.messages[room["_id"]] for room in window)},
        {"title": "Busiest_day", "value": busiest_day.strftime("%A")},
        {"title": "Conversations_per_day", "value": f"{len(window) / 30:.2f}"},
        {"title": "Busiest_time", "value": hour_range(min(hours, key=lambda hour: (-hours[hour], hour)))},
    ]
    assert get_answer(client, "overview", MANAGER, name="Productivity", **DAYS) == [
        {"title": title, "value": value} for title, value in productivity(window).items()
    ]


def table(name: str, values: dict, shown, highest_first: bool) -> dict:
    """The answer of ``agent-overview`` for ``name``: the agents' values, in order, as shown."""
    order = sorted(values, key=lambda agent: ((-1 if highest_first else 1) * values[agent], agent))
    head = "%_of_conversations" if name == "Total_conversations" else name
    return {
        "head": [{"name": "Agent"}, {"name": head}],
        "data": [{"name": agent, "value": shown(values[agent])} for agent in order],
        "success": True,
    }


def grouped(window: list[dict], agent_field: str, *path: str) -> dict[str, list]:
    """The rooms' values at ``path``, by the username in ``agent_field``."""
    found: dict[str, list] = {}
    for room in window:
        value = lookup(room, *path)
        if (room.get(agent_field) or {}).get("username") and value is not None:
            found.setdefault(room[agent_field]["username"], []).append(value)
    return found


def expected_tables(seen: Stored) -> dict[str, dict]:
    window = seen.window
    servers = collections.Counter(room["servedBy"]["username"] for room in window if room.get("servedBy"))
    total = sum(servers.values())
    messages = {
        agent: sum(
            seen.agent_messages[r["_id"]]
            for r in window
            if (r.get("servedBy") or {}).get("username") == agent
        )
        for agent in servers
    }
    first_responses = grouped(window, "responseBy", "metrics", "response", "ft")
    return {
        "Total_conversations": table(
            "Total_conversations",
            {agent: 100 * n / total for agent, n in servers.items()},
            lambda value: f"{value:.2f}%",
            True,
        ),
        "Total_messages": table("Total_messages", messages, int, True),
        "Avg_chat_duration": table(
            "Avg_chat_duration",
            {a: mean(v) for a, v in grouped(window, "servedBy", "metrics", "chatDuration").items()},
            hms,
            True,
        ),
        "Avg_first_response_time": table(
            "Avg_first_response_time", {a: mean(v) for a, v in first_responses.items()}, hms, False
        ),
        "Best_first_response_time": table(
            "Best_first_response_time", {a: min(v) for a, v in first_responses.items()}, hms, False
        ),
        "Avg_response_time": table(
            "Avg_response_time",
            {a: mean(v) for a, v in grouped(window, "servedBy", "metrics", "response", "avg").items()},
            hms,
            False,
        ),
        "Avg_reaction_time": table(
            "Avg_reaction_time",
            {a: mean(v) for a, v in grouped(window, "servedBy", "metrics", "reaction", "ft").items()},
            hms,
            False,
        ),
    }


def test_the_demo_agent_overview(client, seen):
    for name, expected_table in expected_tables(seen).items():
        assert get_answer(client, "agent-overview", MANAGER, name=name, **DAYS) == expected_table, name


# Hand-made rooms, answers worked out in the comments


def test_a_small_data_set(client, headers, database):
    store_small_data_set(database)
    # Two rooms created in the 3PM hour: the busiest.
    assert get_answer(client, "overview", headers, name="Conversations", **SMALL_DAYS) == [
        {"title": "Total_conversations", "value": 4},
        {"title": "Open_conversations", "value": 2},
        {"title": "On_Hold_conversations", "value": 1},
        {"title": "Total_messages", "value": 3},
        {"title": "Busiest_day", "value": "Monday"},  # 4 March 2024 (2 rooms; 5 March has 2 as well)
        {"title": "Conversations_per_day", "value": "0.40"},
        {"title": "Busiest_time", "value": "3PM - 4PM"},
    ]
    # ana serves 2 of the 3 served rooms: 66.67%; bo 33.33%.
    assert get_answer(client, "agent-overview", headers, name="Total_conversations", **SMALL_DAYS) == {
        "head": [{"name": "Agent"}, {"name": "%_of_conversations"}],
        "data": [{"name": "ana", "value": "66.67%"}, {"name": "bo", "value": "33.33%"}],
        "success": True,
    }


# Errors


@pytest.mark.parametrize(
    ("path", "allowed"),
    [("overview", "Conversations, Productivity"), ("agent-overview", AGENT_OVERVIEW_NAMES)],
)
def test_an_unknown_name_is_a_400_naming_the_allowed_values(client, headers, path, allowed):
    response = client.get(f"{ROOT}/{path}", query_string={"name": "Chats", **DAYS}, headers=headers)
    assert response.status_code == 400
    assert response.get_json() == {
        "success": False,
        "error": f'The "name" query parameter must be one of: {allowed}.',
        "errorType": "invalid-params",
        "details": {"name": [f"Must be one of: {allowed}."]},
    }


@pytest.mark.parametrize(
    ("path", "params", "details"),
    [
        (
            "overview",
            {"name": "Conversations", "from": "2024-03-02", "to": "2024-03-01"},
            {"from": ['Must not be later than "to".']},
        ),
        (
            "overview",
            {"name": "Conversations", "from": "2024-03-02T10:00", "to": "2024-03-03"},
            {"from": ["Must be a valid date (YYYY-MM-DD)."]},
        ),
        ("agent-overview", {"name": "Total_messages", "from": "2024-03-02"}, {"to": ["Is required."]}),
    ],
)
def test_bad_parameters_are_400s(client, headers, path, params, details):
    response = client.get(f"{ROOT}/{path}", query_string=params, headers=headers)
    assert response.status_code == 400
    body = response.get_json()
    assert body["details"] == details and body["errorType"] == "invalid-params"
