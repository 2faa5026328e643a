"""The live family over HTTP on every backend: the queue and the agents at a frozen moment, the
contract's examples worked out by hand, where a queued room's moment comes from, the maximum's
fallbacks, the department filter, a monitor's scope, the 400s, answers never kept, and a property
against plain Python over random rooms and agents."""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction
from typing import Any

import documents
import pytest
import units
from hypothesis import given
from hypothesis import strategies as st
from support import ROOT, UTC, add_user, get_answer, property_settings

from livechat_analytics.endpoints.live import clock

ROOMS = "rocketchat_room"
INQUIRIES = "rocketchat_livechat_inquiry"
SETTINGS = "rocketchat_settings"
DEPARTMENTS = "rocketchat_livechat_department"
DEPARTMENT_AGENTS = "rocketchat_livechat_department_agents"
#: The moment of the requests.
NOW = dt.datetime(2024, 3, 11, 12, tzinfo=UTC)
AT = "2024-03-11T12:00:00.000Z"
S = dt.timedelta(seconds=1)
ZERO = {"queued": 0, "oldestWaitSeconds": 0, "open": 0, "onHold": 0}


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request of these tests is made at :data:`NOW`."""
    monkeypatch.setattr(clock, "now", lambda: NOW)


def room(_id: str, ago: float, **fields: Any) -> dict:
    """An open livechat room created ``ago`` seconds before :data:`NOW`, queued unless told."""
    return {"_id": _id, "t": "l", "ts": NOW - ago * S, "open": True, **fields}


def served(agent: str) -> dict:
    return {"servedBy": {"_id": agent, "username": agent, "ts": NOW - 5 * S}}


def agent(_id: str, **fields: Any) -> dict:
    return {"_id": _id, "username": _id, "name": _id.title(), "roles": ["user", "livechat-agent"], **fields}


# -- The queue ------------------------------------------------------------------------------------


def test_three_queued_rooms_of_one_department(client, headers, database):
    database[ROOMS].insert_many(
        [
            room("a", 10, departmentId="d1"),
            room("b", 100, departmentId="d1"),
            room("c", 50, departmentId="d1"),
        ]
    )
    body = get_answer(client, "live/queue", headers)
    row = {"queued": 3, "oldestWaitSeconds": 100, "open": 0, "onHold": 0}
    assert body == {"departments": [{"_id": "d1", **row}], "total": row, "at": AT, "success": True}


def test_open_and_on_hold_rooms_and_what_is_not_counted(client, headers, database):
    database[ROOMS].insert_many(
        [
            room("q", 30, departmentId="d2"),
            room("o", 400, departmentId="d2", **served("ana")),
            room("h", 500, departmentId="d2", onHold=True, **served("ana")),
            # On hold without an agent is on hold, not queued.
            room("h2", 900, onHold=True),
            room("n", 70.9),  # no department: null; 70.9 s is 70 whole seconds
            room("closed", 5000, departmentId="d2", open=False, closedAt=NOW - S),
            {"_id": "gone", "t": "l", "ts": NOW - 9000 * S, "departmentId": "d2", "closedAt": NOW},
            {"_id": "channel", "t": "c", "ts": NOW - 9000 * S, "open": True},
        ]
    )
    body = get_answer(client, "live/queue", headers)
    assert body["departments"] == [
        {"_id": None, "queued": 1, "oldestWaitSeconds": 70, "open": 0, "onHold": 1},
        {"_id": "d2", "queued": 1, "oldestWaitSeconds": 30, "open": 1, "onHold": 1},
    ]
    assert body["total"] == {"queued": 2, "oldestWaitSeconds": 70, "open": 1, "onHold": 2}


def test_a_queued_room_waits_since_its_queued_at_else_its_inquiry_s_else_its_creation(
    client, headers, database
):
    database[ROOMS].insert_many(
        [
            # Created long ago, queued 20 s ago (a transfer back to the queue): 20.
            room("own", 3000, departmentId="own", queuedAt=NOW - 20 * S),
            room("inquired", 3000, departmentId="inquired"),
            room("bare", 45, departmentId="bare"),
            # Its queuedAt is no date: the inquiry's counts.
            room("odd", 3000, departmentId="odd", queuedAt="yesterday"),
        ]
    )
    database[INQUIRIES].insert_many(
        [
            {"_id": "i1", "rid": "inquired", "status": "queued", "queuedAt": NOW - 40 * S},
            {"_id": "i2", "rid": "inquired", "status": "queued", "queuedAt": NOW - 41 * S},
            {"_id": "i3", "rid": "own", "status": "queued", "queuedAt": NOW - 2000 * S},
            {"_id": "i4", "rid": "odd", "status": "queued", "queuedAt": NOW - 61 * S},
            {"_id": "i5", "rid": "bare", "status": "queued", "queuedAt": "no date"},
        ]
    )
    rows = get_answer(client, "live/queue", headers)["departments"]
    assert {row["_id"]: row["oldestWaitSeconds"] for row in rows} == {
        "bare": 45,
        "inquired": 41,
        "odd": 61,
        "own": 20,
    }


def test_a_room_queued_after_the_moment_has_waited_nothing(client, headers, database):
    database[ROOMS].insert_one(room("ahead", 10, queuedAt=NOW + 3 * S))
    assert get_answer(client, "live/queue", headers)["total"] == {**ZERO, "queued": 1}


def test_the_department_filter_and_the_names(client, headers, database):
    database[DEPARTMENTS].insert_one({"_id": "d1", "name": "Sales", "type": "d"})
    database[ROOMS].insert_many(
        [
            room("a", 10, departmentId="d1"),
            room("b", 20, departmentId="d2"),
            room("c", 99, departmentId=["d1"]),
        ]
    )
    body = get_answer(client, "live/queue", headers, departmentId="d1", names="true")
    row = {"queued": 1, "oldestWaitSeconds": 10, "open": 0, "onHold": 0}
    assert body["departments"] == [{"_id": "d1", "name": "Sales", **row}]
    assert body["total"] == row
    empty = get_answer(client, "live/queue", headers, departmentId="nowhere")
    assert empty == {"departments": [], "total": ZERO, "at": AT, "success": True}


def test_the_names_setting_names_the_rows(make_app, headers, database):
    database[ROOMS].insert_many([room("a", 10, departmentId="d1"), room("b", 20)])
    client = make_app(DEPARTMENT_NAMES=True).test_client()
    rows = get_answer(client, "live/queue", headers)["departments"]
    assert [(row["_id"], row["name"]) for row in rows] == [(None, None), ("d1", None)]


def test_the_queue_as_csv(client, headers, database):
    database[ROOMS].insert_many([room("a", 10, departmentId="d1"), room("b", 20, **served("ana"))])
    response = client.get(f"{ROOT}/live/queue", query_string={"format": "csv"}, headers=headers)
    assert response.mimetype == "text/csv"
    assert response.get_data(as_text=True) == (
        "_id,queued,oldestWaitSeconds,open,onHold\r\n,0,0,1,0\r\nd1,1,10,0,0\r\n"
    )


# -- The agents -----------------------------------------------------------------------------------


def test_an_agent_with_two_open_chats_of_four(client, headers, database):
    database["users"].insert_one(
        agent("ana", status="online", statusLivechat="available", livechat={"maxNumberSimultaneousChat": 4})
    )
    database[ROOMS].insert_many(
        [
            room("o1", 10, **served("ana")),
            room("o2", 20, **served("ana")),
            room("h1", 30, onHold=True, **served("ana")),
            room("c1", 40, open=False, **served("ana")),
            room("q1", 50),
        ]
    )
    body = get_answer(client, "live/agents", headers)
    assert body == {
        "agents": [
            {
                "_id": "ana",
                "username": "ana",
                "name": "Ana",
                "status": "online",
                "statusLivechat": "available",
                "openChats": 2,
                "onHoldChats": 1,
                "maxChats": 4,
                "occupancy": 0.5,
            }
        ],
        "at": AT,
        "success": True,
    }


def test_the_maximum_falls_back_to_the_setting(client, headers, database):
    database[SETTINGS].insert_one({"_id": "Livechat_maximum_chats_per_agent", "value": 3})
    database["users"].insert_many(
        [
            agent("bo", status="away", statusLivechat="available"),
            agent("cy", status="busy", livechat={"maxNumberSimultaneousChat": 0}),
            agent("dee", livechat={"maxNumberSimultaneousChat": "8"}),
            agent(
                "eli", status="invisible", statusLivechat="odd", livechat={"maxNumberSimultaneousChat": 2.5}
            ),
            # The manager of the headers holds no agent role: no row.
        ]
    )
    database[ROOMS].insert_many([room("b1", 10, **served("bo")), room("d1", 10, **served("dee"))])
    rows = get_answer(client, "live/agents", headers)["agents"]
    assert [
        (
            row["username"],
            row["status"],
            row["statusLivechat"],
            row["openChats"],
            row["maxChats"],
            row["occupancy"],
        )
        for row in rows
    ] == [
        ("bo", "away", "available", 1, 3, 0.33),
        ("cy", "busy", "not-available", 0, 3, 0.0),
        # 1 / 8 = 0.125, rounded half up.
        ("dee", "offline", "not-available", 1, 8, 0.13),
        ("eli", "offline", "not-available", 0, 3, 0.0),
    ]


def test_without_a_maximum_the_occupancy_is_null(client, headers, database):
    database[SETTINGS].insert_one({"_id": "Livechat_maximum_chats_per_agent", "value": 0})
    database["users"].insert_one(agent("fay"))
    database[ROOMS].insert_one(room("f1", 10, **served("fay")))
    [row] = get_answer(client, "live/agents", headers)["agents"]
    assert (row["openChats"], row["maxChats"], row["occupancy"]) == (1, None, None)


def test_the_agents_of_one_department(client, headers, database):
    database["users"].insert_many(
        [agent("ana"), agent("bo"), {"_id": "zed", "username": "zed", "roles": ["user"]}]
    )
    database[DEPARTMENT_AGENTS].insert_many(
        [
            {"_id": "m1", "agentId": "bo", "departmentId": "d1"},
            {"_id": "m2", "agentId": "zed", "departmentId": "d1"},
            {"_id": "m3", "agentId": "ana", "departmentId": "d2"},
        ]
    )
    # bo's chat of another department counts: the occupancy is the agent's.
    database[ROOMS].insert_one(room("b1", 10, departmentId="d2", **served("bo")))
    rows = get_answer(client, "live/agents", headers, departmentId="d1")["agents"]
    assert [(row["_id"], row["openChats"]) for row in rows] == [("bo", 1)]
    assert get_answer(client, "live/agents", headers, departmentId="")["agents"][0]["_id"] == "ana"


# -- A monitor's scope ----------------------------------------------------------------------------


def visible_open(documents: units.World, caller: str) -> list[dict]:
    return [r for r in units.visible(documents, caller) if r["t"] == "l" and r.get("open") is True]


def expected_queue(rooms: list[dict]) -> list[dict]:
    """The queue's rows of these open rooms, in plain Python (no room of the world has queuedAt)."""
    rows: dict[Any, dict[str, Any]] = {}
    for one in rooms:
        key = one.get("departmentId") if isinstance(one.get("departmentId"), str) else None
        row = rows.setdefault(key, {"_id": key, **ZERO})
        if one.get("onHold") is True:
            row["onHold"] += 1
        elif "servedBy" not in one:
            row["queued"] += 1
            waited = int((NOW - one["ts"]).total_seconds())
            row["oldestWaitSeconds"] = max(row["oldestWaitSeconds"], waited)
        else:
            row["open"] += 1
    return [rows[key] for key in sorted(rows, key=lambda key: (key is not None, key or ""))]


