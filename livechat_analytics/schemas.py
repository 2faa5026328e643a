"""What the families share of marshmallow: the query string in (the field types, the argument
schemas every family builds on, the validated :class:`Query`), the page envelope and the error
bodies out. A family's own parameters and bodies live in its module."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from dateutil.parser import isoparse, isoparser
from marshmallow import RAISE, Schema, ValidationError, fields, post_load, types, validate, validates_schema

from .config import LARGEST_INTEGER, known_zone
from .shape import Page

_UTC = dt.timezone.utc
_EARLIEST = dt.datetime.min.replace(tzinfo=_UTC)
_LATEST = dt.datetime.max.replace(tzinfo=_UTC)

#: The most buckets a series may have: the trends' hours, days, weeks or months, the days (or
#: hours) of ``dashboards/charts-data``. Checked when the query is read, before any is built.
MAX_BUCKETS = 1000


def in_calendar(moment: dt.datetime, zone: dt.tzinfo) -> bool:
    """Whether ``moment`` (aware) lies in years 1 to 9999 both in UTC and in ``zone``: the only
    moments Python can name, so the only ones an answer may start, end or label a bucket at."""
    try:
        moment.astimezone(_UTC)
        moment.astimezone(zone)
    except OverflowError:
        return False
    return True


def count(description: str) -> fields.Integer:
    """A field of a body: a whole count, described."""
    return fields.Integer(metadata={"description": description})


def succeeded() -> fields.Boolean:
    """The ``success`` field of every 200 body."""
    return fields.Boolean(metadata={"enum": [True], "description": "Always true on a 200."})


@dataclass(frozen=True)
class Query:
    """A validated request: the window in UTC, the rooms' filters, the timezone and the format. A
    family whose endpoints take more parameters has a subclass of its own (its schema names it)."""

    start: dt.datetime = _EARLIEST
    end: dt.datetime = _LATEST
    #: The rooms of one department only; None for every department.
    department_id: str | None = None
    #: Only rooms whose visitor got an answer (True), only the others (False), or every room.
    answered: bool | None = None
    #: The request's timezone (``timezone``, else the configured one): where days and hours begin.
    timezone: dt.tzinfo = _UTC
    #: ``csv`` when the query asks for CSV (``format=csv``); None leaves it to the ``Accept`` header.
    output: str | None = None


@dataclass(frozen=True)
class PageQuery(Query):
    """A request for a page of rows: which rows, how many and in which order."""

    offset: int = 0
    count: int | None = 50
    #: Whether ``count`` was given: CSV answers every row unless it was.
    count_given: bool = False
    sort: tuple[tuple[str, int], ...] = (("_id", 1),)


def _whole_milliseconds(moment: dt.datetime, *, up: bool) -> dt.datetime:
    """BSON dates hold milliseconds: round a bound inward so the window never grows."""
    extra = moment.microsecond % 1000
    moment = moment - dt.timedelta(microseconds=extra)
    return moment + dt.timedelta(milliseconds=1) if up and extra else moment


#: What a bound whose local time leaves the calendar is told.
CALENDAR_MESSAGE = "Must lie within years 1 to 9999 in the request's timezone as well as in UTC."


class Instant(fields.Field):
    """An ISO 8601 date or date-time, turned into an aware UTC datetime.

    A date-time without offset is read in the schema's timezone. A date alone is the start of that
    day, or with ``end_of_day`` its last millisecond.
    """

    # Marshmallow declares these per instance, merged from the class's: annotated as it does.
    default_error_messages: types.ErrorMessages = {  # noqa: RUF012
        "invalid": "Must be a valid date.",
        "required": "Is required.",
        "calendar": CALENDAR_MESSAGE,
    }

    def __init__(self, *, end_of_day: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.end_of_day = end_of_day

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        zone = _LOAD_ZONE.get()
        try:
            moment = self._parse(value)
        except (TypeError, ValueError, OverflowError) as error:
            raise self.make_error("invalid") from error
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        # A day of year 1 or 9999 in one zone may be one of year 0 or 10000 in another.
        if not in_calendar(moment, zone):
            raise self.make_error("calendar")
        try:
            # Rounding up can leave year 9999: still "not a valid date", never a 500.
            moment = _whole_milliseconds(moment.astimezone(_UTC), up=not self.end_of_day)
        except OverflowError as error:
            raise self.make_error("invalid") from error
        if not in_calendar(moment, zone):
            raise self.make_error("calendar")
        return moment

    def _parse(self, value: Any) -> dt.datetime:
        if not isinstance(value, str):
            raise TypeError(value)
        try:
            day = isoparser().parse_isodate(value)
        except ValueError:
            return isoparse(value)
        # "2024" or "2024-05" parse as a first day, but name no day: refuse them.
        if sum(char.isdigit() for char in value) < 7:
            raise ValueError(value)
        return dt.datetime.combine(day, dt.time.max if self.end_of_day else dt.time.min)


#: The query parameter that names the request's timezone.
TIMEZONE_PARAMETER = "timezone"
#: The timezone of the query being loaded, where :class:`Instant` reads a time without offset: set
#: by :meth:`ArgsSchema.load`, as the schema itself is shared by every request thread.
_LOAD_ZONE: ContextVar[dt.tzinfo] = ContextVar("livechat_analytics_load_zone", default=_UTC)


class TimeZone(fields.Field):
    """An IANA timezone name, such as ``Europe/Berlin``, turned into a ``ZoneInfo``."""

    default_error_messages: types.ErrorMessages = {  # noqa: RUF012 (as marshmallow declares it)
        "invalid": "Must be a known IANA timezone name such as Europe/Berlin.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> ZoneInfo:
        zone = known_zone(value)
        if zone is None:
            raise self.make_error("invalid")
        return zone


class DepartmentId(fields.Field[str | None]):
    """A department id; Rocket.Chat clients send ``''`` or ``undefined`` for "no filter"."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:
        # A query string holds nothing but strings; anything else is no department id either.
        if not isinstance(value, str):
            raise self.make_error("validator_failed")
        return None if value in ("", "undefined") else value


