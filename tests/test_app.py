"""The standalone app, its environment variables and logging, and its gunicorn settings."""

from __future__ import annotations

import http.client
import importlib
import json
import logging
import os
import uuid
from email.message import Message
from pathlib import Path

import pytest
from pymongo import MongoClient
from support import NOT_LOGGED_IN, PREFIX, ROOT, URI_VARIABLE, add_user, get_json_when_up, start_gunicorn

import livechat_analytics
from livechat_analytics import config, gunicorn_conf
from livechat_analytics.app import create_app

URI = "mongodb://127.0.0.1:9/rocketchat"  # never reached: nothing here queries the database
WINDOW = "/amount-of-chats?start=2024-01-01&end=2024-01-31"
P = "LIVECHAT_ANALYTICS_"


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """An environment without our variables (the test suite's own URI variable included)."""
    for name in list(os.environ):
        if name.startswith(P):
            monkeypatch.delenv(name)
    return monkeypatch


def bare_logging(monkeypatch: pytest.MonkeyPatch, *handlers: logging.Handler) -> None:
    """A process whose logging nobody set up (or that has ``handlers``), restored afterwards.

    Called in the test itself: pytest adds its own handlers once the test starts.
    """
    monkeypatch.setattr(logging.getLogger(), "handlers", list(handlers))
    ours = logging.getLogger("livechat_analytics")
    monkeypatch.setattr(ours, "level", ours.level)


def test_create_app_reads_each_variable_as_its_keys_type(environ):
    bare_logging(environ)
    environ.setenv(P + "MONGO_URI", URI)
    environ.setenv(P + "MAX_COUNT", "20")
    environ.setenv(P + "DEFAULT_COUNT", "10")
    environ.setenv(P + "DEPARTMENT_NAMES", "true")
    environ.setenv(P + "ALLOW_COUNT_ZERO", "0")
    environ.setenv(P + "DEFAULT_ROLES", "admin, support-lead,")
    environ.setenv(P + "URL_PREFIX", "/analytics")
    environ.setenv(P + "TIMEZONE", "Europe/Berlin")
    environ.setenv(P + "COLLECTION_PREFIX", "")
    app = create_app()
    assert {key: app.config[key] for key in config.DEFAULTS} == {
        **config.DEFAULTS,
        P + "MONGO_URI": URI,
        P + "MAX_COUNT": 20,
        P + "DEFAULT_COUNT": 10,
        P + "DEPARTMENT_NAMES": True,
        P + "ALLOW_COUNT_ZERO": False,
        P + "DEFAULT_ROLES": ("admin", "support-lead"),
        P + "URL_PREFIX": "/analytics",
        P + "TIMEZONE": "Europe/Berlin",
        P + "COLLECTION_PREFIX": "",
    }
    app.extensions["livechat_analytics"].client.close()


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {"MAX_COUNT": "abc"},
            "The environment variable " + P + "MAX_COUNT must be a whole number from 1 to 2147483647,"
            " not 'abc'.",
        ),
        (
            {"MAX_TIME_MS": "30s"},
            "The environment variable " + P + "MAX_TIME_MS must be a whole number from 1 to 2147483647,"
            " not '30s'.",
        ),
        ({"MAX_TIME_MS": "0"}, P + "MAX_TIME_MS must be a whole number from 1 to 2147483647, not 0."),
        (
            {"DEPARTMENT_NAMES": "yes"},
            "The environment variable " + P + "DEPARTMENT_NAMES must be True or False (a bool; in the"
            " environment true, false, 1 or 0), not 'yes'.",
        ),
        ({"MONGO_URI": ""}, "LivechatAnalytics needs a database: set " + P + "MONGO_URI or pass database=."),
        (
            {"MONGO_URI": URI, "READ_PREFERENCES": "primary"},
            P
            + "READ_PREFERENCES is not a setting of livechat-analytics; did you mean "
            + P
            + "READ_PREFERENCE?",
        ),
    ],
)
def test_a_bad_variable_stops_create_app(environ, variables, message):
    for name, value in variables.items():
        environ.setenv(P + name, value)
    with pytest.raises(RuntimeError) as raised:
        create_app()
    assert str(raised.value) == message


