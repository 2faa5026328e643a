"""Authentication and permission: the Rocket.Chat user and the permission each endpoint needs, a
host's own authenticator, and unusable permission documents; on every backend."""

from __future__ import annotations

import logging

import pytest
from flask import Request
from support import NOT_LOGGED_IN, PREFIX, UNAUTHORIZED, add_user

from livechat_analytics import Authenticator, User, auth

URL = PREFIX + "/amount-of-chats?start=2024-01-01&end=2024-01-31"
EMPTY = {"departments": [], "count": 0, "offset": 0, "total": 0, "success": True}


@pytest.mark.parametrize(
    "sent",
    [
        {},
        {"X-User-Id": "manager"},
        {"X-Auth-Token": "manager-token"},
        {"X-User-Id": "manager", "X-Auth-Token": "wrong-token"},
        {"X-User-Id": "nobody", "X-Auth-Token": "manager-token"},
        {"X-User-Id": "", "X-Auth-Token": ""},
        {"X-User-Id": "manager", "X-Auth-Token": "hjmnMC8/ELDSZe9QPtAXaSgjk5pD0sY1MZuSSk6JQBI="},
    ],
    ids=["none", "no-token", "no-user", "wrong-token", "unknown-user", "empty", "the-hash-itself"],
)
def test_who_is_not_logged_in_gets_401(client, headers, sent):
    response = client.get(URL, headers=sent)
    assert response.status_code == 401
    assert response.mimetype == "application/json"
    assert response.get_json() == NOT_LOGGED_IN


def test_an_inactive_user_is_refused(client, database):
    sent = add_user(database, "gone", token="old-token", roles=("admin",), active=False)
    response = client.get(URL, headers=sent)
    assert (response.status_code, response.get_json()) == (401, NOT_LOGGED_IN)


def test_any_of_several_tokens_logs_in(client, database):
    sent = add_user(database, "agent", token="first", roles=("admin",))
    database["users"].update_one(
        {"_id": "agent"},
        {"$push": {"services.resume.loginTokens": {"hashedToken": "c2Vjb25k", "when": None}}},
    )
    assert client.get(URL, headers=sent).status_code == 200


@pytest.mark.parametrize("role", ["admin", "livechat-manager", "livechat-monitor"])
def test_default_roles_hold_the_permission(client, database, role):
    sent = add_user(database, role, token=role, roles=("user", role))
    response = client.get(URL, headers=sent)
    assert (response.status_code, response.get_json()) == (200, EMPTY)


@pytest.mark.parametrize("roles", [(), ("user",), ("livechat-agent", "bot")])
def test_other_roles_get_403(client, database, roles):
    sent = add_user(database, "agent", token="t", roles=roles)
    response = client.get(URL, headers=sent)
    assert (response.status_code, response.get_json()) == (403, UNAUTHORIZED)


def test_the_permission_document_replaces_the_default_roles(client, database):
    database["rocketchat_permissions"].insert_one({"_id": "view-livechat-manager", "roles": ["analyst"]})
    analyst = add_user(database, "analyst", token="a", roles=("analyst",))
    manager = add_user(database, "manager", token="m", roles=("livechat-manager",))
    assert client.get(URL, headers=analyst).status_code == 200
    response = client.get(URL, headers=manager)
    assert (response.status_code, response.get_json()) == (403, UNAUTHORIZED)


def test_authentication_comes_before_parameters(client):
    response = client.get(PREFIX + "/amount-of-chats?start=nonsense")
    assert (response.status_code, response.get_json()) == (401, NOT_LOGGED_IN)


def test_permission_comes_before_parameters(client, database):
    sent = add_user(database, "agent", token="t", roles=("livechat-agent",))
    response = client.get(PREFIX + "/amount-of-chats?start=nonsense", headers=sent)
    assert (response.status_code, response.get_json()) == (403, UNAUTHORIZED)


class HeaderKey(Authenticator):
    """A host's own scheme: an API key header, and a user store of its own."""

    def authenticate(self, request: Request) -> User | None:
        key = request.headers.get("X-Api-Key")
        return {"k-boss": User("boss", ("ops",)), "k-intern": User("intern")}.get(key)

    def authorize(self, user: User, permission: str) -> bool:
        # The permission the endpoint asks for is handed over: this host maps it to its own roles.
        self.asked.append(permission)
        return "ops" in user.roles

    def __init__(self) -> None:
        self.asked: list[str] = []


def test_a_host_brings_its_own_authentication(make_app, database, headers):
    authenticator = HeaderKey()
    app = make_app(authenticator=authenticator)
    client = app.test_client()
    assert client.get(URL, headers={"X-Api-Key": "k-boss"}).get_json() == EMPTY
    assert authenticator.asked == ["view-livechat-manager"]
    assert client.get(URL, headers={"X-Api-Key": "k-intern"}).get_json() == UNAUTHORIZED
    # Rocket.Chat's headers mean nothing to this host.
    assert client.get(URL, headers=headers).get_json() == NOT_LOGGED_IN


@pytest.fixture
def warned(monkeypatch: pytest.MonkeyPatch) -> set:
    """A process that has logged no unusable permission yet."""
    fresh: set = set()
    monkeypatch.setattr(auth, "_WARNED", fresh)
    return fresh


@pytest.mark.parametrize(
    "stored",
    [5, [["x"]], "livechat-manager", {"livechat-manager": True}, ["livechat-manager", 5], True],
    ids=["number", "nested-list", "string", "object", "mixed-list", "bool"],
)
def test_unusable_permission_roles_grant_nothing_and_are_logged_once(
    client, database, stored, warned, caplog
):
    database["rocketchat_permissions"].insert_one({"_id": "view-livechat-manager", "roles": stored})
    manager = add_user(database, "manager", token="m", roles=("livechat-manager", "admin"))
    letter = add_user(database, "letter", token="l", roles=("l",))
    caplog.set_level(logging.WARNING, logger="livechat_analytics")
    for sent in (manager, letter, manager):
        response = client.get(URL, headers=sent)
        assert (response.status_code, response.get_json()) == (403, UNAUTHORIZED)
    [record] = [record for record in caplog.records if record.name == "livechat_analytics"]
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        "The 'view-livechat-manager' permission's roles are not a list of role names,"
        f" so it grants nothing: {stored!r}"
    )


@pytest.mark.parametrize("document", [{}, {"roles": None}, {"roles": []}], ids=["missing", "null", "empty"])
def test_a_permission_without_roles_grants_nothing_quietly(client, database, document, warned, caplog):
    database["rocketchat_permissions"].insert_one({"_id": "view-livechat-manager", **document})
    manager = add_user(database, "manager", token="m", roles=("livechat-manager",))
    response = client.get(URL, headers=manager)
    assert (response.status_code, response.get_json()) == (403, UNAUTHORIZED)
    assert not [record for record in caplog.records if record.name == "livechat_analytics"]
