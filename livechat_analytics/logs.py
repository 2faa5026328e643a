"""Logging for the processes we start ourselves (the standalone app, the demo): never for a host's app."""

from __future__ import annotations

import logging
import sys

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
