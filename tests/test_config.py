"""Configuration checked when the extension registers: every key's type and range, and typos."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from pymongo.database import Database

from livechat_analytics import LivechatAnalytics, config

P = "LIVECHAT_ANALYTICS_"


@pytest.fixture
def register(make_bare_app: Callable[..., Flask], memory: Database) -> Callable[..., Flask]:
    """Register the extension on an app with these settings (named without the prefix)."""

    def run(**settings: object) -> Flask:
        app = make_bare_app(**settings)
        LivechatAnalytics(app, database=memory)
        return app

    return run


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        # Each of these used to start, then answer 500 (or raise TypeError) on every request.
        ({"MAX_TIME_MS": "30s"}, P + "MAX_TIME_MS must be a whole number from 1 to 2147483647, not '30s'."),
        ({"MAX_TIME_MS": -1}, P + "MAX_TIME_MS must be a whole number from 1 to 2147483647, not -1."),
        ({"MAX_TIME_MS": 0}, P + "MAX_TIME_MS must be a whole number from 1 to 2147483647, not 0."),
        ({"MAX_TIME_MS": True}, P + "MAX_TIME_MS must be a whole number from 1 to 2147483647, not True."),
        ({"MAX_COUNT": "abc"}, P + "MAX_COUNT must be a whole number from 1 to 2147483647, not 'abc'."),
        ({"MAX_COUNT": 0}, P + "MAX_COUNT must be a whole number from 1 to 2147483647, not 0."),
        ({"DEFAULT_COUNT": 2.5}, P + "DEFAULT_COUNT must be a whole number from 0 to 2147483647, not 2.5."),
        (
            {"SERVER_SELECTION_TIMEOUT_MS": None},
            P + "SERVER_SELECTION_TIMEOUT_MS must be a whole number from 1 to 2147483647, not None.",
        ),
        (
            {"INACTIVITY_TIMEOUT": -5},
            P + "INACTIVITY_TIMEOUT must be a whole number from 0 to 2147483647, not -5.",
        ),
        (
            {"DEPARTMENT_NAMES": "false"},
            P + "DEPARTMENT_NAMES must be True or False (a bool; in the environment true, false, 1 or 0),"
            " not 'false'.",
        ),
        (
            {"ALLOW_COUNT_ZERO": 1},
            P + "ALLOW_COUNT_ZERO must be True or False (a bool; in the environment true, false, 1 or 0),"
            " not 1.",
        ),
        (
            {"DEFAULT_ROLES": "admin"},
            P + "DEFAULT_ROLES must be a list or tuple of role names (in the environment: separated by"
            " commas), not 'admin'.",
        ),
        (
            {"DEFAULT_ROLES": ["admin", 5]},
            P + "DEFAULT_ROLES must be a list or tuple of role names (in the environment: separated by"
            " commas), not ['admin', 5].",
        ),
        (
            {"TIMEZONE": "Mars/Base"},
            P + "TIMEZONE must be a known IANA timezone name such as Europe/Berlin, not 'Mars/Base'.",
        ),
        (
            {"TIMEZONE": "../../etc/passwd"},
            P + "TIMEZONE must be a known IANA timezone name such as Europe/Berlin, not '../../etc/passwd'.",
        ),
        # Names Python loads but a request may not give (the same list): the leap-second and POSIX
        # copies, and the host's own zone.
        *(
            (
                {"TIMEZONE": name},
                P + f"TIMEZONE must be a known IANA timezone name such as Europe/Berlin, not {name!r}.",
            )
            for name in ("posixrules", "right/UTC", "posix/Europe/Berlin", "localtime")
        ),
        (
            {"READ_PREFERENCE": "secondary_preferred"},
            P + "READ_PREFERENCE must be one of primary, primaryPreferred, secondary, secondaryPreferred,"
            " nearest, not 'secondary_preferred'.",
        ),
        (
            {"URL_PREFIX": "analytics"},
            P
            + 'URL_PREFIX must be a path that starts with "/" and does not end with "/", not \'analytics\'.',
        ),
        (
            {"URL_PREFIX": "/analytics/"},
            P + 'URL_PREFIX must be a path that starts with "/" and does not end with "/",'
            " not '/analytics/'.",
        ),
        ({"USERS_COLLECTION": ""}, P + "USERS_COLLECTION must be a non-empty string, not ''."),
        (
            {"PERMISSION": "view-livechat-manager"},
            P + "PERMISSION was removed in 0.2.0: each endpoint names the Rocket.Chat permission it needs"
            " (view-livechat-manager, view-livechat-reports); a host with other rules passes its own"
            " Authenticator.",
        ),
        ({"COLLECTION_PREFIX": 1}, P + "COLLECTION_PREFIX must be a string, not 1."),
        # The URI may hold a password: never repeated.
        (
            {"MONGO_URI": "postgres://admin:s3cret@db/rc"},
            P + "MONGO_URI must be None or a mongodb:// or mongodb+srv:// URI.",
        ),
        (
            {"DEFAULT_COUNT": 200},
            P + "DEFAULT_COUNT (200) must not be larger than " + P + "MAX_COUNT (100).",
        ),
        (
            {"DEFAULT_COUNT": 0, "ALLOW_COUNT_ZERO": False},
            P + "DEFAULT_COUNT can be 0 (every row) only when " + P + "ALLOW_COUNT_ZERO is True.",
        ),
        (
            {"MAX_COUNTS": 20},
            P + "MAX_COUNTS is not a setting of livechat-analytics; did you mean " + P + "MAX_COUNT?",
        ),
        (
            {"TIME_ZONE": "Europe/Berlin"},
            P + "TIME_ZONE is not a setting of livechat-analytics; did you mean " + P + "TIMEZONE?",
        ),
        (
            {"MAXTIME": 100},
            P + "MAXTIME is not a setting of livechat-analytics; did you mean " + P + "MAX_TIME_MS?",
        ),
    ],
)
def test_a_bad_setting_stops_the_app_at_start(register, settings, message):
    with pytest.raises(RuntimeError) as raised:
        register(**settings)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"DEFAULT_COUNT": 0},
        {"DEFAULT_COUNT": 100, "MAX_COUNT": 100},
        {"DEFAULT_ROLES": ["admin"], "INACTIVITY_TIMEOUT": 0, "COLLECTION_PREFIX": ""},
        {"DEFAULT_ROLES": (), "TIMEZONE": "America/Sao_Paulo", "READ_PREFERENCE": "primary"},
        {"URL_PREFIX": "/analytics", "MONGO_URI": "mongodb+srv://cluster.example/rc", "MAX_TIME_MS": 1},
    ],
)
def test_good_settings_start(register, settings):
    register(**settings)


def test_every_key_says_what_it_takes_and_its_default_is_taken():
    assert set(config.DEFAULTS) == {P + name for name in config.KINDS}
    config.validate(config.DEFAULTS)


def test_other_keys_of_the_host_are_none_of_our_business():
    config.validate({"LIVECHAT_ANALYTICS": 1, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_a_smaller_max_count_lowers_the_default_count(register):
    app = register(MAX_COUNT=20)
    assert app.config[P + "DEFAULT_COUNT"] == 50  # as the host left it; pages hold 20 rows