def test_a_monitor_sees_the_queue_and_the_agents_of_their_units(make_app, database):
    documents = units.world()
    units.store(database, documents)
    client = make_app().test_client()
    theirs = get_answer(client, "live/queue", units.headers(units.MONITOR1))
    assert theirs["departments"] == expected_queue(visible_open(documents, units.MONITOR1))
    everything = get_answer(client, "live/queue", units.headers(units.MANAGER))
    assert everything["departments"] == expected_queue(visible_open(documents, units.MANAGER))
    assert theirs["departments"] != everything["departments"]

    departments = units.departments_of(documents, units.MONITOR1)
    members = {m["agentId"] for m in documents[units.DEPARTMENT_AGENTS] if m["departmentId"] in departments}
    seen = visible_open(documents, units.MONITOR1)
    rows = get_answer(client, "live/agents", units.headers(units.MONITOR1))["agents"]
    assert [(row["_id"], row["openChats"], row["onHoldChats"]) for row in rows] == [
        (
            member,
            sum(
                1 for r in seen if r.get("servedBy", {}).get("_id") == member and r.get("onHold") is not True
            ),
            sum(1 for r in seen if r.get("servedBy", {}).get("_id") == member and r.get("onHold") is True),
        )
        for member in sorted(members)
    ]
    # bo serves an open room of C, in U2: the manager's row counts it, the monitor's does not.
    boss = {
        row["_id"]: row for row in get_answer(client, "live/agents", units.headers(units.MANAGER))["agents"]
    }
    assert boss["bo"]["openChats"] == 1 and {row["_id"]: row for row in rows}["bo"]["openChats"] == 0


