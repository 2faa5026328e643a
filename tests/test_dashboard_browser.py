"""The dashboard page in a real browser: headless Chromium driving the page over the demo data, served
on a real socket.

Debian's ``chromium`` and ``chromium-driver`` packages are needed (see ``browser.py``, which starts
them). Set ``LIVECHAT_ANALYTICS_SCREENSHOTS`` to a folder (``docs/screenshots``) to keep the screenshots.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import datetime as dt
import io
import json
import math
import os
import pathlib
import re
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

import pytest
from browser import Browser, browse
from flask import Flask
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from livechat_analytics import demo, demo_server
from livechat_analytics.endpoints import ENDPOINTS

ROOT = "/api/v1/livechat/analytics"
MANAGER = {"X-User-Id": demo.MANAGER_ID, "X-Auth-Token": demo.MANAGER_TOKEN}
WAIT = 60
ROOMS = 600
AXE = pathlib.Path(__file__).parent / "vendor" / "axe.min.js"


@pytest.fixture(scope="module")
def demo_app() -> Iterator[Flask]:
    """The demo app as it starts, on its in-memory SecantusDB: department names off, as the API has
    them by default."""
    with demo_server.memory_database() as database:
        app = demo_server.make_demo_app(database=database, rooms=ROOMS).app
        app.config["TESTING"] = True
        yield app


@pytest.fixture(scope="module")
def browsing(demo_app: Flask) -> Iterator[tuple[str, Browser]]:
    """The demo app on a real socket, and a browser: the app's base URL and the browser."""
    with browse(demo_app, "dashboard-browser-") as both:
        yield both


@pytest.fixture
def page(browsing: tuple[str, Browser]) -> Iterator[Page]:
    """The dashboard, freshly opened, signed out; what it fetched is checked afterwards."""
    server, browser = browsing
    yield Page(browser, server)
    browser.check(lambda requests: check_requests(requests, server))


