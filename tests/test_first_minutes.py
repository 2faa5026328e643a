"""Any client a host hands over gives the same answers (a client without ``tz_aware`` included),
and the numbers of every body stay integers where they are whole."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import mongomock
import pytest
from documents import DAYS, MANAGER, NOW, WINDOW
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from pymongo import MongoClient
from pymongo.database import Database
from support import NOW_ENDPOINTS, ROOT, add_user

from livechat_analytics import demo
from livechat_analytics.demo import DemoData
from livechat_analytics.endpoints import ENDPOINTS
from livechat_analytics.endpoints.overview.chart import CHART_NAMES
from livechat_analytics.endpoints.sla import outcome
from livechat_analytics.schemas import Amount

#: Answers of now taken a moment apart are compared: the live family's clock stands still.
pytestmark = pytest.mark.usefixtures("stopped_live_clock")

#: The series of ``charts-data`` and ``agent-overview``, and the boards of ``overview``.
SERIES = CHART_NAMES
BOARDS = ("Conversations", "Productivity")


def requests() -> list[tuple[str, dict[str, str]]]:
    """Every endpoint over the demo's window, each series and board asked for."""
    asked: list[tuple[str, dict[str, str]]] = []
    for path in sorted(ENDPOINTS):
        if path == "overview":
            asked += [(path, {"name": name, **DAYS}) for name in BOARDS]
        elif path == "agent-overview":
            asked += [(path, {"name": name, **DAYS}) for name in SERIES]
        elif path == "dashboards/charts-data":
            asked += [(path, {"chartName": name, **WINDOW}) for name in SERIES]
        elif path in NOW_ENDPOINTS:  # now: it takes no window
            asked.append((path, {}))
        else:
            asked.append((path, dict(WINDOW)))
    return asked


def bodies(app: Flask) -> dict[str, Any]:
    """Every request of :func:`requests`, answered by ``app`` as the demo manager: its status and
    JSON body, by path and query."""
    client = app.test_client()
    answers = {}
    for path, params in requests():
        response = client.get(f"{ROOT}/{path}", query_string=params, headers=MANAGER)
        answers[f"{path} {params}"] = (response.status_code, response.get_json())
    return answers


# Any client


@pytest.fixture
def naive(database: Database, backend: str) -> Iterator[Database]:
    """The test database through a client without ``tz_aware``: on mongomock a client of its own
    holding the same generated data, on a server a second client of the same database."""
    if backend == "mongomock":
        other = mongomock.MongoClient()["rocketchat"]
        demo.insert(other, DemoData(rooms=600, now=NOW))
        yield other
        return
    host, port = database.client.address
    client: MongoClient = MongoClient(host, port, serverSelectionTimeoutMS=5000)
    yield client[database.name]
    client.close()


def test_a_client_without_tz_aware_reads_naive_dates(naive: Database, demo_data: DemoData):
    # What the fixture hands over: a client that gives back naive datetimes, as the host's would.
    room = naive["rocketchat_room"].find_one({"t": "l"})
    assert room is not None and room["ts"].tzinfo is None


def test_every_endpoint_answers_a_client_without_tz_aware_as_one_with_it(
    make_app: Callable[..., Flask], demo_data: DemoData, naive: Database, monkeypatch: pytest.MonkeyPatch
):
    # The breaches of open rooms grow with the moment of the request: one moment for both clients.
    monkeypatch.setattr(outcome, "now", lambda: NOW)
    aware = bodies(make_app())
    answered = bodies(make_app(database=naive))
    assert {request: status for request, (status, _) in aware.items()} == dict.fromkeys(aware, 200)
    assert answered == aware


