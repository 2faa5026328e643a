"""Property tests: the HTTP answers against counts made in plain Python from the stored documents.

The expected bodies never reuse the package's pipelines: rooms and messages are filtered, grouped,
sorted and paged here with ordinary Python, following API.md sections 4 to 6.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pymongo.collection import Collection
from pymongo.database import Database
from strategies import TRANSFER, Window, amount_of_chats_cases, crowded_cases, tied_cases, transfer_cases
from support import PREFIX

ROOMS = "rocketchat_room"
MESSAGES = "rocketchat_message"

DEFAULT_COUNT = 50
MAX_COUNT = 100

PATHS = ("amount-of-chats", "total-transferred-chats")


def examples(count: int) -> settings:
    """Hypothesis settings for a test that takes function-scoped fixtures (one database per test)."""
    return settings(
        suppress_health_check=[HealthCheck.function_scoped_fixture],
        deadline=None,
        max_examples=count,
    )


# --- storing ----------------------------------------------------------------------------------


def store(database: Database, rooms: list[dict], messages: Sequence[dict] = ()) -> None:
    """Empty the rooms and messages (never the users) and store this example's documents."""
    for name, documents in ((ROOMS, rooms), (MESSAGES, messages)):
        collection: Collection = database[name]
        collection.delete_many({})
        if documents:
            collection.insert_many([dict(document) for document in documents])


def fetch(client: Any, headers: dict[str, str], path: str, params: dict[str, str]) -> dict[str, Any]:
    response = client.get(f"{PREFIX}/{path}", query_string=params, headers=headers)
    body = response.get_json()
    assert response.status_code == 200, (params, body)
    return body


# --- the oracle -------------------------------------------------------------------------------


def department_filter(params: dict[str, str]) -> str | None:
    """The department asked for; ``''`` and ``undefined`` mean no filter, as does leaving it out."""
    value = params.get("departmentId")
    return None if value in (None, "", "undefined") else value


def id_key(department: str | None) -> tuple[int, str]:
    """``_id`` ascending as MongoDB sorts it: null lowest, before any string."""
    return (0, "") if department is None else (1, department)


def ordered(rows: list[dict[str, Any]], params: dict[str, str]) -> list[dict[str, Any]]:
    """The rows in the order ``sort`` asks for, ties broken by ``_id`` ascending."""
    [(field, direction)] = json.loads(params.get("sort", '{"_id": 1}')).items()
    rows = sorted(rows, key=lambda row: id_key(row["_id"]))
    if field == "_id":
        return rows[::-1] if direction == -1 else rows
    # sorted() is stable, also with reverse=True: equal values keep their _id ascending order.
    return sorted(rows, key=lambda row: row[field], reverse=direction == -1)


def expected_body(rows: list[dict[str, Any]], params: dict[str, str]) -> dict[str, Any]:
    """The 200 envelope of section 5 for these groups and this page."""
    offset = int(params.get("offset", 0))
    count = int(params.get("count", DEFAULT_COUNT))
    everything = ordered(rows, params)
    page = everything[offset:] if count == 0 else everything[offset : offset + min(count, MAX_COUNT)]
    values = [value for row in rows for name, value in row.items() if name != "_id"]
    event(f"groups: {min(len(rows), 10)}{'+' if len(rows) >= 10 else ''}")
    event(f"tied counts: {len(values) != len(set(values))}")
    event(f"rows cut off by the page: {len(page) < len(rows)}")
    return {"departments": page, "count": len(page), "offset": offset, "total": len(rows), "success": True}


def in_window(instant: Any, window: Window) -> bool:
    return window.start <= instant <= window.end


def amount_of_chats_rows(rooms: list[dict], window: Window, params: dict[str, str]) -> list[dict]:
    """Livechat rooms created in the window, answered or not as asked, per department."""
    department = department_filter(params)
    answered = params.get("answered")
    counts: Counter[str | None] = Counter()
    for room in rooms:
        if room.get("t") != "l" or not in_window(room["ts"], window):
            continue
        group = room.get("departmentId")  # missing and null: one group
        if department is not None and group != department:
            continue
        waiting = room.get("waitingResponse") is True
        if (answered == "true" and waiting) or (answered == "false" and not waiting):
            continue
        counts[group] += 1
    return [{"_id": group, "rooms": number} for group, number in counts.items()]


