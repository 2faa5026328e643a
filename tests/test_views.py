"""The request path: routing under the prefix (JSON 404 and 405), one aggregate per request under one
deadline and nothing ever written, the request's log line, and the health check."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time

import pytest
from documents import store_three_rooms
from support import PREFIX, ROOT, SERVER_BACKENDS, UNAVAILABLE, UTC, add_user, free_port

WINDOW = "start=2024-03-01&end=2024-03-31"
URL = f"{PREFIX}/amount-of-chats?{WINDOW}"
HEALTH = ROOT + "/health"
REQUESTS = [
    f"/amount-of-chats?{WINDOW}",
    f"/amount-of-chats?{WINDOW}&answered=false&sort=%7B%22rooms%22%3A-1%7D&count=1&offset=1",
    f"/total-transferred-chats?{WINDOW}",
    f"/total-transferred-chats?{WINDOW}&departmentId=sales&count=0",
    f"/amount-of-chats?{WINDOW}&departmentId%5B%24ne%5D=x",
    "/amount-of-chats?start=never",
    "/nope",
]


def fill(database) -> None:
    ts = dt.datetime(2024, 3, 5, tzinfo=UTC)
    database["rocketchat_room"].insert_many(
        [
            {"_id": "a", "t": "l", "ts": ts, "departmentId": "sales", "waitingResponse": True},
            {"_id": "b", "t": "l", "ts": ts, "departmentId": "billing"},
            {"_id": "c", "t": "l", "ts": ts},
        ]
    )
    database["rocketchat_message"].insert_many(
        [
            {"_id": f"m{n}", "t": "livechat_transfer_history", "rid": rid, "ts": ts}
            for n, rid in enumerate("aab")
        ]
    )


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
@pytest.mark.parametrize("path", REQUESTS[:4])
def test_one_request_sends_one_aggregate_and_no_write(database, watched, path):
    fill(database)
    headers = add_user(database)
    app, listener = watched()
    response = app.test_client().get(PREFIX + path, headers=headers)
    assert response.status_code == 200
    reads = [name for name in listener.names if name not in ("hello", "isMaster", "ismaster", "endSessions")]
    # The user and the permission are two small _id look-ups beside the one aggregate.
    assert sorted(reads) == ["aggregate", "find", "find"]
    # Every one of them carries what is left of the request's one deadline (20 s by default), so
    # each read gets less time than the one before it.
    limits = listener.time_limits
    assert len(limits) == 3
    assert all(isinstance(limit, int) for limit in limits)
    assert 20000 >= limits[0] >= limits[1] >= limits[2] > 19000


def snapshot(database) -> dict:
    return {
        name: sorted(database[name].find(), key=lambda document: str(document["_id"]))
        for name in database.list_collection_names()
    }


def test_requests_write_nothing(client, database):
    fill(database)
    headers = add_user(database)
    database["rocketchat_permissions"].insert_one(
        {"_id": "view-livechat-manager", "roles": ["livechat-manager"]}
    )
    before = snapshot(database)
    statuses = [client.get(PREFIX + path, headers=headers).status_code for path in REQUESTS]
    statuses.append(client.post(PREFIX + REQUESTS[0], headers=headers).status_code)
    assert statuses == [200, 200, 200, 200, 400, 400, 404, 405]
    assert snapshot(database) == before


# Routing under the prefix


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("GET", "/nope", 404, f"There is no analytics endpoint at {PREFIX}/nope."),
        (
            "GET",
            "/amount-of-chats/extra",
            404,
            f"There is no analytics endpoint at {PREFIX}/amount-of-chats/extra.",
        ),
        ("GET", "", 404, f"There is no analytics endpoint at {PREFIX}."),
        ("DELETE", "/", 404, f"There is no analytics endpoint at {PREFIX}/."),
        ("POST", "/amount-of-chats", 405, "The departments/amount-of-chats endpoint answers GET only."),
        (
            "PUT",
            "/total-transferred-chats",
            405,
            "The departments/total-transferred-chats endpoint answers GET only.",
        ),
    ],
)
def test_unknown_paths_and_methods_answer_json(client, method, path, status, error):
    response = client.open(PREFIX + path, method=method)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.get_json() == {"success": False, "error": error}
    if status == 405:
        assert response.headers["Allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize("method", ["FOO", "PROPFIND", "CONNECT", "POST"])
@pytest.mark.parametrize("path", ["/amount-of-chats", "/openapi.json"])
def test_any_other_method_on_a_path_of_ours_is_json_405(client, method, path):
    response = client.open(PREFIX + path, method=method)
    assert (response.status_code, response.mimetype) == (405, "application/json")
    assert response.get_json() == {
        "success": False,
        "error": f"The departments{path} endpoint answers GET only.",
    }
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize("method", ["FOO", "PROPFIND"])
def test_any_method_on_an_unknown_path_is_json_404(client, method):
    response = client.open(PREFIX + "/nope", method=method)
    assert (response.status_code, response.get_json()) == (
        404,
        {"success": False, "error": f"There is no analytics endpoint at {PREFIX}/nope."},
    )


@pytest.mark.parametrize(
    "path", [PREFIX + "/amount-of-chats", PREFIX + "/openapi.json", ROOT + "/openapi.json", ROOT + "/health"]
)
def test_options_names_the_same_methods_as_a_405(client, path):
    response = client.options(path)
    assert (response.status_code, response.headers["Allow"]) == (200, "GET, HEAD, OPTIONS")
    assert client.post(path).headers["Allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize(
    "path", ["//amount-of-chats", "/amount-of-chats//", "/amount-of-chats/", "//", "/openapi.json//"]
)
def test_a_doubled_or_trailing_slash_is_json_404_not_a_redirect(client, headers, path):
    response = client.get(PREFIX + path + "?" + WINDOW, headers=headers)
    assert (response.status_code, response.mimetype) == (404, "application/json")
    error = f"There is no analytics endpoint at {PREFIX}{path}."
    assert response.get_json() == {"success": False, "error": error}


# The request's log line


def test_one_log_line_per_request_and_never_the_token(client, database, caplog):
    headers = store_three_rooms(database)
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


# The health check


def test_health_answers_without_authentication(client):
    response = client.get(HEALTH)
    assert (response.status_code, response.get_json()) == (200, {"success": True, "database": "ok"})


def test_health_is_503_when_the_database_is_down(make_app):
    uri = f"mongodb://127.0.0.1:{free_port()}/rocketchat"
    client = make_app(database=None, MONGO_URI=uri, HEALTH_TIMEOUT_MS=200).test_client()
    started = time.monotonic()
    response = client.get(HEALTH)
    assert (response.status_code, response.headers["Retry-After"]) == (503, "5")
    assert response.get_json() == {**UNAVAILABLE, "database": "unavailable"}
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_health_on_a_server(make_app, database):
    host, port = database.client.address
    client = make_app(database=None, MONGO_URI=f"mongodb://{host}:{port}/{database.name}").test_client()
    assert client.get(HEALTH).get_json() == {"success": True, "database": "ok"}
