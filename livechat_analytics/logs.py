"""Logging: database trouble told once rather than once per request, and the handler of the
processes we start ourselves (the standalone app, the demo), never of a host's app."""

from __future__ import annotations

import logging
import sys
import threading
import time

log = logging.getLogger("livechat_analytics")

#: While the database stays in trouble, a reminder is logged this often (seconds), not each request.
TROUBLE_LOG_INTERVAL = 60.0
#: The format of the lines on stderr: the per-request line is a JSON object after the logger's name.
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure_logging() -> None:
    """Show our INFO lines, the per-request JSON line of ``livechat_analytics.request`` among them,
    on stderr.

    Only when the root logger has no handler: otherwise the process already decided where logs go.
    """
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    # The root logger stays at WARNING for other libraries; ours say what each request did.
    logging.getLogger("livechat_analytics").setLevel(logging.INFO)


class TroubleLog:
    """Logs database trouble once when it starts, a reminder per :data:`TROUBLE_LOG_INTERVAL` while
    it lasts, and once more when the database answers again. One per app (its database)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: float | None = None
        self._last = 0.0
        self._hidden = 0

    def trouble(self, level: int, summary: str) -> None:
        now = time.monotonic()
        with self._lock:
            if self._since is not None and now - self._last < TROUBLE_LOG_INTERVAL:
                self._hidden += 1
                return
            hidden, self._hidden = self._hidden, 0
            self._since = self._since if self._since is not None else now
            self._last = now
        extra = f" ({hidden} more failed requests since the last line)" if hidden else ""
        log.log(level, "%s%s", summary, extra)

    def answered(self) -> None:
        if self._since is None:  # the usual case, without taking the lock
            return
        with self._lock:
            since, hidden, self._since, self._hidden = self._since, self._hidden, None, 0
        if since is not None:
            log.warning(
                "database answering again after %.0f s of trouble (%d failed requests not logged)",
                time.monotonic() - since,
                hidden,
            )