def transferred_rows(
    rooms: list[dict], messages: list[dict], window: Window, params: dict[str, str]
) -> list[dict]:
    """Transfer events in the window, each credited to its room's current department."""
    department = department_filter(params)
    room_department = {room["_id"]: room.get("departmentId") for room in rooms}
    counts: Counter[str | None] = Counter()
    for message in messages:
        if message.get("t") != TRANSFER or not in_window(message["ts"], window):
            continue
        group = room_department.get(message["rid"])  # a room that does not exist: null
        if department is not None and group != department:
            continue
        counts[group] += 1
    return [{"_id": group, "numberOfTransferredRooms": number} for group, number in counts.items()]


# --- the properties ---------------------------------------------------------------------------


@examples(80)
@given(case=amount_of_chats_cases())
def test_amount_of_chats_counts_rooms_per_department(database, client, headers, case):
    window, rooms, params = case
    store(database, rooms)
    body = fetch(client, headers, "amount-of-chats", params)
    assert body == expected_body(amount_of_chats_rows(rooms, window, params), params)


@examples(80)
@given(case=transfer_cases())
def test_total_transferred_chats_counts_events_per_current_department(database, client, headers, case):
    window, rooms, messages, params = case
    store(database, rooms, messages)
    body = fetch(client, headers, "total-transferred-chats", params)
    assert body == expected_body(transferred_rows(rooms, messages, window, params), params)


@examples(8)
@given(case=crowded_cases())
def test_page_size_is_capped_at_one_hundred(database, client, headers, case):
    window, rooms, params = case
    store(database, rooms)
    body = fetch(client, headers, "amount-of-chats", params)
    assert body == expected_body(amount_of_chats_rows(rooms, window, params), params)


@examples(30)
@given(case=tied_cases(), path=st.sampled_from(PATHS), direction=st.sampled_from([-1, 1]))
def test_ties_come_in_id_order(database, client, headers, case, path, direction):
    """All groups tie on the value sorted on: whatever order the groups are stored or grouped in,
    the rows come by ``_id`` ascending (null first), in either direction."""
    window, rooms, messages, params = case
    field = "rooms" if path == "amount-of-chats" else "numberOfTransferredRooms"
    params = {**params, "sort": json.dumps({field: direction})}
    store(database, rooms, messages)
    body = fetch(client, headers, path, params)
    if path == "amount-of-chats":
        rows = amount_of_chats_rows(rooms, window, params)
    else:
        rows = transferred_rows(rooms, messages, window, params)
    assert len({row[field] for row in rows}) == 1
    assert body == expected_body(rows, params)


@examples(25)
@given(case=transfer_cases(), size=st.integers(1, 4), path=st.sampled_from(PATHS))
def test_pages_tile_the_whole_answer(database, client, headers, case, size, path):
    """Walking the pages of one order gives every row once, as ``count=0`` does, with one total.

    This one needs no oracle: it holds whatever the rows are.
    """
    _, rooms, messages, params = case
    params = {name: value for name, value in params.items() if name not in ("offset", "count")}
    if path == "amount-of-chats" and "sort" in params:
        params["sort"] = params["sort"].replace("numberOfTransferredRooms", "rooms")
    store(database, rooms, messages)
    whole = fetch(client, headers, path, {**params, "count": "0"})
    assert whole["count"] == whole["total"] == len(whole["departments"])
    rows: list[dict] = []
    for offset in range(0, whole["total"] + size, size):
        page = fetch(client, headers, path, {**params, "offset": str(offset), "count": str(size)})
        assert page["total"] == whole["total"]
        assert page["offset"] == offset
        assert page["count"] == len(page["departments"]) <= size
        rows += page["departments"]
    assert rows == whole["departments"]
