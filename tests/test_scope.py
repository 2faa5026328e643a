"""Who sees what: a monitor's answers cover the rooms of their units' departments (and of the
departments they serve as an agent) and nothing else; managers, admins, and monitors who are also
managers see everything, as does everyone while no unit exists; a host's authenticator can restrict
its users; kept answers and ETags never cross callers; unit changes are read within
``SETTINGS_SECONDS``; the OpenAPI document says so. On every backend, over HTTP.

The central check asks every endpoint, as a monitor, over the world of :mod:`units`, and compares
the answer with the manager's over a second database holding only what that monitor may see,
chosen in plain Python by the rule of who sees what.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import units
from flask import Request
from pymongo.database import Database
from support import NOW_ENDPOINTS, ROOT
from units import (
    ADMIN,
    AGENT_MONITOR,
    BOSS_MONITOR,
    DAYS,
    LONE_MONITOR,
    MANAGER,
    MONITOR1,
    MONITOR2,
    U1,
    U2,
    UNIT_NAMES,
    WINDOW,
    A,
    B,
    C,
    D,
    E,
    F,
)

from livechat_analytics import Authenticator, Scope, User
from livechat_analytics.endpoints import ENDPOINTS
from livechat_analytics.endpoints.overview.chart import CHART_NAMES

#: Answers of now taken a moment apart are compared: the live family's clock stands still.
pytestmark = pytest.mark.usefixtures("stopped_live_clock")

AMOUNT = "departments/amount-of-chats"
#: The series of ``charts-data`` and of ``agent-overview``; the boards of ``overview``.
SERIES = CHART_NAMES
#: The parameters each endpoint needs besides the window.
NEEDS: dict[str, dict[str, str]] = {
    "dashboards/charts-data": {"chartName": "Total_conversations"},
    "overview": {"name": "Conversations", **DAYS},
    "agent-overview": {"name": "Total_conversations", **DAYS},
}
#: Endpoints without ``start`` and ``end`` (the overviews have ``from`` and ``to``).
NO_WINDOW = {"overview", "agent-overview", *NOW_ENDPOINTS}
#: More of what some endpoints answer: each a set of parameters asked besides the base ones.
MORE: dict[str, list[dict[str, str]]] = {
    AMOUNT: [{"answered": "true"}, {"count": "1", "offset": "1"}],
    "agents/available-for-service-history": [{"fullReport": "true"}],
    "overview": [{"name": "Productivity"}],
    "agent-overview": [{"name": name} for name in SERIES[1:]],
    "dashboards/charts-data": [{"chartName": name} for name in SERIES[1:]],
    **{
        path: [{"byDepartment": "true", "compare": "previous"}, {"groupBy": "week"}]
        for path in ENDPOINTS
        if path.startswith("trends/") and path != "trends/heatmap"
    },
}
#: The restricted callers of the world, each with a department they see.
RESTRICTED = {MONITOR1: A, AGENT_MONITOR: D, LONE_MONITOR: A}
EMPTY_PAGE = {"departments": [], "count": 0, "offset": 0, "total": 0, "success": True}


def takes_department(path: str) -> bool:
    """Whether the endpoint takes ``departmentId``: every one but the agents' and the reports'."""
    return not path.startswith(("agents/", "dashboards/conversations-by-"))


def base(path: str) -> dict[str, str]:
    """What the endpoint needs: the window (or days) and its own required parameters."""
    return {**({} if path in NO_WINDOW else WINDOW), **NEEDS.get(path, {})}


def asked(path: str, department: str, *, more: bool = True) -> list[tuple[dict[str, str], str]]:
    """The requests made of an endpoint, each its parameters and format: its base parameters as JSON
    and CSV, then (``more``) its other parameters and ``department`` as JSON."""
    params = base(path)
    requests = [(params, "json"), (params, "csv")]
    if more:
        requests += [({**params, **extra}, "json") for extra in MORE.get(path, [])]
        if takes_department(path):
            requests.append(({**params, "departmentId": department}, "json"))
    return requests


def fetch(client: Any, caller: str, path: str, params: dict[str, str], output: str = "json") -> Any:
    """The 200 answer of ``caller`` (JSON, or the CSV text); no answer ever names a unit."""
    query = {**params, "format": "csv"} if output == "csv" else params
    response = client.get(f"{ROOT}/{path}", query_string=query, headers=units.headers(caller))
    text = response.get_data(as_text=True)
    assert response.status_code == 200, (caller, path, params, text)
    for unit, name in UNIT_NAMES.items():
        assert name not in text and unit not in text, (caller, path, params, text)
    return response.get_json() if output == "json" else text


def totalizers(body: dict[str, Any]) -> dict[str, Any]:
    return {item["title"]: item["value"] for item in body["totalizers"]}


@pytest.fixture
def world(database: Database) -> units.World:
    """The world of :mod:`units`, units included, stored in the test database."""
    documents = units.world()
    units.store(database, documents)
    return documents


@pytest.fixture
def seen_by(database: Database, world: units.World) -> Iterator[Callable[[str], Database]]:
    """``seen_by(caller)``: a second database on the test database's client holding what the
    restricted caller may see (and the manager), dropped after the test."""
    made: list[str] = []

    def make(caller: str) -> Database:
        name = f"{database.name}_{len(made)}"
        made.append(name)
        target = database.client[name]
        units.store_visible(target, world, caller)
        return target

    yield make
    for name in made:
        database.client.drop_database(name)


# -- Every endpoint -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
def test_a_monitors_answer_is_the_managers_over_what_they_may_see(path, make_app, world, seen_by):
    """Monitor1 sees U1's departments A and B and the rooms that still carry U1 (of E); the agent
    monitor sees U2's C and D, which they serve; the monitor of no unit sees nothing, so their
    answers are the manager's over a database of no room and no agent."""
    ours = {names: make_app(DEPARTMENT_NAMES=names).test_client() for names in (False, True)}
    for caller, department in RESTRICTED.items():
        seen = seen_by(caller)
        theirs = {
            names: make_app(database=seen, DEPARTMENT_NAMES=names).test_client() for names in (False, True)
        }
        for names in (False, True):
            for params, output in asked(path, department, more=names):
                mine = fetch(ours[names], caller, path, params, output)
                assert mine == fetch(theirs[names], MANAGER, path, params, output), (caller, params, output)


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
def test_managers_admins_and_managing_monitors_see_everything(path, make_app, database):
    """The manager's answers before any unit exists are everyone's then (a monitor is no one
    special), and stay the manager's, the admin's and the managing monitor's once the units exist."""
    documents = units.world()
    units.store(database, documents, units=False)
    client = make_app(DEPARTMENT_NAMES=True).test_client()
    requests = asked(path, C)
    everything = [fetch(client, MANAGER, path, params, output) for params, output in requests]
    for caller in (MONITOR1, LONE_MONITOR, AGENT_MONITOR):
        assert [fetch(client, caller, path, params, output) for params, output in requests] == everything
    units.store_units(database, documents)
    for caller in (MANAGER, ADMIN, BOSS_MONITOR):
        assert [fetch(client, caller, path, params, output) for params, output in requests] == everything