def test_a_monitor_asking_for_a_department_they_do_not_see_gets_nothing(make_app, database):
    units.store(database, units.world())
    client = make_app().test_client()
    caller = units.headers(units.MONITOR1)
    queue = get_answer(client, "live/queue", caller, departmentId=units.C)
    assert (queue["departments"], queue["total"]) == ([], ZERO)
    assert get_answer(client, "live/agents", caller, departmentId=units.C)["agents"] == []


# -- Requests -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["live/queue", "live/agents", "live/stream"])
def test_a_window_is_refused(client, headers, path):
    response = client.get(f"{ROOT}/{path}", query_string={"start": "2024-03-01"}, headers=headers)
    assert response.status_code == 400
    assert response.get_json() == {
        "success": False,
        "error": 'The "start" query parameter is not allowed.',
        "errorType": "invalid-params",
        "details": {"start": ["Is not allowed."]},
    }


def test_names_is_true_or_false(client, headers):
    response = client.get(f"{ROOT}/live/queue", query_string={"names": "yes"}, headers=headers)
    assert response.status_code == 400
    assert response.get_json() == {
        "success": False,
        "error": 'The "names" query parameter must be true or false.',
        "errorType": "invalid-params",
        "details": {"names": ["Must be true or false."]},
    }


def test_an_agent_may_not_ask(client, database):
    caller = add_user(database, "agent", token="agent-token", roles=("livechat-agent",))
    response = client.get(f"{ROOT}/live/agents", headers=caller)
    assert response.status_code == 403
    assert response.get_json() == {
        "success": False,
        "error": "User does not have the permissions required for this action [error-unauthorized]",
    }


