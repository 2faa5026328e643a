"""What the room table saves (issue 26, a whole page for the price of one read):
``python benchmarks/run.py --only slots``.

At each of ``--sizes``, the demo's data set in SecantusDB (in-process, as ``run.py`` seeds it), and
each figure twice: with the room table (``LIVECHAT_ANALYTICS_SLOT_SECONDS`` 900, its default) and
without it (0: every panel reads for itself). The web process is a real one (``run.py``'s gunicorn
helper: one worker of 8 threads, ``server:from_environment()``), the answer cache in it, its answers
kept :data:`CACHE_SECONDS` so that a reload a little later finds them expired:

1. The page, cold: the requests the dashboard page sends for its default window (:data:`PAGE`),
   fired over HTTP :data:`AT_ONCE` at a time as a browser does, on a fresh web process (nothing
   kept); the median of :data:`RUNS`. The documents examined: the same requests through the same app
   in this process (its Flask test client, the answer cache on and empty), every ``aggregate``
   command it sent recorded by a pymongo command listener, then each ``explain``-ed with
   ``executionStats`` and its ``totalDocsExamined`` summed, divided by the livechat rooms created in
   the window. SecantusDB's explain counts the documents the pipeline's first ``$match`` fetches (one
   per index key, or the whole collection for a scan); the documents a ``$lookup`` joins are not in
   it, with the table or without (only the transfers join, the messages' rooms).
2. The shared pass alone: ``Days.table`` of the page's window, called in this process on an empty
   cache (the one read of the window's rooms and its sums), the median of :data:`RUNS`.
3. A reload after 1% of the window's rooms changed (a field and ``_updatedAt`` set to now, as
   Rocket.Chat does on any change): first the most recently created 1%, then 1% drawn at random
   over the window, each followed, once the answers have expired, by the page again.
4. The panels the table serves (:data:`TABLE_PANELS`) over a year and over one day, both with their
   days kept and the answers expired.
5. ``dashboards/conversation-totalizers`` against ``departments/amount-of-chats`` at 5, 20 and 50
   messages per room, cold (the answers and the days kept one second, a request every 1.5 s), on a
   database of :data:`MESSAGE_ROOMS` rooms or the smallest of ``--sizes`` (``run.py``'s
   ``add_messages``).

The HTTP clients are threads of this process, which also runs the database: they only wait on
sockets and read small answers.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import random
import statistics
import sys
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import run
from flask import Flask
from pymongo import MongoClient, monitoring
from pymongo.database import Database

from livechat_analytics import LivechatAnalytics, config
from livechat_analytics.endpoints.common import Context
from livechat_analytics.endpoints.departments import METRICS
from livechat_analytics.repository import Repository
from livechat_analytics.state import current

#: The page's default window: the last 30 days, in the page's timezone (headless Chromium's: UTC).
TIMEZONE = "UTC"
LAST_DAY = (run.NOW - dt.timedelta(milliseconds=1)).date()
FIRST_DAY = LAST_DAY - dt.timedelta(days=run.WINDOW_DAYS - 1)
#: What the dashboard page asks for its default window (all departments), as headless Chromium
#: recorded it on the demo (``tests/browser.py``'s performance log; ``dashboard.js``'s ``panels()``:
#: the cards, the status chart, the trend, the heatmap, the service levels with their previous
#: window and the one-off ``askSchedules`` of a first load, satisfaction, the eight department
#: metrics), ``live/stream`` left out. ``{start}`` and ``{end}`` are the window's days,
#: ``{before}`` and ``{until}`` the previous window's; ``count=0`` is the page's page size.
PAGE = (
    "dashboards/conversation-totalizers?start={start}&end={end}",
    "dashboards/productivity-totalizers?start={start}&end={end}",
    "dashboards/charts/chats?start={start}&end={end}",
    "trends/amount-of-chats?start={start}&end={end}&groupBy=day&compare=previous",
    "trends/heatmap?start={start}&end={end}",
    "sla/compliance?start={start}&end={end}",
    "sla/compliance?start={before}&end={until}",
    "sla/compliance?start={start}&end={end}&groupBy=department&names=true&count=0",
    "sla/breaches?start={start}&end={end}&count=0",
    "sla/compliance?start={end}&end={end}&businessHours=true",
    "satisfaction?start={start}&end={end}",
    "trends/satisfaction?start={start}&end={end}&groupBy=day&compare=previous",
    "departments/amount-of-chats?start={start}&end={end}&count=0&names=true",
    "departments/total-transferred-chats?start={start}&end={end}&count=0&names=true",
    "departments/average-service-time?start={start}&end={end}&count=0&names=true",
    "departments/total-service-time?start={start}&end={end}&count=0&names=true",
    "departments/average-chat-duration-time?start={start}&end={end}&count=0&names=true",
    "departments/average-waiting-time?start={start}&end={end}&count=0&names=true",
    "departments/total-abandoned-chats?start={start}&end={end}&count=0&names=true",
    "departments/percentage-abandoned-chats?start={start}&end={end}&count=0&names=true",
)
#: The panels the room table serves (``livechat_analytics/endpoints/slots.py``): add one here when
#: it joins the table.
TABLE_PANELS = (
    *(
        f"{family}/{metric}?start={{start}}&end={{end}}" + ("&groupBy=day" if family == "trends" else "")
        for family in ("departments", "trends")
        for metric in (
            path.removeprefix("departments/") for path, row in METRICS.items() if row.tally is not None
        )
    ),
    "trends/heatmap?start={start}&end={end}",
    "dashboards/charts/chats?start={start}&end={end}",
    "dashboards/productivity-totalizers?start={start}&end={end}",
    "dashboards/chats-totalizers?start={start}&end={end}",
    "dashboards/conversation-totalizers?start={start}&end={end}",
)
#: The requests a browser sends at once to one host.
AT_ONCE = 6
#: How long the web process keeps an answer: a reload this much later computes again.
CACHE_SECONDS = 2
#: Cold pages per size and setting, each on a fresh web process; and the measured reloads of (4).
RUNS = 3
#: The measured runs of the year and the day (4), each after the answers expired.
SPAN_RUNS = 2
#: The deadline of the app that counts the documents examined: every panel's reads sent in full.
COUNTING_MS = 300_000
#: The two settings every figure is measured at: the room table on (its default), and off.
SETTINGS = {"on": config.SLOT_SECONDS, "off": 0}
#: The rooms of the messages' database (5), unless ``--sizes`` has a smaller one: 50 messages a room
#: make 250,000 messages.
MESSAGE_ROOMS = 5_000
MESSAGES_PER_ROOM = run.MESSAGES_PER_ROOM
#: What the messages endpoint is held against: a room-only endpoint the table serves.
ROOM_ONLY = "departments/amount-of-chats"


def urls(paths: tuple[str, ...], first: dt.date, last: dt.date) -> list[str]:
    """``paths`` over the days ``first`` to ``last`` (the previous window as long before it), in
    :data:`TIMEZONE`."""
    length = (last - first).days + 1
    days = {
        "start": first.isoformat(),
        "end": last.isoformat(),
        "before": (first - dt.timedelta(days=length)).isoformat(),
        "until": (first - dt.timedelta(days=1)).isoformat(),
    }
    return [f"{run.ROOT}/{path.format(**days)}&{urlencode({'timezone': TIMEZONE})}" for path in paths]


def window(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The days ``first`` to ``last`` in UTC: their first and last millisecond."""
    start = dt.datetime.combine(first, dt.time(), dt.timezone.utc)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
    return start, end - dt.timedelta(milliseconds=1)