# -- The department family, in plain Python -------------------------------------------------------


def test_a_monitor_counts_the_rooms_of_their_departments_only(make_app, world):
    client = make_app(DEPARTMENT_NAMES=True).test_client()
    # In the window, A has a1 to a6 and ca (transferred from C), B b1 to b4, E e1 and e2.
    assert fetch(client, MONITOR1, AMOUNT, {**WINDOW, "count": "0"}) == {
        "departments": [
            {"_id": A, "name": "Sales", "rooms": 7},
            {"_id": B, "name": "Billing", "rooms": 4},
            {"_id": E, "name": "Legacy", "rooms": 2},
        ],
        "count": 3,
        "offset": 0,
        "total": 3,
        "success": True,
    }
    # C has c1 to c4 and ac (transferred from A); D d1 to d3.
    assert fetch(client, AGENT_MONITOR, AMOUNT, {**WINDOW, "count": "0"})["departments"] == [
        {"_id": C, "name": "Support", "rooms": 5},
        {"_id": D, "name": "Returns", "rooms": 3},
    ]
    assert fetch(client, MONITOR2, AMOUNT, WINDOW)["departments"] == [
        {"_id": C, "name": "Support", "rooms": 5}
    ]
    # The rows are plain Python's over the rooms each sees.
    for caller in (MONITOR1, MONITOR2, AGENT_MONITOR):
        rows = fetch(make_app().test_client(), caller, AMOUNT, {**WINDOW, "count": "0"})["departments"]
        assert rows == units.amount_rows(units.visible(world, caller))