def test_a_live_answer_is_never_kept(make_app, headers, database):
    client = make_app(CACHE_SECONDS=60).test_client()
    first = client.get(f"{ROOT}/live/queue", headers=headers)
    assert first.headers["Cache-Control"] == "private, max-age=0"
    database[ROOMS].insert_one(room("new", 5, departmentId="d1"))
    assert get_answer(client, "live/queue", headers)["total"] == {**ZERO, "queued": 1, "oldestWaitSeconds": 5}


# -- A property against plain Python --------------------------------------------------------------

_STATES = st.sampled_from(["queued", "open", "onhold", "closed"])


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[dict], list[dict], Any]:
    """Open and closed rooms of a few departments and agents, some with a ``queuedAt``, some with
    an inquiry; agents with and without a maximum; the setting or none."""
    names = ["ana", "bo", "cy", "dee"]
    users = [
        agent(
            name,
            status=draw(st.sampled_from(["online", "away", "busy", "offline", None])),
            livechat={"maxNumberSimultaneousChat": draw(st.sampled_from([None, 0, 1, 3, 7, "4", -2]))},
        )
        for name in names[: draw(st.integers(0, len(names)))]
    ]
    rooms = []
    for number in range(draw(st.integers(0, 12))):
        state = draw(_STATES)
        one = room(
            f"r{number}",
            draw(st.integers(0, 10**6)) / 1000,
            departmentId=draw(st.sampled_from([None, "d1", "d2"])),
        )
        if state == "closed":
            one["open"] = False
        if state == "onhold":
            one["onHold"] = True
        if state in ("open", "onhold") and (state == "open" or draw(st.booleans())):
            one |= served(draw(st.sampled_from(names)))
        if draw(st.booleans()):
            one["queuedAt"] = NOW - draw(st.integers(0, 10**6)) * dt.timedelta(milliseconds=1)
        rooms.append(one)
    setting = draw(st.sampled_from([None, 2, 5]))
    return rooms, users, setting


