"""Paths under the root, whatever their bytes: control characters, line breaks, invalid UTF-8,
doubled, leading and trailing slashes, very long paths all answer JSON in the contract's shape, never
Flask's HTML page, never a 500; paths outside the root stay the host's."""

from __future__ import annotations

import http.client
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from pymongo import MongoClient
from support import ROOT, URI_VARIABLE, add_user, get_json_when_up, property_settings, start_gunicorn

import livechat_analytics
from livechat_analytics.gunicorn_conf import LONGEST_REQUEST_LINE

SETTING = "LIVECHAT_ANALYTICS_"

#: What the root's paths are made of, besides any byte: the pieces that once reached Flask's HTML 404.
PIECES = [
    b"/",
    b"//",
    b"\n",
    b"\r\n",
    b"\t",
    b"\x00",
    b"\x7f",
    b"\xff",
    b"\xc3\x28",
    b"%",
    b"%0a",
    b"departments",
    b"departments/amount-of-chats",
    b"dashboard",
    b"dashboard/static/",
    b"docs/static/",
    b"openapi.json",
    b"health",
    b"..",
]
PATH_BYTES = st.lists(st.one_of(st.binary(max_size=8), st.sampled_from(PIECES)), max_size=8).map(b"".join)
METHODS = ["GET", "POST", "DELETE", "PROPFIND", "FOO"]


@pytest.fixture
def client(make_app, memory):
    # Routing reads no data: one backend is enough (the health check pings it).
    return make_app(database=memory).test_client()


def raw(client, method: str, path: bytes):
    """The answer to ``path`` as a server hands it over after percent-decoding: WSGI's bytes as
    latin-1 text."""
    return client.open(ROOT, method=method, environ_overrides={"PATH_INFO": path.decode("latin-1")})


def echoed(path: str) -> str:
    """A path as an error repeats it: its first 200 characters, and how many more there are."""
    return path if len(path) <= 200 else f"{path[:200]}... ({len(path) - 200} more characters)"


def not_found(path: str) -> dict:
    return {"success": False, "error": f"There is no analytics endpoint at {path}."}


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("//departments/amount-of-chats", "//departments/amount-of-chats"),
        ("/departments/a%0ab", "/departments/a\nb"),
        ("/departments/a%0d%0ab", "/departments/a\r\nb"),
        ("//", "//"),
        ("///", "///"),
        ("/%2F%2Fhealth", "///health"),
        ("/%00", "/\x00"),
        ("/%ff", "/\ufffd"),
        ("/dashboard/static//x", "/dashboard/static//x"),
        ("/dashboard/static/a%0ab", "/dashboard/static/a\nb"),
    ],
)
def test_odd_paths_under_the_root_are_json_404(client, path, shown):
    response = client.get(ROOT + path)
    assert (response.status_code, response.mimetype) == (404, "application/json")
    assert response.get_json() == not_found(ROOT + shown)


def test_a_very_long_path_is_a_json_404_that_repeats_200_characters_of_it(client):
    path = ROOT + "/" + "x" * 100_000
    response = client.get(path)
    assert (response.status_code, response.mimetype) == (404, "application/json")
    assert response.get_json() == not_found(ROOT + "/" + "x" * 173 + "... (99827 more characters)")


@pytest.mark.parametrize("method", ["POST", "PROPFIND"])
def test_a_line_break_after_an_endpoint_is_another_path_whatever_the_method(client, method):
    response = client.open(ROOT + "/departments/amount-of-chats%0a", method=method)
    assert (response.status_code, response.get_json()) == (
        404,
        not_found(ROOT + "/departments/amount-of-chats\n"),
    )


@property_settings(300)
@given(path=PATH_BYTES, method=st.sampled_from(METHODS))
def test_any_bytes_under_the_root_answer_json_never_html_never_500(client, path, method):
    response = raw(client, method, ROOT.encode() + b"/" + path)
    body = response.get_json(silent=True)
    if response.mimetype != "application/json":
        # The dashboard page, the API viewer and their files are the only other answers.
        decoded = path.decode("utf-8", "replace")
        assert (response.status_code, method) == (200, "GET"), (response.status_code, response.data[:200])
        assert decoded.split("/")[0] in ("dashboard", "docs"), decoded
        return
    assert response.status_code in (200, 401, 404, 405)
    assert isinstance(body, dict)
    if response.status_code != 200:
        assert body["success"] is False
        assert isinstance(body["error"], str)


