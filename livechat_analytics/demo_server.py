"""The demo, served: an app over generated data (or a given database), the requests and pages it
points to, the socket and the development server it serves on, and its database in memory.

The ``demo`` command (:mod:`.cli`) puts these together; the tests and the page's benchmark use them
one by one.
"""

from __future__ import annotations

import datetime as dt
import errno
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import click
from flask import Flask, redirect
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import PyMongoError
from werkzeug.serving import BaseWSGIServer, make_server, select_address_family
from werkzeug.wrappers import Response

from . import config, demo, indexes
from .demo.mover import MemoryDatabase
from .extension import LivechatAnalytics
from .repository import Repository

#: The endpoints the demo prints a ``curl`` command for (paths under the analytics root), with what
#: each one shows.
DEMO_REQUESTS = {
    "departments/amount-of-chats": "Chats per department",
    "departments/total-transferred-chats": "Transfers per department",
    "dashboards/conversation-totalizers": "Conversations, open and on hold, messages and visitors",
    "overview": "The analytics page's conversation board",
    "agents/total-service-time": "Chats and service time per agent",
    "dashboards/conversations-by-status": "Conversations by status (a report)",
}
#: Query parameters a printed request adds to the window (``overview`` names its window from/to).
DEMO_QUERIES: dict[str, dict[str, str]] = {"overview": {"name": "Conversations"}}
_DAY_NAMED_WINDOW = {"overview": ("from", "to")}
#: The days, today included, that the printed requests cover.
DEMO_DAYS = 30


@dataclass(frozen=True)
class DemoApp:
    """A Flask app serving the API, and the data generated into its database (None for a URI)."""

    app: Flask
    data: demo.DemoData | None
    counts: demo.Counts | None


def make_demo_app(
    *,
    mongo_uri: str | None = None,
    database: Database | None = None,
    rooms: int = demo.DEFAULT_ROOMS,
    seed: int = demo.DEFAULT_SEED,
    now: dt.datetime | None = None,
    settings: Mapping[str, Any] | None = None,
) -> DemoApp:
    """A fresh app serving the API: over ``mongo_uri`` as it is, or over ``database`` (an empty one,
    such as :func:`memory_database` gives) filled with a generated :class:`~.demo.DemoData` and given
    the indexes ``ensure-indexes`` makes; ``settings`` go into its config."""
    if (mongo_uri is None) == (database is None):
        raise ValueError("Pass mongo_uri or database, one of them.")
    app = Flask(__name__)
    app.config.update(settings or {})
    data = counts = None
    if mongo_uri is not None:
        app.config[config.PREFIX + "MONGO_URI"] = mongo_uri
    else:
        assert database is not None
        data = demo.DemoData(rooms=rooms, seed=seed, now=now)
        counts = demo.insert(database, data)
        indexes.ensure_indexes(Repository(database))
    LivechatAnalytics(app, database=database)
    _redirect_root(app)
    return DemoApp(app, data, counts)


def _redirect_root(app: Flask) -> None:
    """``/`` redirects to the dashboard page signed in as the demo manager, as the demo prints it;
    to the API viewer when the page is off; nowhere when both are."""
    target = dashboard_url(app, "") or api_docs_url(app, "")
    if target is not None:

        def root() -> Response:
            return redirect(target)

        app.add_url_rule("/", "demo_root", root)


def demo_requests(app: Flask, now: dt.datetime) -> dict[str, str]:
    """The path and query of each request the demo prints: the last :data:`DEMO_DAYS` days as
    dates, read in the app's reporting timezone."""
    today = now.astimezone(ZoneInfo(config.read(app.config, "TIMEZONE"))).date()
    first, last = (today - dt.timedelta(days=DEMO_DAYS - 1)).isoformat(), today.isoformat()
    prefix = config.read(app.config, "URL_PREFIX")
    requests = {}
    for path in DEMO_REQUESTS:
        start, end = _DAY_NAMED_WINDOW.get(path, ("start", "end"))
        query = urlencode({start: first, end: last, **DEMO_QUERIES.get(path, {})})
        requests[path] = f"{prefix}/{path}?{query}"
    return requests


def dashboard_url(app: Flask, base_url: str) -> str | None:
    """The dashboard page's URL, signed in as the demo manager, or None when it is switched off.

    The credentials travel in the fragment, which the browser never sends: the page moves them into
    the tab's sessionStorage and takes them out of the address bar."""
    url = _page_url(app, base_url, "DASHBOARD")
    if url is None:
        return None
    return f"{url}#{urlencode({'userId': demo.MANAGER_ID, 'token': demo.MANAGER_TOKEN})}"


def api_docs_url(app: Flask, base_url: str) -> str | None:
    """The API viewer's URL, or None when it is switched off."""
    return _page_url(app, base_url, "API_DOCS")


