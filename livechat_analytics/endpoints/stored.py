"""Read what is stored, as it is stored: one reader per kind of value a pipeline reads.

Rocket.Chat writes numbers, dates and ids of one type each, but a database holds whatever was put
in it. Each reader is an aggregation expression that gives the value when it is of its kind and
null otherwise, so a value of the wrong type counts as a missing one wherever it is read: never as
0, never as an error. ``docs/stored-data.rst`` lists the rules.

The readers use only operators that MongoDB, SecantusDB and mongomock all run: ``$type`` is not
among them, so a kind is told by ``$isNumber`` and by where its values fall in BSON's order of
types (null < numbers < strings < objects < arrays < ... < booleans < dates). They are evaluated
for every room they read, so each is as few operators as its test allows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

#: The largest number read: 2**50 seconds is 35 million years, and any number of them summed as
#: doubles neither overflows nor loses a whole second while the total stays below 2**53.
LARGEST = 2**50
#: The first and last moments a date may hold that Python (and so the answer) can read.
_FIRST_DATE = dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc)
_LAST_DATE = dt.datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=dt.timezone.utc)
#: A factor that takes any number but 0 past the largest double: three of them make every double
#: from 5e-324 up an infinity, where a Decimal128 (up to 1e6144) stays finite.
_HUGE = 1e308


def is_number(value: Any) -> dict[str, Any]:
    """An expression: ``value`` is a double, int or long from 0 to :data:`LARGEST` (NaN, the
    infinities, Decimal128, negative numbers and every other type are not).

    One test after ``$isNumber``: ``value * (LARGEST - value)`` is 0 or more exactly when a number
    is from 0 to :data:`LARGEST` (NaN and the infinities give NaN or -Infinity). Multiplied by
    1e308 three times, a double's product is 0 or Infinity when it is, -Infinity or NaN when not;
    plus 1 and multiplied again, Infinity or not. A Decimal128 computes in decimal, whose range
    no product reaches: never Infinity. Only ``$multiply`` overflows (``$add`` sums its doubles
    more exactly on MongoDB, so none overflows there), and mongomock, whose ``$isNumber`` is false
    for a Decimal128, never computes with one."""
    return _if_number(value, _in_range(value), False)


def _in_range(value: Any) -> dict[str, Any]:
    """An expression on a number (:func:`is_number`): whether it is a double, int or long from 0
    to :data:`LARGEST`."""
    sign = {"$multiply": [value, {"$subtract": [LARGEST, value]}, _HUGE, _HUGE, _HUGE]}
    return {"$eq": [{"$multiply": [{"$add": [sign, 1]}, _HUGE, _HUGE]}, float("inf")]}


def _if_number(value: Any, then: Any, otherwise: Any) -> dict[str, Any]:
    """``then`` when ``value`` is a number (``$isNumber``), else ``otherwise``: a nested $cond,
    not $and, since mongomock's $and evaluates every test and ``then`` only runs on a number."""
    return {"$cond": [{"$isNumber": value}, then, otherwise]}


def number(value: Any) -> dict[str, Any]:
    """An expression: ``value`` as a double when :func:`is_number`, else null; sums of them are
    sums of doubles, which no number of rooms overflows."""
    return _if_number(value, {"$cond": [_in_range(value), {"$add": [value, 0.0]}, None]}, None)


def is_date(value: Any) -> dict[str, Any]:
    """An expression: ``value`` is a BSON date that Python reads (years 1 to 9999)."""
    return {"$and": [{"$gte": [value, _FIRST_DATE]}, {"$lte": [value, _LAST_DATE]}]}


def is_text(value: Any) -> dict[str, Any]:
    """An expression: ``value`` is a string (an id or a label)."""
    return {"$and": [{"$gte": [value, ""]}, {"$lt": [value, {}]}]}


def text(value: Any) -> dict[str, Any]:
    """An expression: ``value`` when it is a string, else null (an id or a label of another type
    names nothing, as a missing one)."""
    return {"$cond": [is_text(value), value, None]}


def boolean(value: Any) -> dict[str, Any]:
    """An expression: ``value`` when it is a boolean, else null."""
    either = {"$and": [{"$gte": [value, False]}, {"$lte": [value, True]}]}
    return {"$cond": [either, value, None]}


def texts(value: Any) -> dict[str, Any]:
    """An expression: the strings of ``value`` when it is an array (tags), else an empty array."""
    items = {"$cond": [{"$isArray": value}, value, []]}
    return {"$filter": {"input": items, "as": "item", "cond": is_text("$$item")}}


def read_once(**readings: Any) -> dict[str, Any]:
    """A stage that evaluates each of ``readings`` (expressions of the readers above) once per
    document, into a field ``_<name>``: the stages after read ``$_<name>``, a number or null, at no
    further cost however often they read it."""
    return {"$set": {f"_{name}": reading for name, reading in readings.items()}}


def where(*conditions: Any) -> dict[str, Any]:
    """A ``$match`` condition that holds when every expression in ``conditions`` does: how a
    stage tests presence with the readers, so a value of the wrong type matches as a missing one."""
    return {"$expr": conditions[0] if len(conditions) == 1 else {"$and": list(conditions)}}


#: A ``$match`` condition on an id field: not an array (an array holding the id would match it).
NOT_ARRAY = {"$not": {"$type": "array"}}


def number_of(value: Any) -> float | None:
    """:func:`number` read in Python, on a value the client has decoded: a double, int or long
    from 0 to :data:`LARGEST`, as a double; anything else (NaN, the infinities, a Decimal128, a
    boolean, a string, ...) None. Cheaper than the expression where a pipeline hands whole fields
    over to Python anyway."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if 0 <= value <= LARGEST else None


def date_of(value: Any) -> dt.datetime | None:
    """A date read in Python, on a value the client has decoded with ``any_dates``
    (:meth:`.Repository.stream`): itself when it is a date Python holds, else None (a date before
    year 1 or after 9999 arrives as a ``bson.DatetimeMS``)."""
    return value if isinstance(value, dt.datetime) else None


def flag_of(value: Any) -> bool:
    """Whether ``value``, decoded by the client, is ``true`` (a missing or odd value is not)."""
    return value is True


def named(value: Any) -> str | None:
    """A name read in Python (a department's, from the repository): itself when it is a string,
    else None, as an unknown one."""
    return value if isinstance(value, str) else None
