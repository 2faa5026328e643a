"""A standalone app for operators who have no Flask app of their own.

``gunicorn 'livechat_analytics.app:create_app()'`` serves the API configured from the
``LIVECHAT_ANALYTICS_*`` environment variables; :mod:`.gunicorn_conf` holds matching gunicorn settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask

from . import config
from .extension import LivechatAnalytics
from .logs import configure_logging


def create_app(environ: Mapping[str, str] | None = None) -> Flask:
    """An app serving the API, configured from ``environ`` (default: ``os.environ``).

    Each ``LIVECHAT_ANALYTICS_<KEY>`` variable is read as its key's type: whole numbers in digits,
    booleans as ``true``/``false``/``1``/``0``, ``DEFAULT_ROLES`` separated by commas. An unknown
    variable or a bad value is a ``RuntimeError`` naming the variable. The per-request log lines go
    to stderr unless logging is set up already.
    """
    settings = config.from_environment(os.environ if environ is None else environ)
    app = Flask(__name__)
    app.config.update(settings)
    configure_logging()
    LivechatAnalytics(app)
    return app
