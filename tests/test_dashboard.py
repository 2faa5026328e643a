"""The dashboard page as the server answers it: the page, its files, its settings, the demo's URL.

The page in a browser is tested in ``test_dashboard_browser.py``.
"""

from __future__ import annotations

import gzip
import html
import json
import pathlib
import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import brotli
import pytest
from backports import zstd
from click.testing import CliRunner
from flask import Flask
from pymongo.database import Database

from livechat_analytics import cli, demo, demo_server, views

ROOT = "/api/v1/livechat/analytics"
PACKAGE = pathlib.Path(views.__file__).parent


@pytest.fixture
def page_app(make_app: Callable[..., Flask], memory: Database) -> Callable[..., Flask]:
    """A factory of host apps over an empty database: the page and its files need no data."""
    return lambda **settings: make_app(database=memory, **settings)


def test_the_page_loads_without_signing_in_and_names_its_files(page_app):
    response = page_app().test_client().get(f"{ROOT}/dashboard")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert f'data-api-root="{ROOT}"' in page
    files = [file for file in re.findall(r'(?:src|href)="([^"#]+)"', page) if file != "data:,"]  # no favicon
    assert {urlsplit(file).path for file in files} == {
        f"{ROOT}/dashboard/static/dashboard.css",
        f"{ROOT}/dashboard/static/dashboard.js",
        f"{ROOT}/dashboard/static/vendor/chart.umd.min.js",
    }
    # Nothing from another origin, no inline script: the policy forbids both.
    assert "//" not in "".join(files) and "<script>" not in page
    policy = response.headers["Content-Security-Policy"]
    assert "connect-src 'self'" in policy and "script-src 'self'" in policy


@pytest.mark.parametrize("file", ["dashboard.js", "dashboard.css", "vendor/chart.umd.min.js"])
def test_the_page_files_are_served_without_signing_in(page_app, file):
    with page_app().test_client().get(f"{ROOT}/dashboard/static/{file}") as response:
        assert response.status_code == 200
        assert response.get_data() == (PACKAGE / "static" / file).read_bytes()


@pytest.mark.parametrize(
    "path", ["dashboard/static/missing.js", "dashboard/static/../views.py", "dashboard/", "dashboard/x"]
)
def test_other_paths_near_the_page_are_json_404s(page_app, path):
    response = page_app().test_client().get(f"{ROOT}/{path}")
    assert response.status_code == 404
    assert response.get_json()["success"] is False


@pytest.mark.parametrize("path", ["dashboard", "dashboard/static/dashboard.js"])
def test_the_page_answers_options_head_and_405_like_the_api(page_app, path):
    client = page_app().test_client()
    assert client.options(f"{ROOT}/{path}").headers["Allow"] == "GET, HEAD, OPTIONS"
    with client.head(f"{ROOT}/{path}") as head:
        assert head.status_code == 200
    refused = client.post(f"{ROOT}/{path}")
    assert refused.status_code == 405
    assert refused.get_json()["success"] is False


def test_the_page_can_be_switched_off(page_app):
    client = page_app(DASHBOARD=False).test_client()
    for path in ("dashboard", "dashboard/static/dashboard.js"):
        response = client.get(f"{ROOT}/{path}")
        assert response.status_code == 404
        assert response.get_json()["success"] is False


def test_the_page_can_move(page_app):
    client = page_app(DASHBOARD_PATH="ui/numbers", URL_PREFIX="/analytics").test_client()
    page = client.get("/analytics/ui/numbers")
    assert page.status_code == 200
    assert 'data-api-root="/analytics"' in page.get_data(as_text=True)
    with client.get("/analytics/ui/numbers/static/dashboard.js") as script:
        assert script.status_code == 200
    assert client.get("/analytics/dashboard").status_code == 404


@pytest.mark.parametrize("path", ["/dashboard", "dashboard/", "a//b", "da shboard", "", 5])
def test_a_bad_page_path_stops_the_app(page_app, path):
    with pytest.raises(RuntimeError, match="LIVECHAT_ANALYTICS_DASHBOARD_PATH must be a relative path"):
        page_app(DASHBOARD_PATH=path)


@pytest.mark.parametrize("path", ["health", "departments/page", "openapi.json"])
def test_a_page_path_the_api_uses_stops_the_app(page_app, path):
    with pytest.raises(RuntimeError, match="is taken by the API's own paths"):
        page_app(DASHBOARD_PATH=path)


def test_the_page_asks_for_every_row_unless_count_zero_is_off(page_app):
    assert 'data-page-size="0"' in page_app().test_client().get(f"{ROOT}/dashboard").get_data(as_text=True)
    app = page_app(ALLOW_COUNT_ZERO=False, DEFAULT_COUNT=20, MAX_COUNT=70)
    assert 'data-page-size="70"' in app.test_client().get(f"{ROOT}/dashboard").get_data(as_text=True)


