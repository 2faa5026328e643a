"""How fast the demo's dashboard page fills: ``python benchmarks/run.py --only page``.

The demo as ``livechat-analytics demo`` runs it (its generated data in SecantusDB in a process of
its own, the indexes made, its threaded server on a loopback port), opened at its signed-in URL in
headless Chromium (the tests' ``tests/browser.py``), which fires the page's requests as a browser
does. Measured from the navigation's start, by the page's own clock (``performance.now()``, recorded
by a script registered before the page's): when the first numbers show, and when every panel is
drawn. Cold: a fresh demo, nothing kept; cached: the same URL again at once, its answers kept by the
answer cache (``LIVECHAT_ANALYTICS_CACHE_SECONDS``, 10 s by default). At a desktop (1280x800) and a
phone (390x844) width.

Then Lighthouse's performance score of the page with the answers kept (cache warm, kept long enough
for Lighthouse's run), its desktop and its mobile preset, when ``--lighthouse`` (or ``lighthouse`` on
the PATH) names its command: ``npm install lighthouse`` installs it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask

from livechat_analytics import config, demo_server

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests"))
import browser  # the tests' Chromium, installed or named when missing

WIDTHS = {"desktop 1280x800": (1280, 800), "phone 390x844": (390, 844)}
#: Seconds to wait for a page to fill before giving up.
WAIT = 120
#: Runs at each width (a fresh demo each: a cold page needs an empty cache).
RUNS = 3
#: Records, by the page's clock, when the first card's number and when the whole page are drawn.
RECORDER = """
window.__filled = {};
new MutationObserver(() => {
  const body = document.body;
  if (!body) return;
  if (window.__filled.first === undefined && document.querySelector(".card-value")) {
    window.__filled.first = performance.now();
  }
  const done = Number(body.dataset.loaded || 0) > 0 && body.dataset.busy === "false";
  if (window.__filled.all === undefined && done) {
    window.__filled.all = performance.now();
  }
}).observe(document, { subtree: true, childList: true, attributes: true });
"""


@contextlib.contextmanager
def demo(settings: dict[str, Any] | None = None) -> Iterator[tuple[Flask, str]]:
    """The demo's app and its signed-in page URL, served on a free loopback port in a thread."""
    with demo_server.memory_database() as database:
        now = dt.datetime.now(dt.timezone.utc)
        app = demo_server.make_demo_app(database=database, now=now, settings=settings).app
        with contextlib.closing(demo_server.listen("127.0.0.1", 0)) as listening:
            port = listening.getsockname()[1]
            server = demo_server.demo_server(app, listening)
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            try:
                url = demo_server.dashboard_url(app, f"http://127.0.0.1:{port}")
                assert url is not None
                yield app, url
            finally:
                server.shutdown()
                thread.join(10)


def filled(driver: Any, url: str) -> dict[str, float]:
    """Open ``url`` in a fresh tab and wait until the page is drawn: ``{first, all}`` in ms."""
    driver.switch_to.new_window("tab")
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER})
    driver.get(url)
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        times = driver.execute_script("return window.__filled")
        if times and "all" in times:
            driver.close()
            driver.switch_to.window(driver.window_handles[0])
            return times
        time.sleep(0.05)
    raise RuntimeError(f"The page at {url} did not fill within {WAIT} s")


def measure_widths(made: browser.Browser) -> dict[str, dict[str, list[float]]]:
    """Cold and cached fills at each width, :data:`RUNS` fresh demos each."""
    found: dict[str, dict[str, list[float]]] = {}
    for name, (width, height) in WIDTHS.items():
        made.driver.set_window_size(width, height)
        times = found.setdefault(name, {"first": [], "cold": [], "cached": []})
        for _ in range(RUNS):
            with demo() as (_, url):
                cold = filled(made.driver, url)
                cached = filled(made.driver, url)
            times["first"].append(cold["first"])
            times["cold"].append(cold["all"])
            times["cached"].append(cached["all"])
    return found


def lighthouse(command: str, chromium: str, url: str, preset: str) -> float:
    """Lighthouse's performance score (0-100) of ``url`` with ``preset`` (mobile or desktop)."""
    with tempfile.TemporaryDirectory(prefix="lighthouse-") as folder:
        report = pathlib.Path(folder) / "report.json"
        arguments = [
            command,
            url,
            "--only-categories=performance",
            "--chrome-flags=--headless --no-sandbox --disable-gpu",
            "--output=json",
            f"--output-path={report}",
            "--quiet",
        ]
        if preset == "desktop":
            arguments.append("--preset=desktop")
        subprocess.run(arguments, env={**os.environ, "CHROME_PATH": chromium}, check=True, timeout=300)
        return 100 * json.loads(report.read_text())["categories"]["performance"]["score"]


def measure_lighthouse(command: str | None, chromium: str, made: browser.Browser) -> dict[str, float] | None:
    """Lighthouse's scores at both presets with the answers kept, or None without Lighthouse."""
    if command is None:
        return None
    kept = {config.PREFIX + "CACHE_SECONDS": 600}
    with demo(kept) as (_, url):
        filled(made.driver, url)  # the answers kept
        return {preset: lighthouse(command, chromium, url, preset) for preset in ("desktop", "mobile")}


def measure_page(command: str | None) -> dict[str, Any]:
    """Every measure of the page: the fills per width, and Lighthouse's scores (or None)."""
    chromium, _ = browser.browser_binaries()
    if command is None:
        command = shutil.which("lighthouse")
    with browser.started("page-bench-") as made:
        fills = measure_widths(made)
        scores = measure_lighthouse(command, chromium, made)
    return {"fills": fills, "lighthouse": scores}


def page_table(measured: dict[str, Any]) -> str:
    """The page's measures as markdown: medians in seconds, a column per width."""
    fills, scores = measured["fills"], measured["lighthouse"]
    names = list(fills)
    lines = ["| the demo's page | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    rows = (
        ("first numbers shown, cold", "first"),
        ("every panel drawn, cold", "cold"),
        ("every panel drawn, cached reload", "cached"),
    )
    for title, key in rows:
        cells = [f"{statistics.median(fills[name][key]) / 1000:.2f} s" for name in names]
        lines.append(f"| {title} (median of {RUNS}) | " + " | ".join(cells) + " |")
    if scores is None:
        missing = "not run: no lighthouse (npm install lighthouse)"
        lines.append(f"| Lighthouse performance, cache warm | {missing} | {missing} |")
    else:
        lines.append(
            f"| Lighthouse performance, cache warm | {scores['desktop']:.0f} (desktop preset)"
            f" | {scores['mobile']:.0f} (mobile preset) |"
        )
    return "\n".join(lines)
