"""The demo's mover: its moves change the live numbers as they say, within bounds; it writes only into
the demo's own database in memory; its thread moves every interval and stops with the demo."""

from __future__ import annotations

import collections
import functools
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from pymongo.database import Database

from livechat_analytics import cli, demo, demo_server
from livechat_analytics.demo import mover

ROOT = "/api/v1/livechat/analytics"
MANAGER = {"X-User-Id": demo.MANAGER_ID, "X-Auth-Token": demo.MANAGER_TOKEN}
STEPS = 60


@pytest.fixture(scope="module")
def memory_demo() -> Iterator[tuple[Flask, mover.MemoryDatabase]]:
    """The demo's app over its own database in memory, as ``demo`` makes them."""
    with demo_server.memory_database() as database:
        app = demo_server.make_demo_app(database=database, rooms=300, settings={"TESTING": True}).app
        app.config["LIVECHAT_ANALYTICS_CACHE_SECONDS"] = 0
        yield app, database


def live(app: Flask, path: str) -> dict[str, Any]:
    response = app.test_client().get(f"{ROOT}/live/{path}", headers=MANAGER)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def states(database: Database) -> collections.Counter[tuple[str | None, str]]:
    """Plain Python over the livechat rooms: how many are queued, open (served) and on hold, per
    department and in all (department ``"all"``)."""
    counted: collections.Counter[tuple[str | None, str]] = collections.Counter()
    for room in database["rocketchat_room"].find({"t": "l", "open": True}):
        status = "onHold" if room.get("onHold") else "open" if "servedBy" in room else "queued"
        counted[(room.get("departmentId"), status)] += 1
        counted[("all", status)] += 1
    return counted


def shown(answer: dict[str, Any]) -> collections.Counter[tuple[str | None, str]]:
    """The same counts as live/queue answers them."""
    counted: collections.Counter[tuple[str | None, str]] = collections.Counter()
    for row in answer["departments"]:
        counted.update({(row["_id"], key): row[key] for key in ("queued", "open", "onHold")})
    counted.update({("all", key): answer["total"][key] for key in ("queued", "open", "onHold")})
    return +counted


def test_each_move_changes_the_live_queue_as_it_says(memory_demo):
    app, database = memory_demo
    moving = mover.Mover(database, seed=7)
    done: collections.Counter[str] = collections.Counter()
    for _ in range(STEPS):
        before = states(database)
        openings = {agent["_id"]: agent["openChats"] for agent in live(app, "agents")["agents"]}
        move, room_id = moving.step() or pytest.fail("no move")
        done[move] += 1
        room = database["rocketchat_room"].find_one({"_id": room_id})
        department = room["departmentId"]
        change = {
            "opened": {(department, "queued"): 1, ("all", "queued"): 1},
            "assigned": {
                (department, "queued"): -1,
                ("all", "queued"): -1,
                (department, "open"): 1,
                ("all", "open"): 1,
            },
            "closed": {(department, "open"): -1, ("all", "open"): -1},
            "left": {(department, "queued"): -1, ("all", "queued"): -1},
        }[move]
        expected = before.copy()
        expected.update(change)
        assert states(database) == +expected
        assert shown(live(app, "queue")) == +expected
        inquiry = database["rocketchat_livechat_inquiry"].find_one({"rid": room_id})
        if move == "opened":
            assert (room["open"], "servedBy" in room, inquiry["status"]) == (True, False, "queued")
            assert inquiry["queuedAt"] == room["queuedAt"] == room["ts"]
        elif move == "assigned":
            agent = room["servedBy"]["_id"]
            assert inquiry["status"] == "taken"
            assert {row["_id"]: row["openChats"] for row in live(app, "agents")["agents"]} == {
                **openings,
                agent: openings[agent] + 1,
            }
        else:
            closer = room["servedBy"] if move == "closed" else room["v"]
            assert "open" not in room and inquiry is None
            assert room["closedBy"] == {key: closer[key] for key in ("_id", "username")}
            assert room["closer"] == ("user" if move == "closed" else "visitor")
            assert room["metrics"]["chatDuration"] == (room["closedAt"] - room["ts"]).total_seconds()
        after = states(database)
        assert after[("all", "queued")] <= mover.MOST_QUEUED
        assert move != "closed" or after[("all", "open")] >= mover.LEAST_SERVED
        assert move != "left" or before[("all", "queued")] == mover.MOST_QUEUED
    assert set(done) == {"opened", "assigned", "closed", "left"}, done