class Page:
    """The dashboard page in the browser, and the same questions asked of the API directly."""

    def __init__(self, browser: Browser, server: str) -> None:
        self.browser = browser
        self.driver = browser.driver
        self.server = server
        # Signed out before the page runs, so that a login a previous test left behind cannot start
        # (and finish) a load of its own: a new tab (a new sessionStorage), the origin's
        # localStorage cleared.
        browser.new_tab()
        self.driver.execute_cdp_cmd(
            "Storage.clearDataForOrigin", {"origin": server, "storageTypes": "local_storage"}
        )
        self.driver.get(server + ROOT + "/dashboard")
        self.driver.set_window_size(1280, 800)

    def open(self, fragment: str = "") -> None:
        self.driver.get(self.server + ROOT + "/dashboard" + fragment)

    def loaded(self) -> int:
        return int(self.driver.execute_script("return document.body.dataset.loaded || 0"))

    def wait_for_load(self, after: int) -> None:
        """Until the page has drawn everything after its refresh number ``after``."""
        try:
            WebDriverWait(self.driver, WAIT).until(
                lambda driver: (
                    self.loaded() > after
                    and driver.execute_script("return document.body.dataset.busy") == "false"
                )
            )
        except TimeoutException:
            raise AssertionError(f"The page did not finish loading: {self.text('main')[:2000]}") from None

    def change(self, action: Callable[[], None]) -> None:
        before = self.loaded()
        action()
        self.wait_for_load(before)

    def sign_in(self, user: str = demo.MANAGER_ID, token: str = demo.MANAGER_TOKEN) -> None:
        self.open()
        form = self.driver.find_element(By.ID, "sign-in")
        WebDriverWait(self.driver, WAIT).until(lambda _: form.is_displayed())
        self.driver.find_element(By.ID, "user-id").send_keys(user)
        self.driver.find_element(By.ID, "token").send_keys(token)
        self.change(lambda: self.driver.find_element(By.CSS_SELECTOR, "#sign-in button").click())

    def text(self, selector: str) -> str:
        return self.driver.find_element(By.CSS_SELECTOR, selector).text

    def cards(self, holder: str) -> dict[str, str]:
        values = self.driver.find_elements(By.CSS_SELECTOR, f"#{holder} .card-value")
        return {value.get_attribute("data-title"): value.text for value in values}

    def query(self, endpoint: str = "dashboards/conversation-totalizers") -> dict[str, list[str]]:
        """The query the page sends (its CSV link for ``endpoint`` names it), without ``format``."""
        link = self.driver.find_element(By.CSS_SELECTOR, f'a.csv[data-csv="{endpoint}"]')
        query = parse_qs(urlsplit(link.get_attribute("href")).query)
        query.pop("format")
        return query

    def api(self, path: str, query: dict[str, list[str]], app: Flask) -> dict[str, Any]:
        response = app.test_client().get(f"{ROOT}/{path}?{urlencode(query, doseq=True)}", headers=MANAGER)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def department_values(self) -> dict[str, list[int]]:
        canvases = self.driver.find_elements(By.CSS_SELECTOR, "#department-charts canvas")
        return {
            canvas.get_attribute("id"): json.loads(canvas.get_attribute("data-values")) for canvas in canvases
        }

    def message(self, panel: str) -> str:
        return self.driver.find_element(By.CSS_SELECTOR, f"section[aria-labelledby='{panel}'] .message").text

    def screenshot(self, name: str, folder: pathlib.Path) -> pathlib.Path:
        """The whole page, not only the window, as ``<folder>/<name>.png``."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        # A full-page capture resizes the viewport, and the responsive charts redraw on the frames
        # after that: capture once to resize, let two frames pass, then keep the second capture.
        capture = {"format": "png", "captureBeyondViewport": True}
        # The charts draw one a task after the answers: every canvas holds its chart first.
        WebDriverWait(self.driver, WAIT).until(
            lambda driver: driver.execute_script(
                "return [...document.querySelectorAll('canvas')].every((canvas) => Chart.getChart(canvas))"
            )
        )
        self.driver.execute_cdp_cmd("Page.captureScreenshot", capture)
        # Each chart drawn again at the size the capture gave it.
        self.driver.execute_script(
            "for (const canvas of document.querySelectorAll('canvas'))"
            " { const made = Chart.getChart(canvas); made.resize(); made.update('none'); }"
        )
        self.driver.execute_async_script(
            "const done = arguments[0];"
            " requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 200)));"
        )
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", capture)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


def check_requests(requests: list[dict[str, Any]], server: str) -> None:
    """Every request the page made: GET to this server, the page, its files or an endpoint of the
    API, the API's with the user's headers, and no credentials in a URL or a cookie."""
    # The network log follows the new tab too: the page's own document, at least, is in it.
    assert any(urlsplit(request["url"]).path == f"{ROOT}/dashboard" for request in requests)
    # The live stream too, which the page reads where the server serves it (404 where not).
    api = {f"{ROOT}/{path}" for path in ENDPOINTS} | {f"{ROOT}/live/stream"}
    files = {f"{ROOT}/dashboard", *(f"{ROOT}/dashboard/static/{file}" for file in _FILES)}
    for request in requests:
        url = urlsplit(request["url"])
        if url.scheme in ("blob", "data", "chrome", "about"):  # a download from memory; the browser's own
            continue
        assert f"{url.scheme}://{url.netloc}" == server, request["url"]
        assert request["method"] == "GET", request
        assert demo.MANAGER_TOKEN not in request["url"] and "wrong-token" not in request["url"]
        assert "Cookie" not in request["headers"] and "Authorization" not in request["headers"]
        if url.path in files:
            assert "X-Auth-Token" not in request["headers"]
            continue
        assert url.path in api, request["url"]
        assert set(request["headers"]) >= {"X-User-Id", "X-Auth-Token"}


_FILES = ("dashboard.css", "dashboard.js", "vendor/chart.umd.min.js")


# Signing in


def test_signing_in_shows_the_api_numbers_in_the_cards(page: Page, demo_app: Flask):
    page.sign_in()
    assert not page.driver.find_element(By.ID, "sign-in").is_displayed()
    query = page.query()
    for holder, path in [
        ("conversation-cards", "dashboards/conversation-totalizers"),
        ("productivity-cards", "dashboards/productivity-totalizers"),
    ]:
        answer = page.api(path, query, demo_app)
        assert page.cards(holder) == {item["title"]: str(item["value"]) for item in answer["totalizers"]}
    assert int(page.cards("conversation-cards")["Total_conversations"]) > 0
    status = page.api("dashboards/charts/chats", query, demo_app)
    cells = page.driver.find_elements(By.CSS_SELECTOR, "#status-table td[data-status]")
    assert {cell.get_attribute("data-status"): int(cell.text) for cell in cells} == {
        key: status[key] for key in ("open", "closed", "queued", "onhold")
    }
    # Every department row of the API, by name, in the table.
    rows = page.api("departments/amount-of-chats", {**query, "count": ["0"]}, demo_app)["departments"]
    shown = page.driver.find_elements(By.CSS_SELECTOR, "#department-table tbody tr")
    assert len(shown) == len(rows)
    chats = {row.get_attribute("data-department"): row for row in shown}
    for row in rows:
        cell = chats[row["_id"] or ""].find_element(By.CSS_SELECTOR, 'td[data-field="rooms"]')
        assert int(cell.text) == row["rooms"]


def test_the_demo_url_signs_in_and_leaves_the_address_bar(page: Page):
    page.change(lambda: page.open(f"#userId={demo.MANAGER_ID}&token={demo.MANAGER_TOKEN}"))
    assert "#" not in page.driver.current_url and demo.MANAGER_TOKEN not in page.driver.current_url
    assert page.driver.execute_script("return sessionStorage.getItem('livechat-analytics.token')") == (
        demo.MANAGER_TOKEN
    )
    assert int(page.cards("conversation-cards")["Total_conversations"]) > 0


def test_the_livechat_clients_stored_login_is_used(page: Page):
    page.driver.execute_script(
        "localStorage.setItem('Meteor.userId', arguments[0]);"
        " localStorage.setItem('Meteor.loginToken', arguments[1]);",
        demo.MANAGER_ID,
        demo.MANAGER_TOKEN,
    )
    page.change(page.open)
    assert "the livechat web client's login" in page.text("#who")
    assert int(page.cards("conversation-cards")["Total_conversations"]) > 0


def test_a_wrong_token_hides_the_dashboard_behind_the_form_with_one_message(page: Page):
    page.sign_in()
    page.driver.execute_script("sessionStorage.setItem('livechat-analytics.token', 'wrong-token')")
    page.open()
    alert = page.driver.find_element(By.ID, "alert")
    WebDriverWait(page.driver, WAIT).until(lambda _: alert.is_displayed() and "401" in alert.text)
    time.sleep(1)  # the other panels' refusals, had they been said
    lines = alert.find_elements(By.TAG_NAME, "p")
    assert [line.text for line in lines] == [
        "The API refused this user id and token (401: You must be logged in to do this.). Sign in again."
    ]
    assert page.driver.find_element(By.ID, "sign-in").is_displayed()
    assert not page.driver.find_element(By.ID, "dashboard").is_displayed()
    # Nothing of the dashboard is left behind it, nor a panel's message.
    assert (
        page.driver.execute_script(
            "return document.querySelectorAll("
            "'.card:not(.blank), #department-table tbody tr, .message:not([hidden])').length"
        )
        == 0
    )
    assert page.driver.find_element(By.ID, "user-id").get_attribute("value") == demo.MANAGER_ID


# Changing what is shown


def test_the_department_and_the_range_change_the_charts(page: Page, demo_app: Flask):
    page.sign_in()
    everyone = page.department_values()
    total = page.cards("conversation-cards")["Total_conversations"]
    assert len(everyone) == 8 and all(len(values) > 1 for values in everyone.values())

    choice = Select(page.driver.find_element(By.ID, "department"))
    page.change(lambda: choice.select_by_visible_text("Sales"))
    query = page.query()
    [sales] = query["departmentId"]
    one = page.department_values()
    assert one != everyone and all(len(values) == 1 for values in one.values())
    answer = page.api("dashboards/conversation-totalizers", query, demo_app)
    assert page.cards("conversation-cards")["Total_conversations"] == str(answer["totalizers"][0]["value"])
    assert page.cards("conversation-cards")["Total_conversations"] != total
    rows = page.api("departments/amount-of-chats", query, demo_app)["departments"]
    assert (
        one["department-chart-amount-of-chats"] == [row["rooms"] for row in rows] and rows[0]["_id"] == sales
    )

    week = Select(page.driver.find_element(By.ID, "range"))
    page.change(lambda: week.select_by_value("last7"))
    query = page.query()
    assert query["start"] != query["end"]
    answer = page.api("dashboards/conversation-totalizers", query, demo_app)
    assert page.cards("conversation-cards")["Total_conversations"] == str(answer["totalizers"][0]["value"])
    assert page.department_values() != one


def test_the_table_sorts_by_any_column_with_the_keyboard(page: Page):
    page.sign_in()
    button = page.driver.find_element(By.CSS_SELECTOR, 'button[data-sort="averageWaitingTimeInSeconds"]')
    button.send_keys(Keys.ENTER)
    cells = page.driver.find_elements(By.CSS_SELECTOR, 'td[data-field="averageWaitingTimeInSeconds"]')
    values = [int(cell.get_attribute("data-value")) for cell in cells]
    assert values == sorted(values, reverse=True)
    focused = page.driver.switch_to.active_element
    assert focused.get_attribute("data-sort") == "averageWaitingTimeInSeconds"
    focused.send_keys(Keys.ENTER)
    cells = page.driver.find_elements(By.CSS_SELECTOR, 'td[data-field="averageWaitingTimeInSeconds"]')
    assert [int(cell.get_attribute("data-value")) for cell in cells] == sorted(values)


def test_the_controls_are_reached_with_the_tab_key(page: Page):
    page.sign_in()
    reached = set()
    page.driver.find_element(By.TAG_NAME, "body").click()
    wanted = {"range", "department", "timezone", "group-by", "sign-out"}
    # From the middle of the page, past the panels' buttons and links (every number that counts
    # rooms is one; the heatmap is one stop) and round to the top.
    for _ in range(400):
        page.driver.switch_to.active_element.send_keys(Keys.TAB)
        reached.add(page.driver.switch_to.active_element.get_attribute("id"))
        if wanted <= reached:
            break
    assert wanted <= reached


# The timezone, the trends, the heatmap and the CSV downloads


def test_the_browsers_timezone_is_sent(page: Page, demo_app: Flask):
    page.driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "America/Sao_Paulo"})
    try:
        page.sign_in()
        assert page.driver.find_element(By.ID, "timezone").get_attribute("value") == "America/Sao_Paulo"
        assert page.query()["timezone"] == ["America/Sao_Paulo"], "the API refused the timezone parameter"
        zone = page.driver.find_element(By.ID, "timezone")
        # Typed over, then left: one change event.
        zone.send_keys(Keys.CONTROL + "a")
        page.change(lambda: zone.send_keys("Europe/Berlin", Keys.TAB))
        assert page.query()["timezone"] == ["Europe/Berlin"]
        answer = page.api("dashboards/conversation-totalizers", page.query(), demo_app)
        assert page.cards("conversation-cards")["Total_conversations"] == str(
            answer["totalizers"][0]["value"]
        )
    finally:
        page.driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": ""})


def test_the_trend_shows_this_period_and_the_previous_one(page: Page, demo_app: Flask):
    page.sign_in()
    metric = Select(page.driver.find_element(By.ID, "trend-metric"))
    page.change(lambda: metric.select_by_value("average-waiting-time"))
    assert page.message("trend-title") == ""
    canvas = page.driver.find_element(By.ID, "trend-chart")
    query = {**page.query(), "groupBy": ["day"], "compare": ["previous"]}
    answer = page.api("trends/average-waiting-time", query, demo_app)
    buckets = answer["series"][0]["buckets"]
    assert json.loads(canvas.get_attribute("data-values")) == [
        b["averageWaitingTimeInSeconds"] for b in buckets
    ]
    previous = answer["previous"][0]["buckets"]
    assert json.loads(canvas.get_attribute("data-previous")) == [
        b["averageWaitingTimeInSeconds"] for b in previous
    ]
    assert len(page.driver.find_elements(By.CSS_SELECTOR, "#trend-table tbody tr")) == len(buckets) == 30
    grouping = Select(page.driver.find_element(By.ID, "group-by"))
    page.change(lambda: grouping.select_by_value("week"))
    assert len(json.loads(canvas.get_attribute("data-values"))) < len(buckets)


def test_the_heatmap_shows_chats_by_weekday_and_hour(page: Page, demo_app: Flask):
    page.sign_in()
    assert page.message("heatmap-title") == ""
    answer = page.api("trends/heatmap", page.query("trends/heatmap"), demo_app)
    rows = page.driver.find_elements(By.CSS_SELECTOR, "#heatmap tbody tr")
    shown = {
        row.find_element(By.TAG_NAME, "th").text: [
            int(cell.text) for cell in row.find_elements(By.TAG_NAME, "td")
        ]
        for row in rows
    }
    assert shown == {day["weekday"]: day["hours"] for day in answer["weekdays"]}
    assert answer["busiest"]["weekday"] in page.text("#busiest")


def test_a_csv_downloads_with_the_apis_numbers(page: Page, demo_app: Flask):
    page.sign_in()
    link = page.driver.find_element(By.CSS_SELECTOR, 'a.csv[data-csv="dashboards/conversation-totalizers"]')
    link.click()
    WebDriverWait(page.driver, WAIT).until(
        lambda _: link.get_attribute("data-downloaded") or page.message("conversations-title")
    )
    assert page.message("conversations-title") == ""
    name = link.get_attribute("data-downloaded")
    saved = page.browser.downloads / name
    WebDriverWait(page.driver, WAIT).until(lambda _: saved.exists() and saved.stat().st_size > 0)
    lines = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"))))
    answer = page.api("dashboards/conversation-totalizers", page.query(), demo_app)
    assert lines == [
        ["title", "value"],
        *([item["title"], str(item["value"])] for item in answer["totalizers"]),
    ]


@contextlib.contextmanager
def at_phone_width(page: Page) -> Iterator[None]:
    """The page at a phone's 390x844 for the block, its charts redrawn at that width."""
    page.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True},
    )
    try:
        time.sleep(0.5)  # the charts redraw at the new width
        yield
    finally:
        page.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


