"""Issue 4 in the request path: database trouble, the request log line, department names."""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import tempfile

import pytest
from flask import Flask
from pymongo import MongoClient
from secantus import SecantusDBServer
from support import PREFIX, SERVER_BACKENDS, UTC, add_user

from livechat_analytics import LivechatAnalytics

URL = PREFIX + "/amount-of-chats?start=2024-03-01&end=2024-03-31"
UNAVAILABLE = {"success": False, "error": "The database is unavailable.", "errorType": "database-unavailable"}
TIMEOUT = {"success": False, "error": "The query took too long.", "errorType": "query-timeout"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def app_on(uri: str, **settings) -> Flask:
    app = Flask("host")
    app.config.update(
        LIVECHAT_ANALYTICS_MONGO_URI=uri, LIVECHAT_ANALYTICS_MAX_TIME_MS=1000, **settings
    )
    LivechatAnalytics(app)
    return app


def fill(database) -> dict[str, str]:
    ts = dt.datetime(2024, 3, 5, tzinfo=UTC)
    database["rocketchat_room"].insert_many(
        [
            {"_id": "a", "t": "l", "ts": ts, "departmentId": "sales"},
            {"_id": "b", "t": "l", "ts": ts, "departmentId": "gone"},
            {"_id": "c", "t": "l", "ts": ts},
        ]
    )
    database["rocketchat_livechat_department"].insert_one({"_id": "sales", "name": "Sales", "enabled": True})
    return add_user(database)


def test_a_closed_port_answers_503(caplog):
    app = app_on(f"mongodb://127.0.0.1:{free_port()}/rocketchat")
    response = app.test_client().get(URL, headers={"X-User-Id": "u", "X-Auth-Token": "t"})
    assert (response.status_code, response.get_json()) == (503, UNAVAILABLE)
    assert "database unavailable" in caplog.text


def test_a_stopped_server_answers_503_and_the_app_recovers_when_it_is_back():
    port = free_port()
    uri = f"mongodb://127.0.0.1:{port}/rocketchat"
    with tempfile.TemporaryDirectory() as path:
        app = app_on(uri)  # made while the server is down: the app starts all the same
        client = app.test_client()
        assert client.get(URL, headers={"X-User-Id": "u", "X-Auth-Token": "t"}).status_code == 503
        with SecantusDBServer(port=port, storage_path=path):
            with MongoClient(uri) as setup:
                headers = fill(setup["rocketchat"])
            assert client.get(URL, headers=headers).status_code == 200
        response = client.get(URL, headers=headers)
        assert (response.status_code, response.get_json()) == (503, UNAVAILABLE)
        with SecantusDBServer(port=port, storage_path=path):
            assert client.get(URL, headers=headers).get_json()["total"] == 3


@pytest.fixture
def server_app(database):
    host, port = database.client.address
    headers = fill(database)
    yield app_on(f"mongodb://{host}:{port}/{database.name}"), headers
    database.client.admin.command("configureFailPoint", "maxTimeAlwaysTimeOut", mode="off")
    database.client.admin.command("configureFailPoint", "failCommand", mode="off")


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_a_query_over_its_time_limit_answers_504(database, server_app, caplog):
    app, headers = server_app
    database.client.admin.command("configureFailPoint", "maxTimeAlwaysTimeOut", mode={"times": 1})
    response = app.test_client().get(URL, headers=headers)
    assert (response.status_code, response.get_json()) == (504, TIMEOUT)
    assert "over its time limit" in caplog.text


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_any_other_database_error_answers_500_without_internals(database, server_app):
    app, headers = server_app
    database.client.admin.command(
        "configureFailPoint",
        "failCommand",
        mode={"times": 1},
        data={"failCommands": ["aggregate"], "errorCode": 2, "errorMessage": "secret internals"},
    )
    response = app.test_client().get(URL, headers=headers)
    assert response.status_code == 500
    assert response.get_json() == {
        "success": False,
        "error": "The database could not answer.",
        "errorType": "database-error",
    }


def test_one_log_line_per_request_and_never_the_token(client, database, caplog):
    headers = fill(database)
    caplog.set_level(logging.INFO, logger="livechat_analytics.request")
    client.get(URL + "&count=2&sort=%7B%22rooms%22%3A-1%7D", headers=headers)
    client.get(URL, headers={"X-User-Id": "manager", "X-Auth-Token": "wrong"})
    lines = [json.loads(record.getMessage()) for record in caplog.records]
    for line in lines:
        assert line.pop("ms") >= 0
    assert lines == [
        {
            "endpoint": PREFIX + "/amount-of-chats",
            "status": 200,
            "user": "manager",
            "params": {
                "start": ["2024-03-01"],
                "end": ["2024-03-31"],
                "count": ["2"],
                "sort": ['{"rooms":-1}'],
            },
            "rows": 2,
            "total": 3,
        },
        {
            "endpoint": PREFIX + "/amount-of-chats",
            "status": 401,
            "user": None,
            "params": {"start": ["2024-03-01"], "end": ["2024-03-31"]},
            "rows": None,
            "total": None,
        },
    ]
    assert headers["X-Auth-Token"] not in caplog.text


def test_department_names_are_off_by_default(client, database):
    headers = fill(database)
    assert client.get(URL, headers=headers).get_json()["departments"] == [
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
def test_rows_sort_by_name_when_names_are_on(database, sort, order):
    app = Flask("host")
    app.config["LIVECHAT_ANALYTICS_DEPARTMENT_NAMES"] = True
    LivechatAnalytics(app, database=database)
    headers = fill(database)
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
    headers = fill(database)
    response = client.get(URL + "&sort=%7B%22name%22%3A1%7D", headers=headers)
    assert response.status_code == 400
    assert response.get_json()["details"] == {
        "sort": [
            'Must be a JSON object such as {"_id": 1} whose keys are among _id, rooms and whose values '
            "are 1 or -1."
        ]
    }


def test_department_names_when_switched_on(database):
    app = Flask("host")
    app.config["LIVECHAT_ANALYTICS_DEPARTMENT_NAMES"] = True
    LivechatAnalytics(app, database=database)
    headers = fill(database)
    body = app.test_client().get(URL + "&sort=%7B%22_id%22%3A-1%7D", headers=headers).get_json()
    assert body["departments"] == [
        {"_id": "sales", "name": "Sales", "rooms": 1},
        {"_id": "gone", "name": None, "rooms": 1},
        {"_id": None, "name": None, "rooms": 1},
    ]