def fire(port: int, requests: list[str]) -> dict[str, Any]:
    """``requests`` sent :data:`AT_ONCE` at a time: the wall time (ms), and each one's time and
    status by URL."""
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(AT_ONCE) as pool:
        answers = list(pool.map(lambda url: run.get(port, url)[:2], requests))
    wall = (time.perf_counter() - started) * 1000
    return {"wall": wall, "answers": dict(zip(requests, answers, strict=True))}


def environment(slot_seconds: int, cache_seconds: int = CACHE_SECONDS) -> dict[str, str]:
    """The web process's settings, as its environment variables."""
    return {
        config.PREFIX + "CACHE_SECONDS": str(cache_seconds),
        config.PREFIX + "SLOT_SECONDS": str(slot_seconds),
    }


@contextlib.contextmanager
def web(uri: str, slot_seconds: int, cache_seconds: int = CACHE_SECONDS) -> Iterator[int]:
    """A fresh web process over ``uri``: one gunicorn worker of 8 threads (one answer cache)."""
    with run.gunicorn(uri, environment(slot_seconds, cache_seconds), 1, 8) as port:
        yield port


def short(url: str) -> str:
    """A request's endpoint, without its root and its window."""
    return url.removeprefix(run.ROOT + "/").split("?")[0]


# -- Documents examined, and the shared pass alone -------------------------------------------------


