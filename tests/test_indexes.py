"""The agent and report families against the OpenAPI document (schemathesis), and their first
stages scanning an index after ``ensure-indexes``."""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from pymongo.database import Database
from support import SERVER_BACKENDS, UTC, add_user
from test_cli import NOW, first_stage_scans
from test_openapi import CHECKS, DOCUMENT, conforms_when_fuzzed, fill

from livechat_analytics import demo, indexes
from livechat_analytics.demo import DemoData
from livechat_analytics.endpoints import agents, reports
from livechat_analytics.endpoints.common import Context
from livechat_analytics.indexes import INDEXES
from livechat_analytics.repository import Repository
from livechat_analytics.schemas import CHART_NAMES, Query

PATHS = [*(f"agents/{path}" for path in agents.METRICS), *(path for path in reports.ENDPOINTS)]


def fill_more(database: Database) -> None:
    """Beside the rooms of :func:`test_openapi.fill`: agents, tags, sources and activity in March 2024."""
    database["rocketchat_room"].update_many({}, {"$set": {"tags": ["bug"], "source": {"type": "widget"}}})
    database["users"].insert_one({"_id": "agent", "username": "agent", "name": "Agent", "active": True})
    database["rocketchat_livechat_agent_activity"].insert_one(
        {
            "agentId": "agent",
            "date": 20240305,
            "availableTime": 3600,
            "serviceHistory": [{"startedAt": dt.datetime(2024, 3, 5, 9, tzinfo=UTC), "stoppedAt": None}],
        }
    )


@pytest.mark.parametrize("path", PATHS)
def test_every_answer_conforms_to_the_document(app, database, path):
    fill(database)
    fill_more(database)
    operation = schemathesis.openapi.from_wsgi(DOCUMENT, app)["/" + path]["GET"]
    manager = add_user(database)
    agent = add_user(database, "agent-user", token="agent-token", roles=("livechat-agent",))
    window = {"start": "2024-03-01", "end": "2024-03-31"}
    if path.endswith("charts-data"):
        window["chartName"] = "Avg_chat_duration"
    if path.endswith("history"):
        window["fullReport"] = "true"
    for headers, status in [(manager, 200), ({}, 401), (agent, 403)]:
        response = operation.Case(query=window, headers=headers).call_and_validate(checks=CHECKS)
        assert response.status_code == status
    answer = operation.Case(query=window, headers=manager).call().json()
    assert answer.get("agents", answer.get("data", answer.get("dataPoints")))
    conforms_when_fuzzed(operation, manager, examples=10)


def first_stages() -> list:
    """``(collection, pipeline)`` of every agent and report endpoint, with and without a department."""
    query = Query(start=NOW - dt.timedelta(days=30), end=NOW)
    context = Context(_names())
    cases = [
        pytest.param(metric.collection, metric.pipeline(query, context), id=path)
        for path, metric in agents.METRICS.items()
    ]
    cases.append(pytest.param("room", reports.window_rooms(query), id="conversations-by-any"))
    for name in CHART_NAMES:
        for department in (None, "d1"):
            charted = Query(start=query.start, end=query.end, chart_name=name, department_id=department)
            suffix = "-one-department" if department else ""
            cases.append(pytest.param("room", reports.chart_pipeline(charted, context), id=name + suffix))
    return cases


def _names() -> dict[str, str]:
    return {
        "room": "rocketchat_room",
        "message": "rocketchat_message",
        "users": "users",
        "agent_activity": "rocketchat_livechat_agent_activity",
    }


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
@pytest.mark.parametrize(("collection", "pipeline"), first_stages())
def test_after_ensure_indexes_every_first_stage_scans_an_index(database: Database, collection, pipeline):
    demo.insert(database, DemoData(rooms=100, now=NOW))
    activity = "rocketchat_livechat_agent_activity"
    database[activity].insert_many(
        [{"agentId": f"a{n}", "date": 20240100 + n % 28 + 1, "availableTime": n} for n in range(200)]
    )
    name = Repository(database).name(collection)
    indexes.ensure_indexes(Repository(database))
    scans = first_stage_scans(database, name, pipeline)
    assert [scan["stage"] for scan in scans] == ["IXSCAN"] * len(scans) != []
    assert {scan["indexName"] for scan in scans} <= {index.name for index in INDEXES}
