"""What ``<root>/metrics`` exposes to Prometheus, through ``prometheus_client``: the service's own
metrics, counted as requests pass, and the live gauges, read from the database when scraped.

Each app has a registry of its own (not the library's global one), so two apps in one process never
collide. Under gunicorn, with ``PROMETHEUS_MULTIPROC_DIR`` set before the workers start, the service's
metrics go to the library's files in that folder and every worker's exposition sums them
(``MultiProcessCollector``); the live gauges are the database's state, the same in every worker, and
are read by the worker that is scraped.
"""

from __future__ import annotations

import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import pymongo
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from pymongo.errors import PyMongoError

from .endpoints.common import Context
from .endpoints.live import agents_state, queue_state
from .repository import Repository

#: The media type of the exposition (Prometheus' text format 0.0.4).
MIMETYPE = "text/plain; version=0.0.4; charset=utf-8"
#: The ``endpoint`` label of a request to no path of ours (the catch-all's 404 and 405).
UNROUTED = "unrouted"
#: The latency histogram's buckets, in seconds, up to the default request deadline (20 s).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0)
#: The kinds of database errors counted: no server (503), a deadline passed (504), anything else (500).
DATABASE_ERRORS = ("unavailable", "timeout", "other")
#: The live gauges are read at most once per this many seconds per process; scrapes between reuse them.
LIVE_SECONDS = 1.0
#: Each gauge of the queue, by the field of a ``live/queue`` department row it shows.
QUEUE_GAUGES = {
    "queued": ("livechat_queued_chats", "Open livechat rooms waiting for an agent."),
    "oldestWaitSeconds": (
        "livechat_oldest_queued_seconds",
        "Whole seconds the longest-waiting queued room has waited (0 when none waits).",
    ),
    "open": ("livechat_open_chats", "Open livechat rooms an agent serves, not on hold."),
    "onHold": ("livechat_onhold_chats", "Open livechat rooms on hold."),
}
AGENTS_GAUGE = ("livechat_agents", "Livechat agents, by presence and by livechat availability.")
#: The presence and livechat statuses the agent gauge always has a series of (0 when nobody), so
#: that an alert on "nobody available" has a series to compare.
STATUSES = ("online", "away", "busy", "offline")
LIVECHAT_STATUSES = ("available", "not-available")

#: What the live gauges are read from: the bodies of ``live/queue`` and ``live/agents`` over every
#: department.
LiveReader = Callable[[], tuple[Mapping[str, Any], Mapping[str, Any]]]


def live_reader(repository: Repository, *, department_names: bool) -> LiveReader:
    """What the live gauges read: the ``live/queue`` and ``live/agents`` bodies over every
    department, as a caller who sees everything gets them."""
    context = Context(repository.names, department_names=department_names)

    def read() -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        return queue_state(None, context, repository), agents_state(None, context, repository)

    return read


