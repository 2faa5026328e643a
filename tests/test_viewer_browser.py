"""The API viewer in a real browser: headless Chromium renders Swagger UI over the demo app's own
OpenAPI document, served on a real socket, and tries an endpoint.

Debian's ``chromium`` and ``chromium-driver`` packages are needed (see ``browser.py``, which starts
them). Set ``LIVECHAT_ANALYTICS_SCREENSHOTS`` to a folder (``docs/screenshots``) to keep the
screenshot.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import pathlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import mongomock
import pytest
from browser import Browser, browse
from flask import Flask
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from livechat_analytics import demo, demo_server

ROOT = "/api/v1/livechat/analytics"
MANAGER = {"X-User-Id": demo.MANAGER_ID, "X-Auth-Token": demo.MANAGER_TOKEN}
#: The demo's "now", fixed so that the window below is the data's last 30 days.
NOW = dt.datetime.now(dt.timezone.utc)
WINDOW = {"start": (NOW.date() - dt.timedelta(days=29)).isoformat(), "end": NOW.date().isoformat()}
#: The families, as the document tags them, in its order.
FAMILIES = [
    "departments",
    "dashboards",
    "overview",
    "agents",
    "reports",
    "trends",
    "sla",
    "conversations",
    "satisfaction",
    "live",
]
#: What the viewer's page loads: itself, its files, and the document.
VIEWER_FILES = {
    f"{ROOT}/docs",
    f"{ROOT}/docs/static/index.css",
    f"{ROOT}/docs/static/swagger-ui.css",
    f"{ROOT}/docs/static/swagger-ui-bundle.js",
    f"{ROOT}/docs/static/viewer.js",
    f"{ROOT}/openapi.json",
}
WAIT = 60
ROOMS = 300


@pytest.fixture(scope="module")
def browsing() -> Iterator[tuple[Flask, str, Browser]]:
    """The demo app, served on a real socket, and a browser: the app, its base URL, the browser."""
    database = mongomock.MongoClient(tz_aware=True)["rocketchat"]
    app = demo_server.make_demo_app(database=database, rooms=ROOMS, now=NOW).app
    app.config["TESTING"] = True
    with browse(app, "viewer-browser-") as (server, browser):
        yield app, server, browser


@pytest.fixture
def viewer(browsing: tuple[Flask, str, Browser]) -> Iterator[Viewer]:
    """The API viewer, freshly opened in a new tab and drawn; what it fetched is checked afterwards."""
    opened = Viewer(*browsing)
    yield opened
    opened.browser.check(lambda requests: check_requests(requests, opened.server))


class Viewer:
    """Swagger UI in the browser, as a person uses it, and the app it shows."""

    def __init__(self, app: Flask, server: str, browser: Browser) -> None:
        self.app = app
        self.server = server
        self.browser = browser
        self.driver = browser.driver
        browser.new_tab()  # nothing a previous test gave "Authorize" is left
        self.driver.set_window_size(1280, 800)
        self.driver.get(server + ROOT + "/docs")
        self.wait(lambda: self.driver.find_elements(By.CSS_SELECTOR, ".opblock"), "the operations")

    def wait(self, condition: Any, what: str) -> Any:
        try:
            return WebDriverWait(self.driver, WAIT).until(lambda _: condition())
        except TimeoutException:
            shown = self.driver.find_element(By.TAG_NAME, "body").text[:2000]
            raise AssertionError(f"The viewer did not show {what}: {shown}") from None

    def operations(self) -> dict[str, list[str]]:
        """The paths of the operations shown under each family's heading, in order."""
        shown = {}
        for section in self.driver.find_elements(By.CSS_SELECTOR, ".opblock-tag-section"):
            tag = section.find_element(By.CSS_SELECTOR, "h3.opblock-tag").get_attribute("data-tag")
            paths = section.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
            shown[tag] = [path.get_attribute("data-path") for path in paths]
        return shown

    def authorize(self, headers: dict[str, str]) -> None:
        """Give each security scheme (named by its header) its value under "Authorize"."""
        self.driver.find_element(By.CSS_SELECTOR, ".scheme-container button.authorize").click()
        schemes = self.wait(
            lambda: self.driver.find_elements(By.CSS_SELECTOR, ".auth-container"), "Authorize"
        )
        for scheme in schemes:
            header = scheme.find_element(By.XPATH, ".//p[starts-with(., 'Name:')]/code").text
            scheme.find_element(By.TAG_NAME, "input").send_keys(headers[header])
            scheme.find_element(By.CSS_SELECTOR, "button.authorize").click()
        self.wait(
            lambda: len(self.driver.find_elements(By.XPATH, "//h6[. = 'Authorized']")) == len(schemes),
            "the schemes authorized",
        )
        self.driver.find_element(By.CSS_SELECTOR, ".modal-ux button.close-modal").click()

    def try_it_out(self, operation: str, tag: str, values: dict[str, str]) -> WebElement:
        """Open ``operation``, fill in ``values`` after "Try it out", execute: its block."""
        block = self.driver.find_element(By.ID, f"operations-{tag}-{operation}")
        block.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
        self.wait(lambda: block.find_elements(By.CSS_SELECTOR, ".try-out__btn"), "Try it out")
        block.find_element(By.CSS_SELECTOR, ".try-out__btn").click()
        for name, value in values.items():
            field = block.find_element(By.CSS_SELECTOR, f'tr[data-param-name="{name}"] :is(input, select)')
            if field.tag_name == "select":
                Select(field).select_by_value(value)
            else:
                field.send_keys(value)
        block.find_element(By.CSS_SELECTOR, "button.execute").click()
        self.wait(
            lambda: block.find_elements(By.CSS_SELECTOR, ".live-responses-table .response"), "an answer"
        )
        return block

    def sent(self, path: str) -> tuple[dict[str, Any], Any]:
        """The one request the browser sent to the endpoint at ``path`` so far, and the app's own
        answer to the same request."""
        self.browser.collect()
        [request] = [r for r in self.browser.requests if urlsplit(r["url"]).path == f"{ROOT}/{path}"]
        url = urlsplit(request["url"])
        return request, self.app.test_client().get(f"{url.path}?{url.query}", headers=MANAGER)

    def screenshot(self, name: str, folder: pathlib.Path, bottom: WebElement) -> pathlib.Path:
        """The page from its top to the bottom of ``bottom``, as ``<folder>/<name>.png``."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        end = self.driver.execute_script(
            "const box = arguments[0].getBoundingClientRect(); return box.bottom + window.scrollY + 16;",
            bottom,
        )
        clip = {"x": 0, "y": 0, "width": 1280, "height": end, "scale": 1}
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
        )
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


def check_requests(requests: list[dict[str, Any]], server: str) -> None:
    """Every request the viewer made: GET to this server (nothing leaves the machine), its files and
    the document without credentials, anything else an endpoint of the API."""
    for request in requests:
        url = urlsplit(request["url"])
        if url.scheme in ("data", "blob", "chrome", "about"):  # inline images; the browser's own tabs
            continue
        assert f"{url.scheme}://{url.netloc}" == server, request["url"]
        assert request["method"] == "GET", request
        assert "Cookie" not in request["headers"] and "Authorization" not in request["headers"]
        assert demo.MANAGER_TOKEN not in request["url"]
        if url.path in VIEWER_FILES:
            assert "X-Auth-Token" not in request["headers"], request


def body(block: WebElement) -> dict[str, Any]:
    """The JSON of the answer the viewer shows in an operation's block."""
    text = block.find_element(By.CSS_SELECTOR, ".live-responses-table .response-col_description pre").text
    return json.loads(text)