def test_a_naive_clients_dates_are_read_as_utc(make_app: Callable[..., Flask], naive: Database):
    # One room at 23:30 UTC on 4 March, stored naive: read as UTC it is the 4th in UTC and the 5th
    # in Berlin.
    naive["rocketchat_room"].delete_many({})
    naive["rocketchat_room"].insert_one(
        {"_id": "late", "t": "l", "ts": dt.datetime(2024, 3, 4, 23, 30), "v": {"_id": "v"}}
    )
    headers = add_user(naive)
    client = make_app(database=naive).test_client()
    path = f"{ROOT}/departments/amount-of-chats"

    def rooms(day: str, zone: str) -> list:
        query = {"start": day, "end": day, "timezone": zone}
        response = client.get(path, query_string=query, headers=headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["departments"]

    assert rooms("2024-03-04", "UTC") == [{"_id": None, "rooms": 1}]
    assert rooms("2024-03-05", "UTC") == []
    assert rooms("2024-03-05", "Europe/Berlin") == [{"_id": None, "rooms": 1}]
    assert rooms("2024-03-04", "Europe/Berlin") == []


# Integers stay integers


def whole_floats(value: Any, where: str = "") -> list[str]:
    """Where ``value`` (a JSON body) holds a float without a fraction."""
    if isinstance(value, float):
        return [where] if value.is_integer() else []
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in whole_floats(item, f"{where}.{key}")]
    if isinstance(value, list):
        return [found for at, item in enumerate(value) for found in whole_floats(item, f"{where}[{at}]")]
    return []


def test_no_body_writes_a_whole_number_as_a_decimal(make_app: Callable[..., Flask], demo_data: DemoData):
    answers = bodies(make_app())
    found = {request: whole_floats(body) for request, (_, body) in answers.items()}
    assert found == {request: [] for request in answers}
    # The check can fail: the demo's timings and mean series hold numbers.
    timings = answers[f"dashboards/charts/timings {WINDOW}"][1]
    assert timings["chatDuration"]["longest"] > 0


#: One room a day, on 4, 5 and 6 March 2024: its stored times, as an int, a whole double and not.
TIMES = {4: 882, 5: 120.0, 6: 7201.5}


def store_timed_rooms(database: Database) -> None:
    database["rocketchat_room"].insert_many(
        [
            {
                "_id": f"r{day}",
                "t": "l",
                "ts": dt.datetime(2024, 3, day, 12, tzinfo=dt.timezone.utc),
                "closedAt": dt.datetime(2024, 3, day, 13, tzinfo=dt.timezone.utc),
                "v": {"_id": "v"},
                "metrics": {
                    "chatDuration": value,
                    "response": {"avg": value, "ft": value},
                    "reaction": {"ft": value},
                },
            }
            for day, value in TIMES.items()
        ]
    )


def raw_json(response: Any) -> Any:
    """The body as written, its numbers parsed apart: an integer is an int, a decimal a float."""
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("day", "written"), [(4, "882"), (5, "120"), (6, "7201.5")], ids=["integer", "whole double", "double"]
)
def test_the_longest_time_is_written_as_stored_without_a_fraction_when_whole(
    make_app: Callable[..., Flask], database: Database, headers: dict[str, str], day: int, written: str
):
    store_timed_rooms(database)
    client = make_app().test_client()
    query = {"start": f"2024-03-{day:02}", "end": f"2024-03-{day:02}"}
    response = client.get(f"{ROOT}/dashboards/charts/timings", query_string=query, headers=headers)
    text = response.get_data(as_text=True)
    for name in ("response", "reaction", "chatDuration"):
        assert f'"{name}": {{"avg": {int(TIMES[day])}, "longest": {written}}}' in text
    body = raw_json(response)
    assert type(body["reaction"]["longest"]) is (float if day == 6 else int)
    csv = client.get(
        f"{ROOT}/dashboards/charts/timings", query_string={**query, "format": "csv"}, headers=headers
    )
    assert csv.get_data(as_text=True).splitlines()[1:] == [
        f"{name},{int(TIMES[day])},{written}" for name in ("response", "reaction", "chatDuration")
    ]


def test_a_whole_mean_of_a_series_is_an_integer(
    make_app: Callable[..., Flask], database: Database, headers: dict[str, str]
):
    store_timed_rooms(database)
    client = make_app().test_client()
    query = {"chartName": "Avg_chat_duration", "start": "2024-03-04", "end": "2024-03-06", "timezone": "UTC"}
    body = raw_json(client.get(f"{ROOT}/dashboards/charts-data", query_string=query, headers=headers))
    assert body["dataPoints"] == [882, 120, 7201.5]
    assert [type(point) for point in body["dataPoints"]] == [int, int, float]


@given(st.one_of(st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False, allow_infinity=False)))
def test_an_amount_is_an_integer_exactly_when_it_is_whole_and_exact(value: int | float):
    written = Amount().serialize("n", {"n": value})
    assert written == value
    exact = isinstance(value, int) or (value.is_integer() and abs(value) <= 2**53)
    assert type(written) is (int if exact else float)
