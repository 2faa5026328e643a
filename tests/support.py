"""Helpers the tests share: the URL prefix and the documents they store."""

from __future__ import annotations

import datetime as dt
import os

from hypothesis import HealthCheck, settings
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


def property_settings(examples: int) -> settings:
    """Hypothesis settings of the properties that query a database: no deadline (a server answers
    in its own time), no example database, and fixtures shared by the examples on purpose."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
