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
#: The last moment a date may hold that Python (and so the answer) can read.
_LAST_DATE = dt.datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=dt.timezone.utc)
#: A double so large that a double added to it is rounded to an even number, where a Decimal128
#: keeps its fraction; a power of ten, so every backend turns it into the same decimal.
_LARGE = 1e16


def _rounded_odd(value: Any, fraction: float) -> dict[str, Any]:
    """Whether ``value + fraction``, added to :data:`_LARGE` and taken away again, is anything but
    an even number: never for a double (the sum is rounded to one), and for a Decimal128 (mixed
    with a double, MongoDB computes in decimal) whenever ``value + fraction`` is no even number."""
    kept = {"$subtract": [{"$add": [value, fraction, _LARGE]}, _LARGE]}
    return {"$ne": [{"$mod": [kept, 2]}, 0]}


def _is_decimal(value: Any) -> dict[str, Any]:
    """Whether a number from 0 to :data:`LARGEST` is a Decimal128: of two fractions a quarter
    apart, at least one gives no even number ($type would say it at once, but mongomock does not
    know it)."""
    return {"$or": [_rounded_odd(value, 0.5), _rounded_odd(value, 0.25)]}


def is_number(value: Any) -> dict[str, Any]:
    """An expression: ``value`` is a double, int or long from 0 to :data:`LARGEST` (NaN, the
    infinities, Decimal128, negative numbers and every other type are not)."""
    in_range = {"$and": [{"$gte": [value, 0]}, {"$lte": [value, LARGEST]}]}
    # Nested $cond, not $and: each test runs only on what passed the one before.
    checked = {"$cond": [in_range, {"$eq": [_is_decimal(value), False]}, False]}
    return {"$cond": [{"$isNumber": value}, checked, False]}


def number(value: Any) -> dict[str, Any]:
    """An expression: ``value`` as a double when :func:`is_number`, else null; sums of them are
    sums of doubles, which no number of rooms overflows."""
    return {"$cond": [is_number(value), {"$add": [value, 0.0]}, None]}


def is_date(value: Any) -> dict[str, Any]:
    """An expression: ``value`` is a BSON date that Python reads (year 9999 at the latest)."""
    return {"$and": [{"$gt": [value, True]}, {"$lte": [value, _LAST_DATE]}]}


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


def named(value: Any) -> str | None:
    """A name read in Python (a department's, from the repository): itself when it is a string,
    else None, as an unknown one."""
    return value if isinstance(value, str) else None
