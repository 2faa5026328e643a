"""The indexes: what ``ensure_indexes`` reports when the server refuses one, and every family's first
stages scanning one of them after ``ensure_indexes``, on a server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import mongomock
import pytest
from pymongo.database import Database
from pymongo.errors import OperationFailure
from support import OUR_INDEXES, SERVER_BACKENDS, UTC, first_stage_scans

from livechat_analytics import Scope, demo, indexes
from livechat_analytics.demo import DemoData
from livechat_analytics.endpoints import FAMILIES, departments
from livechat_analytics.endpoints.agents import AgentQuery
from livechat_analytics.endpoints.common import Context, window_rooms
from livechat_analytics.endpoints.dashboards import charts, totalizers
from livechat_analytics.endpoints.live import agent, queue
from livechat_analytics.endpoints.overview import board, chart
from livechat_analytics.endpoints.satisfaction import score
from livechat_analytics.repository import Repository
from livechat_analytics.schemas import Query

NOW = dt.datetime(2024, 6, 14, 15, 30, 12, 345000, tzinfo=UTC)
ROOM = "rocketchat_room"
MESSAGE = "rocketchat_message"
ACTIVITY = "rocketchat_livechat_agent_activity"
#: The default collection names, by the names the pipelines use.
NAMES = {"room": ROOM, "message": MESSAGE, "users": "users", "agent_activity": ACTIVITY}


def test_an_index_the_server_refuses_is_reported_and_the_others_made(monkeypatch):
    database = mongomock.MongoClient(tz_aware=True)["refusing"]
    demo.insert(database, DemoData(rooms=20, now=NOW))
    create_index = mongomock.collection.Collection.create_index
    refusal = "Index already exists with a different name: t_1_departmentId_1_ts_1"

    def refuse_one(self, keys, **options):  # as MongoDB refuses a second index on the same keys
        if options["name"] == "livechat_analytics_t_department_ts":
            raise OperationFailure(refusal, code=85)
        return create_index(self, keys, **options)

    monkeypatch.setattr(mongomock.collection.Collection, "create_index", refuse_one)
    assert indexes.ensure_indexes(Repository(database)) == [
        (ROOM, "livechat_analytics_t_ts", indexes.CREATED, ""),
        (ROOM, "livechat_analytics_t_department_ts", indexes.CONFLICT, refusal),
        *((collection, name, indexes.CREATED, "") for collection, name in OUR_INDEXES[2:]),
    ]


# The plans, on a server


def assert_scans_our_indexes(database: Database, collection: str, pipeline: list[dict]) -> None:
    """The pipeline's first stage scans indexes only, and only indexes ``ensure_indexes`` makes."""
    scans = first_stage_scans(database, Repository(database).name(collection), pipeline)
    assert [scan["stage"] for scan in scans] == ["IXSCAN"] * len(scans) != [], (collection, pipeline[0])
    assert {scan["indexName"] for scan in scans} <= {name for _, name in OUR_INDEXES}


@pytest.fixture
def data(database: Database) -> DemoData:
    """The demo data set of 100 rooms, stored."""
    stored = DemoData(rooms=100, now=NOW)
    demo.insert(database, stored)
    return stored


def department_cases() -> Iterator[Any]:
    """``(path, answered, filtered)``: every endpoint's first stage, with and without a department."""
    for path in departments.METRICS:
        for answered in (None, True, False) if path == "departments/amount-of-chats" else (None,):
            for filtered in (False, True):
                name = path.removeprefix("departments/") + (
                    "" if answered is None else f"-answered={answered}"
                )
                yield pytest.param(
                    path, answered, filtered, id=name + ("-one-department" if filtered else "")
                )


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
@pytest.mark.parametrize(("path", "answered", "filtered"), list(department_cases()))
@pytest.mark.parametrize("monitor", [False, True], ids=["everything", "a-monitor"])
def test_every_department_first_stage_scans_an_index(
    database: Database, data: DemoData, path: str, answered: bool | None, filtered: bool, monitor: bool
):
    metric = departments.METRICS[path]
    department_id = data.departments[1]["_id"] if filtered else None
    query = Query(start=NOW - dt.timedelta(days=30), end=NOW, department_id=department_id, answered=answered)
    # A monitor's scope is a condition of the second $match: the first still scans the index.
    scope = (
        Scope(departments=frozenset({data.departments[1]["_id"]}), units=frozenset({"unit"}))
        if monitor
        else None
    )
    pipeline = metric.pipeline(query, Context({"room": ROOM, "message": MESSAGE}, scope=scope))
    collection = Repository(database).name(metric.collection)
    assert [scan["stage"] for scan in first_stage_scans(database, collection, pipeline)] == ["COLLSCAN"]

    indexes.ensure_indexes(Repository(database))
    assert_scans_our_indexes(database, metric.collection, pipeline)