class Sort(fields.Field):
    """A JSON object ``{"<field>": 1 | -1, ...}`` over the fields the schema allows."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple:
        allowed = self.parent.sortable  # type: ignore[union-attr]
        message = (
            f'Must be a JSON object such as {{"{allowed[0]}": 1}} whose keys are among '
            + ", ".join(allowed)
            + " and whose values are 1 or -1."
        )
        try:
            spec = json.loads(value) if isinstance(value, str) else None
        except (ValueError, RecursionError):
            spec = None
        if not isinstance(spec, dict) or not spec:
            raise ValidationError(message)
        for key, direction in spec.items():
            if key not in allowed or type(direction) is not int or direction not in (1, -1):
                raise ValidationError(message)
        return tuple(spec.items())


class WholeNumber(fields.Integer):
    """An integer written in ASCII digits. Python's ``int()`` would also take ``٢``, ``0_2``, ``+5``,
    `` 1 `` and ``-0``, none of which a client means as a page number."""

    # A negative number is left to the range check, whose message says what is allowed.
    _WRITTEN = re.compile(r"[0-9]+|-[0-9]*[1-9][0-9]*")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if not isinstance(value, str) or not self._WRITTEN.fullmatch(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


#: The largest double below which every whole number is exact, so written as an integer.
_EXACT_DOUBLES = 2**53


class Amount(fields.Number):
    """A number in a body: an integer, or a double without a fraction up to 2**53, is written as an
    integer (``882``, never ``882.0``), as Rocket.Chat's JavaScript writes it; any other double as
    a decimal."""

    num_type = float

    def _format_num(self, value: Any) -> int | float:
        if isinstance(value, int) and not isinstance(value, bool):
            return int(value)
        number = float(value)
        return int(number) if number.is_integer() and abs(number) <= _EXACT_DOUBLES else number


def _whole_number(minimum: int) -> list[Callable[[Any], Any]]:
    return [
        validate.Range(
            min=minimum,
            max=LARGEST_INTEGER,
            error=f"Must be a whole number from {minimum} to {LARGEST_INTEGER}.",
        )
    ]


def choice(
    values: tuple[str, ...], description: str, *, error: str | None = None, **kwargs: Any
) -> fields.String:
    """A query parameter that takes one of ``values`` (``error`` says so, by default naming them)."""
    return fields.String(
        validate=validate.OneOf(values, error=error or "Must be one of " + ", ".join(values) + "."),
        metadata={"description": description, "enum": list(values), **kwargs.pop("metadata", {})},
        **kwargs,
    )


class ArgsSchema(Schema):
    """The base of every query schema: unknown parameters are refused, and the schema is made per
    app and endpoint with the app's settings.

    ``timezone`` reads naive times, ``sortable`` names the fields ``sort`` may use, and the page size
    follows the app's limits; a schema uses those of its fields that it has.
    """

    class Meta:
        unknown = RAISE

    #: What a load makes of the parameters: a subclass of :class:`Query` with a field for each.
    query_type: ClassVar[type[Query]] = Query

    error_messages: dict[str, str] = {"unknown": "Is not allowed."}  # noqa: RUF012 (as Schema declares it)

    #: Every endpoint takes these two; they are listed after the endpoint's own parameters.
    zone = TimeZone(
        data_key=TIMEZONE_PARAMETER,
        load_default=None,
        metadata={
            "description": "An IANA timezone name (e.g. `America/Sao_Paulo`, one of Python's "
            "`zoneinfo.available_timezones()`): reads `start`/`end` without an offset and date-only "
            "bounds, and places every day, hour and bucket. Default: the configured reporting timezone.",
            "examples": ["Europe/Berlin"],
        },
    )
    output = choice(
        ("json", "csv"),
        "`csv`: answer CSV (as does `Accept: text/csv`); `json` (the default) answers JSON whatever the "
        "`Accept` header says.",
        error="Must be json or csv.",
        data_key="format",
        load_default=None,
    )

    def __init__(
        self,
        *,
        timezone: dt.tzinfo = _UTC,
        sortable: tuple[str, ...] = ("_id",),
        default_count: int = 50,
        max_count: int = 100,
        allow_count_zero: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.timezone = timezone
        self.sortable = sortable
        self.default_count = default_count
        self.max_count = max_count
        if "count" in self.fields:
            self.fields["count"].validators = _whole_number(0 if allow_count_zero else 1)
        # The shared parameters come last, after the endpoint's own.
        for fields_ in (self.fields, self.load_fields):
            for name in ("zone", "output"):
                if name in fields_:
                    fields_[name] = fields_.pop(name)

    def load(self, data: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Load the parameters, times without an offset read in the request's own timezone (an
        unknown one is the app's here, and refused by its own field)."""
        named = data.get(TIMEZONE_PARAMETER) if isinstance(data, dict) else None
        token = _LOAD_ZONE.set(known_zone(named) or self.timezone)
        try:
            return super().load(data, **kwargs)
        finally:
            _LOAD_ZONE.reset(token)

    def zone_of(self, data: dict[str, Any]) -> dt.tzinfo:
        """The timezone of a request whose parameters are ``data`` (loaded): its own or the app's."""
        return data.get("zone") or self.timezone

    @post_load
    def _to_query(self, data: dict[str, Any], **kwargs: Any) -> Query:
        data["timezone"] = data.pop("zone", None) or self.timezone
        if "count" in data:
            count = data.pop("count")
            data["count_given"] = count is not None
            if count is None:
                count = self.default_count
            data["count"] = None if count == 0 else min(count, self.max_count)
        if "sort" in data:
            # Equal values must still come in one order, or pages would overlap.
            sort = tuple(data.pop("sort"))
            if self.sortable and self.sortable[0] not in dict(sort):
                sort += ((self.sortable[0], 1),)
            data["sort"] = sort
        return self.query_type(**data)


