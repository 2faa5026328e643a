"""Spec section 7: one aggregate per request, and nothing ever written."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from pymongo import MongoClient, monitoring
from support import PREFIX, SERVER_BACKENDS, UTC, add_user

from livechat_analytics import LivechatAnalytics

WINDOW = "start=2024-03-01&end=2024-03-31"
REQUESTS = [
    f"/amount-of-chats?{WINDOW}",
    f"/amount-of-chats?{WINDOW}&answered=false&sort=%7B%22rooms%22%3A-1%7D&count=1&offset=1",
    f"/total-transferred-chats?{WINDOW}",
    f"/total-transferred-chats?{WINDOW}&departmentId=sales&count=0",
    f"/amount-of-chats?{WINDOW}&departmentId%5B%24ne%5D=x",
    "/amount-of-chats?start=never",
    "/nope",
]


class Commands(monitoring.CommandListener):
    """Names of the commands a client sent."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.time_limits: list[object] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.names.append(event.command_name)
        if event.command_name in ("find", "aggregate"):
            self.time_limits.append(event.command.get("maxTimeMS"))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


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
def test_one_request_sends_one_aggregate_and_no_write(database, path):
    fill(database)
    headers = add_user(database)
    listener = Commands()
    host, port = database.client.address
    watched = MongoClient(host, port, tz_aware=True, event_listeners=[listener])
    try:
        app = Flask("host")
        LivechatAnalytics(app, database=watched[database.name])
        response = app.test_client().get(PREFIX + path, headers=headers)
        assert response.status_code == 200
    finally:
        watched.close()
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
