"""The web process the benchmark measures: the package's app over a MongoDB URI, on loopback.

Each response carries ``X-Bench-Aggregates``, the aggregate commands its request sent, counted by a
pymongo command listener in this process, and ``X-Bench-Collections``, the collections they ran
on. Run by ``benchmarks/run.py``; not part of the package.
``--cache-seconds`` sets ``LIVECHAT_ANALYTICS_CACHE_SECONDS`` (0: every request computes). Under
gunicorn (the concurrency run), ``server:from_environment()`` makes the same app from
``BENCH_MONGO_URI`` and the ``LIVECHAT_ANALYTICS_*`` variables.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
from typing import Any

from flask import Flask
from pymongo import MongoClient, monitoring
from werkzeug.serving import make_server

from livechat_analytics import LivechatAnalytics, config

_seen = threading.local()


class _Aggregates(monitoring.CommandListener):
    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "aggregate":
            _seen.count = getattr(_seen, "count", 0) + 1
            collections = getattr(_seen, "collections", None)
            if collections is not None:
                collections.add(str(event.command["aggregate"]))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def make_app(uri: str, settings: dict[str, Any] | None = None) -> Flask:
    """The host app, with the aggregate count added to every response."""
    client: MongoClient = MongoClient(uri, tz_aware=True, connect=False, event_listeners=[_Aggregates()])
    app = Flask("benchmark")
    app.config.update(settings or {})
    LivechatAnalytics(app, database=client.get_default_database())

    @app.before_request
    def _reset() -> None:
        _seen.count = 0
        _seen.collections = set()

    @app.after_request
    def _report(response):
        response.headers["X-Bench-Aggregates"] = str(getattr(_seen, "count", 0))
        response.headers["X-Bench-Collections"] = ",".join(sorted(getattr(_seen, "collections", ())))
        return response

    return app


def from_environment() -> Flask:
    """The app gunicorn serves in the concurrency run."""
    return make_app(os.environ["BENCH_MONGO_URI"], config.from_environment(os.environ))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mongo-uri", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cache-seconds", type=int, default=config.CACHE_SECONDS)
    arguments = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    settings = {config.PREFIX + "CACHE_SECONDS": arguments.cache_seconds}
    app = make_app(arguments.mongo_uri, settings)
    server = make_server("127.0.0.1", arguments.port, app, threaded=True)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