def test_a_monitors_department_lists_hold_their_departments_only(make_app, world):
    client = make_app(DEPARTMENT_NAMES=True).test_client()
    by_department = fetch(client, MONITOR1, "dashboards/conversations-by-department", WINDOW)
    assert by_department == {
        "data": [
            {"label": "Legacy", "value": 2},
            {"label": "Billing", "value": 4},
            {"label": "Sales", "value": 7},
        ],
        "total": 13,
        "unspecified": 0,
        "success": True,
    }
    # Open: a3, a4 (on hold) and a5 (queued); b2 and b4 (queued); e2.
    assert fetch(client, MONITOR1, "dashboards/charts/chats-per-department", WINDOW) == {
        "Billing": {"open": 2, "closed": 2},
        "Legacy": {"open": 1, "closed": 1},
        "Sales": {"open": 3, "closed": 4},
        "success": True,
    }
    assert fetch(client, AGENT_MONITOR, "dashboards/charts/chats-per-department", WINDOW) == {
        "Returns": {"open": 2, "closed": 1},
        "Support": {"open": 3, "closed": 2},
        "success": True,
    }
    series = fetch(client, MONITOR1, "trends/amount-of-chats", {**WINDOW, "byDepartment": "true"})["series"]
    assert sorted(line["_id"] for line in series) == [A, B, E]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (AMOUNT, {**WINDOW, "count": "0"}),
        ("departments/total-transferred-chats", WINDOW),
        ("dashboards/conversations-by-department", WINDOW),
        ("dashboards/charts/chats-per-department", WINDOW),
        ("trends/amount-of-chats", {**WINDOW, "byDepartment": "true"}),
    ],
)
def test_no_answer_lists_a_unit_as_a_department(make_app, world, path, params):
    """Whoever asks, with department names on; :func:`fetch` refuses a unit's name or id."""
    client = make_app(DEPARTMENT_NAMES=True).test_client()
    for caller in units.CALLER_ROLES:
        for output in ("json", "csv"):
            fetch(client, caller, path, params, output)


# -- Who sees everything, who sees nothing --------------------------------------------------------

#: Every room created in the window, per department: n1 and n3 have none, n2 a null one.
EVERY_ROW = [
    {"_id": None, "rooms": 3},
    {"_id": A, "rooms": 7},
    {"_id": B, "rooms": 4},
    {"_id": C, "rooms": 5},
    {"_id": D, "rooms": 3},
    {"_id": E, "rooms": 2},
]


def test_managers_admins_and_managing_monitors_count_every_room(make_app, world):
    client = make_app().test_client()
    assert units.amount_rows(world[units.ROOMS]) == EVERY_ROW
    for caller in (MANAGER, ADMIN, BOSS_MONITOR):
        assert fetch(client, caller, AMOUNT, {**WINDOW, "count": "0"})["departments"] == EVERY_ROW
        body = fetch(client, caller, "dashboards/conversation-totalizers", WINDOW)
        assert totalizers(body)["Total_conversations"] == 24


