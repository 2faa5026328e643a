"""The report family: the conversation reports and charts-data on hand-made rooms, properties
against plain Python, the permission and the exact error bodies."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from oracles import status_of
from support import ROOT, UTC, add_user, property_settings

ROOMS = "rocketchat_room"
WINDOW = {"start": "2024-03-01", "end": "2024-03-31"}
START = dt.datetime(2024, 3, 1, tzinfo=UTC)
END = dt.datetime(2024, 3, 31, 23, 59, 59, 999000, tzinfo=UTC)
REPORTS = ["source", "status", "department", "tags", "agent"]


def at(day: int, hours: float = 0) -> dt.datetime:
    return dt.datetime(2024, 3, day, tzinfo=UTC) + dt.timedelta(hours=hours)


def get(client, headers, path: str, **params):
    return client.get(f"{ROOT}/dashboards/{path}", query_string={**WINDOW, **params}, headers=headers)


def report(client, headers, name: str, **params) -> dict:
    response = get(client, headers, f"conversations-by-{name}", **params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def rooms(database):
    served = {"_id": "u1", "username": "ana"}
    database[ROOMS].insert_many(
        [
            # Open and served, on hold, queued, and two closed (one without `open` at all).
            {
                "_id": "a",
                "t": "l",
                "ts": at(2),
                "open": True,
                "servedBy": served,
                "departmentId": "d1",
                "source": {"type": "widget"},
                "tags": ["bug", "refund", "bug"],
            },
            {
                "_id": "b",
                "t": "l",
                "ts": at(3),
                "open": True,
                "onHold": True,
                "servedBy": served,
                "departmentId": "d2",
                "source": {"type": "api", "alias": "whatsapp"},
                "tags": ["bug"],
            },
            {
                "_id": "c",
                "t": "l",
                "ts": at(4),
                "open": True,
                "departmentId": "d3",
                "source": {"type": "widget"},
                "tags": [],
            },
            {
                "_id": "d",
                "t": "l",
                "ts": at(5),
                "open": False,
                "servedBy": {"_id": "u2", "username": "bo"},
                "departmentId": None,
            },
            {
                "_id": "e",
                "t": "l",
                "ts": at(6),
                "closedAt": at(6, 1),
                "servedBy": {"_id": "u3", "username": "cy"},
                "departmentId": "gone",
                "source": {"type": "widget"},
            },
            # Not counted: created after the window, or not a livechat room.
            {"_id": "f", "t": "l", "ts": END + dt.timedelta(milliseconds=1), "source": {"type": "widget"}},
            {"_id": "g", "t": "c", "ts": at(7), "source": {"type": "widget"}},
        ]
    )
    database["rocketchat_livechat_department"].insert_many(
        [{"_id": "d1", "name": "Sales"}, {"_id": "d2", "name": "Sales"}, {"_id": "d3", "name": "Billing"}]
    )
    database["users"].insert_many(
        [{"_id": "u1", "username": "ana", "name": "Ana Souza"}, {"_id": "u2", "username": "bo"}]
    )


def test_conversations_by_source(client, headers, rooms):
    # The alias when there is one, else the type; by value descending, then label.
    assert report(client, headers, "source") == {
        "data": [{"label": "widget", "value": 3}, {"label": "whatsapp", "value": 1}],
        "total": 4,
        "success": True,
    }


def test_conversations_by_status(client, headers, rooms):
    assert report(client, headers, "status") == {
        "data": [
            {"label": "Closed", "value": 2},
            {"label": "On_Hold", "value": 1},
            {"label": "Open", "value": 1},
            {"label": "Queued", "value": 1},
        ],
        "total": 5,
        "success": True,
    }


def test_conversations_by_department(client, headers, rooms):
    # Two departments named Sales keep apart; a department without a document shows its id; the
    # room with a null department is unspecified. Ascending value, then label, by default.
    assert report(client, headers, "department") == {
        "data": [
            {"label": "Billing", "value": 1},
            {"label": "Sales (d1)", "value": 1},
            {"label": "Sales (d2)", "value": 1},
            {"label": "gone", "value": 1},
        ],
        "total": 4,
        "unspecified": 1,
        "success": True,
    }


def test_conversations_by_tags(client, headers, rooms):
    # a counts once under bug (listed twice) and once under refund; b under bug: 2 rooms in total.
    assert report(client, headers, "tags", sort='{"value": -1}') == {
        "data": [{"label": "bug", "value": 2}, {"label": "refund", "value": 1}],
        "total": 2,
        "unspecified": 3,
        "success": True,
    }


def test_conversations_by_agent(client, headers, rooms):
    # The user's name, else the user's username, else the room's; c nobody served.
    assert report(client, headers, "agent") == {
        "data": [
            {"label": "Ana Souza", "value": 2},
            {"label": "bo", "value": 1},
            {"label": "cy", "value": 1},
        ],
        "total": 4,
        "unspecified": 1,
        "success": True,
    }
    ordered = report(client, headers, "agent", sort='{"label": -1}')["data"]
    assert [item["label"] for item in ordered] == ["cy", "bo", "Ana Souza"]


@pytest.mark.parametrize("name", REPORTS)
def test_an_empty_window(client, headers, database, name):
    answer = report(client, headers, name)
    assert answer["total"] == 0
    assert answer.get("unspecified", 0) == 0
    assert all(item["value"] == 0 for item in answer["data"])


# Errors and permission


def invalid(error: str, details: dict) -> dict:
    return {"success": False, "error": error, "errorType": "invalid-params", "details": details}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # 1 January 2024 to 5 January 2025 is 12 + 4/31 months: more than 1.01 years.
        (
            {"start": "2024-01-01", "end": "2025-01-05"},
            invalid(
                'The "end" query parameter must be less than 1 year after "start".',
                {"end": ['Must be less than 1 year after "start".']},
            ),
        ),
        (
            {"start": "2024-01-01", "end": "2024-01-02", "sort": '{"total": 1}'},
            invalid(
                'The "sort" query parameter must be a JSON object such as {"label": 1} whose keys are among '
                "label, value and whose values are 1 or -1.",
                {
                    "sort": [
                        'Must be a JSON object such as {"label": 1} whose keys are among label, '
                        "value and whose values are 1 or -1."
                    ]
                },
            ),
        ),
    ],
)
def test_report_errors(client, headers, database, params, expected):
    response = client.get(f"{ROOT}/dashboards/conversations-by-tags", query_string=params, headers=headers)
    assert (response.status_code, response.get_json()) == (400, expected)


def test_a_year_and_four_days_is_allowed(client, headers, database):
    response = get(client, headers, "conversations-by-status", start="2024-01-01", end="2025-01-04")
    assert response.status_code == 200


def test_an_unknown_chart_names_the_allowed_ones(client, headers, database):
    response = get(client, headers, "charts-data", chartName="Busiest_day")
    allowed = (
        "Must be one of Total_conversations, Avg_chat_duration, Total_messages, Avg_first_response_time, "
        "Best_first_response_time, Avg_response_time, Avg_reaction_time."
    )
    assert (response.status_code, response.get_json()) == (
        400,
        invalid(
            f'The "chartName" query parameter {allowed[0].lower()}{allowed[1:]}', {"chartName": [allowed]}
        ),
    )


def test_the_reports_need_their_own_permission(client, database):
    database["rocketchat_permissions"].insert_one(
        {"_id": "view-livechat-reports", "roles": ["some-other-role"]}
    )
    manager = add_user(database)
    forbidden = {
        "success": False,
        "error": "User does not have the permissions required for this action [error-unauthorized]",
    }
    for name in REPORTS:
        response = get(client, manager, f"conversations-by-{name}")
        assert (response.status_code, response.get_json()) == (403, forbidden)
    for path, params in [
        ("dashboards/charts-data", {"chartName": "Total_conversations"}),
        ("agents/total-service-time", {}),
        ("departments/amount-of-chats", {}),
    ]:
        response = client.get(f"{ROOT}/{path}", query_string={**WINDOW, **params}, headers=manager)
        assert response.status_code == 200, path
    reporter = add_user(database, "reporter", token="reporter-token", roles=("some-other-role",))
    assert get(client, reporter, "conversations-by-status").status_code == 200


# Properties: random rooms against plain Python

PROPERTY_SETTINGS = property_settings(20)


@st.composite
def random_rooms(draw) -> list[dict]:
    made = []
    for n in range(draw(st.integers(0, 12))):
        ts = START + dt.timedelta(minutes=draw(st.integers(-2 * 1440, 33 * 1440)))
        room: dict = {"_id": f"r{n}", "t": draw(st.sampled_from(["l", "l", "l", "c"])), "ts": ts}
        for key, values in {
            "open": [True, False, None],
            "onHold": [True, False],
            "servedBy": [{"_id": "u1", "username": "ana"}, {"_id": "u2", "username": "bo"}],
            "departmentId": ["d1", "d2", None],
            "tags": [["x"], ["x", "y"], ["y", "y"], []],
            "source": [{"type": "widget"}, {"type": "api", "alias": "sms"}],
        }.items():
            if draw(st.booleans()):
                room[key] = draw(st.sampled_from(values))
        made.append(room)
    return made


def counted(rooms: list[dict]) -> list[dict]:
    return [room for room in rooms if room["t"] == "l" and START <= room["ts"] <= END]


@given(rooms=random_rooms())
@PROPERTY_SETTINGS
def test_the_reports_agree_with_plain_python(client, headers, database, rooms):
    database[ROOMS].delete_many({})
    database["rocketchat_livechat_department"].delete_many({})
    database["rocketchat_livechat_department"].insert_many(
        [{"_id": "d1", "name": "One"}, {"_id": "d2", "name": "Two"}]
    )
    if rooms:
        database[ROOMS].insert_many(rooms)
    window = counted(rooms)

    status = report(client, headers, "status")
    labels = {"open": "Open", "closed": "Closed", "queued": "Queued", "onhold": "On_Hold"}
    expected = {label: sum(status_of(room) == key for room in window) for key, label in labels.items()}
    assert {item["label"]: item["value"] for item in status["data"]} == expected
    assert sum(item["value"] for item in status["data"]) == status["total"] == len(window)

    tags = report(client, headers, "tags")
    tagged = [set(room.get("tags", [])) for room in window]
    names = set().union(*tagged) if tagged else set()
    assert {item["label"]: item["value"] for item in tags["data"]} == {
        name: sum(name in found for found in tagged) for name in names
    }
    assert (tags["total"], tags["unspecified"]) == (
        sum(map(bool, tagged)),
        sum(not found for found in tagged),
    )

    departments = report(client, headers, "department")
    named = {"d1": "One", "d2": "Two"}
    with_department = [named[room["departmentId"]] for room in window if room.get("departmentId")]
    assert {item["label"]: item["value"] for item in departments["data"]} == {
        name: with_department.count(name) for name in with_department
    }
    assert departments["total"] + departments["unspecified"] == len(window)

    agents = report(client, headers, "agent")
    usernames = [room["servedBy"]["username"] for room in window if "servedBy" in room]
    assert {item["label"]: item["value"] for item in agents["data"]} == {
        name: usernames.count(name) for name in usernames
    }
    assert (agents["total"], agents["unspecified"]) == (len(usernames), len(window) - len(usernames))

    sources = report(client, headers, "source")
    found = [room["source"].get("alias", room["source"]["type"]) for room in window if "source" in room]
    assert {item["label"]: item["value"] for item in sources["data"]} == {
        name: found.count(name) for name in found
    }
    assert sources["total"] == len(found)


# charts-data


def chart(client, headers, name: str, **params) -> dict:
    response = get(client, headers, "charts-data", chartName=name, **params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_day_per_point_with_empty_days_zero(client, headers, database):
    database[ROOMS].insert_many(
        [
            {
                "_id": "a",
                "t": "l",
                "ts": at(1, 0),
                "metrics": {"chatDuration": 10, "response": {"ft": 4, "avg": 6}},
            },
            {"_id": "b", "t": "l", "ts": at(1, 23.9), "metrics": {"chatDuration": 15, "response": {"ft": 2}}},
            # No value (or 0) leaves a room out of a mean, as Rocket.Chat; halves round up (1.125: 1.13).
            {
                "_id": "c",
                "t": "l",
                "ts": at(3, 12),
                "metrics": {"chatDuration": 0, "reaction": {"ft": 1.125}},
            },
            {"_id": "d", "t": "l", "ts": at(4), "departmentId": "d1"},
        ]
    )
    window = {"start": "2024-03-01", "end": "2024-03-04"}
    assert chart(client, headers, "Total_conversations", **window) == {
        "chartLabel": "Total_conversations",
        "dataLabels": ["3/1", "3/2", "3/3", "3/4"],
        "dataPoints": [2, 0, 1, 1],
        "success": True,
    }
    assert chart(client, headers, "Avg_chat_duration", **window)["dataPoints"] == [12.5, 0, 0, 0]
    assert chart(client, headers, "Avg_first_response_time", **window)["dataPoints"] == [3, 0, 0, 0]
    assert chart(client, headers, "Best_first_response_time", **window)["dataPoints"] == [2, 0, 0, 0]
    assert chart(client, headers, "Avg_response_time", **window)["dataPoints"] == [6, 0, 0, 0]
    assert chart(client, headers, "Avg_reaction_time", **window)["dataPoints"] == [0, 0, 1.13, 0]
    one = chart(client, headers, "Total_conversations", departmentId="d1", **window)
    assert one["dataPoints"] == [0, 0, 0, 1]


def test_total_messages_counts_what_agents_wrote(client, headers, database):
    database[ROOMS].insert_many([{"_id": "a", "t": "l", "ts": at(2)}, {"_id": "b", "t": "l", "ts": at(3)}])
    database["rocketchat_message"].insert_many(
        [
            {"_id": "m1", "rid": "a", "msg": "Hello, how can I help?", "u": {"_id": "u1"}},
            {"_id": "m2", "rid": "a", "msg": "Hi", "token": "visitor-token"},
            {"_id": "m3", "rid": "a", "t": "livechat_transfer_history"},
            {"_id": "m4", "rid": "b", "msg": "Bye"},
            {"_id": "m5", "rid": "b", "msg": "Done"},
        ]
    )
    answer = chart(client, headers, "Total_messages", start="2024-03-02", end="2024-03-03")
    assert answer["dataPoints"] == [1, 2]


def test_a_one_day_window_has_24_hours_that_add_up_to_the_day(client, headers, database):
    database[ROOMS].insert_many(
        [{"_id": f"r{n}", "t": "l", "ts": at(5, hours)} for n, hours in enumerate([0, 0.5, 9.25, 13, 23.99])]
        + [{"_id": "late", "t": "l", "ts": at(6)}]
    )
    answer = chart(client, headers, "Total_conversations", start="2024-03-05", end="2024-03-05")
    assert answer["dataLabels"][:2] == ["12AM-1AM", "1AM-2AM"]
    assert answer["dataLabels"][11:14] == ["11AM-12PM", "12PM-1PM", "1PM-2PM"]
    assert answer["dataLabels"][-1] == "11PM-12AM"
    assert len(answer["dataPoints"]) == 24
    assert answer["dataPoints"][0] == 2 and answer["dataPoints"][9] == 1 and answer["dataPoints"][23] == 1
    assert sum(answer["dataPoints"]) == 5


def test_days_and_hours_are_the_reporting_timezones(make_app, database, headers):
    app = make_app(TIMEZONE="Asia/Kolkata")  # UTC+05:30
    # 18:29 UTC on 4 March is 23:59 on 4 March in Kolkata; 18:30 UTC is 00:00 on 5 March.
    database[ROOMS].insert_many(
        [
            {"_id": "a", "t": "l", "ts": at(4, 18 + 29 / 60)},
            {"_id": "b", "t": "l", "ts": at(4, 18.5)},
            {"_id": "c", "t": "l", "ts": at(5, 4)},  # 09:30 in Kolkata
        ]
    )
    client = app.test_client()
    days = chart(client, headers, "Total_conversations", start="2024-03-04", end="2024-03-05")
    assert (days["dataLabels"], days["dataPoints"]) == (["3/4", "3/5"], [1, 2])
    hours = chart(client, headers, "Total_conversations", start="2024-03-05", end="2024-03-05")["dataPoints"]
    assert (hours[0], hours[9], sum(hours)) == (1, 1, 2)


@given(
    minutes=st.lists(st.integers(-60, 25 * 60), max_size=15),
    zone=st.sampled_from(["UTC", "America/Sao_Paulo", "Asia/Kathmandu"]),
)
@PROPERTY_SETTINGS
def test_one_days_hours_add_up_to_its_total(make_app, database, headers, minutes, zone):
    tz = ZoneInfo(zone)
    app = make_app(TIMEZONE=zone)
    database[ROOMS].delete_many({})
    midnight = dt.datetime(2024, 3, 5, tzinfo=tz)
    rooms = [
        {"_id": f"r{n}", "t": "l", "ts": midnight + dt.timedelta(minutes=m)} for n, m in enumerate(minutes)
    ]
    if rooms:
        database[ROOMS].insert_many(rooms)
    points = chart(app.test_client(), headers, "Total_conversations", start="2024-03-05", end="2024-03-05")
    expected = [0] * 24
    for room in rooms:
        local = room["ts"].astimezone(tz)
        if local.date() == midnight.date():
            expected[local.hour] += 1
    assert points["dataPoints"] == expected
    assert sum(points["dataPoints"]) == sum(0 <= m < 24 * 60 for m in minutes)