# How it looks


def test_screenshots_at_desktop_and_phone_width(page: Page, tmp_path: pathlib.Path):
    folder = pathlib.Path(os.environ.get("LIVECHAT_ANALYTICS_SCREENSHOTS") or tmp_path)
    page.sign_in()
    width = page.driver.execute_script("return [window.innerWidth, document.documentElement.scrollWidth]")
    assert width[1] <= width[0], "the page is wider than the window"
    desktop = page.screenshot("dashboard-desktop", folder)
    with at_phone_width(page):
        width = page.driver.execute_script("return [window.innerWidth, document.documentElement.scrollWidth]")
        assert width[1] <= width[0], "the page is wider than a phone's screen"
        phone = page.screenshot("dashboard-phone", folder)
    assert desktop.stat().st_size > 10_000 and phone.stat().st_size > 10_000


# The layout shifts without recent input as they happen, and the API's answers handed to the page one
# at a time, 80 ms apart, in the order asked or the reverse: each panel fills in a frame of its own.
SHIFTS = """
window.layoutShifts = [];
const fetched = window.fetch.bind(window);
let asked = 0;
window.fetch = (...request) => {
  const step = ORDER === 'asked' ? asked++ : 20 - asked++; // 20 requests on a first load
  return fetched(...request).then(
    (response) => new Promise((resolve) => setTimeout(() => resolve(response), 80 * step)),
  );
};
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.hadRecentInput) continue;
    const moved = entry.sources.map((source) => {
      const node = source.node;
      const name = node && node.nodeType === 1 ? node.tagName + (node.id ? '#' + node.id : '') : String(node);
      return `${name} ${source.previousRect.y}->${source.currentRect.y}`;
    });
    window.layoutShifts.push({ value: entry.value, moved });
  }
}).observe({ type: 'layout-shift', buffered: true });
"""


@pytest.mark.parametrize("order", ["asked", "reversed"])
@pytest.mark.parametrize("width, height", [(1280, 800), (390, 844)])
def test_the_page_keeps_still_as_it_signs_in_and_fills(page: Page, width: int, height: int, order: str):
    """The cumulative layout shift from the demo's URL to a full page, counted by a
    PerformanceObserver that is there before the page's scripts, stays under 0.05, whatever order
    the answers arrive in."""
    phone = width < 900
    page.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": phone},
    )
    script = page.driver.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument", {"source": f"const ORDER = '{order}';{SHIFTS}"}
    )
    try:
        page.driver.get("about:blank")  # a new document, not the fragment of the open one
        page.change(lambda: page.open(f"#userId={demo.MANAGER_ID}&token={demo.MANAGER_TOKEN}"))
        assert int(page.cards("conversation-cards")["Total_conversations"]) > 0
        # As many blank cards were drawn as there are cards.
        for holder in ("conversation-cards", "productivity-cards"):
            blank = page.driver.find_element(By.ID, holder).get_attribute("data-cards")
            assert len(page.cards(holder)) == int(blank), holder
        # The last charts' frames, and the observer's last entries.
        page.driver.execute_async_script(
            "const done = arguments[0];"
            " requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 300)));"
        )
        shifts = page.driver.execute_script("return window.layoutShifts")
    finally:
        page.driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", script)
        page.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    total = sum(shift["value"] for shift in shifts)
    assert total < 0.05, f"{total:.3f} at {width}x{height}: {shifts}"


# Names, durations, labels, notes


def _labels(app: Flask) -> dict[str, str]:
    """Each department id as the page should show it, from the departments collection itself: its
    name, or ``Name (id)`` when another department has that name."""
    database = app.extensions["livechat_analytics"].repository.database
    named = {doc["_id"]: doc["name"] for doc in database["rocketchat_livechat_department"].find()}
    twins = [name for name in named.values() if list(named.values()).count(name) > 1]
    return {key: f"{name} ({key})" if name in twins else name for key, name in named.items()}


CHARTS = """
return [...document.querySelectorAll('#department-charts canvas')].map((canvas) => {
  const chart = Chart.getChart(canvas);
  const y = chart.scales.y;
  const x = chart.scales.x;
  chart.ctx.save();
  chart.ctx.font = Chart.helpers.toFont(y.options.ticks.font).string;
  const widest = Math.max(...y.getLabels().flat().map((text) => chart.ctx.measureText(text).width));
  chart.ctx.restore();
  return {
    id: canvas.id,
    labels: y.getLabels().map((label) => [].concat(label).join(' ')),
    room: y.right - y.options.ticks.padding - y.options.grid.tickLength - widest,
    ticks: x.ticks.map((tick) => String(tick.label)),
  };
});
"""


def test_names_everywhere_with_names_off_durations_and_no_cut_label(page: Page, demo_app: Flask):
    assert not demo_app.config["LIVECHAT_ANALYTICS_DEPARTMENT_NAMES"]
    labels = _labels(demo_app)
    assert "Support" in " ".join(labels.values()) and any("(" in label for label in labels.values())
    page.sign_in()
    rows = page.driver.find_elements(By.CSS_SELECTOR, "#department-table tbody tr")
    shown = {row.get_attribute("data-department"): row.find_element(By.TAG_NAME, "th").text for row in rows}
    assert shown == {**{key: labels[key] for key in shown if key}, "": "No department"}
    options = page.driver.find_elements(By.CSS_SELECTOR, "#department option")
    assert {
        option.get_attribute("value"): option.text for option in options if option.get_attribute("value")
    } == {key: labels[key] for key in shown if key}
    charts = page.driver.execute_script(CHARTS)
    assert len(charts) == 8
    for drawn in charts:
        assert sorted(drawn["labels"]) == sorted(shown.values()), drawn["id"]
        assert drawn["room"] >= 0, f"{drawn['id']}: its widest label is cut by {-drawn['room']:.0f} px"
    timings = {drawn["id"]: drawn["ticks"] for drawn in charts}
    for metric in ("average-waiting-time", "total-service-time", "average-chat-duration-time"):
        ticks = timings[f"department-chart-{metric}"]
        assert ticks and all(re.fullmatch(r"\d{2,}:\d{2}:\d{2}", tick) for tick in ticks), ticks
    assert all(re.fullmatch(r"\d+", tick) for tick in timings["department-chart-amount-of-chats"])
    # The "Showing ..." line names the department chosen.
    [support] = [key for key, label in labels.items() if label.startswith("Support (")][:1]
    choice = Select(page.driver.find_element(By.ID, "department"))
    page.change(lambda: choice.select_by_value(support))
    assert page.text("#window").endswith(f", {labels[support]}.")