def test_a_monitor_of_no_unit_gets_zeros(make_app, world):
    client = make_app().test_client()
    assert fetch(client, LONE_MONITOR, AMOUNT, WINDOW) == EMPTY_PAGE
    assert totalizers(fetch(client, LONE_MONITOR, "dashboards/conversation-totalizers", WINDOW)) == {
        "Total_conversations": 0,
        "Open_conversations": 0,
        "On_Hold_conversations": 0,
        "Total_messages": 0,
        "Total_visitors": 0,
    }
    assert fetch(client, LONE_MONITOR, "dashboards/charts/chats", WINDOW) == {
        "open": 0,
        "closed": 0,
        "queued": 0,
        "onhold": 0,
        "success": True,
    }
    assert fetch(client, LONE_MONITOR, "dashboards/charts/agents-status", {}) == {
        "offline": 0,
        "away": 0,
        "busy": 0,
        "available": 0,
        "success": True,
    }


def test_while_no_unit_exists_a_monitor_sees_everything(make_app, database):
    units.store(database, units.world(), units=False)
    client = make_app().test_client()
    for caller in (MONITOR1, LONE_MONITOR):
        assert fetch(client, caller, AMOUNT, {**WINDOW, "count": "0"})["departments"] == EVERY_ROW


# -- A department outside the scope ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (AMOUNT, WINDOW),
        ("dashboards/conversation-totalizers", WINDOW),
        ("trends/amount-of-chats", WINDOW),
        ("dashboards/charts-data", {**WINDOW, "chartName": "Total_conversations"}),
        ("dashboards/charts/agents-status", {}),
        ("dashboards/agents-productivity-totalizers", WINDOW),
    ],
)
def test_a_department_outside_the_scope_answers_as_an_empty_one(make_app, world, path, params):
    """F, in U1, has no room and no agent: what the manager gets for it is an empty department's
    answer, and what a monitor gets for any department they do not see: never a 403, never its
    numbers. Nor its agents: bo serves A, which monitor1 sees, and C, which they do not."""
    client = make_app().test_client()
    empty = fetch(client, MANAGER, path, {**params, "departmentId": F})
    for caller, departments in {MONITOR1: (C, D, "made-up"), MONITOR2: (A, D), LONE_MONITOR: (A, C)}.items():
        for department in departments:
            assert fetch(client, caller, path, {**params, "departmentId": department}) == empty, (
                caller,
                department,
            )
    # The manager's answer for C is not empty: the comparison means something.
    assert fetch(client, MANAGER, path, {**params, "departmentId": C}) != empty


def test_an_empty_department_is_zeros_and_no_rows(make_app, world):
    client = make_app().test_client()
    assert fetch(client, MONITOR1, AMOUNT, {**WINDOW, "departmentId": C}) == EMPTY_PAGE
    body = fetch(client, MONITOR1, "dashboards/conversation-totalizers", {**WINDOW, "departmentId": C})
    assert set(totalizers(body).values()) == {0}


# -- A host's own authenticator ----------------------------------------------------------------------


class HostKeys(Authenticator):
    """A host's own users, by API key, each with what the host lets them see."""

    def __init__(self, scopes: dict[str, Any]) -> None:
        self.scopes = scopes

    def authenticate(self, request: Request) -> User | None:
        key = request.headers.get("X-Api-Key")
        return User(key) if key in self.scopes else None

    def authorize(self, user: User, permission: str) -> bool:
        return True

    def scope(self, user: User) -> Any:
        return self.scopes[user.id]


class OpenHost(Authenticator):
    """A host that says nothing of scopes."""

    def authenticate(self, request: Request) -> User | None:
        return User("anyone")

    def authorize(self, user: User, permission: str) -> bool:
        return True


