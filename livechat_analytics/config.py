"""Configuration keys and their defaults: the one place they are written down.

Every key is read from the host application's ``app.config``. :func:`apply_defaults` fills in the
ones the host left out, so a bare ``LivechatAnalytics(app)`` plus a MongoDB URI is a working setup;
:func:`validate` refuses a value the key does not take when the extension registers, so a bad setting
stops the app at start instead of failing each request. Next to each default, ``KINDS`` says what
the key takes.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

#: The largest whole number a setting or a parameter takes (``offset``, ``count``, milliseconds): a
#: 32-bit integer, which every MongoDB stage takes (not a setting).
LARGEST_INTEGER = 2**31 - 1


@dataclass(frozen=True)
class Kind:
    """What a key takes: ``description`` in words, ``accepts`` a value, and ``parse`` reads it from
    the text of an environment variable (raising ``ValueError``)."""

    description: str
    accepts: Callable[[Any], bool]
    parse: Callable[[str], Any] = str
    secret: bool = False
    """Never repeat the value in an error: it may hold a password."""


def _whole(minimum: int, maximum: int = LARGEST_INTEGER) -> Kind:
    def parse(text: str) -> int:
        if not re.fullmatch(r"[0-9]+", text.strip()):
            raise ValueError(text)
        return int(text)

    return Kind(
        f"a whole number from {minimum} to {maximum}",
        # bool is an int to Python, but True is no number of milliseconds.
        lambda value: type(value) is int and minimum <= value <= maximum,
        parse,
    )


def _parse_flag(text: str) -> bool:
    words = {"true": True, "1": True, "false": False, "0": False}
    try:
        return words[text.strip().lower()]
    except KeyError:
        raise ValueError(text) from None


_FLAG = Kind(
    "True or False (a bool; in the environment true, false, 1 or 0)", lambda v: type(v) is bool, _parse_flag
)


def _text(*, empty: bool = False) -> Kind:
    return Kind(
        "a string" if empty else "a non-empty string",
        lambda value: isinstance(value, str) and (empty or value != ""),
    )


def _choice(*choices: str) -> Kind:
    return Kind("one of " + ", ".join(choices), lambda value: value in choices)


def _relative_path(example: str) -> Kind:
    return Kind(
        f'a relative path such as "{example}" or "ui/{example}" (letters, digits, "-", "_", "." and'
        ' inner "/")',
        lambda value: (
            isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*", value) is not None
        ),
    )


@functools.cache
def zone_names() -> frozenset[str]:
    """The timezone names a setting or a request may give: those of the IANA database as Python has
    it (``zoneinfo.available_timezones()``), but ``localtime``, which names the host's zone. The
    ``posix/`` and ``right/`` copies and ``posixrules`` are not among them."""
    return frozenset(available_timezones() - {"localtime"})


def known_zone(name: Any) -> ZoneInfo | None:
    """The IANA timezone ``name`` names, or None when it names none of :func:`zone_names` (or is
    not a string): what the ``TIMEZONE`` setting and a request's ``timezone`` may give. No name is
    ever handed to the database: days and hours are placed in Python."""
    if not isinstance(name, str) or name not in zone_names():
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _known_timezone(value: Any) -> bool:
    return known_zone(value) is not None


def _parse_object(text: str) -> dict[str, Any] | None:
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError(text) from None
    if not isinstance(value, dict):
        raise ValueError(text)
    return value


def _parse_roles(text: str) -> tuple[str, ...]:
    return tuple(role.strip() for role in text.split(",") if role.strip())


KINDS: dict[str, Kind] = {}
"""What each key takes, by name without the prefix."""

PREFIX = "LIVECHAT_ANALYTICS_"
#: Where the extension keeps its per-app state: ``app.extensions[EXTENSION_KEY]`` (not a setting).
EXTENSION_KEY = "livechat_analytics"

#: MongoDB connection string, database name included (``mongodb://host:27017/rocketchat``).
#: Ignored when the host hands a ``database`` to the extension.
MONGO_URI: str | None = None
KINDS["MONGO_URI"] = Kind(
    "None or a mongodb:// or mongodb+srv:// URI",
    lambda value: (
        value is None or (isinstance(value, str) and value.startswith(("mongodb://", "mongodb+srv://")))
    ),
    lambda text: text or None,
    secret=True,
)

#: The analytics root: every family is mounted under it (``departments/``, ``dashboards/``, ...).
URL_PREFIX = "/api/v1/livechat/analytics"
KINDS["URL_PREFIX"] = Kind(
    'a path that starts with "/" and does not end with "/"',
    lambda value: isinstance(value, str) and value.startswith("/") and not value.endswith("/"),
)

#: Prefix of the Rocket.Chat collection names (``rocketchat_room``, ``rocketchat_message``, ...).
COLLECTION_PREFIX = "rocketchat_"
KINDS["COLLECTION_PREFIX"] = _text(empty=True)

#: Name of the users collection, which Rocket.Chat keeps without the prefix.
USERS_COLLECTION = "users"
KINDS["USERS_COLLECTION"] = _text()

#: IANA name of the timezone in which a ``start``/``end`` without an offset is read.
TIMEZONE = "UTC"
KINDS["TIMEZONE"] = Kind("a known IANA timezone name such as Europe/Berlin", _known_timezone)

#: Rows per page when ``count`` is not given; 0 means every row (only with :data:`ALLOW_COUNT_ZERO`).
#: Set above :data:`MAX_COUNT` it is refused; left as it is, it is lowered to a smaller ``MAX_COUNT``.
DEFAULT_COUNT = 50
KINDS["DEFAULT_COUNT"] = _whole(0)

#: Largest page; a larger ``count`` is lowered to it.
MAX_COUNT = 100
KINDS["MAX_COUNT"] = _whole(1)

#: Whether ``count=0`` means "every row" (otherwise it is refused).
ALLOW_COUNT_ZERO = True
KINDS["ALLOW_COUNT_ZERO"] = _FLAG

#: Roles that hold a permission when the permissions collection has no document for it.
DEFAULT_ROLES = ("admin", "livechat-manager", "livechat-monitor")
KINDS["DEFAULT_ROLES"] = Kind(
    "a list or tuple of role names (in the environment: separated by commas)",
    lambda value: isinstance(value, (list, tuple)) and all(isinstance(role, str) for role in value),
    _parse_roles,
)

#: ``T`` in seconds when the settings collection has no ``Livechat_visitor_inactivity_timeout``:
#: a closed room whose visitor stayed silent that long is abandoned. 0 counts every closed room
#: Rocket.Chat recorded a visitor inactivity for.
INACTIVITY_TIMEOUT = 3600
KINDS["INACTIVITY_TIMEOUT"] = _whole(0)

#: Add each row's department ``name`` (looked up for the page's rows only; ``null`` when unknown).
DEPARTMENT_NAMES = False
KINDS["DEPARTMENT_NAMES"] = _FLAG

#: Add the visitor's name, e-mail address and phone number to the rows of ``conversations`` (JSON
#: and CSV). Off: personal data would leave the server in every answer and every exported file.
EXPORT_VISITOR_DETAILS = False
KINDS["EXPORT_VISITOR_DETAILS"] = _FLAG

#: How long the commands (``ensure-indexes``, ``seed``) look for a usable server, in milliseconds.
#: A request looks for one within its own deadline (``MAX_TIME_MS``), and answers 503 past it.
SERVER_SELECTION_TIMEOUT_MS = 5000
KINDS["SERVER_SELECTION_TIMEOUT_MS"] = _whole(1)

#: The deadline of one request, in milliseconds: every read it makes together (user, permission,
#: settings, the aggregate), server selection and socket waits included. Past it the request
#: answers 504 (503 when no server could be selected). Keep it below the WSGI worker's timeout.
MAX_TIME_MS = 20000
KINDS["MAX_TIME_MS"] = _whole(1)

#: How long ``GET <root>/health`` waits for the database's answer to a ping, in milliseconds.
HEALTH_TIMEOUT_MS = 2000
KINDS["HEALTH_TIMEOUT_MS"] = _whole(1)

#: Read preference of the analytics reads (a pymongo read preference mode name).
READ_PREFERENCE = "secondaryPreferred"
KINDS["READ_PREFERENCE"] = _choice(
    "primary", "primaryPreferred", "secondary", "secondaryPreferred", "nearest"
)

#: Serve the dashboard page (an HTML thin client of this API) at :data:`DASHBOARD_PATH`.
DASHBOARD = True
KINDS["DASHBOARD"] = _FLAG

#: Where the dashboard page is, under the analytics root (its files under ``<path>/static/``).
DASHBOARD_PATH = "dashboard"
KINDS["DASHBOARD_PATH"] = _relative_path("dashboard")

#: Serve the API viewer (Swagger UI over the OpenAPI document, "Try it out" included) at
#: :data:`API_DOCS_PATH`.
API_DOCS = True
KINDS["API_DOCS"] = _FLAG

#: Where the API viewer is, under the analytics root (its files under ``<path>/static/``).
API_DOCS_PATH = "docs"
KINDS["API_DOCS_PATH"] = _relative_path("docs")

#: How long a computed answer is kept and reused, in seconds (``Cache-Control: max-age`` too);
#: 0 computes every request. An answer is at most this old, plus :data:`SETTINGS_SECONDS` for ``T``.
CACHE_SECONDS = 10
KINDS["CACHE_SECONDS"] = _whole(0, 86400)

#: The Flask-Caching backend that keeps the answers: ``SimpleCache`` (in this process) or, shared
#: by several workers or hosts, ``RedisCache`` or ``MemcachedCache`` with :data:`CACHE_URL`; any
#: Flask-Caching ``CACHE_TYPE`` (a dotted path too).
CACHE_TYPE = "SimpleCache"
KINDS["CACHE_TYPE"] = Kind(
    "a Flask-Caching CACHE_TYPE such as SimpleCache, RedisCache or MemcachedCache, or a dotted path",
    lambda value: isinstance(value, str) and re.fullmatch(r"[A-Za-z_][\w.]*", value) is not None,
)

#: Where a shared backend lives: ``redis://host:6379/0`` for ``RedisCache``, ``host:11211`` (several
#: separated by commas) for the Memcached ones. Not used by ``SimpleCache``.
CACHE_URL: str | None = None
KINDS["CACHE_URL"] = Kind(
    "None or a non-empty string", lambda value: value is None or (isinstance(value, str) and value != ""),
    lambda text: text or None, secret=True,
)

#: More Flask-Caching settings for the answer cache (``CACHE_KEY_PREFIX``, ``CACHE_THRESHOLD``,
#: ``CACHE_OPTIONS``, ...), as a dict; in the environment a JSON object.
CACHE_CONFIG: dict[str, Any] | None = None
KINDS["CACHE_CONFIG"] = Kind(
    "None or a dict of Flask-Caching settings whose names start with CACHE_ (in the environment: JSON)",
    lambda value: value is None
    or (isinstance(value, dict) and all(isinstance(key, str) and key.startswith("CACHE_") for key in value)),
    _parse_object,
)

#: How long the room table keeps a day of slots in the answer cache's backend from its first read,
#: in seconds (``docs/room-table.rst``): a later request reads only the quarter hours whose rooms
#: changed (``_updatedAt``) since; a deleted room, or a change that leaves ``_updatedAt`` as it was,
#: shows within this time. 0 keeps none: every panel reads the rooms itself. Needs the answer cache.
SLOT_SECONDS = 900
KINDS["SLOT_SECONDS"] = _whole(0, 86400)

#: How far back, in seconds, before the last look a refresh of the kept slots asks for changed rooms:
#: the clocks of the servers writing ``_updatedAt`` may be behind this one's by up to this much.
SLOT_SKEW_SECONDS = 60
KINDS["SLOT_SKEW_SECONDS"] = _whole(0, 3600)

#: After a call to the answer cache's backend fails or times out, how long each process skips the
#: backend, in seconds: requests are answered from the database meanwhile, then one request tries the
#: backend again. Calls to a shared (Redis) backend time out after a tenth of :data:`MAX_TIME_MS`
#: (0.1 to 0.5 s).
CACHE_BREAKER_SECONDS = 10
KINDS["CACHE_BREAKER_SECONDS"] = _whole(1, 3600)

#: How long this process reuses the permission roles and Rocket.Chat settings it read, in seconds,
#: as Rocket.Chat keeps them in memory: a change takes effect within this time. 0 reads every request.
SETTINGS_SECONDS = 5
KINDS["SETTINGS_SECONDS"] = _whole(0, 3600)

#: Serve the Prometheus exposition at ``<root>/metrics``: the live queue and agent gauges and the
#: service's own request, latency, cache and database-error metrics. Off, the path answers 404.
METRICS = False
KINDS["METRICS"] = _FLAG

#: The bearer token a scraper sends to ``<root>/metrics`` (``Authorization: Bearer <token>``); None
#: asks for the usual login headers and the ``view-livechat-manager`` permission instead.
METRICS_TOKEN: str | None = None
KINDS["METRICS_TOKEN"] = Kind(
    "None or a non-empty string", lambda value: value is None or (isinstance(value, str) and value != ""),
    lambda text: text or None, secret=True,
)

#: How often the live state is read for ``live/stream`` where the database has no change streams
#: (a standalone mongod; replica sets and SecantusDB have them), in seconds.
LIVE_POLL_SECONDS = 5
KINDS["LIVE_POLL_SECONDS"] = Kind(
    "a number of seconds from 0.1 to 3600",
    lambda value: type(value) in (int, float) and 0.1 <= value <= 3600,
    float,
)

#: The most ``live/stream`` streams one process keeps open at once; past it a JSON 503 with
#: ``Retry-After``. Each open stream holds a thread of the WSGI server.
LIVE_MAX_STREAMS = 50
KINDS["LIVE_MAX_STREAMS"] = _whole(1, 10000)

_NOT_SETTINGS = {"PREFIX", "EXTENSION_KEY", "KINDS", "LARGEST_INTEGER"}
DEFAULTS: dict[str, Any] = {
    PREFIX + name: value
    for name, value in dict(globals()).items()
    if name.isupper() and not name.startswith("_") and name not in _NOT_SETTINGS
}
_KINDS_MISSED = set(DEFAULTS) ^ {PREFIX + name for name in KINDS}
if _KINDS_MISSED:  # a new key must say what it takes
    raise ImportError(f"Keys without a kind, or kinds without a key: {sorted(_KINDS_MISSED)}")


def apply_defaults(config: dict[str, Any]) -> None:
    """Give every key the host did not set its default, in place."""
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)


def read(config: dict[str, Any], name: str) -> Any:
    """The value of ``LIVECHAT_ANALYTICS_<name>``."""
    return config[PREFIX + name]


#: Keys that earlier releases had, and what took their place.
REMOVED = {
    "PERMISSION": "each endpoint names the Rocket.Chat permission it needs (view-livechat-manager,"
    " view-livechat-reports); a host with other rules passes its own Authenticator.",
}


def validate(config: Mapping[str, Any]) -> None:
    """Refuse, with a ``RuntimeError`` naming the key and what it takes, a value a key does not take,
    a key with our prefix that we do not know (a typo), and limits that contradict each other.

    ``config`` holds what the host set; a key it left out takes its (valid) default.
    """
    for key in config:
        if key.removeprefix(PREFIX) in REMOVED and key.startswith(PREFIX):
            raise RuntimeError(f"{key} was removed in 0.2.0: {REMOVED[key.removeprefix(PREFIX)]}")
        if key.startswith(PREFIX) and key not in DEFAULTS:
            [closest] = difflib.get_close_matches(key, DEFAULTS, n=1, cutoff=0)
            raise RuntimeError(f"{key} is not a setting of livechat-analytics; did you mean {closest}?")
    for name, kind in KINDS.items():
        key = PREFIX + name
        if key in config and not kind.accepts(config[key]):
            raise RuntimeError(_refusal(key, kind, config[key]))
    # Only a DEFAULT_COUNT the host chose: the default one is lowered to a smaller MAX_COUNT.
    default_count = config.get(PREFIX + "DEFAULT_COUNT")
    max_count = config.get(PREFIX + "MAX_COUNT", MAX_COUNT)
    if default_count is not None and default_count > max_count:
        raise RuntimeError(
            f"{PREFIX}DEFAULT_COUNT ({default_count}) must not be larger than"
            f" {PREFIX}MAX_COUNT ({max_count})."
        )
    if default_count == 0 and config.get(PREFIX + "ALLOW_COUNT_ZERO") is False:
        raise RuntimeError(
            f"{PREFIX}DEFAULT_COUNT can be 0 (every row) only when {PREFIX}ALLOW_COUNT_ZERO is True."
        )


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings that ``LIVECHAT_ANALYTICS_*`` environment variables give, each read as its key's
    type and validated; a ``RuntimeError`` names a variable that is unknown or holds a bad value."""
    settings: dict[str, Any] = {}
    for key, text in environ.items():
        if not key.startswith(PREFIX):
            continue
        kind = KINDS.get(key.removeprefix(PREFIX))
        if kind is None:
            validate({key: text})  # names the closest known variable
            continue
        try:
            settings[key] = kind.parse(text)
        except ValueError:
            raise RuntimeError(_refusal(f"The environment variable {key}", kind, text)) from None
    validate(settings)
    return settings


def _refusal(key: str, kind: Kind, value: Any) -> str:
    if kind.secret:
        return f"{key} must be {kind.description}."
    shown = repr(value)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return f"{key} must be {kind.description}, not {shown}."
