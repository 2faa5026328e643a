"""The API viewer as the server answers it: the page, the files it names, its settings, the demo's URL.

The viewer in a browser ("Try it out" included) is tested in ``test_viewer_browser.py``.
"""

from __future__ import annotations

import pathlib
import re
from collections.abc import Callable
from urllib.parse import urlsplit

import flask_swagger_ui
import pytest
from click.testing import CliRunner
from flask import Flask
from pymongo.database import Database

from livechat_analytics import cli, demo_server, views

ROOT = "/api/v1/livechat/analytics"
#: Where the files come from: the package's own folder, and Swagger UI's as flask-swagger-ui ships it.
OURS = pathlib.Path(views.__file__).parent / "static"
SWAGGER_UI = pathlib.Path(flask_swagger_ui.__file__).parent / "dist"
#: The files the viewer's page names, where each one is.
FILES = {
    "index.css": SWAGGER_UI / "index.css",
    "swagger-ui.css": SWAGGER_UI / "swagger-ui.css",
    "swagger-ui-bundle.js": SWAGGER_UI / "swagger-ui-bundle.js",
    "viewer.js": OURS / "viewer.js",
}
POLICY = {
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "frame-ancestors 'self'",
    "form-action 'none'",
    "base-uri 'none'",
}
P = "LIVECHAT_ANALYTICS_"


@pytest.fixture
def viewer_app(make_app: Callable[..., Flask], memory: Database) -> Callable[..., Flask]:
    """A factory of host apps over an empty database: the viewer and its files need no data."""
    return lambda **settings: make_app(database=memory, **settings)


def named_files(page: str) -> list[str]:
    """The URLs the page's tags name (the empty favicon left out)."""
    return [file for file in re.findall(r'(?:src|href)="([^"#]+)"', page) if file != "data:,"]