def host_get(client: Any, key: str, path: str, params: dict[str, str]) -> Any:
    response = client.get(f"{ROOT}/{path}", query_string=params, headers={"X-Api-Key": key})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_hosts_authenticator_restricts_its_users_to_their_departments(make_app, world):
    authenticator = HostKeys(
        {
            "sales": Scope(departments=frozenset({A})),
            "south": Scope(departments=frozenset({C, D})),
            "none": Scope(departments=frozenset()),
            "all": None,
        }
    )
    client = make_app(authenticator=authenticator).test_client()
    every = {**WINDOW, "count": "0"}
    # A's rooms only: not E's, which carry U1 (the host named no unit).
    assert host_get(client, "sales", AMOUNT, every)["departments"] == [{"_id": A, "rooms": 7}]
    # a1, a2, a6, ca closed; a3 open; a4 on hold; a5 queued.
    assert host_get(client, "sales", "dashboards/charts/chats", WINDOW) == {
        "open": 1,
        "closed": 4,
        "queued": 1,
        "onhold": 1,
        "success": True,
    }
    assert host_get(client, "south", AMOUNT, every)["departments"] == [
        {"_id": C, "rooms": 5},
        {"_id": D, "rooms": 3},
    ]
    assert host_get(client, "none", AMOUNT, WINDOW) == EMPTY_PAGE
    assert host_get(client, "all", AMOUNT, every)["departments"] == EVERY_ROW


def test_an_authenticator_that_names_no_scope_sees_everything(make_app, world):
    client = make_app(authenticator=OpenHost()).test_client()
    assert OpenHost().scope(User("anyone")) is None
    assert host_get(client, "any", AMOUNT, {**WINDOW, "count": "0"})["departments"] == EVERY_ROW


# -- Kept answers and ETags -----------------------------------------------------------------------


@pytest.mark.parametrize("shared", [False, True], ids=["in-process", "redis"])
def test_a_kept_answer_is_never_handed_to_another_caller(make_app, world, request, shared):
    """Each caller in turn, on the same URL, within the answer cache's lifetime; through Redis,
    the callers alternate between two apps that share it."""
    settings: dict[str, Any] = {"CACHE_SECONDS": 60, "SETTINGS_SECONDS": 60}
    if shared:
        settings |= {
            "CACHE_TYPE": "RedisCache",
            "CACHE_URL": request.getfixturevalue("redis_url"),
            "CACHE_CONFIG": {"CACHE_KEY_PREFIX": f"scope{uuid.uuid4().hex[:8]}:"},
        }
    clients = [make_app(**settings).test_client() for _ in range(2 if shared else 1)]
    order = [MONITOR1, MANAGER, MONITOR2, LONE_MONITOR, AGENT_MONITOR, ADMIN, MONITOR1, MANAGER, MONITOR2]
    for number, caller in enumerate(order):
        client = clients[number % len(clients)]
        rows = fetch(client, caller, AMOUNT, WINDOW)["departments"]
        assert rows == units.amount_rows(units.visible(world, caller)), caller


def test_a_monitor_never_gets_a_304_for_the_managers_body(make_app, world):
    client = make_app(CACHE_SECONDS=60, SETTINGS_SECONDS=60).test_client()
    url = f"{ROOT}/{AMOUNT}"
    managers = client.get(url, query_string=WINDOW, headers=units.headers(MANAGER))
    etag = managers.headers["ETag"]
    answer = client.get(url, query_string=WINDOW, headers={**units.headers(MONITOR1), "If-None-Match": etag})
    assert answer.status_code == 200
    assert answer.get_json()["departments"] == [
        {"_id": A, "rooms": 7},
        {"_id": B, "rooms": 4},
        {"_id": E, "rooms": 2},
    ]
    own = answer.headers["ETag"]
    assert own != etag
    again = client.get(url, query_string=WINDOW, headers={**units.headers(MONITOR1), "If-None-Match": own})
    assert (again.status_code, again.data) == (304, b"")
    # Nor the other way round.
    back = client.get(url, query_string=WINDOW, headers={**units.headers(MANAGER), "If-None-Match": own})
    assert back.status_code == 200 and back.get_json()["departments"] == EVERY_ROW


