"""Helpers of the tests that drive a real browser: headless Chromium and its driver (installed with
apt-get when missing), and an app served on a real loopback socket.

Debian's ``chromium`` and ``chromium-driver`` packages are needed: :func:`browser_binaries` installs
them with apt-get when they are missing and it runs as root, and fails naming them otherwise (never
a skip).
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from werkzeug.serving import make_server

PACKAGES = ("chromium", "chromium-driver")
#: How long the set-up may spend installing them (apt-get update, then install), in seconds.
INSTALL_TIMEOUT = (300, 900)
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _driver() -> str | None:
    return CHROMEDRIVER if os.access(CHROMEDRIVER, os.X_OK) else shutil.which("chromedriver")


def browser_binaries() -> tuple[str, str]:
    """Chromium and its driver, installed with apt-get when missing (as root), else a failure."""
    chromium, driver = _chromium(), _driver()
    if chromium and driver:
        return chromium, driver
    why = "they are not installed"
    if os.geteuid() == 0 and shutil.which("apt-get"):
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        steps = [
            (["apt-get", "update"], INSTALL_TIMEOUT[0]),
            (["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES], INSTALL_TIMEOUT[1]),
        ]
        for command, timeout in steps:
            try:
                done = subprocess.run(
                    command, env=environment, capture_output=True, text=True, timeout=timeout
                )
            except subprocess.TimeoutExpired:
                why = f"'{' '.join(command)}' took longer than {timeout} s"
                break
            if done.returncode != 0:
                why = f"'{' '.join(command)}' failed: {(done.stderr or done.stdout).strip()[-500:]}"
                break
        chromium, driver = _chromium(), _driver()
        if chromium and driver:
            return chromium, driver
    elif os.geteuid() != 0:
        why = "they are not installed, and only root can install them"
    pytest.fail(
        f"The browser tests need Debian's packages {' and '.join(PACKAGES)}, and {why}."
        f" Install them: apt-get install {' '.join(PACKAGES)}",
        pytrace=False,
    )


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """``app`` on a real loopback socket, in a thread: its base URL."""
    served = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{served.server_port}"
    finally:
        served.shutdown()
        thread.join(10)
        served.server_close()


class Browser:
    """A headless Chromium with what it fetched (the DevTools performance log) and downloaded."""

    def __init__(self, chromium: str, driver: str, folder: pathlib.Path) -> None:
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in (*FLAGS, f"--user-data-dir={folder / 'profile'}", "--window-size=1280,800"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        self.downloads = folder / "downloads"
        self.downloads.mkdir()
        self.driver = webdriver.Chrome(service=Service(driver), options=options)
        self.allow_downloads()
        self.requests: list[dict[str, Any]] = []
        self.console: list[dict[str, Any]] = []

    def allow_downloads(self) -> None:
        """Save downloads into :attr:`downloads` (set again for each new tab)."""
        self.driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(self.downloads)}
        )

    def new_tab(self) -> None:
        """Go on in a new tab, the others closed: nothing a previous page kept in its tab (its
        sessionStorage, what a user typed) is left."""
        previous = self.driver.window_handles
        self.driver.switch_to.new_window("tab")
        fresh = self.driver.current_window_handle
        for handle in previous:
            self.driver.switch_to.window(handle)
            self.driver.close()
        self.driver.switch_to.window(fresh)
        self.allow_downloads()

    def check(self, check_requests: Callable[[list[dict[str, Any]]], None]) -> None:
        """Hand what was fetched so far to ``check_requests``, check the console with
        :func:`check_console`, and start both logs afresh."""
        self.collect()
        check_requests(self.requests)
        check_console(self.console)
        self.requests.clear()
        self.console.clear()

    def collect(self) -> None:
        """Move the logs gathered so far into :attr:`requests` and :attr:`console`."""
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                self.requests.append(message["params"]["request"])
        self.console.extend(self.driver.get_log("browser"))

    def quit(self) -> None:
        self.driver.quit()


@contextmanager
def started(prefix: str) -> Iterator[Browser]:
    """A :class:`Browser` with a profile of its own in a temporary folder named ``prefix...``,
    quit afterwards."""
    chromium, driver = browser_binaries()
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        made = Browser(chromium, driver, pathlib.Path(folder))
        try:
            yield made
        finally:
            made.quit()


def check_console(entries: list[dict[str, Any]]) -> None:
    """No script error, no refused content: only the failed requests the tests make on purpose."""
    for entry in entries:
        if entry["level"] == "SEVERE":
            assert "Failed to load resource" in entry["message"], entry


@contextmanager
def browse(app: Flask, prefix: str) -> Iterator[tuple[str, Browser]]:
    """``app`` on a real loopback socket and a :func:`started` browser: the app's base URL and the
    browser."""
    with serving(app) as url, started(prefix) as browser:
        yield url, browser
