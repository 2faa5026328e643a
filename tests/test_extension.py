"""The Python face (spec section 8) and routing under the prefix (JSON 404/405)."""

from __future__ import annotations

import mongomock
import pytest
from flask import Flask
from support import PREFIX, ROOT, SERVER_BACKENDS, add_user

from livechat_analytics import LivechatAnalytics
from livechat_analytics.config import DEFAULTS

WINDOW = "?start=2024-01-01&end=2024-01-31"
EMPTY = {"departments": [], "count": 0, "offset": 0, "total": 0, "success": True}


@pytest.fixture
def memory():
    return mongomock.MongoClient(tz_aware=True)["rocketchat"]


def test_registering_twice_is_an_error(memory):
    app = Flask("host")
    extension = LivechatAnalytics(app, database=memory)
    with pytest.raises(RuntimeError, match="already registered"):
        extension.init_app(app, database=memory)
    with pytest.raises(RuntimeError, match="already registered"):
        LivechatAnalytics(app, database=memory)


def test_one_extension_serves_several_apps(memory):
    extension = LivechatAnalytics()
    first, second = Flask("first"), Flask("second")
    second.config["LIVECHAT_ANALYTICS_URL_PREFIX"] = "/analytics"
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


def test_every_default_is_set_and_host_values_win(memory):
    app = Flask("host")
    app.config["LIVECHAT_ANALYTICS_MAX_COUNT"] = 20
    LivechatAnalytics(app, database=memory)
    assert all(key.startswith("LIVECHAT_ANALYTICS_") for key in DEFAULTS)
    assert {key: app.config[key] for key in DEFAULTS} == {**DEFAULTS, "LIVECHAT_ANALYTICS_MAX_COUNT": 20}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "set LIVECHAT_ANALYTICS_MONGO_URI or pass database="),
        ({"LIVECHAT_ANALYTICS_MONGO_URI": "mongodb://127.0.0.1:1"}, "must name the database"),
        (
            {
                "LIVECHAT_ANALYTICS_MONGO_URI": "mongodb://127.0.0.1:1/rc",
                "LIVECHAT_ANALYTICS_TIMEZONE": "Mars/Base",
            },
            "TIMEZONE must be a known IANA timezone name such as Europe/Berlin, not .Mars/Base.",
        ),
        (
            {
                "LIVECHAT_ANALYTICS_MONGO_URI": "mongodb://127.0.0.1:1/rc",
                "LIVECHAT_ANALYTICS_READ_PREFERENCE": "any",
            },
            "must be one of primary, primaryPreferred, secondary, secondaryPreferred, nearest",
        ),
    ],
)
def test_a_bad_setup_fails_at_start(settings, message):
    app = Flask("host")
    app.config.update(settings)
    with pytest.raises(RuntimeError, match=message):
        LivechatAnalytics(app)


def test_the_app_starts_with_the_database_down():
    app = Flask("host")
    app.config.update(
        LIVECHAT_ANALYTICS_MONGO_URI="mongodb://127.0.0.1:9/rocketchat",
        LIVECHAT_ANALYTICS_SERVER_SELECTION_TIMEOUT_MS=200,
    )
    LivechatAnalytics(app)
    response = app.test_client().get(
        PREFIX + "/amount-of-chats" + WINDOW, headers={"X-User-Id": "u", "X-Auth-Token": "t"}
    )
    assert response.status_code == 503
    assert response.get_json() == {
        "success": False,
        "error": "The database is unavailable.",
        "errorType": "database-unavailable",
    }


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_a_uri_from_the_config_serves_that_database(database):
    uri = database.client.address
    app = Flask("host")
    app.config["LIVECHAT_ANALYTICS_MONGO_URI"] = f"mongodb://{uri[0]}:{uri[1]}/{database.name}"
    LivechatAnalytics(app)
    headers = add_user(database)
    state = app.extensions["livechat_analytics"]
    assert state.client is not None
    assert state.repository.database.read_preference.mongos_mode == "secondaryPreferred"
    assert app.test_client().get(PREFIX + "/amount-of-chats" + WINDOW, headers=headers).get_json() == EMPTY


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


def test_the_hosts_own_error_pages_are_untouched(memory):
    app = Flask("host")

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


def test_the_commands_join_the_flask_cli(memory):
    app = Flask("host")
    LivechatAnalytics(app, database=memory)
    result = app.test_cli_runner().invoke(args=["livechat-analytics", "--help"])
    assert result.exit_code == 0
    assert "demo" in result.output


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
    response = client.get(PREFIX + path + WINDOW, headers=headers)
    assert (response.status_code, response.mimetype) == (404, "application/json")
    error = f"There is no analytics endpoint at {PREFIX}{path}."
    assert response.get_json() == {"success": False, "error": error}


def test_a_long_path_is_not_echoed_whole(client):
    tail = "x" * 100_000
    response = client.get(PREFIX + "/" + tail)
    path = PREFIX + "/" + tail
    assert response.status_code == 404
    assert response.get_json() == {
        "success": False,
        "error": f"There is no analytics endpoint at {path[:200]}... ({len(path) - 200} more characters).",
    }


def test_a_400_names_a_few_unknown_parameters_and_counts_the_rest(client, headers):
    names = [f"p{number}" for number in range(15_000)]
    query = WINDOW + "&" + "&".join(f"{name}=1" for name in names) + "&" + "q" * 1000 + "=1"
    response = client.get(PREFIX + "/amount-of-chats" + query, headers=headers)
    assert response.status_code == 400
    assert len(response.get_data()) < 2000
    named = names[:10]
    assert response.get_json() == {
        "success": False,
        "error": " ".join(f'The "{name}" query parameter is not allowed.' for name in named)
        + " (14991 more parameters are not named here.)",
        "errorType": "invalid-params",
        "details": {name: ["Is not allowed."] for name in named},
    }


def test_a_long_parameter_name_is_capped(client, headers):
    name = "q" * 1000
    response = client.get(f"{PREFIX}/amount-of-chats{WINDOW}&{name}=1", headers=headers)
    capped = "q" * 100 + "... (900 more characters)"
    assert response.get_json()["details"] == {capped: ["Is not allowed."]}