def test_the_open_card_says_it_counts_queued_chats(page: Page):
    page.sign_in()
    cards = page.driver.find_elements(By.CSS_SELECTOR, "#conversation-cards .card")
    notes = {
        card.find_element(By.CSS_SELECTOR, ".card-value").get_attribute("data-title"): card.text.split("\n")[
            1
        ]
        for card in cards
        if card.find_elements(By.CSS_SELECTOR, ".card-note")
    }
    assert notes == {
        "Open_conversations": "(served and queued)",
        "On_Hold_conversations": "(served, waiting on hold)",
    }
    statuses = [cell.text for cell in page.driver.find_elements(By.CSS_SELECTOR, "#status-table tbody th")]
    assert statuses == ["Open (served)", "Closed", "Queued", "On hold"]


# Error states


def _numbers(page: Page) -> int:
    """How many cards, rows and charts show numbers: the blank ones (``.blank``), which keep the
    page's shape until the numbers arrive, show none."""
    return page.driver.execute_script(
        "return document.querySelectorAll('.card:not(.blank), #department-table tbody tr,"
        " #status-table tbody tr:not(.blank), #trend-table tbody tr, #heatmap tbody tr:not(.blank),"
        " #department-charts figure:not(.blank) canvas').length"
    )


def _alert(page: Page) -> list[str]:
    return [line.text for line in page.driver.find_elements(By.CSS_SELECTOR, "#alert p")]


def _heights(page: Page) -> list[float]:
    """The heights of the panels above the departments' (whose rows come and go)."""
    return page.driver.execute_script(
        "return [...document.querySelectorAll('section.panel')]"
        ".filter((panel) => !panel.querySelector('#departments-title'))"
        ".map((panel) => panel.getBoundingClientRect().height)"
    )


def test_a_reversed_custom_range_clears_the_numbers_and_says_why_once(page: Page):
    page.sign_in()
    assert _numbers(page) > 20 and _alert(page) == []
    filled = _heights(page)
    page.change(lambda: Select(page.driver.find_element(By.ID, "range")).select_by_value("custom"))
    start = page.driver.find_element(By.ID, "start")
    page.change(
        lambda: page.driver.execute_script(
            "arguments[0].value = '2030-01-02'; arguments[0].dispatchEvent(new Event('change'))", start
        )
    )
    assert _numbers(page) == 0 and page.text("#window") == ""
    assert _alert(page) == ["The range's first day is after its last day."]
    assert _heights(page) == filled, "the cleared panels keep their shape"
    assert (
        page.driver.execute_script("return Chart.getChart(document.getElementById('status-chart'))") is None
    )
    # Good again: the numbers come back, the message goes.
    page.change(lambda: Select(page.driver.find_element(By.ID, "range")).select_by_value("last30"))
    assert _numbers(page) > 20 and _alert(page) == []


def test_an_unknown_timezone_clears_the_numbers_and_says_why_once(page: Page):
    page.sign_in()
    zone = page.driver.find_element(By.ID, "timezone")
    zone.send_keys(Keys.CONTROL + "a")
    page.change(lambda: zone.send_keys("Mars/Olympus", Keys.TAB))
    assert _numbers(page) == 0
    assert _alert(page) == [
        "Unknown timezone \u201cMars/Olympus\u201d: choose one from the list, such as Europe/Berlin."
    ]


# Accessibility


def _axe(page: Page) -> list[str]:
    """The serious and critical violations axe-core finds on the page as it is."""
    if not AXE.is_file():
        pytest.fail(f"The browser tests need axe-core's axe.min.js at {AXE} (npm package axe-core).")
    page.driver.execute_script(AXE.read_text(encoding="utf-8"))
    found = page.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        " axe.run(document, { resultTypes: ['violations'] }).then((r) => done(r.violations))"
    )
    return [
        f"{rule['id']} ({rule['impact']}): {[node['target'] for node in rule['nodes']]}"
        for rule in found
        if rule["impact"] in ("serious", "critical")
    ]


def test_axe_finds_nothing_serious_at_desktop_and_phone_width(page: Page):
    page.open()
    WebDriverWait(page.driver, WAIT).until(
        lambda _: page.driver.find_element(By.ID, "sign-in").is_displayed()
    )
    assert _axe(page) == [], "the sign-in view"
    page.sign_in()
    assert _axe(page) == [], "1280x800"
    with at_phone_width(page):
        assert _axe(page) == [], "390x844"
        # The busiest cell of the heatmap is scrolled into view, and the captions are not cut.
        seen = page.driver.execute_script(
            "const cell = document.querySelector('#heatmap td.busiest').getBoundingClientRect();"
            " const captions = [...document.querySelectorAll('p.caption')]"
            ".map((p) => p.getBoundingClientRect());"
            " return [cell.left >= 0 && cell.right <= innerWidth,"
            " captions.every((box) => box.left >= 0 && box.right <= innerWidth)]"
        )
        assert seen == [True, True]


# Service levels

TARGET_RULE = (
    "The target must be a whole number of seconds from 1 to 2592000 (30 days);"
    " leave it empty for each room's SLA policy."
)


def _clock(seconds: int | None) -> str:
    """Seconds as the page writes a duration, ``HH:MM:SS``; a dash for none."""
    if seconds is None:
        return "\u2013"
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _percent(value: float | None) -> str:
    """A compliance as the page writes the API's number, to two decimals: 50.0 is ``50.00 %``."""
    return "\u2013" if value is None else f"{value:.2f} %"


def _sla(page: Page) -> dict[str, str]:
    """The service-level cards: each card's field, its text."""
    values = page.driver.find_elements(By.CSS_SELECTOR, "#sla-cards .card-value")
    return {value.get_attribute("data-field"): value.text for value in values}


def _sla_expected(page: Page, app: Flask, extra: dict[str, list[str]]) -> dict[str, str]:
    """The cards the API's answers make for the page's window and ``extra``: this window's
    compliance and the previous one's, the window of as many days ending the day before."""
    query = {**page.query(), **extra}
    [start], [end] = query["start"], query["end"]
    first, last = (dt.date.fromisoformat(day) for day in (start, end))
    days = (last - first).days + 1
    before = {
        **query,
        "start": [str(first - dt.timedelta(days=days))],
        "end": [str(first - dt.timedelta(days=1))],
    }
    [now] = page.api("sla/compliance", query, app)["groups"]
    [previous] = page.api("sla/compliance", before, app)["groups"]
    counts = ("eligible", "met", "breached", "pending", "unansweredWithinTarget", "noTarget")
    return {
        "compliance": _percent(now["compliance"]),
        "previous": _percent(previous["compliance"]),
        **{field: str(now[field]) for field in counts},
        "p50": _clock(now["p50"]),
        "p90": _clock(now["p90"]),
    }


def _seconds(value: float) -> int:
    """A duration's seconds as the page rounds them (half up, as JavaScript's Math.round)."""
    return math.floor(value + 0.5)


def _same_breaches(page: Page, breaches: list[dict[str, Any]]) -> None:
    """The page's breaches are the API's, in its order. An open room's time without an answer runs
    to the moment of each request (its ``overBySeconds`` grows between the page's and the test's):
    only the answered rooms' order and numbers are compared."""
    shown = _breaches(page)
    assert sorted(shown) == sorted(row["_id"] for row in breaches)
    answered = [row for row in breaches if row["firstResponseSeconds"] is not None]
    ids = {row["_id"] for row in answered}
    assert [room for room in shown if room in ids] == [row["_id"] for row in answered] and answered
    for row in answered[:5]:
        cells = page.driver.find_elements(By.CSS_SELECTOR, f'#sla-breaches tr[data-room="{row["_id"]}"] td')
        texts = {cell.get_attribute("data-field"): cell.text for cell in cells}
        for field in ("target", "firstResponseSeconds", "overBySeconds"):
            assert texts[field] == _clock(_seconds(row[field])), (row, field)


def _breaches(page: Page) -> list[str]:
    return [
        row.get_attribute("data-room")
        for row in page.driver.find_elements(By.CSS_SELECTOR, "#sla-breaches tbody tr")
    ]