#: The department metrics as the page shows them, as ``departments.METRICS`` declares them.
PAGE_METRICS = [
    {
        "path": "amount-of-chats",
        "title": "Chats",
        "field": "rooms",
        "unit": "count",
        "list": {"what": "Chats", "query": {}},
    },
    {
        "path": "total-transferred-chats",
        "title": "Transferred chats",
        "field": "numberOfTransferredRooms",
        "unit": "count",
        "list": None,
    },
    {
        "path": "average-service-time",
        "title": "Average service time",
        "field": "averageServiceTimeInSeconds",
        "unit": "seconds",
        "list": {"what": "Chats", "query": {}},
    },
    {
        "path": "total-service-time",
        "title": "Total service time",
        "field": "serviceTimeDuration",
        "unit": "seconds",
        "list": {"what": "Chats", "query": {}},
        "also": {"field": "chats", "title": "Chats served"},
    },
    {
        "path": "average-chat-duration-time",
        "title": "Average chat duration",
        "field": "averageChatDurationTimeInSeconds",
        "unit": "seconds",
        "list": {"what": "Chats", "query": {}},
    },
    {
        "path": "average-waiting-time",
        "title": "Average waiting time",
        "field": "averageWaitingTimeInSeconds",
        "unit": "seconds",
        "list": {"what": "Answered chats", "query": {"answered": "true"}},
    },
    {
        "path": "total-abandoned-chats",
        "title": "Abandoned chats",
        "field": "abandonedRooms",
        "unit": "count",
        "list": {"what": "Abandoned chats", "query": {"abandoned": "true"}},
    },
    {
        "path": "percentage-abandoned-chats",
        "title": "Abandoned chats (%)",
        "field": "percentageOfAbandonedChats",
        "unit": "percent",
        "list": {"what": "Chats", "query": {}},
    },
]


def test_the_page_takes_the_department_metrics_from_the_rows(page_app):
    page = page_app().test_client().get(f"{ROOT}/dashboard").get_data(as_text=True)
    [attribute] = re.findall(r"data-metrics='([^']*)'", page)
    assert json.loads(html.unescape(attribute)) == PAGE_METRICS
    # The script holds no copy of them.
    script = (PACKAGE / "static" / "dashboard.js").read_text()
    assert not [metric["path"] for metric in PAGE_METRICS if metric["path"] in script]


def test_the_vendored_chart_library_is_the_pinned_version_with_its_licence():
    vendor = PACKAGE / "static" / "vendor"
    pins = [
        line.split() for line in (vendor / "VERSIONS").read_text().splitlines() if line and line[0] != "#"
    ]
    assert pins == [["chart.js", pins[0][1], "dist/chart.umd.min.js"]]
    banner = (vendor / "chart.umd.min.js").read_text()[:200]
    assert f"Chart.js v{pins[0][1]}" in banner
    assert "MIT License" in (vendor / "chart.js.LICENSE.md").read_text()


def test_the_demo_prints_the_signed_in_page(monkeypatch, demo_on_mongomock):
    served: list[Flask] = []
    monkeypatch.setattr(cli, "serve", lambda app, listening: served.append(app))
    result = CliRunner().invoke(cli.command_group, ["demo", "--rooms", "10", "--port", "3999"])
    assert result.exit_code == 0, result.output
    # The page's line (the API viewer's follows it).
    [line] = [line for line in result.output.splitlines() if line.startswith("http") and "#" in line]
    parts = urlsplit(line)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"http://127.0.0.1:3999{ROOT}/dashboard"
    # In the fragment, which the browser never sends to the server.
    assert not parts.query
    assert parse_qs(parts.fragment) == {"userId": [demo.MANAGER_ID], "token": [demo.MANAGER_TOKEN]}
    assert served[0].test_client().get(parts.path).status_code == 200


def test_the_demo_prints_no_page_when_it_is_switched_off(memory):
    settings = {"LIVECHAT_ANALYTICS_DASHBOARD": False}
    app = demo_server.make_demo_app(database=memory, rooms=0, settings=settings).app
    assert demo_server.dashboard_url(app, "http://127.0.0.1:3000") is None


@pytest.mark.parametrize("file", ["dashboard.js", "dashboard.css", "vendor/chart.umd.min.js"])
@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
def test_the_page_files_are_compressed_as_the_client_accepts(page_app, file, encoding):
    response = (
        page_app().test_client().get(f"{ROOT}/dashboard/static/{file}", headers={"Accept-Encoding": encoding})
    )
    assert response.status_code == 200 and response.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    unpack = {"gzip": gzip.decompress, "br": brotli.decompress, "zstd": zstd.decompress}[encoding]
    assert unpack(response.get_data()) == (PACKAGE / "static" / file).read_bytes()
    assert int(response.headers["Content-Length"]) == len(response.get_data())


def test_json_is_compressed_and_a_client_that_accepts_none_gets_it_plain(page_app):
    client = page_app().test_client()
    # The OpenAPI document: JSON of the API, over the size below which nothing is compressed.
    plain = client.get(f"{ROOT}/openapi.json")
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    packed = client.get(f"{ROOT}/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(packed.get_data())) == plain.get_json()
    page = client.get(f"{ROOT}/dashboard", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"


def test_the_hosts_own_paths_are_not_compressed(page_app):
    app = page_app()
    app.add_url_rule("/host", "host", lambda: "x" * 5000)
    response = app.test_client().get("/host", headers={"Accept-Encoding": "gzip"})
    assert response.get_data(as_text=True) == "x" * 5000 and "Content-Encoding" not in response.headers
    assert "COMPRESS_REGISTER" not in app.config
