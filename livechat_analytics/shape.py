"""How a body becomes the rows of a table, for CSV: every response schema declares its shape.

A schema names its shape in its ``CSV`` class attribute, and :mod:`.render` writes the shape's rows
with the columns they name in the order they first name them (a body without rows: the columns its
schema declares). The shapes:

- :class:`Page`: a page of rows (``departments``, ``agents``), one line per row;
- :class:`Listed`: a list of objects (``totalizers``, a report's ``data``, a bare array), one line
  per object, its keys as columns;
- :class:`Parallel`: parallel lists (``charts-data``), one line per point, the lists' names as
  columns and the body's other values repeated on each line;
- :class:`Keyed`: a body keyed by names (``chats-per-agent``, ``timings``), one line per name, the
  name in ``name``;
- :class:`Flat`: a flat body (``charts/chats``, ``agents-status``), one line;
- :class:`Series`: series of buckets (the trends), one line per bucket of each series.

A shape of one family alone (the heatmap's cells) subclasses :class:`Shape` in that family.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, fields

Row = Mapping[str, Any]


class Shape(ABC):
    """The rows of a (dumped) body, and the columns its schema declares."""

    @abstractmethod
    def rows(self, body: Any) -> list[Row]:
        """One mapping per CSV line."""

    @abstractmethod
    def columns(self, schema: Schema) -> list[str]:
        """The header of a body of ``schema`` that has no rows."""


def _values(schema: Schema | type[Schema]) -> list[str]:
    """A schema's fields as the body names them, ``success`` aside."""
    declared = schema._declared_fields
    return [field.data_key or name for name, field in declared.items() if name != "success"]


def _nested(schema: Schema, key: str) -> type[Schema]:
    """The schema of the objects listed under ``key``."""
    field = schema.fields[key]
    inner = field.inner if isinstance(field, fields.List) else field
    nested = inner.nested if isinstance(inner, fields.Nested) else None
    if not isinstance(nested, type) or not issubclass(nested, Schema):
        raise TypeError(f"{type(schema).__name__}.{key} lists no schema's objects.")
    return nested


@dataclass(frozen=True)
class Page(Shape):
    """The rows of a page, listed under ``key``."""

    key: str

    def rows(self, body: Any) -> list[Row]:
        return list(body[self.key])

    def columns(self, schema: Schema) -> list[str]:
        return _values(_nested(schema, self.key))


@dataclass(frozen=True)
class Listed(Shape):
    """The objects listed under ``key``; with no key, the body is the list."""

    key: str | None = None

    def rows(self, body: Any) -> list[Row]:
        return list(body if self.key is None else body[self.key])

    def columns(self, schema: Schema) -> list[str]:
        return _values(schema if self.key is None else _nested(schema, self.key))


@dataclass(frozen=True)
class Parallel(Shape):
    """Lists of equal length, read across: a line per index."""

    def rows(self, body: Any) -> list[Row]:
        lists = [key for key, value in body.items() if isinstance(value, list)]
        shared = {key: value for key, value in body.items() if key not in lists and key != "success"}
        points = zip(*(body[key] for key in lists), strict=True)
        return [{**shared, **dict(zip(lists, point, strict=True))} for point in points]

    def columns(self, schema: Schema) -> list[str]:
        return _values(schema)


@dataclass(frozen=True)
class Keyed(Shape):
    """A body of named objects, a line per name: objects of ``value``, else of the schema's own
    ``value`` schema."""

    value: type[Schema] | None = None

    def rows(self, body: Any) -> list[Row]:
        return [{"name": name, **value} for name, value in body.items() if name != "success"]

    def columns(self, schema: Schema) -> list[str]:
        return ["name", *_values(self.value or schema.value)]  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Flat(Shape):
    """The body itself, one line."""

    def rows(self, body: Any) -> list[Row]:
        return [{key: value for key, value in body.items() if key != "success"}]

    def columns(self, schema: Schema) -> list[str]:
        return _values(schema)


#: The lists of series a trend body holds, and what ``period`` calls each.
_PERIODS = {"series": "current", "previous": "previous"}


@dataclass(frozen=True)
class Series(Shape):
    """``period`` (``current`` or ``previous``), the series' own fields (the department) and each
    bucket's: a line per bucket of each series."""

    def rows(self, body: Any) -> list[Row]:
        return [
            {"period": period, **{key: value for key, value in one.items() if key != "buckets"}, **bucket}
            for key, period in _PERIODS.items()
            for one in body.get(key) or []
            for bucket in one["buckets"]
        ]

    def columns(self, schema: Schema) -> list[str]:
        series = _nested(schema, "series")
        own = [
            name
            for name in _values(series)
            if name != "buckets" and name not in getattr(series, "OPTIONAL_FIELDS", ())
        ]
        return ["period", *own, *_values(_nested(series(), "buckets"))]
