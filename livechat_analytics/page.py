"""The dashboard page: a thin client of the API, and its files, under the analytics root.

Its rules take every method (as the API's catch-all does) and answer OPTIONS and 405 themselves, at
the path each app configures; switched off, the path falls through to the catch-all's 404. No
authentication: the page and its files hold no data, and the page's requests to the API carry the
usual headers. What the page shows of each department metric comes from the metric's row.

The API viewer (:mod:`.viewer`) is served the same way, with the pieces here: :func:`answer`,
:func:`html`, :func:`claim` and :func:`mount`.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable, Iterable, Mapping
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

#: The list of rooms (``GET conversations``) behind a department metric's number, where a filter of
#: the list names the rooms it counts or averages other than all of its department's: what they are
#: in words and the filter. Any other count opens no list (the transfers count transfer events; the
#: chats served, closed rooms with a service time, which no filter names); any other average, total
#: time or share opens its department's rooms.
LISTS: dict[str, dict[str, Any]] = {
    "departments/amount-of-chats": {"what": "Chats", "query": {}},
    "departments/total-abandoned-chats": {"what": "Abandoned chats", "query": {"abandoned": "true"}},
    "departments/average-waiting-time": {"what": "Answered chats", "query": {"answered": "true"}},
}


def dashboard(filename: str | None = None) -> Response:
    """The dashboard page (``filename`` None) or one of its files, for GET and HEAD."""

    def page_or_file() -> Response:
        if filename is not None:
            return send_from_directory(FILES, filename)
        return html("livechat_analytics/dashboard.html", **settings())

    return answer("dashboard", page_or_file)


def whole(response: Response) -> Response:
    """A file's response read into memory, its file closed (the page's and the viewer's files are
    small): compressed whole, with any encoding the client accepts."""
    if response.status_code == 200:
        response.direct_passthrough = False
        body = response.get_data()
        response.close()
        response.set_data(body)
    return response


def answer(what: str, make: Callable[[], Response]) -> Response:
    """What ``make`` answers GET and HEAD with, its headers keeping the browser to this origin; the
    allowed methods for OPTIONS; a JSON 405 naming ``what`` for any other method."""
    if request.method == "OPTIONS":
        return Response(status=200, headers={"Allow": ", ".join(ALLOWED)})
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(list(ALLOWED), f"The {what} answers GET only.")
    response = make()
    response.headers["Content-Security-Policy"] = POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def html(template: str, **context: Any) -> Response:
    """A page rendered from ``template``, never kept by the browser: it names the files of this
    release."""
    response = Response(render_template(template, **context))
    response.headers["Cache-Control"] = "no-store"
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
    the field it shows and how (a count, seconds or a percent), the list behind its number (null:
    none, see :data:`LISTS`), and a field shown beside it."""
    shown = []
    for metric in METRICS.values():
        rooms = None if metric.unit == "count" else {"what": "Chats", "query": {}}
        card: dict[str, Any] = {
            "path": metric.path.removeprefix("departments/"),
            "title": metric.title,
            "field": metric.shown,
            "unit": metric.unit,
            "list": LISTS.get(metric.path, rooms),
        }
        if metric.also is not None:
            card["also"] = {"field": metric.also[0], "title": metric.also[1]}
        shown.append(card)
    return shown


def register(state: BlueprintSetupState, *, taken: Iterable[str]) -> None:
    """Add the page's rules to the app the blueprint registers on, unless it is switched off; a
    path whose first part one of the API's ``taken`` paths starts with is a start-up error."""
    where = dashboard_path(state.app.config)
    if where is not None:
        claim("DASHBOARD_PATH", where, taken=taken)
        mount(state, "dashboard", where, dashboard)


def dashboard_path(app_settings: dict[str, Any]) -> str | None:
    """The dashboard page's path under the analytics root, None when it is switched off."""
    return config.read(app_settings, "DASHBOARD_PATH") if config.read(app_settings, "DASHBOARD") else None


def claim(
    setting: str, path: str, *, taken: Iterable[str], others: Mapping[str, Iterable[str]] | None = None
) -> None:
    """Refuse, with a start-up error naming the ``setting``, a ``path`` whose first part one of the
    API's ``taken`` paths starts with (a family's part may grow), or that is one of the ``others``'
    paths (each owner, in words, to its paths), lies under one or holds one under it."""
    owners = {"the API's own paths": {p.split("/")[0] for p in taken}, **(others or {})}
    for owner, owned in owners.items():
        for other in owned:
            if path == other or path.startswith(other + "/") or other.startswith(path + "/"):
                raise RuntimeError(f"{config.PREFIX}{setting} {path!r} is taken by {owner}.")


def mount(state: BlueprintSetupState, endpoint: str, path: str, view: Callable[..., Response]) -> None:
    """Add ``view`` at ``path`` under the analytics root, and at ``<path>/static/<filename>`` for its
    files, as ``endpoint`` and ``<endpoint>_static``. The rules take every method (the view answers
    OPTIONS and 405 itself) and keep a double slash a path of its own."""
    name = f"{state.name_prefix}.{state.name}".lstrip(".")
    prefix = state.url_prefix or ""
    rules = {endpoint: f"{prefix}/{path}", f"{endpoint}_static": f"{prefix}/{path}/static/<path:filename>"}
    for rule_endpoint, rule in rules.items():
        state.app.url_map.add(Rule(rule, endpoint=f"{name}.{rule_endpoint}", merge_slashes=False))
        state.app.view_functions[f"{name}.{rule_endpoint}"] = view