def test_the_etag_carries_the_callers_scope_even_where_the_bodies_agree(make_app, world):
    """The manager and monitor1 get the same body for A; still the monitor's validator is their
    own, as the restriction is part of the ETag."""
    client = make_app(CACHE_SECONDS=60, SETTINGS_SECONDS=60).test_client()
    url, params = f"{ROOT}/{AMOUNT}", {**WINDOW, "departmentId": A}
    managers = client.get(url, query_string=params, headers=units.headers(MANAGER))
    answer = client.get(
        url,
        query_string=params,
        headers={**units.headers(MONITOR1), "If-None-Match": managers.headers["ETag"]},
    )
    assert answer.status_code == 200
    assert answer.get_json() == managers.get_json()
    assert answer.headers["ETag"] != managers.headers["ETag"]


# -- Unit changes ---------------------------------------------------------------------------------


def departments_seen(client: Any, caller: str) -> list[str | None]:
    return [row["_id"] for row in fetch(client, caller, AMOUNT, {**WINDOW, "count": "0"})["departments"]]


def test_unit_changes_take_effect_at_the_next_request(make_app, database, world):
    client = make_app(SETTINGS_SECONDS=0).test_client()
    assert departments_seen(client, MONITOR1) == [A, B, E]
    # zed starts serving A: monitor1 sees his activity and status.
    agents = fetch(client, MONITOR1, "agents/available-for-service-history", WINDOW)["agents"]
    assert [agent["_id"] for agent in agents] == ["ana", "bo", "cy"]
    database[units.DEPARTMENT_AGENTS].insert_one(
        {"_id": "da-zed-a", "agentId": "zed", "departmentId": A, "username": "zed"}
    )
    agents = fetch(client, MONITOR1, "agents/available-for-service-history", WINDOW)["agents"]
    assert [agent["_id"] for agent in agents] == ["ana", "bo", "cy", "zed"]
    # Monitor1 joins U2.
    database[units.MONITORS].insert_one(
        {"_id": "mon-monitor1-south", "monitorId": MONITOR1, "unitId": U2, "username": MONITOR1}
    )
    assert departments_seen(client, MONITOR1) == [A, B, C, E]
    # D joins U1: its rooms carry no ancestor, and are seen by their department.
    database[units.DEPARTMENTS].update_one({"_id": D}, {"$set": {"parentId": U1, "ancestors": [U1]}})
    assert departments_seen(client, MONITOR1) == [A, B, C, D, E]
    # Monitor2 starts serving A as an agent.
    database[units.DEPARTMENT_AGENTS].insert_one(
        {"_id": "da-monitor2-a", "agentId": MONITOR2, "departmentId": A, "username": MONITOR2}
    )
    assert departments_seen(client, MONITOR2) == [A, C]
    # Monitor1 leaves every unit.
    database[units.MONITORS].delete_many({"monitorId": MONITOR1})
    assert departments_seen(client, MONITOR1) == []
    # The last unit goes: nobody is restricted.
    database[units.DEPARTMENTS].delete_many({"type": "u"})
    assert departments_seen(client, MONITOR1) == [None, A, B, C, D, E]


def test_a_unit_change_takes_effect_within_settings_seconds(make_app, database, world):
    client = make_app(SETTINGS_SECONDS=1).test_client()
    assert departments_seen(client, MONITOR1) == [A, B, E]
    database[units.MONITORS].insert_one(
        {"_id": "mon-monitor1-south", "monitorId": MONITOR1, "unitId": U2, "username": MONITOR1}
    )
    deadline = time.monotonic() + 1.5
    while departments_seen(client, MONITOR1) != [A, B, C, E]:
        assert time.monotonic() < deadline, "the unit change took longer than SETTINGS_SECONDS"
        time.sleep(0.1)


# -- The OpenAPI document -------------------------------------------------------------------------


def test_every_operation_says_a_monitors_answer_covers_their_units(make_app, memory):
    document = make_app(database=memory).test_client().get(f"{ROOT}/openapi.json").get_json()
    for path in ENDPOINTS:
        description = document["paths"]["/" + path]["get"]["description"].lower()
        assert "monitor" in description and "unit" in description, (path, description)