def test_the_service_levels_show_the_apis_numbers(page: Page, demo_app: Flask):
    page.sign_in()
    assert page.query("sla/breaches") == page.query(), "no target, no business hours"
    cards = _sla(page)
    assert cards == _sla_expected(page, demo_app, {})
    assert int(cards["met"]) > 0 and int(cards["breached"]) > 0 and int(cards["noTarget"]) > 0
    assert page.text("#sla-target-note") == "Target: per SLA policy. Waits counted in calendar time."
    # The breaches, furthest over first as the API orders them, with their durations.
    breaches = page.api("sla/breaches", {**page.query(), "count": ["0"]}, demo_app)["breaches"]
    assert len(breaches) > 5
    _same_breaches(page, breaches)
    assert page.text("#sla-breaches-note") == f"{len(breaches)} breached rooms."
    # Compliance per department, by name.
    groups = page.api(
        "sla/compliance", {**page.query(), "groupBy": ["department"], "count": ["0"]}, demo_app
    )["groups"]
    labels = {**_labels(demo_app), None: "No department"}
    rows = page.driver.find_elements(By.CSS_SELECTOR, "#sla-departments tbody tr")
    assert {
        row.find_element(By.TAG_NAME, "th").text: row.find_element(
            By.CSS_SELECTOR, 'td[data-field="compliance"]'
        ).text
        for row in rows
    } == {labels[group["_id"]]: _percent(group["compliance"]) for group in groups}
    assert len(rows) == len(groups) > 2


def test_the_target_and_the_business_hours_switch_change_the_numbers(page: Page, demo_app: Flask):
    page.sign_in()
    calendar = _sla(page)
    target = page.driver.find_element(By.ID, "sla-target")
    page.change(lambda: target.send_keys("60", Keys.TAB))
    assert page.query("sla/breaches") == {**page.query(), "target": ["60"]}
    assert _sla(page) == _sla_expected(page, demo_app, {"target": ["60"]}) != calendar
    assert _sla(page)["noTarget"] == "0"
    assert page.text("#sla-target-note").startswith("Target: 00:01:00 (60 s) for every room.")
    # The demo stores schedules: the switch shows, and asks in business hours.
    switch = page.driver.find_element(By.ID, "sla-hours")
    assert switch.is_displayed()
    page.change(switch.click)
    hours = {"target": ["60"], "businessHours": ["true"]}
    assert page.query("sla/breaches") == {**page.query(), **hours}
    assert _sla(page) == _sla_expected(page, demo_app, hours)
    answer = page.api("sla/compliance", {**page.query(), **hours}, demo_app)
    assert page.text("#sla-target-note") == (
        "Target: 00:01:00 (60 s) for every room. Waits counted in business hours"
        f" ({answer['roomsWithoutSchedule']} rooms without a schedule in calendar time)."
    )
    breaches = page.api("sla/breaches", {**page.query(), **hours, "count": ["0"]}, demo_app)["breaches"]
    _same_breaches(page, breaches)


def test_the_breaches_sort_by_any_column_with_the_keyboard(page: Page):
    page.sign_in()
    button = page.driver.find_element(
        By.CSS_SELECTOR, '#sla-breaches button[data-sort="firstResponseSeconds"]'
    )
    button.send_keys(Keys.ENTER)

    def column(field: str) -> list[str]:
        cells = page.driver.find_elements(By.CSS_SELECTOR, f'#sla-breaches td[data-field="{field}"]')
        return [cell.get_attribute("data-value") for cell in cells]

    answered = [float(value) for value in column("firstResponseSeconds") if value]
    assert answered == sorted(answered, reverse=True) and len(answered) > 2
    assert "" in column("firstResponseSeconds"), "the unanswered breaches, last"
    assert column("firstResponseSeconds")[-1] == ""
    focused = page.driver.switch_to.active_element
    assert focused.get_attribute("data-sort") == "firstResponseSeconds"
    focused.send_keys(Keys.ENTER)
    assert [float(value) for value in column("firstResponseSeconds") if value] == sorted(answered)
    # A text column starts from A.
    page.driver.find_element(By.CSS_SELECTOR, '#sla-breaches button[data-sort="department"]').send_keys(
        Keys.ENTER
    )
    names = [
        row.find_elements(By.TAG_NAME, "td")[1].text
        for row in page.driver.find_elements(By.CSS_SELECTOR, "#sla-breaches tbody tr")
    ]
    assert names == sorted(names, key=str.casefold) and len(set(names)) > 2


def _sla_numbers(page: Page) -> int:
    return page.driver.execute_script(
        "return document.querySelectorAll('#sla-cards .card:not(.blank), #sla-breaches tbody tr,"
        " #sla-departments tbody tr').length"
    )


def test_a_bad_target_clears_the_panel_and_says_why_once(page: Page):
    page.sign_in()
    filled = _heights(page)
    assert _sla_numbers(page) > 10
    target = page.driver.find_element(By.ID, "sla-target")
    page.browser.collect()
    for bad in ("0", "2592001", "1.5", "-3"):
        target.send_keys(Keys.CONTROL + "a", Keys.DELETE)
        page.change(lambda bad=bad: target.send_keys(bad, Keys.TAB))
        assert _sla_numbers(page) == 0, bad
        assert _alert(page) == [TARGET_RULE], bad
        assert _numbers(page) > 20, "the other panels stay"
        assert page.text("#window").startswith("Showing ")
        assert _heights(page) == filled, "the cleared panel keeps its shape"
    page.browser.collect()
    asked = [urlsplit(request["url"]) for request in page.browser.requests]
    assert not [url for url in asked if url.path.startswith(f"{ROOT}/sla/") and "target" in url.query]
    # Good again: the numbers come back, the message goes.
    target.send_keys(Keys.CONTROL + "a", Keys.DELETE)
    page.change(lambda: target.send_keys("2592000", Keys.TAB))
    assert _sla_numbers(page) > 10 and _alert(page) == []


def test_without_a_schedule_the_switch_is_not_shown(page: Page, demo_app: Flask):
    schedules = demo_app.extensions["livechat_analytics"].repository.collection("business_hours")
    stored = list(schedules.find())
    assert stored, "the demo stores schedules"
    schedules.delete_many({})
    # A timezone no other test asks in: no answer the cache keeps from before is reused.
    page.driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "Pacific/Chatham"})
    try:
        page.sign_in()
        control = page.driver.find_element(By.ID, "sla-hours-control")
        assert not page.driver.find_element(By.ID, "sla-hours").is_displayed()
        assert control.size["height"] > 0, "its room kept"
        assert _alert(page) == [] and _sla_numbers(page) > 10
    finally:
        page.driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": ""})
        schedules.insert_many(stored)


# The chats behind a number


def _list(page: Page) -> tuple[int, str]:
    """Once the list's dialog has its answer: the list's ``total``, and its filter in words."""
    dialog = page.driver.find_element(By.ID, "list")
    try:
        WebDriverWait(page.driver, WAIT).until(
            lambda _: (
                dialog.get_attribute("open") is not None and dialog.get_attribute("data-busy") == "false"
            )
        )
    except TimeoutException:
        raise AssertionError(f"The list did not answer: {dialog.text[:2000]}") from None
    assert dialog.find_element(By.CSS_SELECTOR, ".message").text == ""
    return int(dialog.get_attribute("data-total")), page.text("#list-title")


def _chats(count: int) -> str:
    return "1 chat" if count == 1 else f"{count} chats"


def _listed(page: Page) -> list[str]:
    return [
        row.get_attribute("data-room")
        for row in page.driver.find_elements(By.CSS_SELECTOR, "#list-table tbody tr")
    ]


def _closed_by_escape(page: Page, opener: Any) -> None:
    page.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    WebDriverWait(page.driver, WAIT).until(
        lambda driver: driver.find_element(By.ID, "list").get_attribute("open") is None
    )
    assert page.driver.switch_to.active_element == opener, "the focus is back on the number"


def _window_rooms(app: Flask, query: dict[str, list[str]], **conditions: Any) -> set[str]:
    """The livechat rooms created in the page's window (its days, in its timezone), from the demo's
    rooms collection itself."""
    zone = ZoneInfo(query["timezone"][0])
    first = dt.datetime.fromisoformat(query["start"][0]).replace(tzinfo=zone)
    last = dt.datetime.fromisoformat(query["end"][0]).replace(tzinfo=zone) + dt.timedelta(days=1)
    database = app.extensions["livechat_analytics"].repository.database
    rooms = database["rocketchat_room"].find({"t": "l", **conditions})
    return {room["_id"] for room in rooms if first <= room["ts"].replace(tzinfo=dt.timezone.utc) < last}


