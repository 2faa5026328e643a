"""The departments family on hand-made rooms whose answers are worked out in the comments, the
demo data set, and the departments' names."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from documents import store_three_rooms
from marshmallow import Schema
from support import PREFIX, UTC

from livechat_analytics import demo, demo_server
from livechat_analytics.endpoints.departments import counted, created_rooms
from livechat_analytics.endpoints.departments.body import AmountOfChatsSchema
from livechat_analytics.endpoints.departments.metric import Metric
from livechat_analytics.endpoints.row import Endpoint
from livechat_analytics.schemas import ArgsSchema

START = dt.datetime(2024, 3, 1, tzinfo=UTC)
END = dt.datetime(2024, 3, 31, 23, 59, 59, 999000, tzinfo=UTC)
WINDOW = {"start": "2024-03-01", "end": "2024-03-31"}
ROOM_METRICS = [
    "average-service-time",
    "total-service-time",
    "average-chat-duration-time",
    "average-waiting-time",
    "total-abandoned-chats",
    "percentage-abandoned-chats",
]


def at(day: int, seconds: float = 0) -> dt.datetime:
    return dt.datetime(2024, 3, day, tzinfo=UTC) + dt.timedelta(seconds=seconds)


def room(room_id: str, department: str | None = "sales", **fields) -> dict:
    document = {"_id": room_id, "t": "l", "ts": at(10)}
    if department is not None:
        document["departmentId"] = department
    return {**document, **fields}


def closed(room_id: str, department: str | None = "sales", *, ts=None, closed_at=None, **metrics) -> dict:
    ts = ts or at(10)
    return room(room_id, department, ts=ts, closedAt=closed_at or ts + dt.timedelta(hours=1), metrics=metrics)


def rows(client, headers, path, **params) -> list[dict]:
    response = client.get(f"{PREFIX}/{path}", query_string={**WINDOW, **params}, headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["count"] == len(body["departments"]) == body["total"]
    return body["departments"]


def test_average_service_time(client, headers, database):
    served = at(10)
    database["rocketchat_room"].insert_many(
        [
            # sales: 10 s, 21 s, and a room without servedBy.ts that adds 0 but counts: ceil(31 / 3) = 11.
            room("a", servedBy={"_id": "ag", "ts": served}, responseBy={"lastMessageTs": at(10, 10)}),
            room("b", servedBy={"_id": "ag", "ts": served}, responseBy={"lastMessageTs": at(10, 21)}),
            room("c", servedBy={"_id": "ag"}, responseBy={"lastMessageTs": at(10, 50)}),
            # Not counted: no agent, no reply, or created outside the window.
            room("d", responseBy={"lastMessageTs": at(10, 999)}),
            room("e", servedBy={"_id": "ag", "ts": served}),
            room(
                "f",
                ts=at(1) - dt.timedelta(milliseconds=1),
                servedBy={"_id": "ag", "ts": served},
                responseBy={"lastMessageTs": at(10, 999)},
            ),
            # No department: exactly 2 s, half a second over 1 s: ceil(3.5 / 2) = 2.
            room("g", None, servedBy={"_id": "ag", "ts": served}, responseBy={"lastMessageTs": at(10, 2)}),
            room("h", None, servedBy={"_id": "ag", "ts": served}, responseBy={"lastMessageTs": at(10, 1.5)}),
        ]
    )
    assert rows(client, headers, "average-service-time") == [
        {"_id": None, "averageServiceTimeInSeconds": 2},
        {"_id": "sales", "averageServiceTimeInSeconds": 11},
    ]


def test_total_service_time(client, headers, database):
    database["rocketchat_room"].insert_many(
        [
            closed("a", serviceTimeDuration=100),
            closed("b", serviceTimeDuration=20.25),
            # Created exactly at start and closed exactly at end: both bounds count.
            closed("c", ts=START, closed_at=END, serviceTimeDuration=0),
            # Never served: no serviceTimeDuration, not counted.
            closed("d", chatDuration=60),
            # Closed after end, created before start, or still open: not counted.
            closed("e", closed_at=END + dt.timedelta(milliseconds=1), serviceTimeDuration=7),
            closed("f", ts=START - dt.timedelta(milliseconds=1), serviceTimeDuration=7),
            room("g", open=True, metrics={"serviceTimeDuration": 7}),
            closed("h", "billing", serviceTimeDuration=1),
        ]
    )
    assert rows(client, headers, "total-service-time") == [
        {"_id": "billing", "chats": 1, "serviceTimeDuration": 1},
        {"_id": "sales", "chats": 3, "serviceTimeDuration": 121},
    ]


def test_average_chat_duration_time(client, headers, database):
    database["rocketchat_room"].insert_many(
        [
            # 100 + 201 + a missing duration (adds 0, counts): ceil(301 / 3) = 101.
            closed("a", chatDuration=100),
            closed("b", chatDuration=201),
            closed("c"),
            room("open", open=True, metrics={"chatDuration": 5000}),
            # 30 + 30 over 2 is exactly 30: no rounding up of a whole mean.
            closed("d", "billing", chatDuration=30),
            closed("e", "billing", chatDuration=30),
        ]
    )
    assert rows(
        client, headers, "average-chat-duration-time", sort='{"averageChatDurationTimeInSeconds": -1}'
    ) == [
        {"_id": "sales", "averageChatDurationTimeInSeconds": 101},
        {"_id": "billing", "averageChatDurationTimeInSeconds": 30},
    ]


def test_average_waiting_time(client, headers, database):
    database["rocketchat_room"].insert_many(
        [
            # Answered: 10 and a missing ft (adds 0, counts): ceil(10 / 2) = 5.
            room("a", metrics={"response": {"ft": 10}}),
            room("b", waitingResponse=False),
            # Still waiting: not counted, whatever it holds.
            room("c", waitingResponse=True, metrics={"response": {"ft": 1000}}),
        ]
    )
    assert rows(client, headers, "average-waiting-time") == [
        {"_id": "sales", "averageWaitingTimeInSeconds": 5}
    ]


@pytest.fixture
def inactivity(database) -> list[dict]:
    documents = [
        closed("at-threshold", visitorInactivity=3600),
        closed("over", visitorInactivity=7200),
        closed("under", visitorInactivity=3599.999),
        closed("no-metric"),
        closed("late", closed_at=END + dt.timedelta(seconds=1), visitorInactivity=9999),
        # Open rooms never count as abandoned, but they are rooms of the percentage.
        room("open", open=True),
    ]
    database["rocketchat_room"].insert_many(documents)
    return documents


def test_total_abandoned_chats(client, headers, inactivity):
    assert rows(client, headers, "total-abandoned-chats") == [{"_id": "sales", "abandonedRooms": 2}]


def test_percentage_abandoned_chats(client, headers, inactivity):
    # "late" was created in the window, so it counts for the percentage: 3 abandoned of 6 rooms.
    assert rows(client, headers, "percentage-abandoned-chats") == [
        {"_id": "sales", "percentageOfAbandonedChats": 50}
    ]


def test_the_threshold_is_read_on_every_request(client, headers, database, inactivity):
    settings = database["rocketchat_settings"]
    settings.insert_one({"_id": "Livechat_visitor_inactivity_timeout", "value": 7200})
    assert rows(client, headers, "total-abandoned-chats") == [{"_id": "sales", "abandonedRooms": 1}]
    assert rows(client, headers, "percentage-abandoned-chats") == [
        {"_id": "sales", "percentageOfAbandonedChats": 33}
    ]
    settings.update_one({"_id": "Livechat_visitor_inactivity_timeout"}, {"$set": {"value": 3599}})
    assert rows(client, headers, "total-abandoned-chats") == [{"_id": "sales", "abandonedRooms": 3}]
    settings.delete_one({"_id": "Livechat_visitor_inactivity_timeout"})
    assert rows(client, headers, "total-abandoned-chats") == [{"_id": "sales", "abandonedRooms": 2}]


def test_the_percentage_is_exact(client, headers, database):
    # 29 of 100 is 29, where 29 / 100 * 100 in floating point is 28.999999999999996.
    database["rocketchat_room"].insert_many(
        [closed(f"r{n}", visitorInactivity=4000 if n < 29 else 0) for n in range(100)]
        + [closed(f"b{n}", "billing", visitorInactivity=4000 if n < 2 else 1) for n in range(3)]
    )
    assert rows(client, headers, "percentage-abandoned-chats") == [
        {"_id": "billing", "percentageOfAbandonedChats": 66},
        {"_id": "sales", "percentageOfAbandonedChats": 29},
    ]


@pytest.mark.parametrize("path", ROOM_METRICS)
def test_no_rooms_no_rows(client, headers, database, path):
    database["rocketchat_room"].insert_one(room("elsewhere", ts=at(1) - dt.timedelta(days=1)))
    assert rows(client, headers, path) == []


@pytest.mark.parametrize("path", ROOM_METRICS)
def test_the_demo_data_gives_every_metric_real_numbers(database, path):
    now = dt.datetime(2024, 6, 14, 15, 30, tzinfo=UTC)
    app = demo_server.make_demo_app(database=database, rooms=600, now=now).app
    window = {"start": "2024-05-16", "end": "2024-06-14"}
    headers = {"X-User-Id": demo.MANAGER_ID, "X-Auth-Token": demo.MANAGER_TOKEN}
    body = app.test_client().get(f"{PREFIX}/{path}", query_string=window, headers=headers).get_json()
    departments = {row["_id"] for row in body["departments"]}
    assert len(departments) >= 4 and None in departments
    assert all(value > 0 for row in body["departments"] for key, value in row.items() if key != "_id")


# Department names


NAMES_URL = PREFIX + "/amount-of-chats?start=2024-03-01&end=2024-03-31"


def test_department_names_are_off_by_default(client, database):
    headers = store_three_rooms(database)
    assert client.get(NAMES_URL, headers=headers).get_json()["departments"] == [
        {"_id": None, "rooms": 1},
        {"_id": "gone", "rooms": 1},
        {"_id": "sales", "rooms": 1},
    ]


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ({"name": 1}, [None, "gone", "billing", "sales"]),  # null names first, then by name
        ({"name": -1, "rooms": 1}, ["sales", "billing", "gone", None]),
    ],
)
def test_rows_sort_by_name_when_names_are_on(make_app, database, sort, order):
    app = make_app(DEPARTMENT_NAMES=True)
    headers = store_three_rooms(database)
    database["rocketchat_livechat_department"].insert_one({"_id": "billing", "name": "Billing"})
    database["rocketchat_room"].insert_one({"_id": "d", "t": "l", "ts": dt.datetime(2024, 3, 6, tzinfo=UTC)})
    database["rocketchat_room"].insert_one(
        {"_id": "e", "t": "l", "ts": dt.datetime(2024, 3, 6, tzinfo=UTC), "departmentId": "billing"}
    )
    query = {"start": "2024-03-01", "end": "2024-03-31", "sort": json.dumps(sort), "count": "3"}
    body = app.test_client().get(PREFIX + "/amount-of-chats", query_string=query, headers=headers).get_json()
    # null (no department) and "gone" (no document) both have a null name: _id breaks the tie.
    assert [row["_id"] for row in body["departments"]] == order[:3]
    assert body["total"] == 4
    names = {None: None, "gone": None, "billing": "Billing", "sales": "Sales"}
    assert all(row["name"] == names[row["_id"]] for row in body["departments"])


def test_sort_by_name_is_refused_when_names_are_off(client, database):
    headers = store_three_rooms(database)
    response = client.get(NAMES_URL + "&sort=%7B%22name%22%3A1%7D", headers=headers)
    assert response.status_code == 400
    assert response.get_json()["details"] == {
        "sort": [
            'Must be a JSON object such as {"_id": 1} whose keys are among _id, rooms and whose values '
            "are 1 or -1."
        ]
    }


def test_department_names_when_switched_on(make_app, database):
    app = make_app(DEPARTMENT_NAMES=True)
    headers = store_three_rooms(database)
    body = app.test_client().get(NAMES_URL + "&sort=%7B%22_id%22%3A-1%7D", headers=headers).get_json()
    assert body["departments"] == [
        {"_id": "sales", "name": "Sales", "rooms": 1},
        {"_id": "gone", "name": None, "rooms": 1},
        {"_id": None, "name": None, "rooms": 1},
    ]


def test_names_true_asks_for_the_names_whatever_the_setting(client, database):
    headers = store_three_rooms(database)
    body = client.get(NAMES_URL + "&names=true", headers=headers).get_json()
    assert body["departments"] == [
        {"_id": None, "name": None, "rooms": 1},
        {"_id": "gone", "name": None, "rooms": 1},
        {"_id": "sales", "name": "Sales", "rooms": 1},
    ]
    csv = client.get(NAMES_URL + "&names=true&format=csv", headers=headers).get_data(as_text=True)
    assert csv.splitlines() == ["_id,name,rooms", ",,1", "gone,,1", "sales,Sales,1"]


def test_names_false_leaves_the_setting_on(make_app, database):
    app = make_app(DEPARTMENT_NAMES=True)
    headers = store_three_rooms(database)
    body = app.test_client().get(NAMES_URL + "&names=false", headers=headers).get_json()
    assert [row["name"] for row in body["departments"]] == [None, None, "Sales"]


def test_names_takes_true_or_false_only(client, database):
    headers = store_three_rooms(database)
    response = client.get(NAMES_URL + "&names=1", headers=headers)
    assert response.status_code == 400
    assert response.get_json()["details"] == {"names": ["Must be true or false."]}


def _metric(**changed: Any) -> Metric:
    """The amount-of-chats row, written out, with ``changed`` pieces."""
    pieces: dict[str, Any] = {
        "path": "departments/example",
        "row_schema": AmountOfChatsSchema,
        "source": created_rooms,
        "sums": counted("rooms"),
        "values": {"rooms": 1},
        "twin": lambda sums: {"rooms": int(sums.get("rooms", 0))},
        "title": "Chats",
        "shown": "rooms",
    }
    return Metric(**{**pieces, **changed})


def test_a_metric_row_with_every_piece_is_a_page_of_departments():
    metric = _metric()
    assert metric.fields == ("rooms",)
    assert metric.sortable == ("_id", "rooms")
    assert metric.response.CSV.key == "departments"


@pytest.mark.parametrize(
    ("changed", "message"),
    [
        ({"values": {}}, "departments/example: its values name [], its row has ['rooms']."),
        ({"values": {"rooms": 1, "chats": 1}}, "its values name ['chats', 'rooms'], its row has ['rooms']."),
        ({"twin": lambda sums: {"room": 0}}, "its twin name ['room'], its row has ['rooms']."),
        ({"shown": "chats"}, "departments/example: the page shows a field its row does not have."),
        ({"also": ("chats", "Chats")}, "departments/example: the page shows a field its row does not have."),
        ({"unit": "hours"}, "departments/example: unit 'hours' is not one of count, seconds, percent."),
    ],
)
def test_a_metric_row_missing_a_piece_fails_when_it_is_made(changed: dict[str, Any], message: str):
    with pytest.raises(TypeError) as refused:
        _metric(**changed)
    assert str(refused.value).endswith(message)


def test_a_row_whose_body_declares_no_csv_shape_fails_when_it_is_made():
    with pytest.raises(TypeError, match=r"^dashboards/example: Schema declares no CSV shape\.$"):
        Endpoint(path="dashboards/example", args=ArgsSchema, response=Schema(), compute=lambda *args: {})
