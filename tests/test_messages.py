"""The joins of the rooms' messages: the same numbers with the livechat server's ``rid`` index as
without it (SecantusDB joins through the index when there is one, by one pass over all messages when
not), and the join's ``rid`` equality scanning that index on a server."""

from __future__ import annotations

import collections
import datetime as dt
from typing import Any

import pytest
from documents import DAYS, END, MANAGER, NOW, START, WINDOW
from pymongo.database import Database
from support import SERVER_BACKENDS, first_stage_scans, get_answer

from livechat_analytics import demo, indexes
from livechat_analytics.demo import DemoData
from livechat_analytics.endpoints.common import Context
from livechat_analytics.endpoints.dashboards import totalizers
from livechat_analytics.endpoints.overview import board, chart
from livechat_analytics.repository import Repository

ROOM = "rocketchat_room"
MESSAGE = "rocketchat_message"
SERVER_INDEX = "rid_1_ts_1__updatedAt_1"


def add_messages(database: Database) -> None:
    """Beside the demo's: per livechat room, an agent's message, a visitor's, one with ``t: null``
    (a person's), a system message; and messages of a channel."""
    rooms = list(database[ROOM].find({"t": "l"}, {"_id": 1, "ts": 1}))
    added: list[dict[str, Any]] = []
    for n, room in enumerate(rooms):
        ts = room["ts"] + dt.timedelta(minutes=1)
        added += [
            {"_id": f"agent{n}", "rid": room["_id"], "ts": ts, "msg": "hi", "u": {"_id": "a"}},
            {"_id": f"visitor{n}", "rid": room["_id"], "ts": ts, "msg": "yo", "token": "tk"},
            {"_id": f"null{n}", "rid": room["_id"], "ts": ts, "msg": "hm", "t": None},
            {"_id": f"system{n}", "rid": room["_id"], "ts": ts, "t": "uj"},
        ]
    database[ROOM].insert_one({"_id": "channel", "t": "c", "ts": NOW})
    added.append({"_id": "channel-message", "rid": "channel", "ts": NOW, "msg": "no"})
    database[MESSAGE].insert_many(added)


def counts(database: Database) -> tuple[collections.Counter, collections.Counter]:
    """The messages people wrote per room (no ``t``, or a null one), and of those the agents'."""
    people: collections.Counter = collections.Counter()
    agents: collections.Counter = collections.Counter()
    for message in database[MESSAGE].find():
        if message.get("t") is None:
            people[message["rid"]] += 1
            agents[message["rid"]] += "token" not in message
    return people, agents


@pytest.fixture
def data(database: Database) -> DemoData:
    stored = DemoData(rooms=150, now=NOW)
    demo.insert(database, stored)
    add_messages(database)
    return stored


def message_numbers(client: Any) -> dict[str, Any]:
    """The four answers that count messages, for the test window."""
    conversation = get_answer(client, "dashboards/conversation-totalizers", MANAGER, **WINDOW)
    overview = get_answer(client, "overview", MANAGER, name="Conversations", **DAYS)
    agents = get_answer(client, "agent-overview", MANAGER, name="Total_messages", **DAYS)
    series = get_answer(client, "dashboards/charts-data", MANAGER, chartName="Total_messages", **WINDOW)
    return {
        "totalizer": next(t["value"] for t in conversation["totalizers"] if t["title"] == "Total_messages"),
        "overview": next(t["value"] for t in overview if t["title"] == "Total_messages"),
        "agents": {row["name"]: row["value"] for row in agents["data"]},
        "chart": sum(series["dataPoints"]),
    }


@pytest.mark.parametrize("indexed", [False, True], ids=["no-index", "server-index"])
def test_the_message_counts_with_and_without_the_index(database, data, make_app, indexed):
    if indexed:
        assert (MESSAGE, SERVER_INDEX, indexes.CREATED, "") in indexes.ensure_indexes(Repository(database))
    people, agents = counts(database)
    window = [room for room in database[ROOM].find({"t": "l"}) if START <= room["ts"] <= END]
    served: collections.Counter = collections.Counter()
    for room in window:
        if isinstance((room.get("servedBy") or {}).get("username"), str):
            served[room["servedBy"]["username"]] += agents[room["_id"]]
    expected = {
        "totalizer": sum(people[room["_id"]] for room in window),
        "overview": sum(people[room["_id"]] for room in window),
        "agents": dict(served),
        "chart": sum(agents[room["_id"]] for room in window),
    }
    assert expected["totalizer"] > 3 * len(window) > 0  # the added messages are counted
    assert message_numbers(make_app().test_client()) == expected


def join_equalities() -> list:
    """``(name, pipeline)``: every pipeline that joins the rooms' messages."""
    query = board.OverviewQuery(start=START, end=END, name="Total_messages")
    context = Context(Repository(None).names)  # type: ignore[arg-type]
    charted = chart.ChartQuery(start=START, end=END, chart_name="Total_messages")
    return [
        pytest.param(totalizers.conversation_totalizers(query, context), id="conversation-totalizers"),
        pytest.param(board.conversations(query, context), id="overview-conversations"),
        pytest.param(board.agent_overview(query, context), id="agent-overview-total-messages"),
        pytest.param(chart.chart_pipeline(charted, context), id="charts-data-total-messages"),
    ]


def lookups(node: Any) -> list[dict[str, Any]]:
    """The ``$lookup`` stages in ``node``, ``$facet`` branches included."""
    if isinstance(node, dict):
        found = [node["$lookup"]] if "$lookup" in node else []
        return found + [stage for value in node.values() for stage in lookups(value)]
    if isinstance(node, list):
        return [stage for value in node for stage in lookups(value)]
    return []


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
@pytest.mark.parametrize("pipeline", join_equalities())
def test_the_join_looks_up_each_room_through_the_server_index(database, data, pipeline):
    (join,) = lookups(pipeline)
    assert (join["from"], join["localField"], join["foreignField"]) == (MESSAGE, "_id", "rid")
    # What the join asks of the messages for one room: an equality on rid.
    room = database[ROOM].find_one({"t": "l", "ts": {"$gte": START}})
    per_room = [{"$match": {join["foreignField"]: room[join["localField"]]}}]
    assert [scan["stage"] for scan in first_stage_scans(database, MESSAGE, per_room)] == ["COLLSCAN"]
    indexes.ensure_indexes(Repository(database))
    scans = first_stage_scans(database, MESSAGE, per_room)
    assert [(scan["stage"], scan["indexName"]) for scan in scans] == [("IXSCAN", SERVER_INDEX)]
