"""The extension: registered once per app, one extension for several apps, its defaults, a setup
that fails at start, a database from the URI, and the host's own pages and commands."""

from __future__ import annotations

import mongomock
import pytest
from commands import flask_command
from support import PREFIX, SERVER_BACKENDS, UNAVAILABLE, add_user

from livechat_analytics import LivechatAnalytics
from livechat_analytics.config import DEFAULTS

WINDOW = "?start=2024-01-01&end=2024-01-31"
EMPTY = {"departments": [], "count": 0, "offset": 0, "total": 0, "success": True}


def test_registering_twice_is_an_error(make_bare_app, memory):
    app = make_bare_app()
    extension = LivechatAnalytics(app, database=memory)
    with pytest.raises(RuntimeError, match="already registered"):
        extension.init_app(app, database=memory)
    with pytest.raises(RuntimeError, match="already registered"):
        LivechatAnalytics(app, database=memory)


def test_one_extension_serves_several_apps(make_bare_app, memory):
    extension = LivechatAnalytics()
    first, second = make_bare_app(), make_bare_app(URL_PREFIX="/analytics")
    other = mongomock.MongoClient(tz_aware=True)["other"]
    extension.init_app(first, database=memory)
    extension.init_app(second, database=other)
    assert first.extensions["livechat_analytics"].repository.database.name == "rocketchat"
    assert second.extensions["livechat_analytics"].repository.database.name == "other"
    assert not vars(extension).get("app")
    headers = add_user(other)
    answer = second.test_client().get("/analytics/departments/amount-of-chats" + WINDOW, headers=headers)
    assert answer.get_json() == EMPTY
    assert first.test_client().get(PREFIX + "/amount-of-chats" + WINDOW, headers=headers).status_code == 401


def test_every_default_is_set_and_host_values_win(make_bare_app, memory):
    app = make_bare_app(MAX_COUNT=20)
    LivechatAnalytics(app, database=memory)
    assert all(key.startswith("LIVECHAT_ANALYTICS_") for key in DEFAULTS)
    assert {key: app.config[key] for key in DEFAULTS} == {**DEFAULTS, "LIVECHAT_ANALYTICS_MAX_COUNT": 20}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "set LIVECHAT_ANALYTICS_MONGO_URI or pass database="),
        ({"MONGO_URI": "mongodb://127.0.0.1:1"}, "must name the database"),
        (
            {"MONGO_URI": "mongodb://127.0.0.1:1/rc", "TIMEZONE": "Mars/Base"},
            "TIMEZONE must be a known IANA timezone name such as Europe/Berlin, not .Mars/Base.",
        ),
        (
            {"MONGO_URI": "mongodb://127.0.0.1:1/rc", "READ_PREFERENCE": "any"},
            "must be one of primary, primaryPreferred, secondary, secondaryPreferred, nearest",
        ),
    ],
)
def test_a_bad_setup_fails_at_start(make_bare_app, settings, message):
    app = make_bare_app(**settings)
    with pytest.raises(RuntimeError, match=message):
        LivechatAnalytics(app)


def test_the_app_starts_with_the_database_down(make_bare_app):
    # The request's deadline bounds the wait for a server (SERVER_SELECTION_TIMEOUT_MS does not).
    app = make_bare_app(
        MONGO_URI="mongodb://127.0.0.1:9/rocketchat", SERVER_SELECTION_TIMEOUT_MS=200, MAX_TIME_MS=500
    )
    LivechatAnalytics(app)
    response = app.test_client().get(
        PREFIX + "/amount-of-chats" + WINDOW, headers={"X-User-Id": "u", "X-Auth-Token": "t"}
    )
    assert response.status_code == 503
    assert response.get_json() == UNAVAILABLE


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_a_uri_from_the_config_serves_that_database(make_app, database):
    uri = database.client.address
    app = make_app(database=None, MONGO_URI=f"mongodb://{uri[0]}:{uri[1]}/{database.name}")
    headers = add_user(database)
    state = app.extensions["livechat_analytics"]
    assert state.client is not None
    assert state.repository.database.read_preference.mongos_mode == "secondaryPreferred"
    assert app.test_client().get(PREFIX + "/amount-of-chats" + WINDOW, headers=headers).get_json() == EMPTY


def test_the_hosts_own_error_pages_are_untouched(make_bare_app, memory):
    app = make_bare_app()

    @app.errorhandler(404)
    def host_not_found(error):
        return "the host's own page", 404

    @app.route("/only-get")
    def only_get():
        return "ok"

    LivechatAnalytics(app, database=memory)
    client = app.test_client()
    assert client.get("/elsewhere").get_data(as_text=True) == "the host's own page"
    assert client.post("/only-get").mimetype == "text/html"
    assert client.get(PREFIX + "/nope").get_json()["success"] is False


def test_the_commands_join_the_flask_cli(make_app, memory):
    app = make_app(database=memory)
    result = flask_command(app, "--help")
    assert result.exit_code == 0
    assert "demo" in result.output