def test_the_viewer_loads_without_signing_in_and_names_only_local_files(viewer_app):
    response = viewer_app().test_client().get(f"{ROOT}/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert f'data-openapi="{ROOT}/openapi.json"' in page
    files = named_files(page)
    assert {urlsplit(file).path for file in files} == {f"{ROOT}/docs/static/{name}" for name in FILES} | {
        f"{ROOT}/openapi.json"
    }  # the link of the <noscript> text
    # Nothing from another origin, no inline script: the policy forbids both.
    assert not [file for file in files if "//" in file or not file.startswith(ROOT)]
    assert re.findall(r"<script(?![^>]* src=)", page) == []


def test_every_file_the_viewer_names_is_served_as_shipped(viewer_app):
    client = viewer_app().test_client()
    page = client.get(f"{ROOT}/docs").get_data(as_text=True)
    served = set()
    for file in named_files(page):
        name = urlsplit(file).path.rpartition("/")[2]
        if name == "openapi.json":
            continue
        with client.get(file) as response:
            assert response.status_code == 200, file
            assert response.mimetype == ("text/css" if name.endswith(".css") else "text/javascript")
            assert set(response.headers["Content-Security-Policy"].split("; ")) == POLICY
            assert response.get_data() == FILES[name].read_bytes()
        served.add(name)
    assert served == set(FILES)


def test_the_swagger_ui_served_reads_openapi_3_1():
    # Swagger UI renders an OpenAPI 3.1 document (ours) from its version 5 on.
    version = (SWAGGER_UI / "VERSION").read_text().strip()
    assert int(version.removeprefix("v").split(".")[0]) >= 5, version


def test_the_document_the_viewer_reads_lets_it_try_the_api(viewer_app):
    client = viewer_app().test_client()
    document = client.get(f"{ROOT}/openapi.json").get_json()
    assert document["servers"] == [{"url": ROOT}]
    schemes = document["components"]["securitySchemes"]
    assert {(scheme["in"], scheme["name"]) for scheme in schemes.values()} == {
        ("header", "X-User-Id"),
        ("header", "X-Auth-Token"),
    }


def test_the_viewer_answers_carry_the_policy(viewer_app):
    response = viewer_app().test_client().get(f"{ROOT}/docs")
    assert set(response.headers["Content-Security-Policy"].split("; ")) == POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("path", ["docs", "docs/static/viewer.js", "docs/static/swagger-ui-bundle.js"])
def test_the_viewer_answers_options_head_and_405_like_the_api(viewer_app, path):
    client = viewer_app().test_client()
    assert client.options(f"{ROOT}/{path}").headers["Allow"] == "GET, HEAD, OPTIONS"
    with client.head(f"{ROOT}/{path}") as head:
        assert head.status_code == 200
        assert head.get_data() == b""
    for method in ("post", "put", "delete"):
        refused = getattr(client, method)(f"{ROOT}/{path}")
        assert refused.status_code == 405
        assert refused.headers["Allow"] == "GET, HEAD, OPTIONS"
        assert refused.get_json() == {"success": False, "error": "The API viewer answers GET only."}


@pytest.mark.parametrize(
    "path",
    [
        # Files of Swagger UI's folder that the page does not name, and ours that are the dashboard's.
        "docs/static/VERSION",
        "docs/static/oauth2-redirect.html",
        "docs/static/swagger-ui.js",
        "docs/static/dashboard.js",
        "docs/static/../views.py",
        "docs/static/missing.js",
        "docs/",
        "docs/x",
    ],
)
def test_other_paths_near_the_viewer_are_json_404s(viewer_app, path):
    response = viewer_app().test_client().get(f"{ROOT}/{path}")
    assert response.status_code == 404
    assert response.get_json()["success"] is False


def test_the_viewer_can_be_switched_off(viewer_app):
    client = viewer_app(API_DOCS=False).test_client()
    for path in ("docs", "docs/static/viewer.js", "docs/static/swagger-ui-bundle.js"):
        response = client.get(f"{ROOT}/{path}")
        assert response.status_code == 404
        assert response.get_json() == {
            "success": False,
            "error": f"There is no analytics endpoint at {ROOT}/{path}.",
        }
    # The document stays, as does the dashboard page.
    assert client.get(f"{ROOT}/openapi.json").status_code == 200
    assert client.get(f"{ROOT}/dashboard").status_code == 200


def test_the_viewer_can_move(viewer_app):
    client = viewer_app(API_DOCS_PATH="ui/api", URL_PREFIX="/analytics").test_client()
    page = client.get("/analytics/ui/api")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-openapi="/analytics/openapi.json"' in text
    assert {urlsplit(file).path for file in named_files(text)} == {
        *(f"/analytics/ui/api/static/{name}" for name in FILES),
        "/analytics/openapi.json",
    }
    with client.get("/analytics/ui/api/static/swagger-ui-bundle.js") as script:
        assert script.status_code == 200
    assert client.get("/analytics/docs").status_code == 404
    assert client.get("/analytics/openapi.json").get_json()["servers"] == [{"url": "/analytics"}]


def test_the_viewer_names_its_files_under_the_hosts_script_root(viewer_app):
    client = viewer_app().test_client()
    page = client.get(f"{ROOT}/docs", base_url="http://localhost/host").get_data(as_text=True)
    assert f'data-openapi="/host{ROOT}/openapi.json"' in page
    assert all(urlsplit(file).path.startswith(f"/host{ROOT}/") for file in named_files(page))


@pytest.mark.parametrize("path", ["/docs", "docs/", "a//b", "do cs", "", 5])
def test_a_bad_viewer_path_stops_the_app(viewer_app, path):
    with pytest.raises(RuntimeError) as raised:
        viewer_app(API_DOCS_PATH=path)
    assert str(raised.value) == (
        P + 'API_DOCS_PATH must be a relative path such as "docs" or "ui/docs" (letters, digits, "-",'
        f' "_", "." and inner "/"), not {path!r}.'
    )


def test_a_viewer_switch_that_is_no_bool_stops_the_app(viewer_app):
    with pytest.raises(RuntimeError) as raised:
        viewer_app(API_DOCS="yes")
    assert str(raised.value) == (
        P + "API_DOCS must be True or False (a bool; in the environment true, false, 1 or 0), not 'yes'."
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"API_DOCS_PATH": "health"}, "'health' is taken by the API's own paths."),
        ({"API_DOCS_PATH": "openapi.json"}, "'openapi.json' is taken by the API's own paths."),
        ({"API_DOCS_PATH": "departments/docs"}, "'departments/docs' is taken by the API's own paths."),
        ({"API_DOCS_PATH": "trends"}, "'trends' is taken by the API's own paths."),
        (
            {"API_DOCS_PATH": "dashboard"},
            f"'dashboard' is taken by the dashboard page ({P}DASHBOARD_PATH).",
        ),
        (
            {"API_DOCS_PATH": "dashboard/docs"},
            f"'dashboard/docs' is taken by the dashboard page ({P}DASHBOARD_PATH).",
        ),
        (
            {"API_DOCS_PATH": "ui", "DASHBOARD_PATH": "ui/dashboard"},
            f"'ui' is taken by the dashboard page ({P}DASHBOARD_PATH).",
        ),
        # The dashboard moved where the viewer is.
        ({"DASHBOARD_PATH": "docs"}, f"'docs' is taken by the dashboard page ({P}DASHBOARD_PATH)."),
    ],
)
def test_a_viewer_path_the_api_or_the_dashboard_uses_stops_the_app(viewer_app, settings, message):
    with pytest.raises(RuntimeError) as raised:
        viewer_app(**settings)
    assert str(raised.value) == f"{P}API_DOCS_PATH {message}"


