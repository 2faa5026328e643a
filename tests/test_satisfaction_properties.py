"""The satisfaction family against plain Python: over generated rooms with valid, odd and missing
ratings (strings out of range, numbers, lists, empty, no ``surveyFeedback`` at all), closed around
the window's edges, served or not, every number of ``satisfaction`` (each grouping and question),
``satisfaction/responses`` and ``trends/satisfaction`` is the one computed here from the documents
stored, with ``Decimal`` rounding half up; and a trend's responses add up to the endpoint's."""

from __future__ import annotations

import datetime as dt
import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import choose
from support import ROOT, UTC, add_user, property_settings, store_rooms

QUESTIONS = ("satisfaction", "agentKnowledge", "agentResposiveness", "agentFriendliness")
START = dt.datetime(2024, 3, 1, tzinfo=UTC)
END = dt.datetime(2024, 3, 4, 23, 59, 59, 999000, tzinfo=UTC)
WINDOW = {"start": "2024-03-01", "end": "2024-03-04"}
MS = dt.timedelta(milliseconds=1)
DEPARTMENTS = ("d1", "d2", None, ["d1"])
AGENTS = ("ana", "bo", 7, None)
#: Stored sources: a type, an alias beside it (which names the source), and what names none.
SOURCES = st.sampled_from(
    [
        {"type": "widget"},
        {"type": "email"},
        {"type": "api", "alias": "WhatsApp"},
        {"type": "widget", "alias": 3},
        {"alias": "Telegram"},
        {"type": ["widget"]},
        {},
        "widget",
    ]
)
TAGS = ("billing", "vip", 7)
#: Stored ratings: the five valid ones (more likely), and what is no rating.
VALUES = st.sampled_from(["1", "2", "3", "4", "5"]) | st.sampled_from(
    ["", "0", "6", "05", " 5", 5, 4.0, ["5"], None]
)
COMMENTS = st.sampled_from(["", "ok", "=1+1", 3, None, {}, {"text": "ok"}, ["ok"], True, START])


@st.composite
def rooms(draw: st.DrawFn) -> dict[str, Any]:
    """A livechat room (now and then another kind) closed in, before or after the window, or open;
    served or not; with ratings of every kind."""
    closed = START + draw(st.integers(-2 * 86_400_000, 6 * 86_400_000)) * MS
    room: dict[str, Any] = {
        "t": draw(st.sampled_from(["l", "l", "l", "l", "c"])),
        "ts": closed - draw(st.integers(0, 3 * 86_400_000)) * MS,
    }
    if draw(st.integers(0, 5)):
        room["closedAt"] = closed
    else:
        room["open"] = True
    if draw(st.integers(0, 4)):
        room["servedBy"] = {"_id": draw(st.sampled_from(AGENTS)), "username": "user"}
    department = draw(st.sampled_from(DEPARTMENTS))
    if department is not None:
        room["departmentId"] = department
    if draw(st.booleans()):
        room["tags"] = draw(
            st.lists(st.sampled_from(TAGS), max_size=3) | st.sampled_from(["vip", 7, {"x": "vip"}])
        )
    if draw(st.booleans()):
        room["source"] = draw(SOURCES)
    if draw(st.integers(0, 3)):
        feedback = {question: draw(VALUES) for question in QUESTIONS if draw(st.integers(0, 3))}
        comment = draw(COMMENTS)
        if comment is not None:
            feedback["additionalFeedback"] = comment
        room["surveyFeedback"] = feedback
    return room


def cases() -> st.SearchStrategy[list[dict[str, Any]]]:
    return choose(st.lists(rooms(), max_size=4), st.lists(rooms(), min_size=5, max_size=30)).map(
        lambda listed: [{**room, "_id": f"r{n:02d}"} for n, room in enumerate(listed)]
    )


# -- Plain Python ------------------------------------------------------------------------------------


def counted(room: dict[str, Any]) -> bool:
    """A served livechat room closed in the window (in UTC)."""
    return counted_in(room, "UTC")


def rating(room: dict[str, Any], question: str) -> int | None:
    value = (room.get("surveyFeedback") or {}).get(question)
    return int(value) if isinstance(value, str) and value in ("1", "2", "3", "4", "5") else None


