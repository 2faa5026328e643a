"""Configuration keys and their defaults: the one place they are written down.

Every key is read from the host application's ``app.config``. :func:`apply_defaults` fills in the
ones the host left out, so a bare ``LivechatAnalytics(app)`` plus a MongoDB URI is a working setup.
"""

from __future__ import annotations

from typing import Any

PREFIX = "LIVECHAT_ANALYTICS_"
#: Where the extension keeps its per-app state: ``app.extensions[EXTENSION_KEY]`` (not a setting).
EXTENSION_KEY = "livechat_analytics"

#: MongoDB connection string, database name included (``mongodb://host:27017/rocketchat``).
#: Ignored when the host hands a ``database`` to the extension.
MONGO_URI: str | None = None

#: The analytics root: every family is mounted under it (``departments/``, ``dashboards/``, ...).
URL_PREFIX = "/api/v1/livechat/analytics"

#: Prefix of the Rocket.Chat collection names (``rocketchat_room``, ``rocketchat_message``, ...).
COLLECTION_PREFIX = "rocketchat_"

#: Name of the users collection, which Rocket.Chat keeps without the prefix.
USERS_COLLECTION = "users"

#: IANA name of the timezone in which a ``start``/``end`` without an offset is read.
TIMEZONE = "UTC"

#: Rows per page when ``count`` is not given.
DEFAULT_COUNT = 50

#: Largest page; a larger ``count`` is lowered to it.
MAX_COUNT = 100

#: Whether ``count=0`` means "every row" (otherwise it is refused).
ALLOW_COUNT_ZERO = True

#: Roles that hold a permission when the permissions collection has no document for it.
DEFAULT_ROLES = ("admin", "livechat-manager", "livechat-monitor")

#: ``T`` in seconds when the settings collection has no ``Livechat_visitor_inactivity_timeout``:
#: a closed room whose visitor stayed silent that long is abandoned.
INACTIVITY_TIMEOUT = 3600

#: Add each row's department ``name`` (looked up for the page's rows only; ``null`` when unknown).
DEPARTMENT_NAMES = False

#: How long pymongo looks for a usable server before a request answers 503, in milliseconds.
SERVER_SELECTION_TIMEOUT_MS = 5000

#: The deadline of one request, in milliseconds: every read it makes together (user, permission,
#: settings, the aggregate), server selection and socket waits included. Past it the request
#: answers 504 (503 when no server could be selected). Keep it below the WSGI worker's timeout.
MAX_TIME_MS = 20000

#: How long ``GET <root>/health`` waits for the database's answer to a ping, in milliseconds.
HEALTH_TIMEOUT_MS = 2000

#: Read preference of the analytics reads (a pymongo read preference mode name).
READ_PREFERENCE = "secondaryPreferred"

DEFAULTS: dict[str, Any] = {
    PREFIX + name: value
    for name, value in dict(globals()).items()
    if name.isupper() and name not in {"PREFIX", "EXTENSION_KEY", "DEFAULTS"}
}


def apply_defaults(config: dict[str, Any]) -> None:
    """Give every key the host did not set its default, in place."""
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)


def read(config: dict[str, Any], name: str) -> Any:
    """The value of ``LIVECHAT_ANALYTICS_<name>``."""
    return config[PREFIX + name]