@pytest.mark.parametrize(
    "settings",
    [
        {"API_DOCS_PATH": "ui/docs", "DASHBOARD_PATH": "ui/dashboard"},
        {"API_DOCS_PATH": "dashboard", "DASHBOARD": False},
        {"DASHBOARD_PATH": "docs", "API_DOCS": False},
    ],
)
def test_the_viewer_and_the_dashboard_may_sit_side_by_side_or_in_each_others_place(viewer_app, settings):
    client = viewer_app(**settings).test_client()
    for switch, default in (("API_DOCS", "docs"), ("DASHBOARD", "dashboard")):
        if settings.get(switch, True):
            assert client.get(f"{ROOT}/{settings.get(switch + '_PATH', default)}").status_code == 200


def test_the_demo_prints_the_viewer_after_the_dashboard(monkeypatch, demo_on_mongomock):
    served: list[Flask] = []
    monkeypatch.setattr(cli, "serve", lambda app, listening: served.append(app))
    result = CliRunner().invoke(cli.command_group, ["demo", "--rooms", "10", "--port", "3999"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    urls = [line for line in lines if line.startswith("http")]
    assert [urlsplit(url).path for url in urls] == [f"{ROOT}/dashboard", f"{ROOT}/docs"]
    assert urls[1] == f"http://127.0.0.1:3999{ROOT}/docs"
    assert lines[lines.index(urls[1]) - 1] == (
        '# The API viewer, in a browser ("Authorize" with the X-User-Id and X-Auth-Token above,'
        ' then "Try it out"):'
    )
    assert served[0].test_client().get(f"{ROOT}/docs").status_code == 200


def test_the_demo_prints_no_viewer_when_it_is_switched_off(memory):
    app = demo_server.make_demo_app(database=memory, rooms=0, settings={P + "API_DOCS": False}).app
    assert demo_server.api_docs_url(app, "http://127.0.0.1:3000") is None
    settings = {P + "API_DOCS_PATH": "api/docs"}
    moved = demo_server.make_demo_app(database=memory, rooms=0, settings=settings).app
    assert demo_server.api_docs_url(moved, "http://127.0.0.1:3000") == f"http://127.0.0.1:3000{ROOT}/api/docs"