def rounded(numerator: int, denominator: int) -> float | None:
    if not denominator:
        return None
    return float(
        (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    )


def keys(room: dict[str, Any], group_by: str) -> list[Any]:
    """The groups a room falls in."""
    if group_by == "none":
        return [None]
    if group_by == "department":
        value = room.get("departmentId")
        return [value if isinstance(value, str) else None]
    if group_by == "agent":
        agent = room["servedBy"]["_id"]
        return [agent if isinstance(agent, str) else None]
    if group_by == "source":
        source = room.get("source")
        if not isinstance(source, dict):
            return [None]
        named = [source.get(field) for field in ("alias", "type")]
        return [next((value for value in named if isinstance(value, str)), None)]
    stored = room.get("tags")
    tags = sorted({tag for tag in stored if isinstance(tag, str)}) if isinstance(stored, list) else []
    return tags or [None]


def expected_groups(stored: list[dict[str, Any]], group_by: str, question: str) -> list[dict[str, Any]]:
    grouped: dict[Any, list[dict[str, Any]]] = {None: []} if group_by == "none" else {}
    for room in filter(counted, stored):
        for key in keys(room, group_by):
            grouped.setdefault(key, []).append(room)
    rows = []
    for key, members in grouped.items():
        ratings = [rating(room, question) for room in members]
        given = [value for value in ratings if value is not None]
        comments = sum(
            1
            for room, value in zip(members, ratings, strict=True)
            if value is not None
            and isinstance(text := room["surveyFeedback"].get("additionalFeedback"), str)
            and text
        )
        rows.append(
            {
                "_id": key,
                "closedChats": len(members),
                "responses": len(given),
                "responseRate": rounded(100 * len(given), len(members)),
                "csat": rounded(100 * sum(1 for value in given if value >= 4), len(given)),
                "average": rounded(sum(given), len(given)),
                "distribution": {str(n): given.count(n) for n in range(1, 6)},
                "comments": comments,
            }
        )
    return sorted(rows, key=lambda row: (row["_id"] is not None, row["_id"] or ""))


def as_numbers(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """JSON numbers compared as numbers: 50 and 50.0 are the same."""
    return [
        {key: float(value) if isinstance(value, int) else value for key, value in row.items()} for row in rows
    ]


# -- The properties ----------------------------------------------------------------------------------


@pytest.fixture
def manager(database) -> dict[str, str]:
    return add_user(database)


@property_settings(30)
@given(
    stored=cases(),
    group_by=st.sampled_from(["none", "department", "agent", "tag", "source"]),
    question=st.sampled_from(QUESTIONS),
)
def test_every_group_is_plain_pythons(make_app, database, manager, stored, group_by, question):
    store_rooms(database, stored)
    client = make_app().test_client()
    params = {**WINDOW, "groupBy": group_by, "question": question, "count": "0"}
    body = client.get(f"{ROOT}/satisfaction", query_string=params, headers=manager).get_json()
    assert as_numbers(body["groups"]) == as_numbers(expected_groups(stored, group_by, question))
    assert body["total"] == len(body["groups"])


@property_settings(20)
@given(stored=cases(), question=st.sampled_from(QUESTIONS))
def test_the_responses_are_the_rated_rooms(make_app, database, manager, stored, question):
    store_rooms(database, stored)
    client = make_app().test_client()
    params = {**WINDOW, "question": question, "count": "0", "sort": '{"_id": 1}'}
    body = client.get(f"{ROOT}/satisfaction/responses", query_string=params, headers=manager).get_json()
    rated = [room for room in stored if counted(room) and rating(room, question) is not None]
    assert [row["_id"] for row in body["responses"]] == [room["_id"] for room in rated]
    for row, room in zip(body["responses"], rated, strict=True):
        assert {name: row[name] for name in QUESTIONS} == {name: rating(room, name) for name in QUESTIONS}
        comment = room["surveyFeedback"].get("additionalFeedback")
        assert row["comment"] == (comment if isinstance(comment, str) and comment else None)


def bson_order(value: Any) -> tuple[int, Any]:
    """A row's value as MongoDB sorts values of these kinds: null, numbers, strings, dates."""
    if value is None:
        return (0, 0)
    if isinstance(value, (int, float)):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    return (3, value)


@property_settings(20)
@given(
    stored=cases(),
    field=st.sampled_from(["closedAt", "satisfaction", "agentKnowledge", "agentUsername", "departmentId"]),
    way=st.sampled_from([1, -1]),
    offset=st.integers(0, 6),
    count=st.integers(1, 5),
)
def test_a_page_of_responses_is_the_sorted_rows(
    make_app, database, manager, stored, field, way, offset, count
):
    store_rooms(database, stored)
    client = make_app().test_client()
    url = f"{ROOT}/satisfaction/responses"
    every = client.get(url, query_string={**WINDOW, "count": "0", "sort": '{"_id": 1}'}, headers=manager)
    rows = every.get_json()["responses"]
    # The field's order, ties by _id ascending, whichever way the field goes.
    rows = sorted(rows, key=lambda row: row["_id"])
    rows = sorted(
        rows,
        key=lambda row: bson_order(
            row[field] and _instant(row[field]) if field == "closedAt" else row[field]
        ),
        reverse=way == -1,
    )
    params = {**WINDOW, "sort": json.dumps({field: way}), "offset": str(offset), "count": str(count)}
    body = client.get(url, query_string=params, headers=manager).get_json()
    assert body["responses"] == rows[offset : offset + count]
    assert body["total"] == len(rows)


def _instant(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))


@property_settings(20)
@given(
    stored=cases(),
    group_by=st.sampled_from(["hour", "day"]),
    zone=st.sampled_from(["UTC", "Europe/Berlin", "Asia/Kathmandu"]),
    question=st.sampled_from(QUESTIONS),
)
def test_a_trends_responses_add_up_to_the_endpoints(
    make_app, database, manager, stored, group_by, zone, question
):
    store_rooms(database, stored)
    client = make_app().test_client()
    window = {
        "start": "2024-03-01T00:00:00",
        "end": "2024-03-04T23:59:59.999",
        "timezone": zone,
        "question": question,
    }
    trend = client.get(
        f"{ROOT}/trends/satisfaction", query_string={**window, "groupBy": group_by}, headers=manager
    ).get_json()
    [group] = client.get(f"{ROOT}/satisfaction", query_string=window, headers=manager).get_json()["groups"]
    buckets = trend["series"][0]["buckets"]
    assert sum(bucket["responses"] for bucket in buckets) == group["responses"]
    # Each bucket is plain Python over the rooms closed in it (local hours or days).
    starts = [dt.datetime.fromisoformat(bucket["start"]) for bucket in buckets]
    for index, bucket in enumerate(buckets):
        last = starts[index + 1] if index + 1 < len(starts) else None
        inside = [
            value
            for room in stored
            if counted_in(room, zone)
            and (value := rating(room, question)) is not None
            and starts[index] <= room["closedAt"]
            and (last is None or room["closedAt"] < last)
        ]
        assert bucket == {
            "start": bucket["start"],
            "responses": len(inside),
            "csat": rounded(100 * sum(1 for value in inside if value >= 4), len(inside)),
            "average": rounded(sum(inside), len(inside)),
        }


@property_settings(20)
@given(stored=cases(), question=st.sampled_from(QUESTIONS), compare=st.booleans())
def test_a_trend_by_department_is_each_department_s_groups(
    make_app, database, manager, stored, question, compare
):
    store_rooms(database, stored)
    client = make_app().test_client()
    window = {**WINDOW, "question": question, "groupBy": "day", "byDepartment": "true"}
    if compare:
        window["compare"] = "previous"
    trend = client.get(f"{ROOT}/trends/satisfaction", query_string=window, headers=manager).get_json()
    per_department = {
        series["_id"]: sum(bucket["responses"] for bucket in series["buckets"]) for series in trend["series"]
    }
    expected: dict[Any, int] = {}
    for room in stored:
        if counted(room) and rating(room, question) is not None:
            [department] = keys(room, "department")
            expected[department] = expected.get(department, 0) + 1
    assert per_department == expected
    # The previous window (the four days before) holds none of this window's rooms.
    if compare:
        earlier = sum(b["responses"] for series in trend["previous"] for b in series["buckets"])
        assert earlier == sum(
            1
            for room in stored
            if room["t"] == "l"
            and room.get("servedBy") is not None
            and room.get("closedAt") is not None
            and START - (END - START) - MS <= room["closedAt"] < START
            and rating(room, question) is not None
        )


def counted_in(room: dict[str, Any], zone: str) -> bool:
    """A served livechat room closed in the window read in ``zone``."""
    local = ZoneInfo(zone)
    start = dt.datetime(2024, 3, 1, tzinfo=local)
    end = dt.datetime(2024, 3, 4, 23, 59, 59, 999000, tzinfo=local)
    closed = room.get("closedAt")
    return (
        room["t"] == "l"
        and room.get("servedBy") is not None
        and closed is not None
        and start <= closed <= end
    )