class Recorder(monitoring.CommandListener):
    """Every ``aggregate`` command sent: its collection and pipeline."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, list[dict[str, Any]]]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "aggregate":
            self.commands.append((str(event.command["aggregate"]), list(event.command["pipeline"])))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def local_app(uri: str, slot_seconds: int, listener: Recorder) -> Flask:
    """The app the web process serves, in this process, over a client that records its commands."""
    client: MongoClient = MongoClient(uri, tz_aware=True, event_listeners=[listener])
    app = Flask("slots-benchmark")
    app.config.update(
        {
            config.PREFIX + "CACHE_SECONDS": CACHE_SECONDS,
            config.PREFIX + "SLOT_SECONDS": slot_seconds,
            config.PREFIX + "MAX_TIME_MS": COUNTING_MS,
        }
    )
    LivechatAnalytics(app, database=client.get_default_database())
    return app


def docs_examined(database: Database, commands: list[tuple[str, list[dict[str, Any]]]]) -> int:
    """The documents the commands examined, as ``explain`` with execution stats says of each."""
    total = 0
    for collection, pipeline in commands:
        explain = database.command(
            "explain",
            {"aggregate": collection, "pipeline": pipeline, "cursor": {}},
            verbosity="executionStats",
        )
        total += max(0, run.examined(explain)[1])
    return total


def page_reads(database: Database, uri: str, slot_seconds: int) -> dict[str, Any]:
    """The page's requests through the app in this process on an empty cache: the aggregates they
    sent and the documents those examined."""
    recorder = Recorder()
    app = local_app(uri, slot_seconds, recorder)
    client = app.test_client()
    by_path: dict[str, int] = {}
    for url in urls(PAGE, FIRST_DAY, LAST_DAY):
        sent = len(recorder.commands)
        client.get(url, headers=run.HEADERS)  # its commands are sent, whatever it answers
        docs = docs_examined(database, recorder.commands[sent:])
        by_path[short(url)] = by_path.get(short(url), 0) + docs
    return {"aggregates": len(recorder.commands), "docs": sum(by_path.values()), "by_path": by_path}


def table_read_ms(uri: str) -> float:
    """The median time of ``Days.table`` of the page's window on an empty cache, in ms."""
    app = local_app(uri, config.SLOT_SECONDS, Recorder())
    state = current(app)
    assert state.days is not None
    start, end = window(FIRST_DAY, LAST_DAY)
    times = []
    with app.test_request_context():
        for _ in range(RUNS):
            state.answers.backend.clear()
            started = time.perf_counter()
            assert state.days.table(start, end, Context(state.repository.names)) is not None
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


# -- The page, cold; a reload after changes; a year against a day ------------------------------------


def cold_page(port: int) -> dict[str, Any]:
    """The page's requests on a fresh web process: the wall time, the slowest, the failures."""
    fired = fire(port, urls(PAGE, FIRST_DAY, LAST_DAY))
    slowest = max(fired["answers"], key=lambda url: fired["answers"][url][0])
    return {
        "wall": fired["wall"],
        "slowest": fired["answers"][slowest][0],
        "slowest_path": short(slowest),
        "ok": sum(status == 200 for _, status in fired["answers"].values()),
        "failed": sorted(
            f"{short(url)} {status}" for url, (_, status) in fired["answers"].items() if status != 200
        ),
    }


def change(database: Database, ids: list[Any], stamp: str) -> None:
    """Change the rooms ``ids`` as Rocket.Chat does any change: a field, and ``_updatedAt`` now."""
    rooms = database[Repository(database).name("room")]
    now = dt.datetime.now(dt.timezone.utc)
    rooms.update_many({"_id": {"$in": ids}}, {"$set": {"benchChanged": stamp, "_updatedAt": now}})


