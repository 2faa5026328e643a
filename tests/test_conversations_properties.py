"""``conversations`` against the counts it explains, over random rooms, transfers, windows,
departments and filters, on every backend: each count and the list behind it agree, and both agree
with plain Python over the documents stored.

- ``total`` is ``amount-of-chats``' rooms summed (same window, department, ``answered``);
- ``status`` splits it into ``conversations-by-status``;
- ``abandoned=true`` closed by ``end`` is ``total-abandoned-chats``;
- ``transferred=true``'s ``transfers`` add up to ``total-transferred-chats`` (each transfer dated
  at its room's creation, so the window holds a room's transfers exactly when it holds the room);
- ``slaOutcome=breached`` is ``sla/breaches``' total;
- the CSV holds every row of the JSON list.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from strategies import FEW_DEPARTMENTS, MS, TRANSFER, Window, choose, department_fields, instants, windows
from support import answered, iso, property_settings

ROOMS = "rocketchat_room"
MESSAGES = "rocketchat_message"
#: ``T``: the settings collection is empty, so the default inactivity timeout holds.
T = 3600
STATUS_LABELS = {"open": "Open", "closed": "Closed", "queued": "Queued", "onhold": "On_Hold"}


@st.composite
def room_documents(draw: st.DrawFn, window: Window, number: int) -> dict[str, Any]:
    """A room around the window: mostly livechat, of a department or none, open (served, on hold or
    queued) or closed, answered or not, silent around ``T``, with a first response or none."""
    ts = draw(instants(window))
    room: dict[str, Any] = {"_id": f"room-{number:02d}", "t": draw(st.sampled_from("lllllc")), "ts": ts}
    room.update(draw(department_fields(FEW_DEPARTMENTS)))
    waiting = draw(st.sampled_from([True, False, None, "missing"]))
    if waiting != "missing":
        room["waitingResponse"] = waiting
    if draw(st.booleans()):
        room["servedBy"] = {"_id": draw(st.sampled_from(["ana", "bo"])), "username": "agent"}
    if draw(st.booleans()):
        room["open"] = True
        room["onHold"] = draw(st.booleans())
    else:
        room["closedAt"] = ts + draw(st.integers(0, 3 * 86_400_000)) * MS
    metrics: dict[str, Any] = {}
    if draw(st.booleans()):
        metrics["visitorInactivity"] = draw(st.sampled_from([T - 1, T, T + 1, 10, 99_999]))
    if draw(st.booleans()):
        metrics["response"] = {"ft": draw(st.sampled_from([1, 59, 60, 61, 600]))}
    if metrics:
        room["metrics"] = metrics
    return room


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    """A window, rooms, each livechat room's transfers (dated at its creation), and the department
    asked for."""
    window = draw(windows())
    size = draw(choose(st.integers(0, 4), st.integers(5, 25)))
    rooms = [draw(room_documents(window, number)) for number in range(size)]
    messages = []
    for room in rooms:
        if room["t"] == "l":
            for n in range(draw(st.sampled_from([0, 0, 1, 2]))):
                messages.append(
                    {"_id": f"{room['_id']}-t{n}", "rid": room["_id"], "t": TRANSFER, "ts": room["ts"]}
                )
    department = draw(st.sampled_from([None, "", *FEW_DEPARTMENTS]))
    return {"window": window, "rooms": rooms, "messages": messages, "department": department}


def status_of(room: dict[str, Any]) -> str:
    if room.get("open") is not True:
        return "closed"
    if room.get("onHold") is True:
        return "onhold"
    return "queued" if room.get("servedBy") is None else "open"


def counted(case: dict[str, Any], answered_as: str | None = None) -> list[dict[str, Any]]:
    """The livechat rooms created in the window, of the department asked for, answered as asked."""
    window, department = case["window"], case["department"]
    found = []
    for room in case["rooms"]:
        if room["t"] != "l" or not window.start <= room["ts"] <= window.end:
            continue
        if department and room.get("departmentId") != department:
            continue
        got_answer = room.get("waitingResponse") is not True
        if answered_as is not None and got_answer != (answered_as == "true"):
            continue
        found.append(room)
    return found


def is_abandoned(room: dict[str, Any]) -> bool:
    return room.get("metrics", {}).get("visitorInactivity", -1) >= T


def store(database: Any, case: dict[str, Any]) -> None:
    for collection, documents in ((ROOMS, case["rooms"]), (MESSAGES, case["messages"])):
        database[collection].delete_many({})
        if documents:
            database[collection].insert_many([dict(document) for document in documents])


def params(case: dict[str, Any], **more: str) -> dict[str, str]:
    window = case["window"]
    found = {"start": iso(window.start), "end": iso(window.end), **more}
    if case["department"] is not None:
        found["departmentId"] = case["department"]
    return found


def every_row(client: Any, headers: dict[str, str], case: dict[str, Any], **more: str) -> dict[str, Any]:
    return answered(client, headers, "conversations", params(case, count="0", **more))


def summed(body: dict[str, Any], key: str) -> int:
    return sum(row[key] for row in body["departments"])


@given(case=cases())
@property_settings(20)
def test_the_list_and_the_counts_agree(client, headers, database, case):
    store(database, case)
    for answered_as in (None, "true", "false"):
        more = {} if answered_as is None else {"answered": answered_as}
        body = every_row(client, headers, case, **more)
        amount = answered(client, headers, "departments/amount-of-chats", params(case, count="0", **more))
        expected = counted(case, answered_as)
        assert body["total"] == summed(amount, "rooms") == len(expected) == body["count"]
        assert sorted(row["_id"] for row in body["conversations"]) == sorted(room["_id"] for room in expected)
    abandoned = every_row(client, headers, case, abandoned="true")["conversations"]
    closed_by_end = [
        row for row in abandoned if row["closedAt"] is not None and row["closedAt"] <= iso(case["window"].end)
    ]
    total_abandoned = answered(client, headers, "departments/total-abandoned-chats", params(case, count="0"))
    in_python = [
        room
        for room in counted(case)
        if room.get("closedAt") is not None and room["closedAt"] <= case["window"].end and is_abandoned(room)
    ]
    assert len(closed_by_end) == summed(total_abandoned, "abandonedRooms") == len(in_python)
    transferred = every_row(client, headers, case, transferred="true")["conversations"]
    total_transferred = answered(
        client, headers, "departments/total-transferred-chats", params(case, count="0")
    )
    rooms = {room["_id"] for room in counted(case)}
    in_python_transfers = sum(message["rid"] in rooms for message in case["messages"])
    assert sum(row["transfers"] for row in transferred) == summed(
        total_transferred, "numberOfTransferredRooms"
    )
    assert sum(row["transfers"] for row in transferred) == in_python_transfers
    breached = every_row(client, headers, case, slaOutcome="breached", target="60")
    breaches = answered(client, headers, "sla/breaches", params(case, target="60", count="0"))
    assert breached["total"] == breaches["total"]
    assert sorted(row["_id"] for row in breached["conversations"]) == sorted(
        row["_id"] for row in breaches["breaches"]
    )


@given(case=cases())
@property_settings(15)
def test_the_statuses_split_the_list_as_conversations_by_status(client, headers, database, case):
    case = {**case, "department": None}
    store(database, case)
    report = answered(client, headers, "dashboards/conversations-by-status", params(case))
    values = {item["label"]: item["value"] for item in report["data"]}
    total = every_row(client, headers, case)["total"]
    split = 0
    for status, label in STATUS_LABELS.items():
        rows = every_row(client, headers, case, status=status)
        in_python = [room for room in counted(case) if status_of(room) == status]
        assert rows["total"] == values[label] == len(in_python), status
        assert {row["status"] for row in rows["conversations"]} <= {status}
        split += rows["total"]
    assert split == total == report["total"]


@given(case=cases())
@property_settings(10)
def test_the_csv_holds_every_row(client, headers, database, case):
    store(database, case)
    body = every_row(client, headers, case)
    response = client.get(
        "/api/v1/livechat/analytics/conversations", query_string=params(case, format="csv"), headers=headers
    )
    assert response.status_code == 200
    lines = response.get_data(as_text=True).splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == [row["_id"] for row in body["conversations"]]