def plain_queue(rooms: list[dict]) -> dict:
    rows: dict[Any, dict[str, Any]] = {}
    firsts: dict[Any, dt.datetime] = {}
    for one in rooms:
        if one.get("open") is not True:
            continue
        key = one.get("departmentId")
        row = rows.setdefault(key, {"_id": key, **ZERO})
        if one.get("onHold") is True:
            row["onHold"] += 1
        elif "servedBy" in one:
            row["open"] += 1
        else:
            row["queued"] += 1
            moment = one.get("queuedAt", one["ts"])
            firsts[key] = min(firsts.get(key, moment), moment)
    for key, first in firsts.items():
        rows[key]["oldestWaitSeconds"] = max(0, int((NOW - first) / dt.timedelta(milliseconds=1)) // 1000)
    order = sorted(rows, key=lambda key: (key is not None, key or ""))
    total = {name: sum(rows[key][name] for key in order) for name in ("queued", "open", "onHold")}
    total["oldestWaitSeconds"] = max([rows[key]["oldestWaitSeconds"] for key in order], default=0)
    return {"departments": [rows[key] for key in order], "total": {**ZERO, **total}}


def plain_agents(rooms: list[dict], users: list[dict], setting: Any) -> list[tuple]:
    answer = []
    for user in sorted(users, key=lambda user: user["username"]):
        own = user["livechat"]["maxNumberSimultaneousChat"]
        own = int(own) if isinstance(own, (int, str)) and int(own) > 0 else None
        most = own or setting
        mine = [r for r in rooms if r.get("open") is True and r.get("servedBy", {}).get("_id") == user["_id"]]
        opened = sum(1 for r in mine if r.get("onHold") is not True)
        held = len(mine) - opened
        share = None if most is None else math.floor(Fraction(100 * opened, most) + Fraction(1, 2)) / 100
        answer.append((user["_id"], user.get("status") or "offline", opened, held, most, share))
    return answer


@given(world=worlds())
@property_settings(40)
def test_the_live_state_is_plain_python_over_the_documents(client, headers, database, world):
    rooms, users, setting = world
    for collection in (ROOMS, SETTINGS):
        database[collection].delete_many({})
    database["users"].delete_many({"roles": "livechat-agent"})
    if rooms:
        database[ROOMS].insert_many([dict(one) for one in rooms])
    if users:
        database["users"].insert_many([dict(user) for user in users])
    if setting is not None:
        database[SETTINGS].insert_one({"_id": "Livechat_maximum_chats_per_agent", "value": setting})
    queue = get_answer(client, "live/queue", headers)
    assert {key: queue[key] for key in ("departments", "total")} == plain_queue(rooms)
    agents = get_answer(client, "live/agents", headers)["agents"]
    assert [
        (row["_id"], row["status"], row["openChats"], row["onHoldChats"], row["maxChats"], row["occupancy"])
        for row in agents
    ] == plain_agents(rooms, users, setting)


# -- The demo's data ------------------------------------------------------------------------------


def test_the_demo_data_holds_inquiries_and_maximums(client, database, demo_data):
    queued = list(database[ROOMS].find({"t": "l", "open": True, "servedBy": {"$exists": False}}))
    inquiries = {inquiry["rid"]: inquiry for inquiry in database[INQUIRIES].find()}
    assert queued and sorted(inquiries) == sorted(one["_id"] for one in queued)
    assert all(inquiries[one["_id"]]["queuedAt"] >= one["ts"] for one in queued)
    agents = get_answer(client, "live/agents", documents.MANAGER)["agents"]
    own = {a["_id"]: a["livechat"]["maxNumberSimultaneousChat"] for a in demo_data.agents if "livechat" in a}
    assert 0 < len(own) < len(agents)
    assert {row["_id"]: row["maxChats"] for row in agents} == {
        a["_id"]: own.get(a["_id"], 4) for a in demo_data.agents
    }
