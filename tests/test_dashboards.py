"""The monitoring endpoints (dashboards/, overview, agent-overview): every number against plain Python
over the demo data set, hand-made rooms with worked answers, the errors, the document and the plans."""

from __future__ import annotations

import collections
import datetime as dt
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS31Validator
from pymongo.database import Database
from support import ROOT, SERVER_BACKENDS, UTC, add_user

from livechat_analytics import demo, indexes
from livechat_analytics.demo import DemoData
from livechat_analytics.endpoints import ENDPOINTS, common, dashboards, overview
from livechat_analytics.endpoints.common import Context, hms, status_of
from livechat_analytics.indexes import INDEXES
from livechat_analytics.repository import Repository
from livechat_analytics.schemas import Query

NOW = dt.datetime(2024, 6, 14, 15, 30, tzinfo=UTC)
START = dt.datetime(2024, 5, 16, tzinfo=UTC)
END = dt.datetime(2024, 6, 14, 23, 59, 59, 999000, tzinfo=UTC)
WINDOW = {"start": "2024-05-16", "end": "2024-06-14"}
DAYS = {"from": "2024-05-16", "to": "2024-06-14"}
MANAGER = {"X-User-Id": demo.MANAGER_ID, "X-Auth-Token": demo.MANAGER_TOKEN}