def status(block: WebElement) -> str:
    return block.find_element(By.CSS_SELECTOR, ".live-responses-table .response .response-col_status").text


def test_the_viewer_renders_every_familys_operations(viewer: Viewer):
    assert not viewer.driver.find_elements(By.CSS_SELECTOR, ".errors-wrapper")
    assert viewer.driver.find_element(By.CSS_SELECTOR, ".info .title").text.startswith("Livechat analytics")
    document = viewer.app.test_client().get(f"{ROOT}/openapi.json").get_json()
    tagged: dict[str, list[str]] = {}
    for path, operations in document["paths"].items():
        tagged.setdefault(operations["get"]["tags"][0], []).append(path)
    shown = viewer.operations()
    assert list(shown) == FAMILIES
    assert shown == tagged
    assert sum(len(paths) for paths in shown.values()) == 46


def test_nothing_leaves_the_machine(viewer: Viewer):
    viewer.browser.collect()
    fetched = {request["url"] for request in viewer.browser.requests}
    ours = {urlsplit(url).path for url in fetched if url.startswith(viewer.server + "/")}
    assert ours == VIEWER_FILES
    others = {urlsplit(url).scheme for url in fetched if not url.startswith(viewer.server + "/")}
    assert others <= {"data", "chrome", "about"}, fetched


def test_try_it_out_after_authorize_shows_the_rows(viewer: Viewer, tmp_path: pathlib.Path):
    viewer.authorize(MANAGER)
    block = viewer.try_it_out("departments-amount-of-chats", "departments", WINDOW)
    assert status(block) == "200"
    answer = body(block)
    assert answer["success"] is True and answer["departments"]
    # The request went to the API with the user's headers and the window; the answer is the API's.
    sent, expected = viewer.sent("departments/amount-of-chats")
    assert {name: sent["headers"][name] for name in MANAGER} == MANAGER
    query = parse_qs(urlsplit(sent["url"]).query)
    assert {name: query[name] for name in WINDOW} == {name: [value] for name, value in WINDOW.items()}
    assert answer == expected.get_json()
    folder = pathlib.Path(os.environ.get("LIVECHAT_ANALYTICS_SCREENSHOTS") or tmp_path)
    shot = viewer.screenshot(
        "api-viewer", folder, block.find_element(By.CSS_SELECTOR, ".live-responses-table")
    )
    assert shot.stat().st_size > 10_000


def test_try_it_out_without_authorize_shows_the_401(viewer: Viewer):
    block = viewer.try_it_out("departments-amount-of-chats", "departments", WINDOW)
    assert status(block) == "401"
    assert body(block)["error"] == "You must be logged in to do this."


def test_try_it_out_saves_the_csv_under_the_apis_name(viewer: Viewer):
    viewer.authorize(MANAGER)
    block = viewer.try_it_out("departments-amount-of-chats", "departments", {**WINDOW, "format": "csv"})
    assert status(block) == "200"
    link = block.find_element(By.CSS_SELECTOR, ".live-responses-table a[download]")
    name = link.get_attribute("download")
    assert name == f"departments-amount-of-chats_{WINDOW['start']}_{WINDOW['end']}.csv"
    link.click()
    saved = viewer.browser.downloads / name
    viewer.wait(lambda: saved.exists() and saved.stat().st_size > 0, "the download")
    _, expected = viewer.sent("departments/amount-of-chats")
    assert saved.read_bytes() == expected.get_data()
    assert saved.read_text().splitlines()[0] == "_id,rooms"
