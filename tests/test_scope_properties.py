"""Properties of who sees what, over random worlds: units, the units departments belong to, the units
a monitor monitors and the departments they serve as an agent, and rooms of random departments whose
``departmentAncestors`` agree with their department's unit. A monitor's counts are plain Python's
over the rooms the rule lets them see; a manager's over every room."""

from __future__ import annotations

import datetime as dt
import pprint
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hypothesis import event, given, note
from hypothesis import strategies as st
from oracles import status_of
from pymongo.database import Database
from support import ROOT, UTC, add_user, property_settings

UNITS = ("u1", "u2", "u3")
DEPARTMENTS = ("d1", "d2", "d3", "d4", "d5")
MONITOR = "monitor"
#: The window every room is created in, and asked about.
START = dt.datetime(2024, 3, 1, tzinfo=UTC)
WINDOW_MS = 7 * 86_400_000 - 1
WINDOW = {"start": "2024-03-01", "end": "2024-03-07"}
#: A room whose ``departmentId`` is left out.
MISSING = "missing"

ROOMS = "rocketchat_room"
DEPARTMENT_COLLECTION = "rocketchat_livechat_department"
MONITORS = "rocketchat_livechat_unit_monitors"
DEPARTMENT_AGENTS = "rocketchat_livechat_department_agents"

SETTINGS_PROFILE = property_settings(50)


@dataclass
class World:
    """The units, each department's unit (None: in none), the monitor's units and the departments
    they serve as an agent, and the rooms."""

    units: list[str]
    unit_of: dict[str, str | None]
    monitored: list[str]
    served: list[str]
    rooms: list[dict[str, Any]] = field(default_factory=list)

    def visible(self) -> list[dict[str, Any]]:
        """The rooms the monitor sees: all while no unit exists; else those whose ancestors hold
        one of their units or whose department is under one, or one they serve."""
        if not self.units:
            return self.rooms
        departments = {d for d, unit in self.unit_of.items() if unit in self.monitored} | set(self.served)
        return [
            room
            for room in self.rooms
            if set(room.get("departmentAncestors", [])) & set(self.monitored)
            or room.get("departmentId") in departments
        ]


@st.composite
def room_documents(draw: st.DrawFn, unit_of: dict[str, str | None]) -> dict[str, Any]:
    """A livechat room created in the window, of a random department (or none), in one of the four
    statuses; its ancestors its department's unit, or (created before the department joined)
    none."""
    department = draw(st.sampled_from([MISSING, None, *DEPARTMENTS]))
    room: dict[str, Any] = {
        "t": "l",
        "ts": START + dt.timedelta(milliseconds=draw(st.integers(0, WINDOW_MS))),
    }
    if department != MISSING:
        room["departmentId"] = department
    unit = unit_of.get(department)
    if unit is not None and draw(st.integers(0, 3)):
        room["departmentAncestors"] = [unit]
    status = draw(st.sampled_from(["closed", "open", "onhold", "queued"]))
    if status == "closed":
        room["closedAt"] = room["ts"] + dt.timedelta(minutes=5)
    else:
        room["open"] = True
    if status in ("closed", "open", "onhold"):
        room["servedBy"] = {"_id": "agent", "username": "agent"}
    if status == "onhold":
        room["onHold"] = True
    return room


@st.composite
def worlds(draw: st.DrawFn) -> World:
    """Each unit exists half the time, each department is in one of them or none, the monitor
    monitors each unit half the time and serves a department as an agent now and then."""
    units = [unit for unit in UNITS if draw(st.booleans())]
    unit_of = {department: draw(st.sampled_from([None, *units])) for department in DEPARTMENTS}
    monitored = [unit for unit in units if draw(st.booleans())]
    # A monitor of no unit who serves a department is left out: the contract says both that they
    # see no room and that they see the departments they serve.
    served = [department for department in DEPARTMENTS if monitored and not draw(st.integers(0, 3))]
    rooms = draw(st.lists(room_documents(unit_of), min_size=5, max_size=30))
    world = World(
        units, unit_of, monitored, served, [{**room, "_id": f"r{n}"} for n, room in enumerate(rooms)]
    )
    seen = len(world.visible())
    event(f"units: {len(units)}, monitored: {len(monitored)}, served: {len(served)}")
    event(f"the monitor sees {'no' if not seen else 'all' if seen == len(rooms) else 'some'} rooms")
    return world