@property_settings(200)
@given(path=PATH_BYTES, method=st.sampled_from(METHODS))
def test_without_the_pages_every_answer_under_the_root_is_json(make_app, memory, path, method):
    client = make_app(database=memory, DASHBOARD=False, API_DOCS=False).test_client()
    response = raw(client, method, ROOT.encode() + b"/" + path)
    assert response.mimetype == "application/json"
    assert response.status_code in (200, 401, 404, 405)
    body = response.get_json()
    if response.status_code != 200:
        assert body["success"] is False
    else:  # an endpoint's answer or the OpenAPI document (which is public)
        assert body.get("success") is True or "openapi" in body, body


def test_the_root_itself_and_its_slash_are_json_404(client):
    for path in (ROOT, ROOT + "/"):
        response = client.get(path)
        assert (response.status_code, response.get_json()) == (404, not_found(path))


# Outside the root


def host_routes(app: Flask) -> Flask:
    """The host's own route and 404 page."""

    @app.route("/hello")
    def hello():
        return "hello from the host"

    @app.errorhandler(404)
    def host_not_found(error):
        return "the host's own 404", 404

    return app


@pytest.mark.parametrize(
    "path",
    [
        "/other",
        "/api/v1/livechat/analyticsX",
        "/api/v1/livechat/analytics%0a",
        "//api/v1/livechat/analytics/departments/amount-of-chats",
        "/api/v1/livechat",
        "/api/v1/livechat/",
        "/a%0ab",
        "/",
    ],
)
def test_paths_outside_the_root_are_the_hosts(make_app, memory, path):
    client = host_routes(make_app(database=memory)).test_client()
    response = client.get(path)
    assert (response.status_code, response.get_data(as_text=True)) == (404, "the host's own 404")
    assert client.get("/hello").get_data(as_text=True) == "hello from the host"


@pytest.mark.parametrize("path", ["/hello//", "//hello", "/hello/", "/hello%0a", "/api//v1"])
def test_the_hosts_own_paths_answer_as_without_the_extension(make_app, make_bare_app, memory, path):
    def seen(app: Flask) -> tuple:
        response = app.test_client().get(path)
        return response.status_code, response.headers.get("Location"), response.get_data()

    assert seen(host_routes(make_app(database=memory))) == seen(host_routes(make_bare_app()))


# Under gunicorn, with the shipped settings


@pytest.fixture(scope="module")
def gunicorn(secantus_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, dict]]:
    """The standalone app under gunicorn on a loopback port, over a database with a manager: the
    port and the manager's headers."""
    name = "paths_" + uuid.uuid4().hex[:8]
    with MongoClient(secantus_uri, tz_aware=True) as client:
        headers = add_user(client[name])
        env = {key: value for key, value in os.environ.items() if not key.startswith(SETTING)}
        env.update(
            {
                "PYTHONPATH": str(Path(livechat_analytics.__file__).parent.parent),
                SETTING + "MONGO_URI": secantus_uri + name,
                "WEB_CONCURRENCY": "1",
            }
        )
        env.pop(URI_VARIABLE, None)
        server, port = start_gunicorn(env, tmp_path_factory.mktemp("gunicorn") / "gunicorn.log")
        try:
            get_json_when_up(server, port, ROOT + "/health", {})
            yield port, headers
        finally:
            server.terminate()
            server.wait(timeout=10)
            client.drop_database(name)


def sent(port: int, target: str, headers: dict | None = None) -> tuple[int, str, bytes]:
    """Status, content type and body of ``GET target``, the target sent as it is."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", target, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


def test_a_query_string_past_gunicorns_default_limit_reaches_the_app(gunicorn):
    port, headers = gunicorn
    target = f"{ROOT}/departments/amount-of-chats?end=2024-03-31&start=" + "9" * 8000
    assert 4094 < len(f"GET {target} HTTP/1.1") <= LONGEST_REQUEST_LINE
    status, content_type, body = sent(port, target, headers)
    assert (status, content_type) == (400, "application/json")
    assert json.loads(body) == {
        "success": False,
        "error": 'The "start" query parameter must be a valid date.',
        "errorType": "invalid-params",
        "details": {"start": ["Must be a valid date."]},
    }


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("//departments/amount-of-chats", "//departments/amount-of-chats"),
        ("/departments/a%0ab", "/departments/a\nb"),
        ("/%ff%fe", "/\ufffd\ufffd"),
        ("/" + "x" * 8000, "/" + "x" * 8000),
    ],
)
def test_odd_paths_answer_json_under_gunicorn(gunicorn, target, shown):
    status, content_type, body = sent(gunicorn[0], ROOT + target)
    assert (status, content_type) == (404, "application/json")
    assert json.loads(body) == not_found(echoed(ROOT + shown))


def test_a_request_line_past_the_documented_limit_is_gunicorns_414(gunicorn):
    target = f"{ROOT}/health?" + "x" * LONGEST_REQUEST_LINE
    assert sent(gunicorn[0], target)[0] == 414
