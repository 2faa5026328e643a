"""Documents that tests of more than one module store: the demo data set and the window they ask it
about, seen in plain Python; a small hand-made data set whose answers are worked out; three rooms in
three kinds of department."""

from __future__ import annotations

import collections
import datetime as dt
from dataclasses import dataclass
from typing import Any

from oracles import status_of
from pymongo.database import Database
from support import UTC, add_user

from livechat_analytics import demo

#: The demo data set's "now", and the 30 days before it that the tests ask about.
NOW = dt.datetime(2024, 6, 14, 15, 30, tzinfo=UTC)
START = dt.datetime(2024, 5, 16, tzinfo=UTC)
END = dt.datetime(2024, 6, 14, 23, 59, 59, 999000, tzinfo=UTC)
WINDOW = {"start": "2024-05-16", "end": "2024-06-14"}
DAYS = {"from": "2024-05-16", "to": "2024-06-14"}
MANAGER = {"X-User-Id": demo.MANAGER_ID, "X-Auth-Token": demo.MANAGER_TOKEN}


@dataclass
class Stored:
    """The stored livechat rooms and messages, in plain Python."""

    #: Every livechat room, and those created in the window.
    rooms: list[dict[str, Any]]
    window: list[dict[str, Any]]
    #: The messages people wrote, and those agents wrote, per room.
    messages: collections.Counter
    agent_messages: collections.Counter

    @property
    def statuses(self) -> collections.Counter:
        return collections.Counter(status_of(room) for room in self.window)

    @property
    def hours(self) -> collections.Counter:
        """The window's rooms per hour of the day they were created in."""
        return collections.Counter(room["ts"].hour for room in self.window)


def stored(database: Database) -> Stored:
    """What ``database`` holds, over the window from :data:`START` to :data:`END`."""
    rooms = list(database["rocketchat_room"].find({"t": "l"}))
    people = list(database["rocketchat_message"].find({"t": {"$exists": False}}))
    return Stored(
        rooms=rooms,
        window=[room for room in rooms if START <= room["ts"] <= END],
        messages=collections.Counter(message["rid"] for message in people),
        agent_messages=collections.Counter(message["rid"] for message in people if "token" not in message),
    )


def at(day: int, hour: int = 12, seconds: float = 0) -> dt.datetime:
    """An instant in March 2024."""
    return dt.datetime(2024, 3, day, hour, tzinfo=UTC) + dt.timedelta(seconds=seconds)


#: The window of :func:`store_small_data_set`, as the dashboards and as the overview ask for it.
SMALL_WINDOW = {"start": "2024-03-01", "end": "2024-03-10"}
SMALL_DAYS = {"from": "2024-03-01", "to": "2024-03-10"}


def store_small_data_set(database: Database) -> None:
    """Four rooms in the window: 1 closed, 1 on hold, 1 queued, 1 open; two departments named
    Sales; visitors v1 (twice), v2, v3; three messages people wrote, in room a."""
    database["rocketchat_livechat_department"].insert_many(
        [{"_id": "d1", "name": "Sales"}, {"_id": "d2", "name": "Sales"}, {"_id": "d3", "name": "Help"}]
    )
    database["rocketchat_room"].insert_many(
        [
            # closed, served by ana, 3 people's messages and a system one, visitor v1
            {
                "_id": "a",
                "t": "l",
                "ts": at(4, 15),
                "departmentId": "d1",
                "closedAt": at(4, 16),
                "servedBy": {"_id": "ana", "username": "ana"},
                "v": {"_id": "v1"},
                "metrics": {"chatDuration": 3600, "response": {"avg": 10, "ft": 20}, "reaction": {"ft": 5}},
            },
            # on hold, served by ana, visitor v1 again
            {
                "_id": "b",
                "t": "l",
                "ts": at(4, 15, 60),
                "departmentId": "d2",
                "open": True,
                "onHold": True,
                "servedBy": {"_id": "ana", "username": "ana"},
                "v": {"_id": "v1"},
                "metrics": {"response": {"avg": 20.5, "ft": 40}},
            },
            # queued (nobody serves it), no department
            {"_id": "c", "t": "l", "ts": at(5, 9), "open": True, "waitingResponse": True, "v": {"_id": "v2"}},
            # open, served by bo
            {
                "_id": "d",
                "t": "l",
                "ts": at(5, 15),
                "departmentId": "d3",
                "open": True,
                "servedBy": {"_id": "bo", "username": "bo"},
                "v": {"_id": "v3"},
            },
            # not counted: another room type, and a room created after the window
            {"_id": "e", "t": "c", "ts": at(4)},
            {"_id": "f", "t": "l", "ts": at(20), "open": True, "v": {"_id": "v9"}},
        ]
    )
    database["rocketchat_message"].insert_many(
        [
            {"_id": "m1", "rid": "a", "msg": "hi", "token": "x"},
            {"_id": "m2", "rid": "a", "msg": "hello", "u": {"username": "ana"}},
            {"_id": "m3", "rid": "a", "msg": "bye", "token": "x"},
            {"_id": "m4", "rid": "a", "t": "livechat-close"},
            {"_id": "m5", "rid": "f", "msg": "later"},
        ]
    )


def store_three_rooms(database: Database) -> dict[str, str]:
    """Rooms a (department sales, named Sales), b (department gone, which has no document) and c
    (no department), on 5 March 2024; and a manager: the headers that log them in."""
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