def store(database: Database, world: World) -> None:
    """Replace the previous example's units, departments, monitors, memberships and rooms."""
    note(pprint.pformat(world, sort_dicts=False))
    for collection in (ROOMS, DEPARTMENT_COLLECTION, MONITORS, DEPARTMENT_AGENTS):
        database[collection].delete_many({})
    departments: list[dict[str, Any]] = [
        {"_id": unit, "name": f"Unit {unit}", "type": "u", "numMonitors": 1, "numDepartments": 0}
        for unit in world.units
    ]
    for department, unit in world.unit_of.items():
        document: dict[str, Any] = {"_id": department, "name": f"Department {department}", "type": "d"}
        if unit is not None:
            document |= {"parentId": unit, "ancestors": [unit]}
        departments.append(document)
    database[DEPARTMENT_COLLECTION].insert_many(departments)
    if world.monitored:
        database[MONITORS].insert_many(
            [
                {"_id": f"m-{unit}", "monitorId": MONITOR, "unitId": unit, "username": MONITOR}
                for unit in world.monitored
            ]
        )
    if world.served:
        database[DEPARTMENT_AGENTS].insert_many(
            [
                {
                    "_id": f"a-{department}",
                    "agentId": MONITOR,
                    "departmentId": department,
                    "username": MONITOR,
                }
                for department in world.served
            ]
        )
    if world.rooms:
        database[ROOMS].insert_many([dict(room) for room in world.rooms])


def rows(rooms: list[dict[str, Any]], department: str | None = None) -> list[dict[str, Any]]:
    """``departments/amount-of-chats`` rows: rooms per department (of ``department`` only when
    given), rooms without one under null first, then by id."""
    counted = Counter(room.get("departmentId") for room in rooms)
    if department is not None:
        counted = Counter({department: counted[department]} if counted[department] else {})
    return [
        {"_id": key, "rooms": counted[key]}
        for key in sorted(counted, key=lambda key: (key is not None, key or ""))
    ]


def statuses(rooms: list[dict[str, Any]]) -> dict[str, Any]:
    counted = Counter(status_of(room) for room in rooms)
    return {name: counted[name] for name in ("open", "closed", "queued", "onhold")}


def get(client: Any, headers: dict[str, str], path: str, params: dict[str, str]) -> Any:
    note(f"GET {path} {params} as {headers['X-User-Id']}")
    response = client.get(f"{ROOT}/{path}", query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def add_monitor(database: Database) -> dict[str, str]:
    """The monitor (stored once for all the examples): the headers that log them in."""
    if database["users"].find_one({"_id": MONITOR}) is None:
        add_user(database, MONITOR, token="monitor-token", roles=("livechat-monitor",))
    return {"X-User-Id": MONITOR, "X-Auth-Token": "monitor-token"}


@SETTINGS_PROFILE
@given(world=worlds())
def test_each_caller_counts_the_rooms_they_see(client, headers, database, world):
    store(database, world)
    monitor = add_monitor(database)
    for caller, seen in ((monitor, world.visible()), (headers, world.rooms)):
        answer = get(client, caller, "departments/amount-of-chats", {**WINDOW, "count": "0"})
        assert answer["departments"] == rows(seen)
        assert answer["total"] == len(rows(seen))
        chats = get(client, caller, "dashboards/charts/chats", WINDOW)
        assert sum(chats[name] for name in ("open", "closed", "queued", "onhold")) == len(seen)
        assert chats == {**statuses(seen), "success": True}


@SETTINGS_PROFILE
@given(world=worlds(), department=st.sampled_from(DEPARTMENTS))
def test_a_monitor_asking_for_one_department_counts_its_rooms_they_see(
    client, headers, database, world, department
):
    """A department they do not see answers as an empty one; one they see, its rooms."""
    store(database, world)
    monitor = add_monitor(database)
    params = {**WINDOW, "count": "0", "departmentId": department}
    assert get(client, monitor, "departments/amount-of-chats", params)["departments"] == rows(
        world.visible(), department
    )
    assert get(client, headers, "departments/amount-of-chats", params)["departments"] == rows(
        world.rooms, department
    )
