"""What one app needs to answer, made once by the extension when it registers, and the accessor the
views, errors and commands reach it through."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import cast

from flask import Flask, current_app
from flask_caching import Cache
from pymongo import MongoClient

from .auth import Authenticator, Scope, User
from .cache import Answers, Recent
from .config import EXTENSION_KEY
from .endpoints.common import INACTIVITY_SETTING, Context
from .endpoints.row import Endpoint
from .endpoints.slots import Days
from .live_watch import Hub
from .logs import TroubleLog
from .metrics import Metrics
from .repository import Repository
from .schemas import ArgsSchema


@dataclass
class State:
    """One app's extension state: kept in ``app.extensions["livechat_analytics"]``."""

    repository: Repository
    authenticator: Authenticator
    #: Each endpoint's query schema, made with this app's settings, by path.
    args_schemas: dict[str, ArgsSchema]
    default_inactivity_timeout: float = 3600
    department_names: bool = False
    visitor_details: bool = False
    #: The deadline of one request, and of the health check's ping, in seconds.
    deadline: float = 20.0
    health_timeout: float = 2.0
    client: MongoClient | None = None
    """The client the extension made from the URI; None when the host handed a database."""
    #: Database trouble, logged when it starts rather than on every request.
    trouble: TroubleLog = field(default_factory=TroubleLog)
    #: The Flask-Caching cache of the answers (None when ``CACHE_SECONDS`` is 0) ...
    cache: Cache | None = None
    #: ... and the seam around each computation that uses it.
    answers: Answers = field(default_factory=lambda: Answers(None, seconds=0))
    #: The settings read in the last ``SETTINGS_SECONDS``.
    settings: Recent = field(default_factory=lambda: Recent(0))
    #: The request headers an answer varies with besides the URL (the authenticator's).
    vary: tuple[str, ...] = ()
    #: What ``<root>/metrics`` exposes (None: it is off), and the bearer token it asks for (None:
    #: the login headers and the ``view-livechat-manager`` permission).
    metrics: Metrics | None = None
    metrics_token: str | None = None
    #: The open streams of ``live/stream`` and the watch that feeds them (made with the state).
    hub: Hub | None = None
    #: The room table's kept days (None: the room panels read for themselves).
    days: Days | None = None

    def inactivity_timeout(self) -> float:
        """``T``: Rocket.Chat's setting as read in the last ``SETTINGS_SECONDS``, else the
        configured default."""
        value = self.settings.get(INACTIVITY_SETTING, lambda: self.repository.setting(INACTIVITY_SETTING))
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            return value
        return self.default_inactivity_timeout

    def context(self, endpoint: Endpoint, scope: Scope | None = None) -> Context:
        """What computing ``endpoint`` needs of the server for a caller who sees ``scope``: ``T`` is
        read only when it needs it."""
        threshold = self.default_inactivity_timeout
        if endpoint.reads_inactivity_timeout:
            threshold = self.inactivity_timeout()
        return Context(
            self.repository.names,
            inactivity_timeout=threshold,
            department_names=self.department_names,
            scope=scope,
            visitor_details=self.visitor_details,
            days=self.days,
        )

    def scope(self, user: User) -> Scope | None:
        """What ``user`` may see, as the authenticator says, with the agents of their departments
        (read at most once per ``SETTINGS_SECONDS``) when it names none."""
        said = self.authenticator.scope(user)
        if said is None:
            return None
        scope = said if isinstance(said, Scope) else Scope(departments=frozenset(said))
        if scope.agents is not None:
            return scope
        departments = sorted(scope.departments)
        agents = self.settings.get(
            ("agents", *departments), lambda: self.repository.department_agent_ids(departments)
        )
        return replace(scope, agents=frozenset(agents))


def current(app: Flask | None = None) -> State:
    """The state of ``app`` (default: the current app) as the extension registered it."""
    chosen = app if app is not None else current_app
    return cast(State, chosen.extensions[EXTENSION_KEY])