def window_rooms(database: Database) -> list[Any]:
    """The ids of the livechat rooms created in the page's window, the most recent first."""
    rooms = database[Repository(database).name("room")]
    start, end = window(FIRST_DAY, LAST_DAY)
    found = rooms.find({"t": "l", "ts": {"$gte": start, "$lte": end}}, {"_id": 1}).sort("ts", -1)
    return [room["_id"] for room in found]


def reloads(port: int, database: Database, setting: str) -> dict[str, float]:
    """The page again, once the answers expired, after the newest 1% of the window's rooms changed,
    then after 1% drawn at random: the wall time of each."""
    ids = window_rooms(database)
    share = max(1, len(ids) // 100)
    found = {}
    for name, changed in (("recent", ids[:share]), ("random", random.Random(26).sample(ids, share))):
        change(database, changed, f"{setting}-{name}")
        time.sleep(CACHE_SECONDS + 0.5)
        found[name] = fire(port, urls(PAGE, FIRST_DAY, LAST_DAY))["wall"]
    return found


def year_and_day(port: int) -> dict[str, Any]:
    """The table's panels over a year and over its last day, their days kept, the answers expired:
    the median wall time of :data:`SPAN_RUNS` of each, and their answers other than 200 (a day's
    read past the deadline is not kept)."""
    spans = {"year": LAST_DAY - dt.timedelta(days=364), "day": LAST_DAY}
    for first in spans.values():
        fire(port, urls(TABLE_PANELS, first, LAST_DAY))  # the days kept
    walls: dict[str, list[float]] = {name: [] for name in spans}
    failed = dict.fromkeys(spans, 0)
    for _ in range(SPAN_RUNS):
        for name, first in spans.items():
            time.sleep(CACHE_SECONDS + 0.5)
            fired = fire(port, urls(TABLE_PANELS, first, LAST_DAY))
            walls[name].append(fired["wall"])
            failed[name] += sum(status != 200 for _, status in fired["answers"].values())
    found: dict[str, Any] = {name: statistics.median(values) for name, values in walls.items()}
    return found | {"failed": failed}


def measure_setting(database: Database, uri: str, setting: str) -> dict[str, Any]:
    """Every figure of one size at one setting of the room table."""
    slot_seconds = SETTINGS[setting]
    pages = []
    for number in range(RUNS):
        with web(uri, slot_seconds) as port:
            pages.append(cold_page(port))
            print(f"#   {setting}: cold page {pages[-1]}", file=sys.stderr)
            if number == RUNS - 1:
                reloaded = reloads(port, database, setting)
                spans = year_and_day(port)
    walls = [page["wall"] for page in pages]
    row = {
        "page": min(pages, key=lambda page: abs(page["wall"] - statistics.median(walls))),
        "wall": statistics.median(walls),
        "reloads": reloaded,
        "spans": spans,
    }
    row |= page_reads(database, uri, slot_seconds)
    print(f"#   {setting}: {row}", file=sys.stderr)
    return row


def measure_size(base_uri: str, size: int) -> dict[str, Any]:
    """The figures of parts 1 to 4 at ``size`` rooms, with the room table and without."""
    name = f"livechat_bench_slots_{size}"
    client: MongoClient = MongoClient(base_uri, tz_aware=True)
    client.drop_database(name)
    database = client[name]
    started = time.perf_counter()
    run.seed(database, size)
    row: dict[str, Any] = {"size": size, "seeded": time.perf_counter() - started}
    uri = f"{base_uri}/{name}"
    row["rooms"] = len(window_rooms(database))
    row["table_ms"] = table_read_ms(uri)
    for setting in SETTINGS:
        row[setting] = measure_setting(database, uri, setting)
    client.drop_database(name)
    client.close()
    return row


# -- Messages -----------------------------------------------------------------------------------------


def cold_ms(port: int, url: str) -> dict[str, Any]:
    """The median of :data:`RUNS` requests of ``url``, each once nothing is kept (the web process
    keeps answers and days a second), and the statuses other than 200."""
    times, failed = [], []
    for _ in range(RUNS):
        time.sleep(1.5)
        elapsed, status, _ = run.get(port, url)
        times.append(elapsed)
        failed += [] if status == 200 else [status]
    return {"ms": statistics.median(times), "failed": failed}


def measure_messages(base_uri: str, size: int) -> list[dict[str, Any]]:
    """``dashboards/conversation-totalizers`` against :data:`ROOM_ONLY` at each of
    :data:`MESSAGES_PER_ROOM` on ``size`` rooms, cold, with the room table and without."""
    name = "livechat_bench_slots_messages"
    client: MongoClient = MongoClient(base_uri, tz_aware=True)
    client.drop_database(name)
    database = client[name]
    repository = run.seed(database, size)
    paths = ("dashboards/conversation-totalizers", ROOM_ONLY)
    paths = tuple(path + "?start={start}&end={end}" for path in paths)
    counted, rows, already = urls(paths, FIRST_DAY, LAST_DAY), [], 0
    for per_room in MESSAGES_PER_ROOM:
        run.add_messages(database, repository, per_room, already)
        already = per_room
        row: dict[str, Any] = {"per_room": per_room, "size": size}
        for setting, slot_seconds in SETTINGS.items():
            with web(f"{base_uri}/{name}", min(slot_seconds, 1), cache_seconds=1) as port:
                row[setting] = [cold_ms(port, url) for url in counted]
        print(f"#   messages: {row}", file=sys.stderr)
        rows.append(row)
    client.drop_database(name)
    client.close()
    return rows


def measure(base_uri: str, sizes: list[int]) -> dict[str, Any]:
    """Every part, at each of ``sizes`` (the messages at :data:`MESSAGE_ROOMS`, or the smallest size
    when smaller)."""
    return {
        "sizes": [measure_size(base_uri, size) for size in sizes],
        "messages": measure_messages(base_uri, min(MESSAGE_ROOMS, *sizes)),
    }


# -- Tables -------------------------------------------------------------------------------------------


def _both(row: dict[str, Any], value: Any, form: str = "{:,.0f}") -> list[str]:
    """``value(row[setting])`` with the table and without, formatted."""
    return [form.format(value(row[setting])) for setting in SETTINGS]


def page_table(sizes: list[dict[str, Any]]) -> str:
    """(1) The page, cold."""
    headings = ["rooms (in the window)", "seeded in s", "page wall ms: table", "without"]
    headings += ["slowest request ms: table", "without", "answered 200: table", "without"]
    headings += ["aggregates: table", "without", "docs examined per room: table", "without"]
    cells = []
    for row in sizes:
        rooms = row["rooms"]
        slowest = [f"{row[s]['page']['slowest']:,.0f} ({row[s]['page']['slowest_path']})" for s in SETTINGS]
        answered = [
            f"{row[s]['page']['ok']}/{len(PAGE)}" + "".join(f"; {x}" for x in row[s]["page"]["failed"])
            for s in SETTINGS
        ]
        cells.append(
            (
                f"{row['size']:,} ({rooms:,})",
                f"{row['seeded']:.0f}",
                *_both(row, lambda r: r["wall"]),
                *slowest,
                *answered,
                *_both(row, lambda r: r["aggregates"]),
                *_both(row, lambda r, rooms=rooms: r["docs"] / rooms, "{:.2f}"),
            )
        )
    notes = [
        f"{row['size']:,} rooms, the documents examined per room by endpoint, with the table (without): "
        + ", ".join(
            f"`{path}` {docs / row['rooms']:.2f} ({row['off']['by_path'][path] / row['rooms']:.2f})"
            for path, docs in sorted(row["on"]["by_path"].items(), key=lambda item: -item[1])
            if docs or row["off"]["by_path"][path]
        )
        + "."
        for row in sizes
    ]
    return run.markdown(headings, cells) + "\n\n" + "\n".join(f"- {note}" for note in notes)


def pass_table(sizes: list[dict[str, Any]]) -> str:
    """(2) The shared pass alone, and the cold page against it."""
    headings = ["rooms", "the table's one read ms", "cold page ms: table", "without"]
    headings += ["cold page / the one read: table", "without"]
    return run.markdown(
        headings,
        (
            (
                f"{row['size']:,}",
                f"{row['table_ms']:,.0f}",
                *_both(row, lambda r: r["wall"]),
                *_both(row, lambda r, row=row: r["wall"] / row["table_ms"], "{:.2f}x"),
            )
            for row in sizes
        ),
    )


def reload_table(sizes: list[dict[str, Any]]) -> str:
    """(3) A reload after 1% of the window's rooms changed."""
    headings = ["rooms", "1% changed", "reload ms: table", "without", "reload / cold page: table", "without"]
    cells = []
    for row in sizes:
        for name, words in (("recent", "the most recently created"), ("random", "at random over the window")):
            cells.append(
                (
                    f"{row['size']:,}",
                    f"{max(1, row['rooms'] // 100):,}, {words}",
                    *_both(row, lambda r, name=name: r["reloads"][name]),
                    *_both(row, lambda r, name=name: r["reloads"][name] / r["wall"], "{:.0%}"),
                )
            )
    return run.markdown(headings, cells)


def span_table(sizes: list[dict[str, Any]]) -> str:
    """(4) A year against a day, the days kept."""
    headings = ["rooms", "a year ms: table", "without", "a day ms: table", "without"]
    headings += ["year / day: table", "without", "answers not 200 (year, day): table", "without"]
    return run.markdown(
        headings,
        (
            (
                f"{row['size']:,}",
                *_both(row, lambda r: r["spans"]["year"]),
                *_both(row, lambda r: r["spans"]["day"]),
                *_both(row, lambda r: r["spans"]["year"] / r["spans"]["day"], "{:.2f}x"),
                *_both(row, lambda r: "{year}, {day}".format(**r["spans"]["failed"]), "{}"),
            )
            for row in sizes
        ),
    )


def messages_table(rows: list[dict[str, Any]]) -> str:
    """(5) The messages' endpoint against a room-only one."""
    headings = ["messages per room", "conversation-totalizers ms: table", "without"]
    headings += [f"{ROOM_ONLY} ms: table", "without", "ratio: table", "without"]
    return run.markdown(
        headings,
        (
            (
                row["per_room"],
                *_both(row, lambda r: _cold(r[0]), "{}"),
                *_both(row, lambda r: _cold(r[1]), "{}"),
                *_both(row, lambda r: r[0]["ms"] / r[1]["ms"], "{:.2f}x"),
            )
            for row in rows
        ),
    )


def _cold(measured: dict[str, Any]) -> str:
    """A cold median in ms, with the statuses other than 200 among its requests."""
    failed = ", ".join(map(str, measured["failed"]))
    return f"{measured['ms']:,.1f}" + (f" ({failed})" if failed else "")


def tables(measured: dict[str, Any]) -> str:
    """Every table, titled, with its goal."""
    sizes = measured["sizes"]
    parts = [
        f"(1) The page, cold: its {len(PAGE)} requests for the last {run.WINDOW_DAYS} days ({FIRST_DAY} to"
        f" {LAST_DAY}, {TIMEZONE}, all departments), {AT_ONCE} at a time, on a fresh web process; the"
        f" median of {RUNS}. Goal: at most 2 documents examined per room of the window (16.7 before"
        " the issue).",
        page_table(sizes),
        "(2) The shared pass alone: `Days.table` of the page's window on an empty cache, and the cold"
        " page against it. Goal: at most 1.5x.",
        pass_table(sizes),
        f"(3) A reload after 1% of the window's rooms changed (`_updatedAt` now), the answers expired"
        f" ({CACHE_SECONDS} s): first the newest 1%, then 1% at random. Goal: at most 10% of the cold page.",
        reload_table(sizes),
        f"(4) The {len(TABLE_PANELS)} panels of the room table (`groupBy=day` for the trends) over a year"
        f" and over its last day, their days kept, the answers expired; the median of {SPAN_RUNS}"
        f" ({SPAN_RUNS * len(TABLE_PANELS)} answers each). Goal: the year within 2x the day.",
        span_table(sizes),
        f"(5) `dashboards/conversation-totalizers` against `{ROOM_ONLY}`, cold (nothing kept), the"
        f" median of {RUNS}, on {measured['messages'][0]['size']:,} rooms with messages added. Goal: at"
        " most 2x.",
        messages_table(measured["messages"]),
    ]
    return "\n\n".join(parts)
