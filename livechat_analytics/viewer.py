"""The API viewer: Swagger UI over the app's own OpenAPI document, under the analytics root.

Swagger UI's files come from the ``flask-swagger-ui`` package, which ships them (its blueprint is not
used: its page holds an inline script), so the viewer works offline, as the dashboard page does; a
small script of ours starts Swagger UI on the document. The viewer is served like the dashboard page
(:mod:`.page`): it takes every method and answers OPTIONS and 405 itself, needs no sign-in (it holds
no data), and its answers keep the browser to this origin. "Try it out" sends the API the headers a
user gives under "Authorize", as any client does.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterable

import flask_swagger_ui  # type: ignore[import-untyped]  # untyped; only its folder is used
from flask import Response, send_from_directory, url_for
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import NotFound

from . import config, page
from .version import __version__

#: Swagger UI's files: the distribution folder of the ``flask-swagger-ui`` package.
SWAGGER_UI = pathlib.Path(flask_swagger_ui.__file__).parent / "dist"
#: Each file the viewer's page names, and the folder it is served from; no other file is served.
FILES = {
    "index.css": SWAGGER_UI,
    "swagger-ui.css": SWAGGER_UI,
    "swagger-ui-bundle.js": SWAGGER_UI,
    "viewer.js": page.FILES,
}
TEMPLATE = "livechat_analytics/viewer.html"


def viewer(filename: str | None = None) -> Response:
    """The API viewer (``filename`` None) or one of its :data:`FILES`, for GET and HEAD."""

    def page_or_file() -> Response:
        if filename is None:
            return page.html(TEMPLATE, version=__version__, openapi=url_for(".openapi_json"))
        if filename not in FILES:
            raise NotFound("The API viewer has no such file.")
        return send_from_directory(FILES[filename], filename)

    return page.answer("API viewer", page_or_file)


def register(state: BlueprintSetupState, *, taken: Iterable[str]) -> None:
    """Add the viewer's rules to the app the blueprint registers on, unless it is switched off; a
    path whose first part one of the API's ``taken`` paths starts with, or that the dashboard page
    uses, is a start-up error."""
    app_settings = state.app.config
    if not config.read(app_settings, "API_DOCS"):
        return
    where = config.read(app_settings, "API_DOCS_PATH")
    dashboard = page.dashboard_path(app_settings)
    others = {f"the dashboard page ({config.PREFIX}DASHBOARD_PATH)": [] if dashboard is None else [dashboard]}
    page.claim("API_DOCS_PATH", where, taken=taken, others=others)
    page.mount(state, "api_docs", where, viewer)