def _page_url(app: Flask, base_url: str, switch: str) -> str | None:
    """The URL of the page that the setting ``switch`` serves at ``<switch>_PATH``, or None when
    ``switch`` is off."""
    if not config.read(app.config, switch):
        return None
    return f"{base_url}{config.read(app.config, 'URL_PREFIX')}/{config.read(app.config, switch + '_PATH')}"


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host`` and ``port``, taken before the demo prints anything; a port
    in use, or an address that cannot be had, is one line naming the option to change."""
    family = select_address_family(host, port)
    try:
        # Both IPv6 and IPv4 on "::", as werkzeug's own socket has it where the system allows.
        both = family == socket.AF_INET6 and socket.has_dualstack_ipv6()
        return socket.create_server((host, port), family=family, dualstack_ipv6=both)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            message = f"Port {port} is in use on {host}: choose another with --port."
        else:
            # create_server adds "(while attempting to bind on address ...)", which says it twice.
            reason = (error.strerror or str(error)).split(" (while attempting")[0]
            message = f"Cannot listen on {host} port {port} ({reason}): see --host and --port."
        raise click.ClickException(message) from None


def demo_server(app: Flask, listening: socket.socket) -> BaseWSGIServer:
    """werkzeug's development server (threaded) for ``app`` on the ``listening`` socket, which it
    takes over."""
    # Not app.run() nor run_simple(): Flask ignores the first under ``flask livechat-analytics
    # demo``, and both bind the port themselves, exiting with werkzeug's own words when it is taken.
    host, port = listening.getsockname()[:2]
    server = make_server(host, port, app, threaded=True, fd=listening.fileno())
    listening.close()  # the server holds a duplicate of it
    return server


def serve(app: Flask, listening: socket.socket) -> None:
    """Serve ``app`` on the ``listening`` socket until interrupted (Ctrl+C)."""
    demo_server(app, listening).serve_forever()


@contextmanager
def ended_by_sigterm() -> Iterator[None]:
    """While the block runs, ``SIGTERM`` (``kill``, ``docker stop``, a service manager) ends the demo
    as Ctrl+C does, through the blocks that stop the mover and the database's process: Python's
    own handling of it would end the demo at once and leave the database running. Only the main
    thread can set a handler; elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


#: The name of the demo's database in memory.
MEMORY_DATABASE = "rocketchat"


#: Seconds the demo waits for its database's process to answer.
MEMORY_DATABASE_START = 60


def _secantusd() -> str:
    """The path of SecantusDB's server command, installed beside this Python or on the ``PATH``."""
    beside = Path(sys.executable).with_name("secantusd-py")
    found = str(beside) if beside.exists() else shutil.which("secantusd-py")
    if found is None:
        raise click.ClickException(
            "The in-memory demo database needs SecantusDB: pip install 'livechat-analytics[demo]'"
            " (or pass --mongo-uri)."
        )
    return found


def _free_port() -> int:
    """A loopback port nothing listens on now."""
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def memory_database() -> Iterator[MemoryDatabase]:
    """A new, empty database for the demo, gone when the block ends: SecantusDB (a MongoDB server on
    WiredTiger) in a process of its own (``secantusd-py``), its storage in a temporary folder it
    removes, on a free loopback port. Its own process gives the database a core of its own: the
    demo's page fills faster than with the server in this one. It is a
    :class:`~.demo.mover.MemoryDatabase`, the only kind the demo's mover writes to."""
    command, port = _secantusd(), _free_port()
    with tempfile.TemporaryFile() as said:
        process = subprocess.Popen(
            [command, "--host", "127.0.0.1", "--port", str(port), "--storage-path", ":memory:"],
            stdin=subprocess.DEVNULL,
            stdout=said,
            stderr=subprocess.STDOUT,
        )
        try:
            uri = f"mongodb://127.0.0.1:{port}/"
            _started(process, uri, said)
            client: MongoClient[dict[str, Any]]
            with MongoClient(uri, tz_aware=True) as client:
                yield MemoryDatabase(client, MEMORY_DATABASE)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _started(process: subprocess.Popen, uri: str, said: IO[bytes]) -> None:
    """Wait until the database's process at ``uri`` answers; a ClickException with what it ``said``
    when it ends first or does not answer in time."""
    deadline = time.monotonic() + MEMORY_DATABASE_START
    probe: MongoClient[dict[str, Any]]
    with MongoClient(uri, serverSelectionTimeoutMS=200, connectTimeoutMS=200) as probe:
        while process.poll() is None and time.monotonic() < deadline:
            try:
                probe.admin.command("ping")
                return
            except PyMongoError:
                time.sleep(0.05)
    said.seek(0)
    words = said.read().decode(errors="replace").strip().splitlines()[-5:]
    why = "; ".join(words) if words else f"no answer within {MEMORY_DATABASE_START} s"
    raise click.ClickException(f"The in-memory demo database (secantusd-py) did not start: {why}")
