"""The moment a live state is taken: every wait runs to it, and each body says it in ``at``."""

from __future__ import annotations

import datetime as dt

_UTC = dt.timezone.utc
_SECOND = dt.timedelta(seconds=1)


def now() -> dt.datetime:
    """The moment of the request (tests replace it)."""
    return dt.datetime.now(_UTC)


def instant(moment: dt.datetime) -> str:
    """A moment as Rocket.Chat's REST API writes dates: UTC, milliseconds, ``Z``."""
    utc = moment.astimezone(_UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def whole_seconds(since: dt.datetime, moment: dt.datetime) -> int:
    """Whole seconds from ``since`` to ``moment``, rounded down; 0 when ``since`` is later."""
    return max(0, (moment - since) // _SECOND)
