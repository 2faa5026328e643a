"""The demo: the generated data set, the demo app over it, and the ``demo`` command."""

from __future__ import annotations

import collections
import datetime as dt
import http.client
import itertools
import json
import os
import pathlib
import re
import shlex
import socket
import subprocess
import sys
import threading
import time
import zoneinfo
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from urllib.parse import urlsplit

import click
import mongomock
import pytest
from click.testing import CliRunner
from commands import flask_command
from flask import Flask
from pymongo.database import Database
from support import SERVER_BACKENDS, UTC, free_port

from livechat_analytics import cli, demo, demo_server, hash_token
from livechat_analytics.business_hours import Schedule
from livechat_analytics.demo import Chat, DemoData
from livechat_analytics.endpoints import FAMILY_OF
from livechat_analytics.endpoints.hours import read_schedules
from livechat_analytics.repository import Repository

NOW = dt.datetime(2024, 6, 14, 15, 30, 12, 345678, tzinfo=UTC)  # a Friday afternoon
MANAGER = {"X-User-Id": demo.MANAGER_ID, "X-Auth-Token": demo.MANAGER_TOKEN}
ROCKET_CHAT_ID = re.compile(f"[{demo.ID_ALPHABET}]{{{demo.ID_LENGTH}}}")
MS = dt.timedelta(milliseconds=1)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HH_MM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
OBJECT_ID = re.compile(r"[0-9a-f]{24}")
SERVICE_FIELDS = {"slaId", "priorityId", "priorityWeight", "estimatedWaitingTimeQueue"}


@pytest.fixture(scope="module")
def data() -> DemoData:
    """The data set the demo serves, at its default size."""
    return DemoData(now=NOW)


@pytest.fixture(scope="module")
def chats(data: DemoData) -> list[Chat]:
    return list(data.chats())


@pytest.fixture(scope="module")
def rooms(chats: list[Chat]) -> list[dict]:
    """The livechat rooms."""
    return [chat.room for chat in chats if chat.room["t"] == "l"]


def share(rooms: list[dict], condition) -> float:
    return sum(1 for room in rooms if condition(room)) / len(rooms)


