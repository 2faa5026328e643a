"""Helpers the tests share: the URL prefix and the documents they store."""

from __future__ import annotations

import datetime as dt
import os

from pymongo.database import Database

from livechat_analytics import hash_token

#: The analytics root, and the department family under it.
ROOT = "/api/v1/livechat/analytics"
PREFIX = ROOT + "/departments"
UTC = dt.timezone.utc

URI_VARIABLE = "LIVECHAT_ANALYTICS_TEST_MONGO_URI"
#: Backends that speak the wire protocol: SecantusDB, and the server named in the environment.
SERVER_BACKENDS = ["secantus"] + (["uri"] if os.environ.get(URI_VARIABLE) else [])
BACKENDS = ["mongomock", *SERVER_BACKENDS]


def add_user(
    database: Database,
    user_id: str = "manager",
    *,
    token: str = "manager-token",
    roles: tuple[str, ...] = ("livechat-manager",),
    active: bool = True,
) -> dict[str, str]:
    """Store a user with one resume token, and return the headers that log them in."""
    database["users"].insert_one(
        {
            "_id": user_id,
            "username": user_id,
            "active": active,
            "roles": list(roles),
            "services": {
                "resume": {
                    "loginTokens": [
                        {"hashedToken": hash_token(token), "when": dt.datetime(2024, 1, 1, tzinfo=UTC)}
                    ]
                }
            },
        }
    )
    return {"X-User-Id": user_id, "X-Auth-Token": token}