def test_a_department_cell_lists_its_chats_and_closes_back_to_it(page: Page, demo_app: Flask):
    page.sign_in()
    query = page.query()
    row = page.driver.find_element(By.CSS_SELECTOR, '#department-table tbody tr:not([data-department=""])')
    department = row.get_attribute("data-department")
    name = row.find_element(By.TAG_NAME, "th").text
    button = row.find_element(By.CSS_SELECTOR, 'td[data-field="rooms"] button.drill')
    number = int(button.text)
    assert button.get_attribute("aria-label") == (
        f"{number}: list the chats of {name}, {query['start'][0]} to {query['end'][0]}"
    )
    button.send_keys(Keys.ENTER)
    total, words = _list(page)
    assert (total, words) == (number, f"Chats of {name}, {query['start'][0]} to {query['end'][0]}")
    # The rows are the department's rooms of the window, newest first, a page of 50 at most.
    rooms = _window_rooms(demo_app, query, departmentId=department)
    assert len(rooms) == number > 0
    shown = _listed(page)
    assert len(shown) == min(50, number) and set(shown) <= rooms
    assert page.text("#list-range") == f"{_chats(number)}; rows 1 to {len(shown)}."
    # Its CSV link asks for the same list.
    link = page.driver.find_element(By.ID, "list-csv")
    asked = parse_qs(urlsplit(link.get_attribute("href")).query)
    assert asked["departmentId"] == [department] and asked["format"] == ["csv"]
    assert _axe(page) == [], "the list at 1280x800"
    with at_phone_width(page):
        assert _axe(page) == [], "the list at 390x844"
    _closed_by_escape(page, button)

    # The abandoned chats, by the abandoned rule, and the same count.
    button = row.find_element(By.CSS_SELECTOR, 'td[data-field="abandonedRooms"] button.drill')
    number = int(button.text)
    button.click()
    assert _list(page) == (number, f"Abandoned chats of {name}, {query['start'][0]} to {query['end'][0]}")
    page.driver.find_element(By.ID, "list-close").click()
    assert page.driver.switch_to.active_element == button
    # The transfers count transfer events, which no list of rooms counts: no button.
    assert not row.find_elements(By.CSS_SELECTOR, 'td[data-field="numberOfTransferredRooms"] button')


def _opened(page: Page, selector: str) -> tuple[dict[str, list[str]], Any, int]:
    """Sign in, then click the number at ``selector``: the page's window, its button, its number."""
    page.sign_in()
    query = page.query()
    button = page.driver.find_element(By.CSS_SELECTOR, selector)
    number = int(button.text)
    button.click()
    return query, button, number


def test_the_list_pages_and_sorts_with_the_keyboard(page: Page, demo_app: Flask):
    query, button, number = _opened(page, '#status-table td[data-status="closed"] button.drill')
    total, words = _list(page)
    assert (total, words) == (
        number,
        f"Closed chats of all departments, {query['start'][0]} to {query['end'][0]}",
    )
    assert number > 50, "the demo has more than a page of closed chats"
    first = _listed(page)
    page.driver.find_element(By.ID, "list-next").send_keys(Keys.ENTER)
    assert _list(page)[0] == number
    second = _listed(page)
    assert page.text("#list-range") == f"{_chats(number)}; rows 51 to {50 + len(second)}."
    assert not set(first) & set(second)
    # Sorted by messages, most first, from the first page again.
    page.driver.find_element(By.CSS_SELECTOR, '#list-table button[data-sort="messages"]').send_keys(
        Keys.ENTER
    )
    assert _list(page)[0] == number
    focused = page.driver.switch_to.active_element
    assert focused.get_attribute("data-sort") == "messages"
    cells = page.driver.find_elements(By.CSS_SELECTOR, '#list-table td[data-field="messages"]')
    values = [int(cell.text) for cell in cells]
    assert values == sorted(values, reverse=True) and page.text("#list-range").endswith("rows 1 to 50.")
    answer = page.api(
        "conversations",
        {**query, "status": ["closed"], "sort": ['{"messages": -1}'], "count": ["50"]},
        demo_app,
    )
    assert [row["messages"] for row in answer["conversations"]] == values
    _closed_by_escape(page, button)


def test_a_heatmap_cell_lists_its_chats_day_by_day(page: Page, demo_app: Flask):
    page.sign_in()
    query = page.query()
    busiest = page.driver.find_element(By.CSS_SELECTOR, "#heatmap td.busiest button.drill")
    # The heatmap is one stop of the Tab key, at its busiest cell; the arrows move in it.
    assert busiest.get_attribute("tabindex") == "0"
    assert len(page.driver.find_elements(By.CSS_SELECTOR, '#heatmap button[tabindex="0"]')) == 1
    number = int(busiest.text)
    busiest.send_keys(
        Keys.ARROW_DOWN
        if busiest.find_elements(By.XPATH, "./ancestor::tr/following-sibling::tr")
        else Keys.ARROW_UP
    )
    moved = page.driver.switch_to.active_element
    assert (
        moved != busiest
        and moved.get_attribute("class") == "drill"
        and moved.get_attribute("tabindex") == "0"
    )
    assert busiest.get_attribute("tabindex") == "-1"
    busiest.click()
    weekday = busiest.find_element(By.XPATH, "./ancestor::tr/th").text
    hour = int(busiest.find_element(By.XPATH, "./ancestor::td").get_attribute("data-hour"))
    total, words = _list(page)
    assert words == (
        f"Chats started on {weekday}s, {hour:02}:00\u2013{hour:02}:59 of all departments,"
        f" {query['start'][0]} to {query['end'][0]}"
    )
    days = Select(page.driver.find_element(By.ID, "list-days"))
    totals = []
    for index, option in enumerate(days.options):
        if index:
            days.select_by_index(index)
        total = _list(page)[0]
        assert option.text.endswith(f": {_chats(total)}")
        day = option.text[:10]
        assert dt.date.fromisoformat(day).strftime("%A") == weekday
        totals.append(total)
    assert sum(totals) == number and len(totals) > 1, "the cell's hour on each of its days"
    _closed_by_escape(page, busiest)


def test_a_trend_point_lists_its_bucket(page: Page, demo_app: Flask):
    page.sign_in()
    query = page.query()
    canvas = page.driver.find_element(By.ID, "trend-chart")
    values = json.loads(canvas.get_attribute("data-values"))
    index = values.index(max(values))
    x, y, width, height = page.driver.execute_script(
        "const made = Chart.getChart(arguments[0]); const point = made.getDatasetMeta(0).data[arguments[1]];"
        " return [point.x, point.y, made.width, made.height]",
        canvas,
        index,
    )
    ActionChains(page.driver).move_to_element_with_offset(
        canvas, round(x - width / 2), round(y - height / 2)
    ).click().perform()
    total, words = _list(page)
    day = (dt.date.fromisoformat(query["start"][0]) + dt.timedelta(days=index)).isoformat()
    assert (total, words) == (values[index], f"Chats of all departments, {day}")
    page.driver.find_element(By.ID, "list-close").click()
    assert page.driver.switch_to.active_element == canvas


def test_the_breach_count_lists_the_breached_chats(page: Page, demo_app: Flask):
    query, button, number = _opened(page, '#sla-cards .card-value[data-field="breached"] button')
    assert _list(page) == (
        number,
        f"Chats that breached the target of all departments, {query['start'][0]} to {query['end'][0]}"
        " (target per SLA policy)",
    )
    breaches = page.api("sla/breaches", {**query, "count": ["0"]}, demo_app)
    assert breaches["total"] == number
    _closed_by_escape(page, button)


# Now: the queue and the agents as they are, from the stream; where the browser cannot reach it
# (blocked), the panel says so and polls.

POLL = 10  # the page's polling interval while the stream is paused, in seconds
PAUSED = f"Live updates paused: the stream could not be reached (Failed to fetch); polling every {POLL} s."


@contextlib.contextmanager
def stream_blocked(page: Page) -> Iterator[None]:
    """The browser refuses to reach ``live/stream`` while the block runs."""
    page.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/live/stream*"]})
    try:
        yield
    finally:
        page.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})


STATUS_WORDS = {"online": "Online", "away": "Away", "busy": "Busy", "offline": "Offline"}


def _waited(seconds: int) -> str:
    """A wait as the panel words it: the two largest units, the second left out when 0."""
    units = [(86400, "d"), (3600, "h"), (60, "min"), (1, "s")]
    for index, (size, unit) in enumerate(units):
        if seconds >= size:
            words = f"{seconds // size} {unit}"
            if index + 1 < len(units) and (seconds % size) // units[index + 1][0]:
                words += f" {(seconds % size) // units[index + 1][0]} {units[index + 1][1]}"
            return words
    return "0 s"


