"""The Flask extension: wires the config, the database, the authenticator and the blueprint."""

from __future__ import annotations

import os
import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, Response, g, request
from flask_caching import Cache
from flask_compress import Compress
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import ConfigurationError
from pymongo.read_preferences import ReadPreference

from . import config
from .auth import Authenticator, RocketChatAuthenticator
from .cache import Answers, Recent, redis_options
from .endpoints import ENDPOINTS
from .endpoints.slots import Days
from .errors import database_trouble
from .metrics import UNROUTED, Metrics, live_reader
from .page import whole
from .repository import Repository
from .schemas import ArgsSchema
from .state import State
from .stream import hub
from .views import blueprint

_READ_PREFERENCES = {
    preference.mongos_mode: preference
    for preference in (
        ReadPreference.PRIMARY,
        ReadPreference.PRIMARY_PREFERRED,
        ReadPreference.SECONDARY,
        ReadPreference.SECONDARY_PREFERRED,
        ReadPreference.NEAREST,
    )
}


class LivechatAnalytics:
    """Serve Rocket.Chat's Omnichannel analytics API from a Rocket.Chat MongoDB.

    ``LivechatAnalytics(app)`` reads ``LIVECHAT_ANALYTICS_MONGO_URI``; ``database`` hands over a
    pymongo (or mongomock) ``Database`` the host already has, its client ``tz_aware`` or not (naive
    dates are read as UTC); it is never closed by us. ``authenticator``
    replaces the Rocket.Chat user and permission check. With no ``app``, call :meth:`init_app`
    later, once per app. The commands (``flask livechat-analytics ...``) come through Flask's
    ``flask.commands`` entry point, not from here.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        database: Database | None = None,
        authenticator: Authenticator | None = None,
    ) -> None:
        self._defaults: dict[str, Any] = {"database": database, "authenticator": authenticator}
        if app is not None:
            self.init_app(app)

    def init_app(
        self,
        app: Flask,
        *,
        database: Database | None = None,
        authenticator: Authenticator | None = None,
    ) -> None:
        """Register the API on ``app``. Registering twice on one app is a ``RuntimeError``."""
        if config.EXTENSION_KEY in app.extensions:
            raise RuntimeError("LivechatAnalytics is already registered on this app.")
        config.validate(app.config)
        config.apply_defaults(app.config)
        settings = app.config
        database = database if database is not None else self._defaults["database"]
        client = None
        if database is None:
            client, database = _connect(settings)
        repository = _repository(settings, database)
        authenticator = authenticator or self._defaults["authenticator"]
        if authenticator is None:
            authenticator = RocketChatAuthenticator(
                repository,
                default_roles=config.read(settings, "DEFAULT_ROLES"),
                remember_seconds=config.read(settings, "SETTINGS_SECONDS"),
            )
        state = _state(app, repository, authenticator, client)
        app.extensions[config.EXTENSION_KEY] = state
        app.register_blueprint(blueprint, url_prefix=config.read(settings, "URL_PREFIX"))
        _finish_ours(app, state.metrics)


def _finish_ours(app: Flask, metrics: Metrics | None) -> None:
    """What our paths answer (JSON, the page and its files) leaves without a ``Date`` header, which
    the WSGI server writes (werkzeug's ``make_conditional`` adds one, and gunicorn sent both), is
    counted in the ``metrics`` when they are on, and is compressed as the client accepts, with
    Flask-Compress and its ``COMPRESS_*`` settings; the host's other paths are left as they are."""
    compress = Compress()
    register = app.config.get("COMPRESS_REGISTER")
    app.config["COMPRESS_REGISTER"] = False  # not on every path of the host: after ours only
    compress.init_app(app)
    if register is None:
        del app.config["COMPRESS_REGISTER"]
    else:
        app.config["COMPRESS_REGISTER"] = register

    def start() -> None:
        if _ours():
            g.livechat_analytics_started = time.perf_counter()

    def after(response: Response) -> Response:
        if not _ours():
            return response
        started = g.pop("livechat_analytics_started", None)
        if metrics is not None and started is not None:
            metrics.request(_endpoint(app), response.status_code, time.perf_counter() - started)
        del response.headers["Date"]
        return compress.after_request(whole(response) if response.direct_passthrough else response)

    if metrics is not None:
        app.before_request(start)
    app.after_request(after)


def _ours() -> bool:
    """Whether the request is to a path under the analytics root."""
    return request.blueprint is not None and blueprint.name in request.blueprint.split(".")


def _endpoint(app: Flask) -> str:
    """The metrics' ``endpoint`` of the request: its rule under the analytics root
    (``departments/amount-of-chats``, ``dashboard/static/<path:filename>``), :data:`.metrics.UNROUTED`
    for a path of none: a label per route, never per path a client makes up."""
    rule = request.url_rule
    if rule is None or (request.endpoint or "").endswith(".not_routed"):
        return UNROUTED
    return rule.rule.split(config.read(app.config, "URL_PREFIX"), 1)[-1].lstrip("/")


def _repository(settings: Any, database: Database) -> Repository:
    """The reads of the app's database, with its read preference and collection names."""
    read_preference = _read_preference(config.read(settings, "READ_PREFERENCE"))
    return Repository(
        database.with_options(read_preference=read_preference),
        collection_prefix=config.read(settings, "COLLECTION_PREFIX"),
        users_collection=config.read(settings, "USERS_COLLECTION"),
    )


def _state(
    app: Flask, repository: Repository, authenticator: Authenticator, client: MongoClient | None
) -> State:
    """What the app answers with, from its settings."""
    settings = app.config
    deadline = config.read(settings, "MAX_TIME_MS") / 1000
    cache = _cache(app, settings, deadline)
    metrics = _metrics(settings, repository, deadline)
    answers = Answers(
        None if cache is None else app.extensions["cache"][cache],
        seconds=config.read(settings, "CACHE_SECONDS"),
        scope=repository.database.name,
        wait=deadline,
        breaker_seconds=config.read(settings, "CACHE_BREAKER_SECONDS"),
        looked_up=None if metrics is None else metrics.looked_up,
    )
    state = State(
        repository=repository,
        authenticator=authenticator,
        args_schemas=_args_schemas(settings, _timezone(config.read(settings, "TIMEZONE"))),
        default_inactivity_timeout=config.read(settings, "INACTIVITY_TIMEOUT"),
        department_names=config.read(settings, "DEPARTMENT_NAMES"),
        visitor_details=config.read(settings, "EXPORT_VISITOR_DETAILS"),
        deadline=deadline,
        health_timeout=config.read(settings, "HEALTH_TIMEOUT_MS") / 1000,
        client=client,
        cache=cache,
        answers=answers,
        settings=Recent(config.read(settings, "SETTINGS_SECONDS")),
        vary=_login_headers(authenticator),
        metrics=metrics,
        metrics_token=config.read(settings, "METRICS_TOKEN"),
    )
    state.hub = hub(app, state)
    seconds = config.read(settings, "SLOT_SECONDS")
    if answers.backend is not None and seconds > 0:
        state.days = Days(
            answers,
            repository,
            state.inactivity_timeout,
            seconds=seconds,
            skew=config.read(settings, "SLOT_SKEW_SECONDS"),
        )
    return state


def _metrics(settings: Any, repository: Repository, deadline: float) -> Metrics | None:
    """The app's metrics when ``METRICS`` is on, in prometheus_client's multiprocess mode when
    ``PROMETHEUS_MULTIPROC_DIR`` is set; None when off."""
    if not config.read(settings, "METRICS"):
        return None
    names = config.read(settings, "DEPARTMENT_NAMES")
    return Metrics(
        live_reader(repository, department_names=names),
        department_names=names,
        deadline=deadline,
        failed=database_trouble,
        multiprocess_dir=os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None,
    )


def _cache(app: Flask, settings: Any, deadline: float) -> Cache | None:
    """The Flask-Caching cache of the answers, configured from our keys alone (the host's own
    ``CACHE_*`` settings are for its own cache); None when answers are not kept. A Redis client's
    calls are bounded by the request ``deadline`` (see :func:`.cache.redis_options`)."""
    if config.read(settings, "CACHE_SECONDS") == 0:
        return None
    kind = config.read(settings, "CACHE_TYPE")
    url = config.read(settings, "CACHE_URL")
    chosen: dict[str, Any] = {
        "CACHE_TYPE": kind,
        "CACHE_KEY_PREFIX": "livechat_analytics:",
        "CACHE_DEFAULT_TIMEOUT": config.read(settings, "CACHE_SECONDS"),
        # The room table keeps a day of slots an entry: a year's window of them, and the answers.
        "CACHE_THRESHOLD": 5000,
    }
    if url is not None:
        if "Memcached" in kind:
            chosen["CACHE_MEMCACHED_SERVERS"] = [server.strip() for server in url.split(",")]
        else:
            chosen["CACHE_REDIS_URL"] = url
    chosen.update(config.read(settings, "CACHE_CONFIG") or {})
    # Not init_app(app): Flask-Caching would start from app.config, the host's CACHE_* keys included.
    cache = Cache(with_jinja2_ext=False)
    host_config = app.config
    try:
        if kind == "RedisCache":  # the host's CACHE_OPTIONS win over ours, key by key
            chosen["CACHE_OPTIONS"] = {**redis_options(deadline), **(chosen.get("CACHE_OPTIONS") or {})}
        app.config = type(host_config)(host_config.root_path)  # type: ignore[assignment]
        cache.init_app(app, chosen)
    except (ImportError, RuntimeError) as error:  # Flask-Caching raises either
        raise RuntimeError(
            f"LIVECHAT_ANALYTICS_CACHE_TYPE {kind} needs a client library that is not installed: {error}"
        ) from error
    finally:
        app.config = host_config  # type: ignore[assignment]
    return cache


def _login_headers(authenticator: Authenticator) -> tuple[str, ...]:
    """The request headers the authenticator logs users in with, from its OpenAPI schemes."""
    schemes = authenticator.security_schemes or {}
    return tuple(
        scheme["name"]
        for scheme in schemes.values()
        if scheme.get("type") == "apiKey" and scheme.get("in") == "header"
    )


def _connect(settings: Any) -> tuple[MongoClient, Database]:
    uri = config.read(settings, "MONGO_URI")
    if not uri:
        raise RuntimeError(
            "LivechatAnalytics needs a database: set LIVECHAT_ANALYTICS_MONGO_URI or pass database=."
        )
    # connect=False: the app starts while the database is down, and forked workers each connect.
    client: MongoClient = MongoClient(
        uri,
        connect=False,
        tz_aware=True,
        appname="livechat-analytics",
        serverSelectionTimeoutMS=config.read(settings, "SERVER_SELECTION_TIMEOUT_MS"),
    )
    try:
        database = client.get_default_database()
    except ConfigurationError as error:
        client.close()
        raise RuntimeError(
            "LIVECHAT_ANALYTICS_MONGO_URI must name the database, as in mongodb://host:27017/rocketchat."
        ) from error
    return client, database


def _read_preference(mode: str) -> Any:
    try:
        return _READ_PREFERENCES[mode]
    except KeyError:
        raise RuntimeError(
            f"LIVECHAT_ANALYTICS_READ_PREFERENCE must be one of {', '.join(_READ_PREFERENCES)}, not {mode!r}."
        ) from None


def _timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RuntimeError(f"LIVECHAT_ANALYTICS_TIMEZONE is not a known timezone: {name!r}.") from None


def _args_schemas(settings: Any, timezone: ZoneInfo) -> dict[str, ArgsSchema]:
    names = config.read(settings, "DEPARTMENT_NAMES")
    return {
        path: endpoint.args(
            timezone=timezone,
            sortable=(*endpoint.sortable, *(["name"] if names and endpoint.department_rows else [])),
            default_count=config.read(settings, "DEFAULT_COUNT"),
            max_count=config.read(settings, "MAX_COUNT"),
            allow_count_zero=config.read(settings, "ALLOW_COUNT_ZERO"),
        )
        for path, endpoint in ENDPOINTS.items()
    }