class Metrics:
    """One app's metrics and the registry that exposes them.

    ``read`` gives the live gauges' bodies (None: no live gauges); ``department_names`` adds a
    ``name`` label to the department gauges; ``deadline`` bounds a read, in seconds; ``failed`` is
    told of a read's database error (the scrape then answers without the live gauges).
    ``multiprocess_dir`` is ``PROMETHEUS_MULTIPROC_DIR`` when set.
    """

    def __init__(
        self,
        read: LiveReader | None = None,
        *,
        department_names: bool = False,
        deadline: float = 20.0,
        failed: Callable[[PyMongoError], Any] = lambda error: None,
        multiprocess_dir: str | None = None,
    ) -> None:
        self.registry = CollectorRegistry()
        if read is not None:
            # First: the database error of a failed read is in the same scrape's counts.
            self.registry.register(
                LiveCollector(read, department_names=department_names, deadline=deadline, failed=failed)
            )
        # In multiprocess mode the values live in the folder's files, and the exposition reads them
        # all: the metrics belong to no registry.
        own = None if multiprocess_dir is not None else self.registry
        self.requests = Counter(
            "livechat_analytics_requests",
            "Requests under the analytics root, by endpoint and status.",
            ["endpoint", "status"],
            registry=own,
        )
        self.latency = Histogram(
            "livechat_analytics_request_seconds",
            "Seconds from a request's start to its response (a CSV stream's first chunk).",
            ["endpoint"],
            buckets=BUCKETS,
            registry=own,
        )
        self.cache_hits = Counter(
            "livechat_analytics_cache_hits", "Answers found kept in the answer cache.", registry=own
        )
        self.cache_misses = Counter(
            "livechat_analytics_cache_misses", "Answers not found in the answer cache.", registry=own
        )
        self.database_errors = Counter(
            "livechat_analytics_database_errors", "Database errors, by kind.", ["kind"], registry=own
        )
        for kind in DATABASE_ERRORS:
            self.database_errors.labels(kind)
        self.streams = Gauge(
            "livechat_analytics_open_streams",
            "Server-Sent Event streams open.",
            registry=own,
            multiprocess_mode="livesum",
        )
        self.live_computations = Counter(
            "livechat_analytics_live_computations",
            "Computations of the live state for the open streams: one per distinct scope and department"
            " the streams follow, however many streams share it.",
            registry=own,
        )
        if multiprocess_dir is not None:
            MultiProcessCollector(self.registry, path=multiprocess_dir)

    def request(self, endpoint: str, status: int, seconds: float) -> None:
        """Count a request to ``endpoint`` answered with ``status`` after ``seconds``."""
        self.requests.labels(endpoint, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)

    def looked_up(self, found: bool) -> None:
        """Count a look-up of the answer cache."""
        (self.cache_hits if found else self.cache_misses).inc()

    def database_error(self, kind: str) -> None:
        """Count a database error of ``kind``, one of :data:`DATABASE_ERRORS`."""
        self.database_errors.labels(kind).inc()

    def exposition(self) -> bytes:
        """Every metric in Prometheus' text format."""
        return generate_latest(self.registry)


class LiveCollector(Collector):
    """The live gauges, computed when scraped and reused for :data:`LIVE_SECONDS`: any number of
    scrapers (several Prometheus servers, a worker scraped often) cost one read per second."""

    def __init__(
        self,
        read: LiveReader,
        *,
        department_names: bool,
        deadline: float,
        failed: Callable[[PyMongoError], Any],
        seconds: float = LIVE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read, self._names, self._deadline, self._failed = read, department_names, deadline, failed
        self._seconds, self._clock = seconds, clock
        self._lock = threading.Lock()
        self._kept: tuple[float, list[Metric]] | None = None

    def describe(self) -> Iterable[Metric]:
        """The gauges' names without samples, so that registering reads nothing."""
        return [*queue_families({"departments": []}, names=self._names), agent_family({"agents": []})]

    def collect(self) -> Iterator[Metric]:
        """The gauges as read at most :data:`LIVE_SECONDS` ago; none when the database fails."""
        with self._lock:
            now = self._clock()
            if self._kept is None or now - self._kept[0] >= self._seconds:
                try:
                    with pymongo.timeout(self._deadline):
                        queue, agents = self._read()
                except PyMongoError as error:
                    self._failed(error)
                    return iter(())
                self._kept = (now, [*queue_families(queue, names=self._names), agent_family(agents)])
            return iter(self._kept[1])


def queue_families(body: Mapping[str, Any], *, names: bool) -> list[GaugeMetricFamily]:
    """The department gauges of a ``live/queue`` body, labelled by department id (empty for rooms
    without a department) and, with ``names``, by its name (empty when unknown)."""
    labels = ["department", "name"] if names else ["department"]
    families = {
        field: GaugeMetricFamily(name, text, labels=labels) for field, (name, text) in QUEUE_GAUGES.items()
    }
    for row in body["departments"]:
        values = [row["_id"] or ""] + ([row.get("name") or ""] if names else [])
        for field, family in families.items():
            family.add_metric(values, row[field])
    return list(families.values())


def agent_family(body: Mapping[str, Any]) -> GaugeMetricFamily:
    """The agent gauge of a ``live/agents`` body: agents counted by ``status`` and
    ``livechat_status``, every pair of :data:`STATUSES` and :data:`LIVECHAT_STATUSES` present."""
    counts = Tally({(status, livechat): 0 for status in STATUSES for livechat in LIVECHAT_STATUSES})
    counts.update((agent["status"], agent["statusLivechat"]) for agent in body["agents"])
    family = GaugeMetricFamily(*AGENTS_GAUGE, labels=["status", "livechat_status"])
    for (status, livechat), count in sorted(counts.items()):
        family.add_metric([status, livechat], count)
    return family