def test_an_assigned_agent_is_available_with_room_for_the_chat(memory_demo):
    app, database = memory_demo
    moving = mover.Mover(database, seed=11)
    assigned = 0
    for _ in range(STEPS):
        before = {row["_id"]: row for row in live(app, "agents")["agents"]}
        move, room_id = moving.step() or pytest.fail("no move")
        if move != "assigned":
            continue
        assigned += 1
        agent = before[database["rocketchat_room"].find_one({"_id": room_id})["servedBy"]["_id"]]
        assert (agent["status"] in ("online", "away"), agent["statusLivechat"]) == (True, "available")
        assert agent["maxChats"] is None or agent["openChats"] < agent["maxChats"]
    assert assigned


@pytest.mark.parametrize("make", ["database", "client's database"])
def test_the_mover_refuses_anything_but_the_memory_database(database: Database, make: str):
    # The demo's own database's name and client, but not the database memory_database() made.
    target = database if make == "database" else database.client[demo_server.MEMORY_DATABASE]
    message = "The demo's mover writes only into the demo's own database in memory (memory_database())"
    with pytest.raises(TypeError, match=rf"^{message.replace('(', '[(]').replace(')', '[)]')}"):
        mover.Mover(target)  # type: ignore[arg-type]
    with pytest.raises(TypeError), mover.moving(target, interval=0.01):  # type: ignore[arg-type]
        pass
    assert not [thread for thread in threading.enumerate() if thread.name == mover.THREAD_NAME]
    assert target.list_collection_names() == []


def _until_changed(app: Flask, before: dict[str, Any], deadline: float) -> dict[str, Any]:
    while time.monotonic() < deadline:
        now = live(app, "queue")["total"]
        if now != before:
            return now
        time.sleep(0.02)
    pytest.fail("the live queue did not change")


def test_the_thread_moves_every_interval_and_stops_with_the_block(memory_demo):
    app, database = memory_demo
    before = live(app, "queue")["total"]
    with mover.moving(database, interval=0.05, seed=3) as thread:
        assert thread.name == mover.THREAD_NAME and thread.is_alive()
        _until_changed(app, before, time.monotonic() + 10)
    assert not thread.is_alive()
    rooms = database["rocketchat_room"].count_documents({})
    updated = max(room["_updatedAt"] for room in database["rocketchat_room"].find({}, {"_updatedAt": 1}))
    time.sleep(0.3)
    assert database["rocketchat_room"].count_documents({}) == rooms
    assert (
        max(room["_updatedAt"] for room in database["rocketchat_room"].find({}, {"_updatedAt": 1})) == updated
    )


@pytest.fixture
def demo_run(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """``demo`` on a recorded socket, its mover every 0.05 s; what its ``serve`` saw: whether the
    mover ran and whether the live queue changed while it served."""
    seen: dict[str, Any] = {}
    monkeypatch.setattr(cli, "listen", lambda host, port: SimpleNamespace(close=lambda: None))
    monkeypatch.setattr(cli, "moving", functools.partial(mover.moving, interval=0.05))

    def serve(app: Flask, listening: Any) -> None:
        app.config["LIVECHAT_ANALYTICS_CACHE_SECONDS"] = 0
        before = live(app, "queue")["total"]
        seen["threads"] = [thread for thread in threading.enumerate() if thread.name == mover.THREAD_NAME]
        if seen["threads"]:
            _until_changed(app, before, time.monotonic() + 10)
        else:
            time.sleep(0.3)
            seen["still"] = live(app, "queue")["total"] == before

    monkeypatch.setattr(cli, "serve", serve)
    return seen


def test_the_demo_moves_its_queue_and_stops_it_when_it_ends(demo_run):
    result = CliRunner().invoke(cli.command_group, ["demo", "--rooms", "50"])
    assert result.exit_code == 0, result.output
    assert "The queue moves every 4 s: chats open, are taken and close (--still: not)." in result.output
    [thread] = demo_run["threads"]
    assert not thread.is_alive()


def test_still_keeps_the_queue_still(demo_run):
    result = CliRunner().invoke(cli.command_group, ["demo", "--rooms", "50", "--still"])
    assert result.exit_code == 0, result.output
    assert "The queue moves" not in result.output
    assert demo_run == {"threads": [], "still": True}


def test_a_given_database_is_never_moved(monkeypatch, secantus_uri: str):
    moved: list[Any] = []
    monkeypatch.setattr(cli, "listen", lambda host, port: SimpleNamespace(close=lambda: None))
    monkeypatch.setattr(cli, "serve", lambda app, listening: None)
    monkeypatch.setattr(cli, "moving", lambda database, **options: moved.append(database))
    result = CliRunner().invoke(cli.command_group, ["demo", "--mongo-uri", f"{secantus_uri}given"])
    assert result.exit_code == 0, result.output
    assert moved == [] and "The queue moves" not in result.output
