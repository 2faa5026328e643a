"""The dashboard page: a thin client of the API, and its files, under the analytics root.

Its rules take every method (as the API's catch-all does) and answer OPTIONS and 405 themselves, at
the path each app configures; switched off, the path falls through to the catch-all's 404. No
authentication: the page and its files hold no data, and the page's requests to the API carry the
usual headers. What the page shows of each department metric comes from the metric's row.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterable
from typing import Any

from flask import Response, current_app, render_template, request, send_from_directory
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.routing import Rule

from . import config
from .endpoints.departments import METRICS
from .version import __version__

#: The methods every path of ours answers.
ALLOWED = ("GET", "HEAD", "OPTIONS")
FILES = pathlib.Path(__file__).parent / "static"
#: What the page's answers forbid the browser: any request to another origin, inline scripts.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:;"
    " connect-src 'self'; frame-ancestors 'self'; form-action 'none'; base-uri 'none'"
)


def dashboard(filename: str | None = None) -> Response:
    """The dashboard page (``filename`` None) or one of its files, for GET and HEAD."""
    if request.method == "OPTIONS":
        return Response(status=200, headers={"Allow": ", ".join(ALLOWED)})
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(list(ALLOWED), "The dashboard answers GET only.")
    if filename is not None:
        response = send_from_directory(FILES, filename)
    else:
        response = Response(render_template("livechat_analytics/dashboard.html", **settings()))
        response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def settings() -> dict[str, Any]:
    """What the page's template is told: the API's root, the release, the page size and the
    department metrics it shows."""
    app_settings = current_app.config
    return {
        "api_root": request.script_root + config.read(app_settings, "URL_PREFIX"),
        "version": __version__,
        "page_size": 0
        if config.read(app_settings, "ALLOW_COUNT_ZERO")
        else config.read(app_settings, "MAX_COUNT"),
        "metrics": metrics(),
    }


def metrics() -> list[dict[str, Any]]:
    """Each department metric as the page shows it: its path under ``departments/``, its title,
    the field it shows and how (a count, seconds or a percent), and a field shown beside it."""
    shown = []
    for metric in METRICS.values():
        card: dict[str, Any] = {
            "path": metric.path.removeprefix("departments/"),
            "title": metric.title,
            "field": metric.shown,
            "unit": metric.unit,
        }
        if metric.also is not None:
            card["also"] = {"field": metric.also[0], "title": metric.also[1]}
        shown.append(card)
    return shown


def register(state: BlueprintSetupState, *, taken: Iterable[str]) -> None:
    """Add the page's rules to the app the blueprint registers on, unless it is switched off; a
    path that one of the API's ``taken`` paths starts with is a start-up error."""
    if not config.read(state.app.config, "DASHBOARD"):
        return
    path = config.read(state.app.config, "DASHBOARD_PATH")
    if path in taken or path.split("/")[0] in {p.split("/")[0] for p in taken}:
        raise RuntimeError(f"{config.PREFIX}DASHBOARD_PATH {path!r} is taken by the API's own paths.")
    name = f"{state.name_prefix}.{state.name}".lstrip(".")
    prefix = state.url_prefix or ""
    rules = {"dashboard": f"{prefix}/{path}", "dashboard_static": f"{prefix}/{path}/static/<path:filename>"}
    for endpoint, rule in rules.items():
        state.app.url_map.add(Rule(rule, endpoint=f"{name}.{endpoint}", merge_slashes=False))
        state.app.view_functions[f"{name}.{endpoint}"] = dashboard