def agent_and_report_cases() -> list:
    """``(collection, pipeline)`` of every agent and report endpoint, with and without a department."""
    query = AgentQuery(start=NOW - dt.timedelta(days=30), end=NOW)
    context = Context(NAMES)
    agents = next(family for family in FAMILIES if family.name == "agents")
    cases = [
        pytest.param(
            metric.collection, metric.pipeline(query, context), id=metric.path.removeprefix("agents/")
        )
        for metric in agents.endpoints
    ]
    cases.append(pytest.param("room", window_rooms(query, context), id="conversations-by-any"))
    for name in chart.CHART_NAMES:
        for department in (None, "d1"):
            charted = chart.ChartQuery(
                start=query.start, end=query.end, chart_name=name, department_id=department
            )
            suffix = "-one-department" if department else ""
            cases.append(pytest.param("room", chart.chart_pipeline(charted, context), id=name + suffix))
    return cases


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
@pytest.mark.parametrize(("collection", "pipeline"), agent_and_report_cases())
def test_every_agent_and_report_first_stage_scans_an_index(
    database: Database, data: DemoData, collection, pipeline
):
    database[ACTIVITY].insert_many(
        [{"agentId": f"a{n}", "date": 20240100 + n % 28 + 1, "availableTime": n} for n in range(200)]
    )
    indexes.ensure_indexes(Repository(database))
    assert_scans_our_indexes(database, collection, pipeline)


def dashboard_and_overview_pipelines(department: str | None) -> list[tuple[str, list]]:
    query = board.OverviewQuery(
        start=NOW - dt.timedelta(days=30), end=NOW, department_id=department, name="Total_messages"
    )
    context = Context(Repository(None).names)  # type: ignore[arg-type]
    pipelines = [
        ("room", build(query, context))
        for build in (
            totalizers.conversation_totalizers,
            totalizers.productivity_totalizers,
            totalizers.chats_totalizers,
            totalizers.agents_productivity_rooms,
            charts.chats,
            charts.chats_per_agent,
            charts.chats_per_department,
            charts.timings,
            board.conversations,
            board.productivity,
            board.agent_overview,
        )
    ]
    pipelines.append(("agent_activity", totalizers.available_time(query, context)))
    pipelines.append(
        ("users" if department is None else "department_agents", charts.agents_status(query, context))
    )
    return pipelines


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
@pytest.mark.parametrize("filtered", [False, True])
def test_every_dashboard_and_overview_first_stage_scans_an_index(
    database: Database, data: DemoData, filtered: bool
):
    indexes.ensure_indexes(Repository(database))
    for collection, pipeline in dashboard_and_overview_pipelines(
        data.departments[1]["_id"] if filtered else None
    ):
        assert_scans_our_indexes(database, collection, pipeline)


def live_pipelines(department_id: str | None, context: Context) -> list[list[dict]]:
    """The live state's reads of the rooms: the queue's and the agents' chats."""
    return [queue.open_rooms(department_id, context), agent.chats_by_agent(["a1", "a2"], context)]