def test_the_request_lines_go_to_stderr(environ, capsys):
    bare_logging(environ)
    app = create_app({P + "MONGO_URI": URI})
    response = app.test_client().get(PREFIX + WINDOW)
    assert (response.status_code, response.get_json()) == (401, NOT_LOGGED_IN)
    app.extensions["livechat_analytics"].client.close()
    [line] = capsys.readouterr().err.splitlines()
    assert " INFO livechat_analytics.request {" in line
    record = json.loads(line[line.index("{") :])
    assert (record["endpoint"], record["status"], record["user"]) == (PREFIX + "/amount-of-chats", 401, None)


def test_logging_someone_set_up_is_left_alone(environ, monkeypatch, capsys):
    handler = logging.NullHandler()
    bare_logging(monkeypatch, handler)
    app = create_app({P + "MONGO_URI": URI})
    app.extensions["livechat_analytics"].client.close()
    assert logging.getLogger().handlers == [handler]
    app.test_client().get(PREFIX + WINDOW)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("deadline_ms", [1, 999, 1000, 20_000, 30_000, 45_500, 600_000, 2**31 - 1])
def test_the_worker_timeout_is_always_longer_than_the_deadline(deadline_ms):
    timeout = gunicorn_conf.worker_timeout(deadline_ms)
    assert isinstance(timeout, int)
    assert timeout >= 30
    assert timeout * 1000 >= deadline_ms + 10_000


@pytest.mark.parametrize(("variable", "timeout"), [(None, 30), ("25000", 35), ("5000", 30), ("120000", 130)])
def test_the_gunicorn_settings_follow_the_environment(environ, variable, timeout):
    if variable is not None:
        environ.setenv(P + "MAX_TIME_MS", variable)
    environ.setenv("PORT", "8123")
    environ.setenv("WEB_CONCURRENCY", "3")
    settings = importlib.reload(gunicorn_conf)
    assert (settings.timeout, settings.graceful_timeout) == (timeout, timeout)
    assert (settings.bind, settings.workers, settings.worker_class) == (["0.0.0.0:8123"], 3, "gthread")


def test_the_gunicorn_settings_refuse_a_bad_deadline(environ):
    environ.setenv(P + "MAX_TIME_MS", "-1")
    with pytest.raises(RuntimeError, match="MAX_TIME_MS must be a whole number"):
        importlib.reload(gunicorn_conf)
    environ.delenv(P + "MAX_TIME_MS")
    importlib.reload(gunicorn_conf)


def head(port: int, path: str, headers: dict[str, str]) -> tuple[int, Message]:
    """The status and headers of ``GET path`` on the loopback ``port``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, response.msg
    finally:
        connection.close()


def dates(port: int, headers: dict[str, str]) -> dict[str, tuple[int, int]]:
    """The status and the number of ``Date`` headers of an answer, of the same request again with
    its ETag, and of one of the page's files."""
    status, first = head(port, PREFIX + WINDOW, headers)
    again = head(port, PREFIX + WINDOW, {**headers, "If-None-Match": first["ETag"]})
    page = head(port, ROOT + "/dashboard/static/dashboard.css", {})
    answers = {"answer": (status, first), "not modified": again, "page file": page}
    return {name: (code, len(message.get_all("Date") or [])) for name, (code, message) in answers.items()}


def test_gunicorn_serves_the_standalone_app(secantus_uri: str, tmp_path: Path):
    name = "gunicorn_" + uuid.uuid4().hex[:8]
    with MongoClient(secantus_uri, tz_aware=True) as client:
        headers = add_user(client[name])
        package_root = str(Path(livechat_analytics.__file__).parent.parent)
        env = {key: value for key, value in os.environ.items() if not key.startswith(P)}
        env.update(
            {
                "PYTHONPATH": package_root,
                P + "MONGO_URI": secantus_uri + name,
                P + "MAX_TIME_MS": "5000",
                "WEB_CONCURRENCY": "1",
            }
        )
        env.pop(URI_VARIABLE, None)
        server, port = start_gunicorn(env, tmp_path / "gunicorn.log")
        try:
            body = get_json_when_up(server, port, PREFIX + WINDOW, headers)
            assert body == {"departments": [], "count": 0, "offset": 0, "total": 0, "success": True}
            one_each = {"answer": (200, 1), "not modified": (304, 1), "page file": (200, 1)}
            assert dates(port, headers) == one_each
        finally:
            server.terminate()
            server.wait(timeout=10)
            client.drop_database(name)
        log = (tmp_path / "gunicorn.log").read_text()
        assert (
            f'INFO livechat_analytics.request {{"endpoint": "{PREFIX}/amount-of-chats", "status": 200' in log
        )