class WindowArgsSchema(ArgsSchema):
    """``start`` and ``end``: the window every endpoint asks about."""

    start = Instant(
        required=True,
        metadata={
            "description": "First moment counted (inclusive): an ISO 8601 date, the start of that day, "
            "or date-time. A date-time without offset is read in the reporting timezone.",
            "examples": ["2024-03-01", "2024-03-01T00:00:00Z"],
        },
    )
    end = Instant(
        required=True,
        end_of_day=True,
        metadata={
            "description": "Last moment counted (inclusive): an ISO 8601 date, the end of that day, "
            'or date-time. It must not be earlier than "start".',
            "examples": ["2024-03-31", "2024-03-31T23:59:59.999Z"],
        },
    )

    @validates_schema
    def _start_not_after_end(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "start" in data and "end" in data and data["start"] > data["end"]:
            raise ValidationError('Must not be later than "end".', field_name="start")


def department_filter(what: str) -> DepartmentId:
    """The optional ``departmentId`` parameter, which keeps ``what`` of that department only."""
    return DepartmentId(
        data_key="departmentId",
        load_default=None,
        metadata={
            "description": f"Only the {what} of this department. An empty value or `undefined` means "
            "every department."
        },
    )


class DashboardArgsSchema(WindowArgsSchema):
    """The window and, optionally, one department."""

    department_id = department_filter("rooms")


class Day(Instant):
    """A calendar day ``YYYY-MM-DD`` in the schema's timezone: its first moment, or with
    ``end_of_day`` its last millisecond."""

    default_error_messages = {  # noqa: RUF012 (as marshmallow declares it)
        "invalid": "Must be a valid date (YYYY-MM-DD).",
        "required": "Is required.",
        "calendar": CALENDAR_MESSAGE,
    }

    def _parse(self, value: Any) -> dt.datetime:
        if not isinstance(value, str) or len(value) != 10:
            raise TypeError(value)
        day = dt.date.fromisoformat(value)
        return dt.datetime.combine(day, dt.time.max if self.end_of_day else dt.time.min)


class PageArgs:
    """``offset``, ``count`` and ``sort``, for schemas whose answer is a page of rows.

    A mixin: put it first among the bases, so its parameters come after the others.
    """

    query_type: ClassVar[type[Query]] = PageQuery

    offset = WholeNumber(
        load_default=0,
        validate=_whole_number(0),
        error_messages={"invalid": "Must be a whole number."},
        metadata={"description": "Rows to skip before the page."},
    )
    count = WholeNumber(load_default=None, error_messages={"invalid": "Must be a whole number."})
    sort = Sort(load_default=(("_id", 1),))


def number_or_text(description: str) -> fields.Raw:
    """A value that is a count (an integer) or a formatted text (a duration, a share, an hour)."""
    return fields.Raw(metadata={"description": description, "type": ["integer", "string"]})


def flag(description: str, *, data_key: str | None = None, default: bool | None = False) -> fields.Boolean:
    """A ``true``/``false`` query parameter (nothing else: ``1``, ``yes`` or ``True`` are 400s)."""
    return fields.Boolean(
        data_key=data_key,
        truthy={"true"},
        falsy={"false"},
        load_default=default,
        error_messages={"invalid": "Must be true or false."},
        metadata={"description": description},
    )


def load_query(schema: ArgsSchema, args: dict[str, list[str]]) -> Query:
    """Validate the query string (each name with all its values) into a :class:`Query`.

    Raises ``ValidationError`` with messages keyed by parameter name: the schema's own parameters
    first, in its order, then the others in the order the client sent them.
    """
    repeated = {name: ["Must be given once."] for name, values in args.items() if len(values) > 1}
    if repeated:
        raise ValidationError(repeated)
    try:
        return schema.load({name: values[0] for name, values in args.items()})
    except ValidationError as error:
        messages = error.normalized_messages()
        known = [field.data_key or name for name, field in schema.fields.items()]
        order = {name: rank for rank, name in enumerate([*known, *args])}
        ordered = dict(sorted(messages.items(), key=lambda item: order.get(item[0], len(order))))
        raise ValidationError(ordered) from error


def envelope_schema(
    row: type[Schema],
    *,
    rows: str = "departments",
    groups: str = "Department groups",
    optional: Mapping[str, fields.Field] | None = None,
) -> Schema:
    """The 200 body: the page of rows, its size, the offset used and the number of groups.

    ``rows`` names the list (``departments``, ``agents``), ``groups`` what ``total`` counts;
    ``optional`` fields come after those, in the bodies of some requests only (never in CSV).
    """
    envelope = Schema.from_dict(
        {
            rows: fields.List(fields.Nested(row), metadata={"description": "This page's rows."}),
            "count": fields.Integer(metadata={"description": "Rows on this page."}),
            "offset": fields.Integer(metadata={"description": "The offset used."}),
            "total": fields.Integer(metadata={"description": f"{groups} before paging."}),
            **(optional or {}),
            "success": succeeded(),
        },
        name=row.__name__.removesuffix("Schema") + "EnvelopeSchema",
    )
    envelope.CSV = Page(rows)  # type: ignore[attr-defined]
    envelope.OPTIONAL_FIELDS = tuple(optional or ())  # type: ignore[attr-defined]
    envelope.__doc__ = "The page of rows, its size, the offset used and the number of groups."
    return envelope()


class ErrorSchema(Schema):
    """The body of every answer other than 200, for the OpenAPI document (:mod:`.errors` builds it)."""

    success = fields.Boolean(
        required=True, validate=validate.Equal(False), metadata={"description": "Always false on an error."}
    )
    error = fields.String(required=True, metadata={"description": "What went wrong, in readable words."})
    errorType = fields.String(
        metadata={
            "description": "A stable name for the kind of error: invalid-params, database-unavailable, "
            "query-timeout, database-error."
        }
    )
    details = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "The messages per query parameter name, where parameters were wrong."},
    )


class InvalidParamsErrorSchema(ErrorSchema):
    """400: the messages per parameter name in ``details``."""

    errorType = fields.String(
        required=True, validate=validate.Equal("invalid-params"), metadata={"description": "invalid-params"}
    )
    details = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        metadata={"description": "The messages per query parameter name."},
    )


class NotLoggedInErrorSchema(ErrorSchema):
    """401, which Rocket.Chat words with ``status`` and ``message`` as well."""

    status = fields.String(required=True, validate=validate.Equal("error"), metadata={"description": "error"})
    message = fields.String(required=True, metadata={"description": "The same words as `error`."})


class DatabaseUnavailableErrorSchema(ErrorSchema):
    """503: the database could not be reached."""

    errorType = fields.String(
        required=True,
        validate=validate.Equal("database-unavailable"),
        metadata={"description": "database-unavailable"},
    )


class QueryTimeoutErrorSchema(ErrorSchema):
    """504: the request ran past its deadline."""

    errorType = fields.String(
        required=True, validate=validate.Equal("query-timeout"), metadata={"description": "query-timeout"}
    )