def printed_window(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The bounds of the printed requests: from the first day's start to the last day's last ms."""
    today = now.astimezone(UTC).date()
    start = dt.datetime.combine(today - dt.timedelta(days=demo_server.DEMO_DAYS - 1), dt.time.min, UTC)
    return start, dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, UTC) - MS


def expected_rows(data: DemoData, now: dt.datetime) -> dict[str, dict]:
    """Each printed request's answer, ``{department id: value}``, counted in plain Python."""
    start, end = printed_window(now)
    chats = list(data.chats())
    rooms = [chat.room for chat in chats if chat.room["t"] == "l"]
    department = {room["_id"]: room.get("departmentId") for room in rooms}
    transfers = [*data.orphan_transfers, *(message for chat in chats for message in chat.transfers)]
    return {
        "amount-of-chats": collections.Counter(
            room.get("departmentId") for room in rooms if start <= room["ts"] <= end
        ),
        "total-transferred-chats": collections.Counter(
            department.get(message["rid"]) for message in transfers if start <= message["ts"] <= end
        ),
    }


def answered_rows(app: Flask, now: dt.datetime, headers: dict[str, str] = MANAGER) -> dict[str, dict]:
    """Each printed request's answer from the app, ``{department id: value}``."""
    client = app.test_client()
    rows = {}
    for path, request in demo_server.demo_requests(app, now).items():
        if not path.startswith("departments/"):
            continue  # the dashboards' request is checked on its own
        path = path.removeprefix("departments/")
        response = client.get(request, headers=headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["total"] == body["count"] == len(body["departments"])
        field = "rooms" if path == "amount-of-chats" else "numberOfTransferredRooms"
        rows[path] = {row["_id"]: row[field] for row in body["departments"]}
    return rows


# The generator


def test_the_same_seed_and_now_give_the_same_documents(data, chats):
    again = DemoData(now=NOW)
    assert again.fixed_documents() == data.fixed_documents()
    assert list(again.chats()) == chats
    assert list(itertools.islice(data.chats(), 200)) == chats[:200]  # every call starts over
    # A smaller data set starts like a bigger one; another seed does not.
    small = list(DemoData(rooms=50, now=NOW).chats())
    assert small == chats[: len(small)]
    other = DemoData(rooms=50, seed=2, now=NOW)
    assert {chat.room["_id"] for chat in other.chats()}.isdisjoint(chat.room["_id"] for chat in chats)
    fixed = [*other.business_hours, *other.policies, *other.priorities]
    assert {document["_id"] for document in fixed}.isdisjoint(
        document["_id"] for document in [*data.business_hours, *data.policies, *data.priorities]
    )


def test_ids_look_like_rocket_chats_and_never_repeat(data, chats):
    documents = [
        *data.departments,
        *data.agents,
        data.manager,
        *data.orphan_transfers,
        *(chat.room for chat in chats),
        *(message for chat in chats for message in chat.messages),
    ]
    ids = [document["_id"] for document in documents]
    assert all(ROCKET_CHAT_ID.fullmatch(id_) for id_ in ids)
    assert len(set(ids)) == len(ids)


def test_there_are_as_many_livechat_rooms_as_asked_and_some_others(chats, rooms):
    assert len(rooms) == demo.DEFAULT_ROOMS
    others = collections.Counter(chat.room["t"] for chat in chats if chat.room["t"] != "l")
    assert set(others) == {"c", "d"}
    assert all("departmentId" not in chat.room for chat in chats if chat.room["t"] != "l")


def test_rooms_spread_over_the_period_mostly_in_business_hours(rooms):
    assert all(NOW - dt.timedelta(days=demo.DAYS) <= room["ts"] <= NOW for room in rooms)
    assert all(room["ts"].microsecond % 1000 == 0 for room in rooms)  # BSON keeps milliseconds
    days = {(NOW - room["ts"]).days for room in rooms}
    assert len(days) == demo.DAYS
    assert share(rooms, lambda room: 9 <= room["ts"].hour < 18) > 0.6
    assert share(rooms, lambda room: room["ts"].weekday() >= 5) < 0.15


def test_a_share_of_the_rooms_has_no_department(data, rooms):
    assert 0.05 < share(rooms, lambda room: "departmentId" not in room) < 0.11
    assert 0.02 < share(rooms, lambda room: "departmentId" in room and room["departmentId"] is None) < 0.06
    known = {department["_id"] for department in data.departments}
    assert {room.get("departmentId") for room in rooms} == known | {None}
    disabled = [department["_id"] for department in data.departments if not department["enabled"]]
    assert len(disabled) == 1
    assert all(
        NOW - room["ts"] > dt.timedelta(days=30) for room in rooms if room.get("departmentId") in disabled
    )


def test_closed_rooms_have_closed_at_and_no_open_field(rooms):
    closed = [room for room in rooms if "closedAt" in room]
    still_open = [room for room in rooms if "closedAt" not in room]
    assert all("open" not in room and room["ts"] < room["closedAt"] <= NOW for room in closed)
    assert all(room["open"] is True for room in still_open)
    assert not any(
        {"chatDuration", "serviceTimeDuration", "visitorInactivity"} & set(room.get("metrics", {}))
        for room in still_open
    )
    old = [room for room in rooms if NOW - room["ts"] > dt.timedelta(days=3)]
    recent = [room for room in rooms if NOW - room["ts"] < dt.timedelta(days=1)]
    assert share(old, lambda room: "closedAt" in room) > 0.98
    assert 0 < share(recent, lambda room: "open" in room) < 0.9


def test_answered_rooms_have_response_by_and_unanswered_ones_wait(rooms):
    waiting = [room for room in rooms if "waitingResponse" in room]
    answered = [room for room in rooms if "waitingResponse" not in room]
    assert all(room["waitingResponse"] is True and "responseBy" not in room for room in waiting)
    assert 0.1 < len(waiting) / len(rooms) < 0.2
    for room in answered:
        assert set(room["responseBy"]) == {"_id", "username", "firstResponseTs", "lastMessageTs"}
        assert room["servedBy"]["ts"] <= room["responseBy"]["firstResponseTs"]
        assert room["responseBy"]["firstResponseTs"] <= room["responseBy"]["lastMessageTs"]
        assert room["metrics"]["response"]["fd"] == room["responseBy"]["firstResponseTs"]
    assert any("servedBy" not in room for room in waiting)


def test_the_metrics_follow_the_timeline(rooms):
    def seconds(later, earlier):
        return (later - earlier) / MS / 1000

    for room in rooms:
        metrics = room.get("metrics", {})
        if "closedAt" in room:
            assert metrics["chatDuration"] == seconds(room["closedAt"], room["ts"])
            if "servedBy" in room:
                assert metrics["serviceTimeDuration"] == seconds(room["closedAt"], room["servedBy"]["ts"])
        assert ("serviceTimeDuration" in metrics) == ("closedAt" in room and "servedBy" in room)
        if "visitorInactivity" in metrics:
            assert room["closer"] == "user"
            assert metrics["visitorInactivity"] == seconds(
                room["closedAt"], room["responseBy"]["lastMessageTs"]
            )
        if "response" in metrics:
            response = metrics["response"]
            assert set(response) == {"avg", "total", "tt", "ft", "fd"}
            assert response["ft"] == seconds(response["fd"], room["ts"])
            assert response["avg"] == pytest.approx(response["tt"] / response["total"], abs=0.001)
    assert 0.3 < share(rooms, lambda room: "visitorInactivity" in room.get("metrics", {})) < 0.8
    abandoned = share(rooms, lambda room: room.get("metrics", {}).get("visitorInactivity", 0) >= 3600)
    assert 0.07 < abandoned < 0.13


def test_transfers_lead_to_the_rooms_department(data, chats, rooms):
    names = {department["_id"]: department["name"] for department in data.departments}
    transferred = [chat for chat in chats if chat.transfers]
    assert 0.09 < len(transferred) / len(rooms) < 0.15
    for chat in transferred:
        room, transfers = chat.room, chat.transfers
        assert room["t"] == "l" and 1 <= len(transfers) <= 3
        previous = transfers[0]["transferData"]["previousDepartment"]
        for message in transfers:
            transfer = message["transferData"]
            assert message["rid"] == room["_id"] and message["msg"] == ""
            assert room["ts"] < message["ts"] == transfer["ts"] < room.get("closedAt", NOW)
            assert transfer["scope"] == "department" and transfer["transferredBy"]["type"] == "agent"
            assert transfer["previousDepartment"] == previous != transfer["nextDepartment"]["_id"]
            assert transfer["nextDepartment"]["name"] == names[transfer["nextDepartment"]["_id"]]
            previous = transfer["nextDepartment"]["_id"]
        assert room["departmentId"] == previous


def test_some_transfers_lost_their_room_and_other_messages_abound(data, chats):
    room_ids = {chat.room["_id"] for chat in chats}
    assert data.orphan_transfers
    assert all(message["t"] == demo.TRANSFER_MESSAGE for message in data.orphan_transfers)
    assert not room_ids & {message["rid"] for message in data.orphan_transfers}
    kinds = collections.Counter(message.get("t") for chat in chats for message in chat.messages)
    assert kinds[None] > kinds[demo.TRANSFER_MESSAGE] > 0
    assert len(kinds) > 2
    assert all(message["rid"] == chat.room["_id"] for chat in chats for message in chat.messages)


def test_the_fixed_documents(data):
    manager = data.manager
    assert manager["_id"] == demo.MANAGER_ID and manager["username"] == "demo.manager"
    assert manager["active"] is True and manager["roles"] == ["livechat-manager"]
    tokens = manager["services"]["resume"]["loginTokens"]
    assert [token["hashedToken"] for token in tokens] == [hash_token(demo.MANAGER_TOKEN)]
    assert data.permission == {
        "_id": "view-livechat-manager",
        "roles": ["admin", "livechat-manager", "livechat-monitor"],
    }
    assert data.setting == {"_id": "Livechat_visitor_inactivity_timeout", "value": 3600}
    assert [department["name"] for department in data.departments] == [
        "Sales",
        "Support",
        "Billing",
        "Technical",
        "Onboarding",
        "Support",  # a second department of that name
    ]
    assert all(department["numAgents"] > 0 for department in data.departments)


def minutes_of_week(moment: dict) -> int:
    """Where a work hour's ``{dayOfWeek, time}`` falls in the week, in minutes from Monday 00:00."""
    hours, minutes = map(int, moment["time"].split(":"))
    return WEEKDAYS.index(moment["dayOfWeek"]) * 1440 + hours * 60 + minutes


def offset_minutes(utc: str) -> int:
    """The minutes of a stored ``timezone.utc`` such as ``"-05:00"``."""
    sign = -1 if utc.startswith("-") else 1
    hours, minutes = map(int, utc[1:].split(":"))
    return sign * (hours * 60 + minutes)


def test_the_business_hours_are_stored_as_rocket_chat_stores_them(data):
    schedules = data.business_hours
    assert [schedule["type"] for schedule in schedules] == ["default", "custom"]
    for schedule in schedules:
        assert set(schedule) == {"_id", "name", "active", "type", "timezone", "workHours", "ts", "_updatedAt"}
        assert OBJECT_ID.fullmatch(schedule["_id"]) and schedule["active"] is True
        zone = schedule["timezone"]
        assert set(zone) == {"name", "utc"} and re.fullmatch(r"[+-]\d\d:\d\d", zone["utc"])
        # The offset the schedule was saved with is the zone's on that day.
        saved = schedule["ts"].astimezone(zoneinfo.ZoneInfo(zone["name"]))
        assert offset_minutes(zone["utc"]) == saved.utcoffset() // dt.timedelta(minutes=1)
        assert [hour["day"] for hour in schedule["workHours"]] == list(WEEKDAYS)
        for hour in schedule["workHours"]:
            assert isinstance(hour["open"], bool)
            for end in (hour["start"], hour["finish"]):
                assert set(end) == {"time", "utc", "cron"} and HH_MM.fullmatch(end["time"])
                assert end["cron"] == {"dayOfWeek": hour["day"], "time": end["time"]}
                # utc is the local time moved by the offset, across days and the week's end.
                local = minutes_of_week(end["cron"])
                assert (local - minutes_of_week(end["utc"])) % 10080 == offset_minutes(zone["utc"]) % 10080
        assert Schedule.from_document(schedule) is not None  # the API can read it
    opened = {
        schedule["type"]: {
            hour["day"]: (hour["start"]["time"], hour["finish"]["time"])
            for hour in schedule["workHours"]
            if hour["open"]
        }
        for schedule in schedules
    }
    assert opened["default"] == dict.fromkeys(WEEKDAYS[:5], ("08:00", "18:00"))
    assert schedules[0]["timezone"]["name"] == "Europe/Berlin"
    # The custom schedule's shift runs past midnight.
    assert opened["custom"] and all(finish <= start for start, finish in opened["custom"].values())


def test_one_department_names_the_custom_schedule(data):
    custom = data.business_hours[1]
    naming = [department for department in data.departments if "businessHourId" in department]
    assert [(department["name"], department["businessHourId"]) for department in naming] == [
        ("Technical", custom["_id"])
    ]


def test_the_sla_policies_and_the_priorities(data):
    assert data.policies and data.priorities
    for policy in data.policies:
        assert set(policy) == {"_id", "name", "description", "dueTimeInMinutes", "_updatedAt"}
        assert isinstance(policy["dueTimeInMinutes"], int) and policy["dueTimeInMinutes"] > 0
    assert len({policy["dueTimeInMinutes"] for policy in data.policies}) == len(data.policies) > 1
    assert sorted(priority["sortItem"] for priority in data.priorities) == [1, 2, 3, 4, 5]
    for priority in data.priorities:
        assert set(priority) == {"_id", "i18n", "sortItem", "dirty", "_updatedAt"}
        assert priority["dirty"] is False
    ids = [document["_id"] for document in [*data.business_hours, *data.policies, *data.priorities]]
    assert all(OBJECT_ID.fullmatch(id_) for id_ in ids) and len(set(ids)) == len(ids)


def test_rooms_name_stored_policies_and_priorities(data, chats, rooms):
    due = {policy["_id"]: policy["dueTimeInMinutes"] for policy in data.policies}
    weight = {priority["_id"]: priority["sortItem"] for priority in data.priorities}
    for room in rooms:
        assert room["estimatedWaitingTimeQueue"] == due.get(room.get("slaId"), 9_999_999)
        assert room["priorityWeight"] == weight.get(room.get("priorityId"), 99)
        assert room.get("slaId", next(iter(due))) in due
        assert room.get("priorityId", next(iter(weight))) in weight
    assert 0.45 < share(rooms, lambda room: "slaId" in room) < 0.65
    assert 0.3 < share(rooms, lambda room: "priorityId" in room) < 0.5
    assert {room.get("slaId") for room in rooms} == {*due, None}
    assert {room.get("priorityId") for room in rooms} == {*weight, None}
    assert not any(SERVICE_FIELDS & set(chat.room) for chat in chats if chat.room["t"] != "l")


def test_first_responses_fall_on_both_sides_of_their_targets(data, rooms):
    due = {policy["_id"]: policy["dueTimeInMinutes"] * 60 for policy in data.policies}
    met: collections.Counter[int] = collections.Counter()
    breached: collections.Counter[int] = collections.Counter()
    for room in rooms:
        if "slaId" in room and "response" in room.get("metrics", {}):
            target = due[room["slaId"]]
            response = room["metrics"]["response"]
            assert response["ft"] == (response["fd"] - room["ts"]) / MS / 1000 > 0
            (met if response["ft"] <= target else breached)[target] += 1
    assert sum(met.values()) > 0 and sum(breached.values()) > 0
    # Each target is met by some rooms, the tighter one missed by most, the looser ones more often met.
    targets = sorted(due.values())
    assert all(met[target] > 0 for target in targets)
    rates = [met[target] / (met[target] + breached[target]) for target in targets]
    assert rates == sorted(rates) and rates[0] < 0.5 < rates[1] < rates[-1]
    # Some rooms with a target have no first response: open ones and closed ones.
    unanswered = [room for room in rooms if "slaId" in room and "response" not in room.get("metrics", {})]
    assert {"closedAt" in room for room in unanswered} == {True, False}


def test_business_hours_forgive_the_weekend(data, rooms):
    """Some rooms miss their target in calendar time while waiting wholly outside their schedule's
    hours: created and answered on a weekend in Berlin, in a department of the default schedule."""
    due = {policy["_id"]: policy["dueTimeInMinutes"] * 60 for policy in data.policies}
    night_desk = {department["_id"] for department in data.departments if "businessHourId" in department}
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")

    def weekend_wait(room: dict) -> bool:
        opened, answered = room["ts"].astimezone(berlin), room["metrics"]["response"]["fd"].astimezone(berlin)
        return opened.weekday() >= 5 and answered.date() == opened.date()

    forgiven = [
        room
        for room in rooms
        if "slaId" in room
        and room.get("departmentId") not in night_desk
        and "response" in room.get("metrics", {})
        and room["metrics"]["response"]["ft"] > due[room["slaId"]]
        and weekend_wait(room)
    ]
    assert len(forgiven) >= 5


def test_insert_writes_everything_in_batches():
    database = mongomock.MongoClient(tz_aware=True)["demo"]
    data = DemoData(rooms=50, now=NOW)
    progress: list[int] = []
    counts = demo.insert(database, data, batch_size=7, collection_prefix="rc_", progress=progress.append)
    assert sum(progress) == 50 and max(progress) <= 7
    chats = list(data.chats())
    assert database["rc_room"].count_documents({"t": "l"}) == counts.rooms == 50
    assert database["rc_room"].count_documents({"t": {"$ne": "l"}}) == counts.other_rooms
    assert database["rc_message"].count_documents({}) == counts.messages
    assert counts.messages == len(data.orphan_transfers) + sum(len(chat.messages) for chat in chats)
    assert database["rc_message"].count_documents({"t": demo.TRANSFER_MESSAGE}) == counts.transfers
    assert database["rc_livechat_department"].count_documents({}) == counts.departments == 6
    assert database["users"].count_documents({}) == counts.users == len(data.agents) + 1
    assert database["rc_permissions"].find_one({"_id": "view-livechat-manager"})
    assert database["rc_settings"].find_one({"_id": "Livechat_visitor_inactivity_timeout"})["value"] == 3600
    for name, documents in [
        ("rc_livechat_business_hours", data.business_hours),
        ("rc_omnichannel_service_level_agreements", data.policies),
        ("rc_livechat_priority", data.priorities),
    ]:
        assert list(database[name].find({}, sort=[("_id", 1)])) == sorted(documents, key=lambda d: d["_id"])
    assert counts.kept == 0
    assert list(database["rc_room"].find({}, {"_id": 1})) == [{"_id": chat.room["_id"]} for chat in chats]


def test_the_api_reads_the_stored_schedules(database: Database):
    data = DemoData(rooms=20, now=NOW)
    demo.insert(database, data, collection_prefix="rc_")
    schedules = read_schedules(Repository(database, collection_prefix="rc_"))
    default, custom = data.business_hours
    [technical] = [department["_id"] for department in data.departments if department["name"] == "Technical"]
    assert schedules.default == Schedule.from_document(default)
    assert dict(schedules.departments) == {technical: Schedule.from_document(custom)}


# The demo app


def test_the_demo_app_answers_the_printed_requests(database: Database):
    made = demo_server.make_demo_app(database=database, rooms=300, now=NOW)
    answered = answered_rows(made.app, NOW)
    assert answered == expected_rows(made.data, NOW)
    assert all(value > 0 for rows in answered.values() for value in rows.values())
    assert set(answered["amount-of-chats"]) > {None}


# The command


@pytest.fixture
def served(monkeypatch, demo_on_mongomock) -> list[tuple[Flask, str, int]]:
    """What ``demo`` would serve, and where: recorded instead of listened on and served (its data in
    mongomock)."""
    calls: list[tuple[Flask, str, int]] = []

    def listen(host: str, port: int) -> SimpleNamespace:
        return SimpleNamespace(host=host, port=port, close=lambda: None)

    monkeypatch.setattr(cli, "listen", listen)
    def serve(app: Flask, listening: SimpleNamespace) -> None:
        calls.append((app, listening.host, listening.port))

    monkeypatch.setattr(cli, "serve", serve)
    return calls


def replay_curls(output: str, app: Flask, base_url: str) -> dict[str, dict]:
    """Run every ``curl`` line of ``output`` against ``app``: ``{path under the root: body}``."""
    lines = [line for line in output.splitlines() if line.startswith("curl ")]
    assert len(lines) == len(demo_server.DEMO_REQUESTS)
    rows = {}
    for line in lines:
        words = shlex.split(line)
        headers = dict(words[index + 1].split(": ", 1) for index, word in enumerate(words) if word == "-H")
        assert headers == MANAGER
        url = words[-1]
        root = base_url + "/api/v1/livechat/analytics/"
        assert url.startswith(root)
        parts = urlsplit(url)
        response = app.test_client().get(f"{parts.path}?{parts.query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        rows[url.removeprefix(root).split("?")[0]] = response.get_json()
    return rows


def test_the_demo_command_prints_curl_commands_that_answer(served):
    result = CliRunner().invoke(
        cli.command_group, ["demo", "--rooms", "300", "--host", "0.0.0.0", "--port", "3999"]
    )
    assert result.exit_code == 0, result.output
    [(app, host, port)] = served
    assert (host, port) == ("0.0.0.0", 3999)
    assert "300 livechat rooms" in result.output and "6 departments" in result.output
    rows = replay_curls(result.output, app, "http://127.0.0.1:3999")
    assert set(rows) == set(demo_server.DEMO_REQUESTS)
    # One request per family, each with numbers in it.
    families = {FAMILY_OF[path] for path in demo_server.DEMO_REQUESTS}
    assert families == {"departments", "dashboards", "overview", "agents", "reports"}
    total = rows["dashboards/conversations-by-status"]["total"]
    assert rows["overview"][0] == {"title": "Total_conversations", "value": total}
    assert rows["agents/total-service-time"]["agents"]
    assert sum(item["value"] for item in rows["dashboards/conversations-by-status"]["data"]) > 0
    assert all(
        rows[path]["departments"] and all(row[field] > 0 for row in rows[path]["departments"])
        for path, field in [
            ("departments/amount-of-chats", "rooms"),
            ("departments/total-transferred-chats", "numberOfTransferredRooms"),
        ]
    )
    totalizers = rows["dashboards/conversation-totalizers"]["totalizers"]
    assert totalizers[0]["title"] == "Total_conversations"
    assert totalizers[0]["value"] > 0


def test_the_demo_command_runs_under_flask_too(make_app, memory, served):
    host = make_app(database=memory)
    result = flask_command(host, "demo", "--rooms", "20")
    assert result.exit_code == 0, result.output
    assert "curl -s -H 'X-User-Id: DemoManager234567'" in result.output
    [(app, _, port)] = served
    assert app is not host and port == 3000


def demo_refused(monkeypatch: pytest.MonkeyPatch, folder: pathlib.Path) -> str:
    """What the demo command prints when it stops at once, with this Python in ``folder`` (where a
    ``secantusd-py`` may be): it must exit 1 and serve nothing."""
    monkeypatch.setattr(sys, "executable", str(folder / "python"))
    served: list[Flask] = []
    monkeypatch.setattr(cli, "serve", lambda app, listening: served.append(app))
    result = CliRunner().invoke(cli.command_group, ["demo", "--port", str(free_port())])
    assert (result.exit_code, served) == (1, [])
    return result.output


def test_the_demo_command_without_secantusdb_says_what_to_install(monkeypatch, tmp_path):
    # No secantusd-py beside this Python, nor on the PATH.
    monkeypatch.setenv("PATH", str(tmp_path))
    assert demo_refused(monkeypatch, tmp_path) == (
        "Error: The in-memory demo database needs SecantusDB: pip install 'livechat-analytics[demo]'"
        " (or pass --mongo-uri).\n"
    )


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_the_demo_command_serves_a_mongo_uri(served, database: Database):
    demo.insert(database, DemoData(rooms=300))
    host, port = database.client.address
    uri = f"mongodb://{host}:{port}/{database.name}"
    result = CliRunner().invoke(cli.command_group, ["demo", "--mongo-uri", uri])
    assert result.exit_code == 0, result.output
    assert uri not in result.output
    [(app, _, _)] = served
    rows = replay_curls(result.output, app, "http://127.0.0.1:3000")
    app.extensions["livechat_analytics"].client.close()
    assert all(rows.values())


def test_the_demo_command_refuses_a_uri_without_database(served):
    result = CliRunner().invoke(cli.command_group, ["demo", "--mongo-uri", "mongodb://127.0.0.1:1"])
    assert result.exit_code == 1
    assert "must name the database" in result.output
    assert not served


@pytest.fixture
def running(monkeypatch) -> Iterator[Callable[[Flask], str]]:
    """Serve an app as ``demo`` does, on a free loopback port in a thread: its base URL. Under the
    ``flask`` command's environment, in which Flask ignores ``app.run()``."""
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")
    servers = []

    def run(app: Flask) -> str:
        server = demo_server.demo_server(app, demo_server.listen("127.0.0.1", 0))
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield run
    for server in servers:
        server.shutdown()
        server.server_close()


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
    """GET ``url`` as it answers, redirects not followed: status, headers, body."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=30)
    try:
        target = f"{parts.path}?{parts.query}" if parts.query else parts.path
        connection.request("GET", target, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.msg, response.read()
    finally:
        connection.close()


def test_the_demo_server_sends_one_date_header(running, memory):
    made = demo_server.make_demo_app(database=memory, rooms=20, now=NOW)
    base = running(made.app)
    api = f"{base}/api/v1/livechat/analytics/departments/amount-of-chats?start=2024-06-01&end=2024-06-14"
    answers = {
        "api": fetch(api, MANAGER),
        "not modified": fetch(api, {**MANAGER, "If-None-Match": fetch(api, MANAGER)[1]["ETag"]}),
        "page": fetch(f"{base}/api/v1/livechat/analytics/dashboard"),
        "root": fetch(f"{base}/"),
        "unknown": fetch(f"{base}/nothing"),
        "not logged in": fetch(api),
    }
    assert {name: status for name, (status, _, _) in answers.items()} == {
        "api": 200,
        "not modified": 304,
        "page": 200,
        "root": 302,
        "unknown": 404,
        "not logged in": 401,
    }
    assert {name: len(headers.get_all("Date")) for name, (_, headers, _) in answers.items()} == dict.fromkeys(
        answers, 1
    )
    assert json.loads(answers["api"][2])["success"] is True


def test_the_root_leads_to_the_signed_in_page_or_the_viewer(memory):
    fragment = f"userId={demo.MANAGER_ID}&token={demo.MANAGER_TOKEN}"
    expected = [
        ({}, f"/api/v1/livechat/analytics/dashboard#{fragment}"),
        ({"LIVECHAT_ANALYTICS_DASHBOARD_PATH": "board"}, f"/api/v1/livechat/analytics/board#{fragment}"),
        ({"LIVECHAT_ANALYTICS_DASHBOARD": False}, "/api/v1/livechat/analytics/docs"),
    ]
    for settings, location in expected:
        app = demo_server.make_demo_app(database=memory, rooms=0, settings=settings).app
        response = app.test_client().get("/")
        assert (response.status_code, response.headers["Location"]) == (302, location)
    off = {"LIVECHAT_ANALYTICS_DASHBOARD": False, "LIVECHAT_ANALYTICS_API_DOCS": False}
    nowhere = demo_server.make_demo_app(database=memory, rooms=0, settings=off).app
    assert nowhere.test_client().get("/").status_code == 404


def demo_process(port: int) -> subprocess.Popen:
    """``livechat-analytics demo`` on ``port`` with a small data set, in a process of its own."""
    script = "from livechat_analytics.cli import command_group; command_group(prog_name='livechat-analytics')"
    return subprocess.Popen(
        [sys.executable, "-c", script, "demo", "--rooms", "20", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_busy_port_is_one_line_naming_the_option_and_nothing_else():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        process = demo_process(port)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert stdout == ""
    assert stderr == f"Error: Port {port} is in use on 127.0.0.1: choose another with --port.\n"


def test_an_address_the_machine_lacks_is_one_line_naming_the_options():
    # 203.0.113.1 is for documentation (RFC 5737): no interface of the test machine has it.
    with pytest.raises(click.ClickException) as raised:
        demo_server.listen("203.0.113.1", 3000)
    assert raised.value.message == (
        "Cannot listen on 203.0.113.1 port 3000 (Cannot assign requested address): see --host and --port."
    )


def test_the_demo_listens_on_ipv6_and_ipv4_on_the_wildcard_address():
    with demo_server.listen("::", 0) as listening:
        port = listening.getsockname()[1]
        for host in ("::1", "127.0.0.1"):
            socket.create_connection((host, port), timeout=5).close()


def test_the_demo_listens_before_it_prints_and_its_root_leads_to_the_page():
    port = free_port()
    process = demo_process(port)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Generated 20 livechat rooms")
        # Taken before the first line: the connection is queued even before the server serves.
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        lines = [first]
        while not lines[-1].startswith("Serving "):
            lines.append(process.stdout.readline())
            assert lines[-1], process.poll()
        assert lines[-1] == f"Serving http://127.0.0.1:{port} (Ctrl+C to stop).\n"
        [page] = [line.strip() for line in lines if "#userId=" in line]
        status, headers, _ = fetch(f"http://127.0.0.1:{port}/")
        assert (status, f"http://127.0.0.1:{port}" + headers["Location"]) == (302, page)
    finally:
        process.terminate()
        process.communicate(timeout=30)


def children(pid: int) -> set[int]:
    """The processes ``pid`` started that are still running (Linux's own list)."""
    found: set[int] = set()
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


def test_sigterm_ends_the_demo_and_its_database_process():
    port = free_port()
    process = demo_process(port)
    try:
        assert process.stdout is not None
        while not process.stdout.readline().startswith("Serving "):
            assert process.poll() is None
        [database] = children(process.pid)
        process.terminate()  # SIGTERM, as kill, docker stop and service managers send it
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)
    # The database's process ended with the demo, not orphaned.
    deadline = time.monotonic() + 15
    while pathlib.Path(f"/proc/{database}").exists() and "Z" not in _state(database):
        assert time.monotonic() < deadline, "the demo's database outlived it"
        time.sleep(0.1)


def _state(pid: int) -> str:
    """A process's state letter (``Z``: ended, not yet reaped), or "Z" once it is gone."""
    try:
        return pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "Z"


@pytest.mark.parametrize(
    ("host", "shown"),
    [("0.0.0.0", "127.0.0.1"), ("::", "[::1]"), ("::1", "[::1]"), ("example.test", "example.test")],
)
def test_the_printed_url_names_a_host_curl_can_reach(served, host, shown):
    result = CliRunner().invoke(cli.command_group, ["demo", "--rooms", "0", "--host", host])
    assert f"'http://{shown}:3000/api/v1/" in result.output


def test_a_database_process_that_ends_at_once_is_one_error_with_its_words(monkeypatch, tmp_path):
    server = tmp_path / "secantusd-py"
    server.write_text("#!/bin/sh\necho 'starting'\necho 'storage: no space left on device' >&2\nexit 3\n")
    server.chmod(0o755)
    assert demo_refused(monkeypatch, tmp_path) == (
        "Error: The in-memory demo database (secantusd-py) did not start: starting;"
        " storage: no space left on device\n"
    )


def test_the_in_memory_database_runs_in_a_process_of_its_own_and_ends_with_the_block():
    with demo_server.memory_database() as database:
        status = database.client.admin.command("serverStatus")
        assert status["pid"] != os.getpid()
        database["probe"].insert_one({"_id": 1})
        assert database["probe"].count_documents({}) == 1
        port = database.client.address[1]
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
