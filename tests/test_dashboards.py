"""The dashboards family: every number against plain Python over the demo data set, hand-made rooms
with worked answers, the reporting timezone, the errors, and properties."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from documents import END, MANAGER, SMALL_WINDOW, START, WINDOW, Stored, at, store_small_data_set, stored
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import ceil_mean, hms, hour_range, lookup, mean, present, productivity, status_of
from support import ROOT, SERVER_BACKENDS, UTC, add_user, get_answer

from livechat_analytics import demo
from livechat_analytics.demo import DemoData
from livechat_analytics.endpoints.common import hms as package_hms


def totalizers(body: dict) -> dict:
    assert body.pop("success") is True
    return {item["title"]: item["value"] for item in body["totalizers"]}


# The demo data set, against plain Python


@pytest.fixture
def seen(database, demo_data: DemoData) -> Stored:
    """The stored demo data set, in plain Python."""
    return stored(database)


def test_the_demo_conversation_and_productivity_totalizers(client, seen):
    window, statuses, messages = seen.window, seen.statuses, seen.messages
    assert statuses["onhold"] and statuses["queued"] and statuses["open"] and statuses["closed"]
    assert totalizers(get_answer(client, "dashboards/conversation-totalizers", MANAGER, **WINDOW)) == {
        "Total_conversations": len(window),
        "Open_conversations": statuses["open"] + statuses["queued"],
        "On_Hold_conversations": statuses["onhold"],
        "Total_messages": sum(messages[room["_id"]] for room in window),
        "Total_visitors": len({room["v"]["_id"] for room in window}),
    }
    answered = [room for room in window if room.get("waitingResponse") is not True]
    assert totalizers(get_answer(client, "dashboards/productivity-totalizers", MANAGER, **WINDOW)) == {
        **productivity(window),
        "Avg_of_waiting_time": hms(
            ceil_mean([lookup(r, "metrics", "response", "ft") or 0 for r in answered])
        ),
    }


def test_the_demo_chats_and_agents_productivity_totalizers(client, demo_data, seen):
    window = seen.window
    since = [room for room in seen.rooms if room["ts"] >= START]
    closed = [room for room in since if room.get("closedAt") is not None and room["closedAt"] <= END]

    def abandoned(room: dict) -> bool:
        return (lookup(room, "metrics", "visitorInactivity") or 0) >= demo.INACTIVITY_TIMEOUT

    assert totalizers(get_answer(client, "dashboards/chats-totalizers", MANAGER, **WINDOW)) == {
        "Total_abandoned_chats": sum(map(abandoned, closed)),
        "Avg_of_abandoned_chats": f"{100 * sum(map(abandoned, window)) // len(window)}%",
        "Avg_of_chat_duration_time": hms(
            ceil_mean([lookup(r, "metrics", "chatDuration") or 0 for r in closed])
        ),
    }
    hours = seen.hours
    served = [
        r
        for r in window
        if "lastMessageTs" in (r.get("responseBy") or {}) and "_id" in (r.get("servedBy") or {})
    ]
    service = [
        (r["responseBy"]["lastMessageTs"] - r["servedBy"]["ts"]) / dt.timedelta(seconds=1) for r in served
    ]
    activity = [a["availableTime"] for a in demo_data.agent_activity if 20240516 <= a["date"] <= 20240614]
    assert totalizers(get_answer(client, "dashboards/agents-productivity-totalizers", MANAGER, **WINDOW)) == {
        "Busiest_time": hour_range(min(hours, key=lambda hour: (-hours[hour], hour))),
        "Avg_of_available_service_time": hms(ceil_mean(activity)),
        "Avg_of_service_time": hms(ceil_mean(service)),
    }


def test_the_demo_charts_of_chats(client, demo_data, seen):
    window = seen.window
    assert get_answer(client, "dashboards/charts/chats", MANAGER, **WINDOW) == {
        **seen.statuses,
        "success": True,
    }

    per_agent: dict = {}
    for room in window:
        if room.get("servedBy"):
            counts = per_agent.setdefault(room["servedBy"]["username"], {"open": 0, "closed": 0, "onhold": 0})
            counts[status_of(room)] += 1
    assert get_answer(client, "dashboards/charts/chats-per-agent", MANAGER, **WINDOW) == {
        **per_agent,
        "success": True,
    }

    names = {department["_id"]: department["name"] for department in demo_data.departments}
    per_department: dict = {}
    for room in window:
        if room.get("departmentId"):
            name = names[room["departmentId"]]
            key = f"{name} ({room['departmentId']})" if name == "Support" else name
            counts = per_department.setdefault(key, {"open": 0, "closed": 0})
            counts["closed" if status_of(room) == "closed" else "open"] += 1
    assert len([key for key in per_department if key.startswith("Support (")]) == 2
    body = get_answer(client, "dashboards/charts/chats-per-department", MANAGER, **WINDOW)
    assert body == {**per_department, "success": True}


def test_the_demo_timings(client, seen):
    def timing(values: list, longest: list) -> dict:
        return {"avg": int(mean(values)), "longest": max(longest, default=0)}

    window = seen.window
    assert get_answer(client, "dashboards/charts/timings", MANAGER, **WINDOW) == {
        "response": timing(
            present(window, "metrics", "response", "avg"), present(window, "metrics", "response", "ft")
        ),
        "reaction": timing(
            present(window, "metrics", "reaction", "ft"), present(window, "metrics", "reaction", "ft")
        ),
        "chatDuration": timing(
            present(window, "metrics", "chatDuration"), present(window, "metrics", "chatDuration")
        ),
        "success": True,
    }


def agents_status(agents: list[dict]) -> dict:
    """The agents by status: those not available for livechat, or offline, count as offline."""

    def count(status: str) -> int:
        return sum(a["status"] == status and a["statusLivechat"] == "available" for a in agents)

    offline = sum(a["statusLivechat"] == "not-available" for a in agents) + count("offline")
    return {"offline": offline, "away": count("away"), "busy": count("busy"), "available": count("online")}


def test_the_demo_agents_status(client, demo_data):
    assert get_answer(client, "dashboards/charts/agents-status", MANAGER) == {
        **agents_status(demo_data.agents),
        "success": True,
    }
    support = demo_data.departments[1]["_id"]
    members = {m["agentId"] for m in demo_data.department_agents if m["departmentId"] == support}
    expected = agents_status([agent for agent in demo_data.agents if agent["_id"] in members])
    assert get_answer(client, "dashboards/charts/agents-status", MANAGER, departmentId=support) == {
        **expected,
        "success": True,
    }


# Hand-made rooms, answers worked out in the comments


def test_a_small_data_set(client, headers, database):
    store_small_data_set(database)
    # 4 rooms: 1 closed, 1 on hold, 1 queued, 1 open; open + queued = 2; messages m1-m3; v1, v2, v3.
    assert totalizers(get_answer(client, "dashboards/conversation-totalizers", headers, **SMALL_WINDOW)) == {
        "Total_conversations": 4,
        "Open_conversations": 2,
        "On_Hold_conversations": 1,
        "Total_messages": 3,
        "Total_visitors": 3,
    }
    assert get_answer(client, "dashboards/charts/chats", headers, **SMALL_WINDOW) == {
        "open": 1,
        "closed": 1,
        "queued": 1,
        "onhold": 1,
        "success": True,
    }
    assert get_answer(client, "dashboards/charts/chats-per-agent", headers, **SMALL_WINDOW) == {
        "ana": {"open": 0, "closed": 1, "onhold": 1},
        "bo": {"open": 1, "closed": 0, "onhold": 0},
        "success": True,
    }
    # Two departments named Sales stay apart; the queued room has none.
    assert get_answer(client, "dashboards/charts/chats-per-department", headers, **SMALL_WINDOW) == {
        "Help": {"open": 1, "closed": 0},
        "Sales (d1)": {"open": 0, "closed": 1},
        "Sales (d2)": {"open": 1, "closed": 0},
        "success": True,
    }
    # Response avg: (10 + 20.5) / 2 = 15.25 s -> 00:00:15; first response (20 + 40) / 2 = 30 s;
    # reaction 5 s (one room has it). Waiting: answered rooms a, b, d: (20 + 40 + 0) / 3 = 20 s.
    assert totalizers(get_answer(client, "dashboards/productivity-totalizers", headers, **SMALL_WINDOW)) == {
        "Avg_response_time": "00:00:15",
        "Avg_first_response_time": "00:00:30",
        "Avg_reaction_time": "00:00:05",
        "Avg_of_waiting_time": "00:00:20",
    }


def test_the_busiest_hour_is_in_the_reporting_timezone(make_app, database):
    app = make_app(TIMEZONE="America/Sao_Paulo")
    headers = add_user(database)
    # 18:30 UTC is 15:30 in Sao Paulo (UTC-3).
    database["rocketchat_room"].insert_one({"_id": "a", "t": "l", "ts": at(4, 18, 1800), "open": True})
    body = get_answer(
        app.test_client(),
        "dashboards/agents-productivity-totalizers",
        headers,
        start="2024-03-04",
        end="2024-03-04",
    )
    assert totalizers(body)["Busiest_time"] == "3PM - 4PM"


# Errors


@pytest.mark.parametrize(
    ("path", "params", "details"),
    [
        (
            "dashboards/charts/chats",
            {"start": "2024-03-02", "end": "yesterday"},
            {"end": ["Must be a valid date."]},
        ),
        ("dashboards/charts/agents-status", {"start": "2024-03-02"}, {"start": ["Is not allowed."]}),
        ("dashboards/conversation-totalizers", {**WINDOW, "offset": "1"}, {"offset": ["Is not allowed."]}),
    ],
)
def test_bad_parameters_are_400s(client, headers, path, params, details):
    response = client.get(f"{ROOT}/{path}", query_string=params, headers=headers)
    assert response.status_code == 400
    body = response.get_json()
    assert body["details"] == details and body["errorType"] == "invalid-params"


# Properties


@settings(max_examples=40, deadline=None)
@given(st.floats(min_value=0, max_value=10**7, allow_nan=False))
def test_hms_parses_back_to_the_rounded_seconds(seconds):
    text = package_hms(seconds)
    assert re.fullmatch(r"\d{2,}:[0-5]\d:[0-5]\d", text)
    hours, minutes, rest = map(int, text.split(":"))
    assert hours * 3600 + minutes * 60 + rest == int(seconds + 0.5)


ROOM = st.fixed_dictionaries(
    {
        "ts": st.integers(0, 30 * 24).map(
            lambda hours: dt.datetime(2024, 3, 1, tzinfo=UTC) + dt.timedelta(hours=hours)
        ),
        "departmentId": st.sampled_from(["d1", "d2", None]),
    },
    optional={
        "open": st.sampled_from([True, False, None]),
        "onHold": st.booleans(),
        "servedBy": st.sampled_from([{"_id": "x", "username": "x"}, None]),
        "waitingResponse": st.booleans(),
        "metrics": st.fixed_dictionaries(
            {}, optional={"response": st.fixed_dictionaries({"ft": st.integers(0, 500)})}
        ),
    },
)


@pytest.mark.parametrize("backend", ["mongomock", *SERVER_BACKENDS[:1]])
def test_statuses_and_totals_add_up(client, database):
    headers = add_user(database)
    rooms = database["rocketchat_room"]

    @settings(max_examples=15, deadline=None, database=None)
    @given(st.lists(ROOM, max_size=12), st.sampled_from(["", "d1"]))
    def check(documents, department):
        rooms.delete_many({})
        if documents:
            rooms.insert_many([{"_id": str(n), "t": "l", **room} for n, room in enumerate(documents)])
        params = {"start": "2024-03-01", "end": "2024-03-31", "departmentId": department}
        chats = get_answer(client, "dashboards/charts/chats", headers, **params)
        amount = get_answer(client, "departments/amount-of-chats", headers, count="0", **params)
        total = sum(row["rooms"] for row in amount["departments"])
        assert sum(chats[key] for key in ("open", "closed", "queued", "onhold")) == total
        assert (
            totalizers(get_answer(client, "dashboards/conversation-totalizers", headers, **params))[
                "Total_conversations"
            ]
            == total
        )
        # The weighted waiting time from the department rows' sums.
        answered = [
            r
            for r in documents
            if r.get("waitingResponse") is not True and (not department or r["departmentId"] == department)
        ]
        waiting = ceil_mean([lookup(r, "metrics", "response", "ft") or 0 for r in answered])
        body = totalizers(get_answer(client, "dashboards/productivity-totalizers", headers, **params))
        assert body["Avg_of_waiting_time"] == hms(waiting)

    check()