def _now_filled(page: Page) -> dict[str, str]:
    """Once the Now panel shows both answers: the moment of its queue (``at``) and its note."""
    WebDriverWait(page.driver, WAIT).until(
        lambda driver: driver.execute_script(
            "const now = document.getElementById('now').dataset; return now.queue && now.agents"
        )
    )
    return {
        "at": page.driver.find_element(By.ID, "now").get_attribute("data-queue"),
        "note": page.text("#now-note"),
    }


def _queue_rows(page: Page) -> list[dict[str, str]]:
    """Each row of the queue's table, the total last: its label and its cells' values and texts."""
    return page.driver.execute_script(
        "return [...document.querySelectorAll('#now-queue tbody tr, #now-queue tfoot tr')].map((tr) => ({"
        " label: tr.cells[0].textContent,"
        " ...Object.fromEntries([...tr.querySelectorAll('td')]"
        ".map((td) => [td.dataset.field, td.dataset.value])),"
        " wait: tr.querySelector('[data-field=oldestWaitSeconds]').textContent }))"
    )


def _instant(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _check_queue(page: Page, app: Flask, query: dict[str, list[str]]) -> None:
    """The queue's rows are live/queue's (asked now): the counts equal, the oldest wait the API's
    less the seconds between the two answers, and worded as the panel words it."""
    page_at = _instant(_now_filled(page)["at"])
    answer = page.api("live/queue", query, app)
    labels = _labels(app)
    rows = _queue_rows(page)
    expected = [*answer["departments"], {**answer["total"], "_id": "total"}]
    assert [row["label"] for row in rows] == [
        "Total" if row["_id"] == "total" else labels.get(row["_id"], "No department") for row in expected
    ]
    behind = math.floor((_instant(answer["at"]) - page_at).total_seconds())
    for row, wanted in zip(rows, expected, strict=True):
        assert [row[key] for key in ("queued", "open", "onHold")] == [
            str(wanted[key]) for key in ("queued", "open", "onHold")
        ]
        if wanted["queued"]:
            assert int(row["oldestWaitSeconds"]) in range(
                wanted["oldestWaitSeconds"] - behind - 1, wanted["oldestWaitSeconds"] - behind + 1
            )
            # Counted on each second since the answer: a few seconds later at most.
            base = int(row["oldestWaitSeconds"])
            assert row["wait"] in [_waited(base + extra) for extra in range(0, 6)], row
        else:
            assert (row["oldestWaitSeconds"], row["wait"]) == ("0", "\u2013")


def _agent_rows(page: Page) -> list[list[str]]:
    return page.driver.execute_script(
        "return [...document.querySelectorAll('#now-agents tbody tr')]"
        ".map((tr) => [tr.dataset.agent, ...[...tr.cells].map((cell) => cell.textContent)])"
    )


def _check_agents(page: Page, app: Flask, query: dict[str, list[str]]) -> None:
    """A row per agent of live/agents, online first, then away, busy and offline (by username)."""
    agents = page.api("live/agents", query, app)["agents"]
    order = list(STATUS_WORDS)
    agents.sort(key=lambda agent: order.index(agent["status"]))
    assert _agent_rows(page) == [
        [
            agent["_id"],
            agent["name"] or agent["username"],
            STATUS_WORDS[agent["status"]],
            "Available" if agent["statusLivechat"] == "available" else "Not available",
            f"{agent['openChats']} / {agent['maxChats'] if agent['maxChats'] is not None else chr(0x2013)}",
            str(agent["onHoldChats"]),
            chr(0x2013) if agent["occupancy"] is None else f"{round(agent['occupancy'] * 100)} %",
        ]
        for agent in agents
    ]
    counts = {status: sum(agent["status"] == status for agent in agents) for status in order}
    said = ", ".join(f"{count} {status}" for status, count in counts.items() if count)
    available = sum(agent["statusLivechat"] == "available" for agent in agents)
    assert f"Agents: {said}; {available} available." in page.text("#now-summary")


def test_the_now_panel_shows_the_live_numbers_and_polls_without_the_stream(page: Page, demo_app: Flask):
    with stream_blocked(page):
        _numbers_polled(page, demo_app)


def _numbers_polled(page: Page, demo_app: Flask) -> None:
    page.sign_in()
    assert _now_filled(page)["note"] == PAUSED
    total = page.api("live/queue", {}, demo_app)["total"]
    chats = "1 chat" if total["queued"] == 1 else f"{total['queued']} chats"
    assert page.text("#now-summary").startswith(
        f"{chats} waiting, {total['open']} open, {total['onHold']} on hold. Agents: "
    )
    _check_queue(page, demo_app, {"names": ["true"]})
    _check_agents(page, demo_app, {})
    # The department chosen: its queue and its agents only.
    choice = Select(page.driver.find_element(By.ID, "department"))
    page.driver.execute_script("document.getElementById('now').dataset.queue = ''")
    page.change(lambda: choice.select_by_visible_text("Sales"))
    [sales] = page.query()["departmentId"]
    _check_queue(page, demo_app, {"names": ["true"], "departmentId": [sales]})
    _check_agents(page, demo_app, {"departmentId": [sales]})
    assert [row["label"] for row in _queue_rows(page)] == ["Sales", "Total"]
    page.browser.collect()
    asked = [urlsplit(request["url"]) for request in page.browser.requests]
    streams = [parse_qs(url.query) for url in asked if url.path == f"{ROOT}/live/stream"]
    assert streams[0] == {"names": ["true"]}
    assert streams[-1] == {"names": ["true"], "departmentId": [sales]}


def queued_room(database: Any, room_id: str) -> dict[str, Any]:
    """A room queued now, with no department, stored."""
    moment = dt.datetime.now(dt.timezone.utc)
    room = {"_id": room_id, "t": "l", "open": True, "ts": moment, "queuedAt": moment, "departmentId": None}
    database["rocketchat_room"].insert_one(room)
    return room


def test_the_now_panel_follows_the_stream(page: Page, demo_app: Flask):
    page.sign_in()
    assert _now_filled(page)["note"] == ""
    _check_queue(page, demo_app, {"names": ["true"]})
    _check_agents(page, demo_app, {})
    before = int(_queue_rows(page)[-1]["queued"])
    database = demo_app.extensions["livechat_analytics"].repository.database
    room = queued_room(database, "NowPanelStreamed1")
    try:
        inserted = time.monotonic()
        # The change stream brings it within 2 s; a redraw takes a moment more.
        WebDriverWait(page.driver, 3, poll_frequency=0.05).until(
            lambda _: int(_queue_rows(page)[-1]["queued"]) == before + 1
        )
        assert time.monotonic() - inserted < 2.5
        assert page.text("#now-note") == ""
    finally:
        database["rocketchat_room"].delete_one({"_id": room["_id"]})
    page.browser.collect()
    # Pushed, never asked: the page polled nothing.
    asked = {urlsplit(request["url"]).path for request in page.browser.requests}
    assert f"{ROOT}/live/stream" in asked
    assert not asked & {f"{ROOT}/live/queue", f"{ROOT}/live/agents"}


def test_a_queued_room_reaches_the_panel_within_the_poll_interval(page: Page, demo_app: Flask):
    with stream_blocked(page):
        _queued_room_polled(page, demo_app)


def _queued_room_polled(page: Page, demo_app: Flask) -> None:
    page.sign_in()
    _now_filled(page)
    before = int(_queue_rows(page)[-1]["queued"])
    database = demo_app.extensions["livechat_analytics"].repository.database
    room = queued_room(database, "NowPanelQueued1")
    try:
        # Within one polling interval, and the few seconds a request and a redraw take.
        WebDriverWait(page.driver, POLL + 3, poll_frequency=0.1).until(
            lambda _: int(_queue_rows(page)[-1]["queued"]) == before + 1
        )
        assert page.text("#now-note") == PAUSED
        assert "1 chat" in page.text("#now-summary") or f"{before + 1} chats waiting" in page.text(
            "#now-summary"
        )
    finally:
        database["rocketchat_room"].delete_one({"_id": room["_id"]})


def test_the_now_panel_is_accessible_at_desktop_and_phone_width(page: Page):
    page.sign_in()
    _now_filled(page)
    assert _axe(page) == [], "1280x800"
    with at_phone_width(page):
        assert _axe(page) == [], "390x844"
        width = page.driver.execute_script("return [window.innerWidth, document.documentElement.scrollWidth]")
        assert width[1] <= width[0], "the page is wider than a phone's screen"
    # Its words, not a colour, say each state; the changing line is read out politely.
    assert page.driver.find_element(By.ID, "now-summary").get_attribute("aria-live") == "polite"
    assert page.driver.find_element(By.CSS_SELECTOR, "#now h2").text == "Now"


# Satisfaction

UNRATED = (
    "No chat closed in this range was rated. Rocket.Chat's widget no longer asks visitors to rate their"
    " chats: ratings are collected through its livechat/room.survey call; see the manual's Satisfaction page."
)


def _ratings(app: Flask, query: dict[str, list[str]]) -> tuple[int, dict[str, int]]:
    """The served livechat rooms closed in the page's window (its days, in its timezone), and their
    ratings of the chat per rating (a string "1" to "5"), from the demo's rooms collection itself."""
    zone = ZoneInfo(query["timezone"][0])
    first = dt.datetime.fromisoformat(query["start"][0]).replace(tzinfo=zone)
    last = dt.datetime.fromisoformat(query["end"][0]).replace(tzinfo=zone) + dt.timedelta(days=1)
    database = app.extensions["livechat_analytics"].repository.database
    closed = [
        room
        for room in database["rocketchat_room"].find({"t": "l"})
        if room.get("servedBy")
        and isinstance(room.get("closedAt"), dt.datetime)
        and first <= room["closedAt"].replace(tzinfo=dt.timezone.utc) < last
    ]
    given = [(room.get("surveyFeedback") or {}).get("satisfaction") for room in closed]
    return len(closed), {rating: given.count(rating) for rating in "12345"}


def _satisfaction_cards(page: Page) -> dict[str, str]:
    values = page.driver.find_elements(By.CSS_SELECTOR, "#satisfaction-cards .card-value")
    return {value.get_attribute("data-field"): value.text for value in values}


def test_the_satisfaction_panel_shows_the_windows_ratings(page: Page, demo_app: Flask):
    page.sign_in()
    query = page.query("satisfaction")
    closed, distribution = _ratings(demo_app, query)
    responses = sum(distribution.values())
    assert responses > 0 and closed > responses
    [row] = page.api("satisfaction", query, demo_app)["groups"]
    assert (row["closedChats"], row["distribution"]) == (closed, distribution)
    high = distribution["4"] + distribution["5"]
    total = sum(int(rating) * count for rating, count in distribution.items())
    # Rounded half up to two decimals, in whole numbers: the API's rule.
    hundredths = (
        (200 * 100 * high + responses) // (2 * responses),
        (200 * 100 * responses + closed) // (2 * closed),
        (200 * total + responses) // (2 * responses),
    )
    csat, rate, average = (f"{value // 100}.{value % 100:02d}" for value in hundredths)
    assert _satisfaction_cards(page) == {
        "csat": f"{csat} %",
        "responseRate": f"{rate} %",
        "average": average,
        "responses": str(responses),
        "closedChats": str(closed),
    }
    cells = page.driver.find_elements(By.CSS_SELECTOR, "#rating-table td[data-rating]")
    assert {cell.get_attribute("data-rating"): int(cell.text) for cell in cells} == distribution
    chart = page.driver.find_element(By.ID, "rating-chart")
    assert json.loads(chart.get_attribute("data-values")) == [distribution[rating] for rating in "12345"]
    assert "Responses per rating: 1 " in chart.get_attribute("aria-label")
    assert page.text("#satisfaction-line").startswith(f"{responses} of {closed} closed chats rated, ")
    assert not page.driver.find_element(By.ID, "satisfaction-unrated").is_displayed()
    # The trend of CSAT, by the page's grouping, with the previous period.
    trend = page.api("trends/satisfaction", {**query, "groupBy": ["day"], "compare": ["previous"]}, demo_app)
    canvas = page.driver.find_element(By.ID, "csat-chart")
    buckets = trend["series"][0]["buckets"]
    assert json.loads(canvas.get_attribute("data-values")) == [bucket["csat"] for bucket in buckets]
    previous = [bucket["csat"] for bucket in trend["previous"][0]["buckets"]]
    assert json.loads(canvas.get_attribute("data-previous")) == previous
    assert sum(bucket["responses"] for bucket in buckets) == responses
    assert len(page.driver.find_elements(By.CSS_SELECTOR, "#csat-table tbody tr")) == len(buckets) == 30
    # The rated chats' CSV: one row each.
    link = page.driver.find_element(By.CSS_SELECTOR, '#satisfaction a.csv[data-part="responses"]')
    link.click()
    WebDriverWait(page.driver, WAIT).until(lambda _: link.get_attribute("data-downloaded"))
    saved = page.browser.downloads / link.get_attribute("data-downloaded")
    WebDriverWait(page.driver, WAIT).until(lambda _: saved.exists() and saved.stat().st_size > 0)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert len(rows) == responses
    assert {rating: [r["satisfaction"] for r in rows].count(rating) for rating in "12345"} == distribution


def test_the_satisfaction_panel_follows_the_department_and_fails_alone(page: Page, demo_app: Flask):
    page.sign_in()
    choice = Select(page.driver.find_element(By.ID, "department"))
    page.change(lambda: choice.select_by_visible_text("Sales"))
    query = page.query("satisfaction")
    assert query["departmentId"]
    [row] = page.api("satisfaction", query, demo_app)["groups"]
    assert _satisfaction_cards(page)["responses"] == str(row["responses"])
    cells = page.driver.find_elements(By.CSS_SELECTOR, "#rating-table td[data-rating]")
    assert {cell.get_attribute("data-rating"): int(cell.text) for cell in cells} == row["distribution"]
    # The satisfaction requests fail: the panel says so, and only the panel.
    page.driver.execute_cdp_cmd("Network.enable", {})
    page.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/satisfaction?*"]})
    try:
        page.change(lambda: Select(page.driver.find_element(By.ID, "range")).select_by_value("last7"))
    finally:
        page.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    assert page.message("satisfaction-title").startswith("The API could not be reached")
    assert page.message("sla-title") == page.message("trend-title") == "" and _alert(page) == []
    assert _satisfaction_cards(page) == {}
    assert page.driver.find_elements(By.CSS_SELECTOR, "#rating-table td[data-rating]") == []
    page.change(lambda: Select(page.driver.find_element(By.ID, "range")).select_by_value("last30"))
    assert page.message("satisfaction-title") == "" and _satisfaction_cards(page)


def _panel_height(page: Page) -> float:
    return page.driver.execute_script(
        "return document.getElementById('satisfaction').getBoundingClientRect().height"
    )


def test_a_range_without_ratings_shows_how_they_are_collected(page: Page, demo_app: Flask):
    page.sign_in()
    filled = _panel_height(page)
    with at_phone_width(page):
        filled_on_phone = _panel_height(page)
    page.change(lambda: Select(page.driver.find_element(By.ID, "range")).select_by_value("custom"))
    for field, day in (("start", "2020-01-01"), ("end", "2020-01-31")):
        element = page.driver.find_element(By.ID, field)
        page.change(
            lambda element=element, day=day: page.driver.execute_script(
                "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('change'))",
                element,
                day,
            )
        )
    query = page.query("satisfaction")
    assert (query["start"], query["end"]) == (["2020-01-01"], ["2020-01-31"])
    assert _ratings(demo_app, query) == (0, dict.fromkeys("12345", 0))
    assert page.api("satisfaction", query, demo_app)["groups"][0]["responses"] == 0
    note = page.driver.find_element(By.ID, "satisfaction-unrated")
    assert note.is_displayed() and note.text == UNRATED
    assert page.driver.find_element(By.ID, "satisfaction").get_attribute("data-responses") == "0"
    hidden = ("satisfaction-cards", "rating-chart", "csat-chart", "rating-table")
    assert not any(page.driver.find_element(By.ID, part).is_displayed() for part in hidden)
    assert page.message("satisfaction-title") == ""
    assert _panel_height(page) == filled, "the panel keeps its shape"
    assert _axe(page) == [], "1280x800, no ratings"
    with at_phone_width(page):
        assert note.is_displayed() and _panel_height(page) == filled_on_phone
        assert _axe(page) == [], "390x844, no ratings"
    # A range with ratings again: the note goes.
    page.change(lambda: Select(page.driver.find_element(By.ID, "range")).select_by_value("last30"))
    assert not note.is_displayed() and int(_satisfaction_cards(page)["responses"]) > 0