def satisfaction_pipelines(department_id: str | None, context: Context) -> list[list[dict]]:
    """The satisfaction family's first stages: the served rooms closed in a window."""
    query = SimpleNamespace(
        start=NOW - dt.timedelta(days=30), end=NOW, department_id=department_id, agent_id="a1"
    )
    return [score.closed_rooms(query, context)]


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
@pytest.mark.parametrize("filtered", [False, True], ids=["every-department", "one-department"])
@pytest.mark.parametrize("monitor", [False, True], ids=["everything", "a-monitor"])
@pytest.mark.parametrize(
    ("pipelines", "index"),
    [(live_pipelines, "livechat_analytics_open"), (satisfaction_pipelines, "livechat_analytics_t_closed")],
    ids=["live-open-rooms", "satisfaction-closed-in-window"],
)
def test_a_read_off_the_creation_window_scans_its_own_index(
    database: Database, data: DemoData, filtered: bool, monitor: bool, pipelines, index: str
):
    department_id = data.departments[1]["_id"] if filtered else None
    unit = frozenset({department_id or "d"})
    scope = Scope(departments=unit, units=frozenset({"unit"})) if monitor else None
    indexes.ensure_indexes(Repository(database))
    for pipeline in pipelines(department_id, Context({"room": ROOM}, scope=scope)):
        assert {scan["indexName"] for scan in first_stage_scans(database, ROOM, pipeline)} == {index}, (
            pipeline[0]
        )


# The livechat server's own index of the messages, which the joins need


def message_outcome(database: Database) -> indexes.Outcome:
    """What ``ensure_indexes`` did about the messages' ``rid`` index."""
    (outcome,) = [
        outcome
        for outcome in indexes.ensure_indexes(Repository(database))
        if outcome.name == "rid_1_ts_1__updatedAt_1"
    ]
    return outcome


def message_indexes(database: Database) -> dict[str, list]:
    return {info["name"]: list(info["key"].items()) for info in database[MESSAGE].list_indexes()}


def test_the_server_index_of_the_messages_is_created_as_the_server_makes_it(database: Database):
    demo.insert(database, DemoData(rooms=20, now=NOW))
    assert message_outcome(database) == (MESSAGE, "rid_1_ts_1__updatedAt_1", indexes.CREATED, "")
    assert message_indexes(database)["rid_1_ts_1__updatedAt_1"] == [("rid", 1), ("ts", 1), ("_updatedAt", 1)]
    assert message_outcome(database) == (MESSAGE, "rid_1_ts_1__updatedAt_1", indexes.EXISTS, "")


@pytest.mark.parametrize("keys", [[("rid", 1), ("ts", 1)], [("rid", 1), ("ts", 1), ("_id", 1)]])
def test_an_index_beginning_with_rid_and_ts_serves_the_joins(database: Database, keys):
    demo.insert(database, DemoData(rooms=20, now=NOW))
    name = database[MESSAGE].create_index(keys)
    assert message_outcome(database) == (MESSAGE, "rid_1_ts_1__updatedAt_1", indexes.EXISTS, f"as {name}")
    assert set(message_indexes(database)) == {"_id_", name, "livechat_analytics_transfer_ts"}


@pytest.mark.parametrize(
    ("keys", "options"),
    [
        ([("rid", 1)], {}),
        ([("rid", 1), ("t", 1), ("u._id", 1)], {}),
        ([("rid", 1), ("ts", -1)], {}),
        ([("rid", 1), ("ts", 1)], {"sparse": True}),
        ([("rid", 1), ("ts", 1)], {"partialFilterExpression": {"t": "livechat_transfer_history"}}),
    ],
    ids=["rid", "rid-t-user", "rid-ts-descending", "sparse", "partial"],
)
def test_an_index_that_does_not_serve_the_joins_leaves_the_server_index_to_make(
    database: Database, keys, options
):
    demo.insert(database, DemoData(rooms=20, now=NOW))
    name = database[MESSAGE].create_index(keys, **options)
    assert message_outcome(database) == (MESSAGE, "rid_1_ts_1__updatedAt_1", indexes.CREATED, "")
    made = {"_id_", name, "livechat_analytics_transfer_ts", "rid_1_ts_1__updatedAt_1"}
    assert set(message_indexes(database)) == made
