"""Gunicorn settings for the standalone app.

``gunicorn -c python:livechat_analytics.gunicorn_conf 'livechat_analytics.app:create_app()'``.
The worker timeout follows ``LIVECHAT_ANALYTICS_MAX_TIME_MS`` (each request's deadline), so gunicorn
never kills a worker whose request would still answer 504 in time. Options given on the command
line win over these.
"""

from __future__ import annotations

import math
import os
from typing import Any

from prometheus_client import multiprocess as _multiprocess

# Gunicorn reads every public name here as a setting, and ``config`` is one: keep ours private.
from livechat_analytics import config as _config

#: Seconds a worker gets beyond the request deadline to write the 504 before gunicorn kills it.
TIMEOUT_MARGIN = 10
#: The smallest worker timeout: gunicorn's own default.
SHORTEST_TIMEOUT = 30
#: The longest request line (method, path, query string, version) gunicorn lets through: its own
#: ceiling short of none at all, twice its default. Longer query strings than the default reach the
#: app, which answers them in JSON; past this, gunicorn answers its own 414.
LONGEST_REQUEST_LINE = 8190
#: The longest header line (name and value), gunicorn's default, named here to be documented.
LONGEST_HEADER = 8190
#: The threads of a worker for ordinary requests, besides one for each live stream it may hold.
REQUEST_THREADS = 4


def worker_threads(max_streams: int) -> int:
    """A gthread worker's threads: one per live stream it may hold (each stream keeps its thread
    while it is open), and :data:`REQUEST_THREADS` that the streams never take."""
    return REQUEST_THREADS + max_streams


def worker_timeout(deadline_ms: int) -> int:
    """Gunicorn's worker timeout, in whole seconds, for a request deadline in milliseconds."""
    return max(SHORTEST_TIMEOUT, math.ceil(deadline_ms / 1000) + TIMEOUT_MARGIN)


# The same checks as the app's: a bad variable stops gunicorn before it forks.
_settings = _config.from_environment(os.environ)

timeout = worker_timeout(_settings.get(_config.PREFIX + "MAX_TIME_MS", _config.MAX_TIME_MS))
graceful_timeout = timeout
# As gunicorn itself: $PORT on every interface when a platform sets it, else the loopback port 8000.
bind = [f"0.0.0.0:{os.environ['PORT']}"] if os.environ.get("PORT") else ["127.0.0.1:8000"]
# Requests mostly wait on MongoDB: threads serve others meanwhile. WEB_CONCURRENCY is the usual knob.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = worker_threads(_settings.get(_config.PREFIX + "LIVE_MAX_STREAMS", _config.LIVE_MAX_STREAMS))
limit_request_line = LONGEST_REQUEST_LINE
limit_request_field_size = LONGEST_HEADER


def child_exit(server: Any, worker: Any) -> None:
    """A worker exited: in prometheus_client's multiprocess mode, its live gauges (the open
    streams) leave the sum of the workers alive."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        _multiprocess.mark_process_dead(worker.pid)