def get(client, path: str, headers: dict, **params) -> dict | list:
    response = client.get(f"{ROOT}/{path}", query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def totalizers(body: dict) -> dict:
    assert body.pop("success") is True
    return {item["title"]: item["value"] for item in body["totalizers"]}


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0


def ceil_mean(values: list[float]) -> int:
    return math.ceil(sum(values) / len(values)) if values else 0


def hour_range(hour: int | None) -> str:
    return "-" if hour is None else common.hour_range(hour)


def metric(room: dict, *path: str):
    value = room
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


# The demo data set, against plain Python


@pytest.fixture
def loaded(database: Database, app) -> DemoData:
    data = DemoData(rooms=600, now=NOW)
    demo.insert(database, data)
    return data


def test_every_number_of_the_demo_data_set(client, database, loaded):
    data = loaded
    rooms = [room for room in database["rocketchat_room"].find({"t": "l"})]
    window = [room for room in rooms if START <= room["ts"] <= END]
    messages = collections.Counter(
        message["rid"] for message in database["rocketchat_message"].find({"t": {"$exists": False}})
    )
    agent_messages = collections.Counter(
        message["rid"]
        for message in database["rocketchat_message"].find(
            {"t": {"$exists": False}, "token": {"$exists": False}}
        )
    )
    statuses = collections.Counter(status_of(room) for room in window)
    assert statuses["onhold"] and statuses["queued"] and statuses["open"] and statuses["closed"]

    assert totalizers(get(client, "dashboards/conversation-totalizers", MANAGER, **WINDOW)) == {
        "Total_conversations": len(window),
        "Open_conversations": statuses["open"] + statuses["queued"],
        "On_Hold_conversations": statuses["onhold"],
        "Total_messages": sum(messages[room["_id"]] for room in window),
        "Total_visitors": len({room["v"]["_id"] for room in window}),
    }
    answered = [room for room in window if room.get("waitingResponse") is not True]
    assert totalizers(get(client, "dashboards/productivity-totalizers", MANAGER, **WINDOW)) == {
        "Avg_response_time": hms(
            mean([v for r in window if (v := metric(r, "metrics", "response", "avg")) is not None])
        ),
        "Avg_first_response_time": hms(
            mean([v for r in window if (v := metric(r, "metrics", "response", "ft")) is not None])
        ),
        "Avg_reaction_time": hms(
            mean([v for r in window if (v := metric(r, "metrics", "reaction", "ft")) is not None])
        ),
        "Avg_of_waiting_time": hms(
            ceil_mean([metric(r, "metrics", "response", "ft") or 0 for r in answered])
        ),
    }
    since = [room for room in rooms if room["ts"] >= START]
    closed = [room for room in since if room.get("closedAt") is not None and room["closedAt"] <= END]

    def abandoned(room: dict) -> bool:
        return (metric(room, "metrics", "visitorInactivity") or 0) >= demo.INACTIVITY_TIMEOUT

    assert totalizers(get(client, "dashboards/chats-totalizers", MANAGER, **WINDOW)) == {
        "Total_abandoned_chats": sum(map(abandoned, closed)),
        "Avg_of_abandoned_chats": f"{100 * sum(map(abandoned, window)) // len(window)}%",
        "Avg_of_chat_duration_time": hms(
            ceil_mean([metric(r, "metrics", "chatDuration") or 0 for r in closed])
        ),
    }
    hours = collections.Counter(room["ts"].hour for room in window)
    served = [
        r
        for r in window
        if "lastMessageTs" in (r.get("responseBy") or {}) and "_id" in (r.get("servedBy") or {})
    ]
    service = [
        (r["responseBy"]["lastMessageTs"] - r["servedBy"]["ts"]) / dt.timedelta(seconds=1) for r in served
    ]
    activity = [a["availableTime"] for a in data.agent_activity if 20240516 <= a["date"] <= 20240614]
    assert totalizers(get(client, "dashboards/agents-productivity-totalizers", MANAGER, **WINDOW)) == {
        "Busiest_time": hour_range(min(hours, key=lambda hour: (-hours[hour], hour))),
        "Avg_of_available_service_time": hms(ceil_mean(activity)),
        "Avg_of_service_time": hms(ceil_mean(service)),
    }
    assert get(client, "dashboards/charts/chats", MANAGER, **WINDOW) == {**statuses, "success": True}

    per_agent: dict = {}
    for room in window:
        if room.get("servedBy"):
            counts = per_agent.setdefault(room["servedBy"]["username"], {"open": 0, "closed": 0, "onhold": 0})
            counts[status_of(room)] += 1
    assert get(client, "dashboards/charts/chats-per-agent", MANAGER, **WINDOW) == {
        **per_agent,
        "success": True,
    }

    names = {department["_id"]: department["name"] for department in data.departments}
    per_department: dict = {}
    for room in window:
        if room.get("departmentId"):
            name = names[room["departmentId"]]
            key = f"{name} ({room['departmentId']})" if name == "Support" else name
            counts = per_department.setdefault(key, {"open": 0, "closed": 0})
            counts["closed" if status_of(room) == "closed" else "open"] += 1
    assert len([key for key in per_department if key.startswith("Support (")]) == 2
    body = get(client, "dashboards/charts/chats-per-department", MANAGER, **WINDOW)
    assert body == {**per_department, "success": True}

    def timing(values: list, longest: list) -> dict:
        return {"avg": int(mean(values)), "longest": max(longest, default=0)}

    def present(*path: str) -> list:
        return [v for r in window if (v := metric(r, *path)) is not None]

    assert get(client, "dashboards/charts/timings", MANAGER, **WINDOW) == {
        "response": timing(present("metrics", "response", "avg"), present("metrics", "response", "ft")),
        "reaction": timing(present("metrics", "reaction", "ft"), present("metrics", "reaction", "ft")),
        "chatDuration": timing(present("metrics", "chatDuration"), present("metrics", "chatDuration")),
        "success": True,
    }

    def agents_status(agents: list[dict]) -> dict:
        def count(status: str) -> int:
            return sum(a["status"] == status and a["statusLivechat"] == "available" for a in agents)

        offline = sum(a["statusLivechat"] == "not-available" for a in agents) + count("offline")
        return {
            "offline": offline,
            "away": count("away"),
            "busy": count("busy"),
            "available": count("online"),
        }

    assert get(client, "dashboards/charts/agents-status", MANAGER) == {
        **agents_status(data.agents),
        "success": True,
    }
    support = data.departments[1]["_id"]
    members = {m["agentId"] for m in data.department_agents if m["departmentId"] == support}
    expected = agents_status([agent for agent in data.agents if agent["_id"] in members])
    assert get(client, "dashboards/charts/agents-status", MANAGER, departmentId=support) == {
        **expected,
        "success": True,
    }

    # overview
    days = collections.Counter(room["ts"].date() for room in window)
    busiest_day = min(days, key=lambda day: (-days[day], day))
    assert get(client, "overview", MANAGER, name="Conversations", **DAYS) == [
        {"title": "Total_conversations", "value": len(window)},
        {"title": "Open_conversations", "value": statuses["open"] + statuses["queued"]},
        {"title": "On_Hold_conversations", "value": statuses["onhold"]},
        {"title": "Total_messages", "value": sum(messages[room["_id"]] for room in window)},
        {"title": "Busiest_day", "value": busiest_day.strftime("%A")},
        {"title": "Conversations_per_day", "value": f"{len(window) / 30:.2f}"},
        {"title": "Busiest_time", "value": hour_range(min(hours, key=lambda hour: (-hours[hour], hour)))},
    ]
    productivity = totalizers(get(client, "dashboards/productivity-totalizers", MANAGER, **WINDOW))
    assert get(client, "overview", MANAGER, name="Productivity", **DAYS) == [
        {"title": title, "value": productivity[title]}
        for title in ("Avg_response_time", "Avg_first_response_time", "Avg_reaction_time")
    ]

    # agent-overview
    def table(name: str, values: dict, shown, highest_first: bool) -> dict:
        order = sorted(values, key=lambda agent: ((-1 if highest_first else 1) * values[agent], agent))
        head = "%_of_conversations" if name == "Total_conversations" else name
        return {
            "head": [{"name": "Agent"}, {"name": head}],
            "data": [{"name": agent, "value": shown(values[agent])} for agent in order],
            "success": True,
        }

    def grouped(agent_field: str, *path: str) -> dict[str, list]:
        found: dict[str, list] = {}
        for room in window:
            value = metric(room, *path)
            if (room.get(agent_field) or {}).get("username") and value is not None:
                found.setdefault(room[agent_field]["username"], []).append(value)
        return found

    servers = collections.Counter(room["servedBy"]["username"] for room in window if room.get("servedBy"))
    total = sum(servers.values())
    expected_tables = {
        "Total_conversations": table(
            "Total_conversations",
            {agent: 100 * n / total for agent, n in servers.items()},
            lambda value: f"{value:.2f}%",
            True,
        ),
        "Total_messages": table(
            "Total_messages",
            {
                agent: sum(
                    agent_messages[r["_id"]]
                    for r in window
                    if (r.get("servedBy") or {}).get("username") == agent
                )
                for agent in servers
            },
            int,
            True,
        ),
        "Avg_chat_duration": table(
            "Avg_chat_duration",
            {a: mean(v) for a, v in grouped("servedBy", "metrics", "chatDuration").items()},
            hms,
            True,
        ),
        "Avg_first_response_time": table(
            "Avg_first_response_time",
            {a: mean(v) for a, v in grouped("responseBy", "metrics", "response", "ft").items()},
            hms,
            False,
        ),
        "Best_first_response_time": table(
            "Best_first_response_time",
            {a: min(v) for a, v in grouped("responseBy", "metrics", "response", "ft").items()},
            hms,
            False,
        ),
        "Avg_response_time": table(
            "Avg_response_time",
            {a: mean(v) for a, v in grouped("servedBy", "metrics", "response", "avg").items()},
            hms,
            False,
        ),
        "Avg_reaction_time": table(
            "Avg_reaction_time",
            {a: mean(v) for a, v in grouped("servedBy", "metrics", "reaction", "ft").items()},
            hms,
            False,
        ),
    }
    for name, expected_table in expected_tables.items():
        assert get(client, "agent-overview", MANAGER, name=name, **DAYS) == expected_table, name


# Hand-made rooms, answers worked out in the comments


def at(day: int, hour: int = 12, seconds: float = 0) -> dt.datetime:
    return dt.datetime(2024, 3, day, hour, tzinfo=UTC) + dt.timedelta(seconds=seconds)


def test_a_small_data_set(client, headers, database):
    database["rocketchat_livechat_department"].insert_many(
        [{"_id": "d1", "name": "Sales"}, {"_id": "d2", "name": "Sales"}, {"_id": "d3", "name": "Help"}]
    )
    database["rocketchat_room"].insert_many(
        [
            # closed, served by ana, 3 people's messages and a system one, visitor v1
            {
                "_id": "a",
                "t": "l",
                "ts": at(4, 15),
                "departmentId": "d1",
                "closedAt": at(4, 16),
                "servedBy": {"_id": "ana", "username": "ana"},
                "v": {"_id": "v1"},
                "metrics": {"chatDuration": 3600, "response": {"avg": 10, "ft": 20}, "reaction": {"ft": 5}},
            },
            # on hold, served by ana, visitor v1 again
            {
                "_id": "b",
                "t": "l",
                "ts": at(4, 15, 60),
                "departmentId": "d2",
                "open": True,
                "onHold": True,
                "servedBy": {"_id": "ana", "username": "ana"},
                "v": {"_id": "v1"},
                "metrics": {"response": {"avg": 20.5, "ft": 40}},
            },
            # queued (nobody serves it), no department
            {"_id": "c", "t": "l", "ts": at(5, 9), "open": True, "waitingResponse": True, "v": {"_id": "v2"}},
            # open, served by bo
            {
                "_id": "d",
                "t": "l",
                "ts": at(5, 15),
                "departmentId": "d3",
                "open": True,
                "servedBy": {"_id": "bo", "username": "bo"},
                "v": {"_id": "v3"},
            },
            # not counted: another room type, and a room created after the window
            {"_id": "e", "t": "c", "ts": at(4)},
            {"_id": "f", "t": "l", "ts": at(20), "open": True, "v": {"_id": "v9"}},
        ]
    )
    database["rocketchat_message"].insert_many(
        [
            {"_id": "m1", "rid": "a", "msg": "hi", "token": "x"},
            {"_id": "m2", "rid": "a", "msg": "hello", "u": {"username": "ana"}},
            {"_id": "m3", "rid": "a", "msg": "bye", "token": "x"},
            {"_id": "m4", "rid": "a", "t": "livechat-close"},
            {"_id": "m5", "rid": "f", "msg": "later"},
        ]
    )
    window = {"start": "2024-03-01", "end": "2024-03-10"}
    # 4 rooms: 1 closed, 1 on hold, 1 queued, 1 open; open + queued = 2; messages m1-m3; v1, v2, v3.
    assert totalizers(get(client, "dashboards/conversation-totalizers", headers, **window)) == {
        "Total_conversations": 4,
        "Open_conversations": 2,
        "On_Hold_conversations": 1,
        "Total_messages": 3,
        "Total_visitors": 3,
    }
    assert get(client, "dashboards/charts/chats", headers, **window) == {
        "open": 1,
        "closed": 1,
        "queued": 1,
        "onhold": 1,
        "success": True,
    }
    assert get(client, "dashboards/charts/chats-per-agent", headers, **window) == {
        "ana": {"open": 0, "closed": 1, "onhold": 1},
        "bo": {"open": 1, "closed": 0, "onhold": 0},
        "success": True,
    }
    # Two departments named Sales stay apart; the queued room has none.
    assert get(client, "dashboards/charts/chats-per-department", headers, **window) == {
        "Help": {"open": 1, "closed": 0},
        "Sales (d1)": {"open": 0, "closed": 1},
        "Sales (d2)": {"open": 1, "closed": 0},
        "success": True,
    }
    # Response avg: (10 + 20.5) / 2 = 15.25 s -> 00:00:15; first response (20 + 40) / 2 = 30 s;
    # reaction 5 s (one room has it). Waiting: answered rooms a, b, d: (20 + 40 + 0) / 3 = 20 s.
    assert totalizers(get(client, "dashboards/productivity-totalizers", headers, **window)) == {
        "Avg_response_time": "00:00:15",
        "Avg_first_response_time": "00:00:30",
        "Avg_reaction_time": "00:00:05",
        "Avg_of_waiting_time": "00:00:20",
    }
    # Two rooms created in the 3PM hour: the busiest.
    assert get(
        client, "overview", headers, name="Conversations", **{"from": "2024-03-01", "to": "2024-03-10"}
    ) == [
        {"title": "Total_conversations", "value": 4},
        {"title": "Open_conversations", "value": 2},
        {"title": "On_Hold_conversations", "value": 1},
        {"title": "Total_messages", "value": 3},
        {"title": "Busiest_day", "value": "Monday"},  # 4 March 2024 (2 rooms; 5 March has 2 as well)
        {"title": "Conversations_per_day", "value": "0.40"},
        {"title": "Busiest_time", "value": "3PM - 4PM"},
    ]
    # ana serves 2 of the 3 served rooms: 66.67%; bo 33.33%.
    assert get(
        client,
        "agent-overview",
        headers,
        name="Total_conversations",
        **{"from": "2024-03-01", "to": "2024-03-10"},
    ) == {
        "head": [{"name": "Agent"}, {"name": "%_of_conversations"}],
        "data": [{"name": "ana", "value": "66.67%"}, {"name": "bo", "value": "33.33%"}],
        "success": True,
    }


def test_the_busiest_hour_is_in_the_reporting_timezone(database):
    from flask import Flask

    from livechat_analytics import LivechatAnalytics

    app = Flask("host")
    app.config.update(TESTING=True, LIVECHAT_ANALYTICS_TIMEZONE="America/Sao_Paulo")
    LivechatAnalytics(app, database=database)
    headers = add_user(database)
    # 18:30 UTC is 15:30 in Sao Paulo (UTC-3).
    database["rocketchat_room"].insert_one({"_id": "a", "t": "l", "ts": at(4, 18, 1800), "open": True})
    body = get(
        app.test_client(),
        "dashboards/agents-productivity-totalizers",
        headers,
        start="2024-03-04",
        end="2024-03-04",
    )
    assert totalizers(body)["Busiest_time"] == "3PM - 4PM"


# Errors


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("overview", "Conversations, Productivity"),
        ("agent-overview", ", ".join(overview.AgentOverviewArgsSchema.names)),
    ],
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
    text = hms(seconds)
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
def test_statuses_and_totals_add_up(request, backend):
    database = request.getfixturevalue("database")
    from flask import Flask

    from livechat_analytics import LivechatAnalytics

    app = Flask("host")
    app.config["LIVECHAT_ANALYTICS_CACHE_SECONDS"] = 0  # each example changes the data
    LivechatAnalytics(app, database=database)
    client = app.test_client()
    headers = add_user(database)
    rooms = database["rocketchat_room"]

    @settings(max_examples=15, deadline=None, database=None)
    @given(st.lists(ROOM, max_size=12), st.sampled_from(["", "d1"]))
    def check(documents, department):
        rooms.delete_many({})
        if documents:
            rooms.insert_many([{"_id": str(n), "t": "l", **room} for n, room in enumerate(documents)])
        params = {"start": "2024-03-01", "end": "2024-03-31", "departmentId": department}
        chats = get(client, "dashboards/charts/chats", headers, **params)
        amount = get(client, "departments/amount-of-chats", headers, count="0", **params)
        total = sum(row["rooms"] for row in amount["departments"])
        assert sum(chats[key] for key in ("open", "closed", "queued", "onhold")) == total
        assert (
            totalizers(get(client, "dashboards/conversation-totalizers", headers, **params))[
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
        waiting = ceil_mean([metric(r, "metrics", "response", "ft") or 0 for r in answered])
        body = totalizers(get(client, "dashboards/productivity-totalizers", headers, **params))
        assert body["Avg_of_waiting_time"] == hms(waiting)

    check()


# The document, and the plans


def document_schema(document: dict, path: str) -> dict:
    schema = document["paths"]["/" + path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    return {**schema, "components": document["components"]}


MONITORING = [path for path, endpoint in ENDPOINTS.items() if endpoint.family in ("dashboards", "overview")]


def test_every_monitoring_answer_and_example_conforms_to_the_document(client, database, loaded):
    document = client.get(f"{ROOT}/openapi.json").get_json()
    for path in MONITORING:
        operation = document["paths"]["/" + path]["get"]
        validator = OAS31Validator(document_schema(document, path))
        validator.validate(operation["responses"]["200"]["content"]["application/json"]["example"])
        if path == "dashboards/charts/agents-status":
            params = {}
        elif path in ("overview", "agent-overview"):
            params = {"name": ENDPOINTS[path].args.names[-1], **DAYS}
        else:
            params = WINDOW
        validator.validate(get(client, path, MANAGER, **params))


def monitoring_pipelines(data: DemoData, department: str | None) -> list[tuple[str, list]]:
    query = Query(start=NOW - dt.timedelta(days=30), end=NOW, department_id=department, name="Total_messages")
    context = Context(Repository(None).names)  # type: ignore[arg-type]
    pipelines = [
        ("room", build(query, context))
        for build in (
            dashboards.conversation_totalizers,
            dashboards.productivity_totalizers,
            dashboards.chats_totalizers,
            dashboards.agents_productivity_rooms,
            dashboards.chats,
            dashboards.chats_per_agent,
            dashboards.chats_per_department,
            dashboards.timings,
            overview.conversations,
            overview.productivity,
            overview.agent_overview,
        )
    ]
    pipelines.append(("agent_activity", dashboards.available_time(query, context)))
    pipelines.append(
        ("users" if department is None else "department_agents", dashboards.agents_status(query, context))
    )
    return pipelines


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
@pytest.mark.parametrize("filtered", [False, True])
def test_after_ensure_indexes_every_monitoring_first_stage_scans_an_index(database: Database, filtered: bool):
    from test_cli import first_stage_scans

    data = DemoData(rooms=100, now=NOW)
    demo.insert(database, data)
    indexes.ensure_indexes(Repository(database))
    for collection, pipeline in monitoring_pipelines(data, data.departments[1]["_id"] if filtered else None):
        scans = first_stage_scans(database, Repository(database).name(collection), pipeline)
        assert [scan["stage"] for scan in scans] == ["IXSCAN"] * len(scans) != [], (collection, pipeline[0])
        assert {scan["indexName"] for scan in scans} <= {index.name for index in INDEXES}
