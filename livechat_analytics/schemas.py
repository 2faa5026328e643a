"""Marshmallow schemas: the query string in, the ``departments`` envelope out."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, ClassVar

from dateutil.parser import isoparse, isoparser
from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

#: Largest ``offset`` (and ``count``) accepted: a 32-bit integer, which every MongoDB stage takes.
LARGEST_INTEGER = 2**31 - 1

_UTC = dt.timezone.utc
_EARLIEST = dt.datetime.min.replace(tzinfo=_UTC)
_LATEST = dt.datetime.max.replace(tzinfo=_UTC)


@dataclass(frozen=True)
class Query:
    """A validated request: the window in UTC, the filters, the page and its order. Each schema
    fills the fields it has; the others keep their defaults."""

    start: dt.datetime = _EARLIEST
    end: dt.datetime = _LATEST
    department_id: str | None = None
    answered: bool | None = None
    offset: int = 0
    count: int | None = 50
    sort: tuple[tuple[str, int], ...] = (("_id", 1),)
    #: The chart or totalizer asked for (``overview`` and ``agent-overview``).
    name: str | None = None


def _whole_milliseconds(moment: dt.datetime, *, up: bool) -> dt.datetime:
    """BSON dates hold milliseconds: round a bound inward so the window never grows."""
    extra = moment.microsecond % 1000
    moment = moment - dt.timedelta(microseconds=extra)
    return moment + dt.timedelta(milliseconds=1) if up and extra else moment


class Instant(fields.Field):
    """An ISO 8601 date or date-time, turned into an aware UTC datetime.

    A date-time without offset is read in the schema's timezone. A date alone is the start of that
    day, or with ``end_of_day`` its last millisecond.
    """

    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid": "Must be a valid date.",
        "required": "Is required.",
    }

    def __init__(self, *, end_of_day: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.end_of_day = end_of_day

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        zone = self.parent.timezone  # type: ignore[union-attr]
        try:
            moment = self._parse(value)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
            moment = moment.astimezone(_UTC)
            # Rounding up can leave year 9999: still "not a valid date", never a 500.
            return _whole_milliseconds(moment, up=not self.end_of_day)
        except (TypeError, ValueError, OverflowError) as error:
            raise self.make_error("invalid") from error

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


class DepartmentId(fields.String):
    """A department id; Rocket.Chat clients send ``''`` or ``undefined`` for "no filter"."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:
        text = super()._deserialize(value, attr, data, **kwargs)
        return None if text in ("", "undefined") else text


class Sort(fields.Field):
    """A JSON object ``{"<field>": 1 | -1, ...}`` over the fields the schema allows."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple:
        allowed = self.parent.sortable  # type: ignore[union-attr]
        message = (
            'Must be a JSON object such as {"_id": 1} whose keys are among '
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


def _whole_number(minimum: int) -> list[validate.Validator]:
    return [
        validate.Range(
            min=minimum,
            max=LARGEST_INTEGER,
            error=f"Must be a whole number from {minimum} to {LARGEST_INTEGER}.",
        )
    ]


class ArgsSchema(Schema):
    """The base of every query schema: unknown parameters are refused, and the schema is made per
    app and endpoint with the app's settings.

    ``timezone`` reads naive times, ``sortable`` names the fields ``sort`` may use, and the page size
    follows the app's limits; a schema uses those of its fields that it has.
    """

    class Meta:
        unknown = RAISE

    error_messages: ClassVar[dict[str, str]] = {"unknown": "Is not allowed."}

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

    @post_load
    def _to_query(self, data: dict[str, Any], **kwargs: Any) -> Query:
        if "count" in data:
            count = data.pop("count")
            if count is None:
                count = self.default_count
            data["count"] = None if count == 0 else min(count, self.max_count)
        if "sort" in data:
            # Equal values must still come in one order, or pages would overlap.
            sort = tuple(data.pop("sort"))
            if self.sortable and self.sortable[0] not in dict(sort):
                sort += ((self.sortable[0], 1),)
            data["sort"] = sort
        return Query(**data)


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


class DashboardArgsSchema(WindowArgsSchema):
    """The window and, optionally, one department."""

    department_id = DepartmentId(
        data_key="departmentId",
        load_default=None,
        metadata={
            "description": "Only this department's rooms. An empty value or `undefined` means every "
            "department."
        },
    )


class Day(Instant):
    """A calendar day ``YYYY-MM-DD`` in the schema's timezone: its first moment, or with
    ``end_of_day`` its last millisecond."""

    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid": "Must be a valid date (YYYY-MM-DD).",
        "required": "Is required.",
    }

    def _parse(self, value: Any) -> dt.datetime:
        if not isinstance(value, str) or len(value) != 10:
            raise TypeError(value)
        day = dt.date.fromisoformat(value)
        return dt.datetime.combine(day, dt.time.max if self.end_of_day else dt.time.min)


class AgentsStatusArgsSchema(ArgsSchema):
    """Only a department: the agents' status is now, not over a window."""

    department_id = DepartmentId(
        data_key="departmentId",
        load_default=None,
        metadata={
            "description": "Only the agents of this department. An empty value or `undefined` means "
            "every agent."
        },
    )


class OverviewArgsSchema(ArgsSchema):
    """``name`` (one of :attr:`names`), whole days ``from`` and ``to`` in the reporting timezone,
    and optionally a department."""

    #: The values ``name`` takes; a subclass names its own.
    names: ClassVar[tuple[str, ...]] = ()

    name = fields.String(required=True, error_messages={"required": "Is required."})
    start = Day(
        data_key="from",
        required=True,
        metadata={
            "description": "First day counted (inclusive), `YYYY-MM-DD`, from its start in the "
            "reporting timezone.",
            "examples": ["2024-03-01"],
        },
    )
    end = Day(
        data_key="to",
        required=True,
        end_of_day=True,
        metadata={
            "description": 'Last day counted (inclusive), `YYYY-MM-DD`, to its end in the reporting '
            'timezone. It must not be earlier than "from".',
            "examples": ["2024-03-31"],
        },
    )
    department_id = DepartmentId(
        data_key="departmentId",
        load_default=None,
        metadata={
            "description": "Only this department's rooms. An empty value or `undefined` means every "
            "department."
        },
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        allowed = ", ".join(self.names)
        self.fields["name"].validators = [
            validate.OneOf(self.names, error=f"Must be one of: {allowed}.")
        ]
        self.fields["name"].metadata = {
            "description": f"What to answer: one of {allowed}.",
            "enum": list(self.names),
        }

    @validates_schema
    def _from_not_after_to(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "start" in data and "end" in data and data["start"] > data["end"]:
            raise ValidationError('Must not be later than "to".', field_name="from")


class PageArgs:
    """``offset``, ``count`` and ``sort``, for schemas whose answer is a page of rows.

    A mixin: put it first among the bases, so its parameters come after the others.
    """

    offset = fields.Integer(
        load_default=0,
        validate=_whole_number(0),
        error_messages={"invalid": "Must be a whole number."},
        metadata={"description": "Rows to skip before the page."},
    )
    count = fields.Integer(load_default=None, error_messages={"invalid": "Must be a whole number."})
    sort = Sort(load_default=(("_id", 1),))


class DepartmentArgsSchema(PageArgs, DashboardArgsSchema):
    """The query string of the department endpoints."""


class AnsweredArgsSchema(DepartmentArgsSchema):
    """``amount-of-chats`` also filters on whether the visitor got an answer."""

    answered = fields.Boolean(
        truthy={"true"},
        falsy={"false"},
        load_default=None,
        error_messages={"invalid": "Must be true or false."},
        metadata={
            "description": "`true`: rooms whose visitor got an answer only; `false`: the others only; "
            "omitted: every room."
        },
    )


def load_query(schema: ArgsSchema, args: dict[str, list[str]]) -> Query:
    """Validate the query string (each name with all its values) into a :class:`Query`.

    Raises ``ValidationError`` with messages keyed by parameter name.
    """
    repeated = {name: ["Must be given once."] for name, values in args.items() if len(values) > 1}
    if repeated:
        raise ValidationError(repeated)
    return schema.load({name: values[0] for name, values in args.items()})


class DepartmentRowSchema(Schema):
    """One row: ``_id`` is the department id, ``null`` for rooms without a department; ``name``
    only when department names are switched on."""

    _id = fields.String(
        allow_none=True,
        metadata={"description": "The department id; null for rooms without a department."},
    )
    name = fields.String(
        allow_none=True,
        metadata={
            "description": "The department's name (null when unknown); only when names are switched on."
        },
    )


class AmountOfChatsSchema(DepartmentRowSchema):
    rooms = fields.Integer()


class TotalTransferredChatsSchema(DepartmentRowSchema):
    numberOfTransferredRooms = fields.Integer()


class AverageServiceTimeSchema(DepartmentRowSchema):
    averageServiceTimeInSeconds = fields.Integer()


class TotalServiceTimeSchema(DepartmentRowSchema):
    chats = fields.Integer()
    serviceTimeDuration = fields.Integer()


class AverageChatDurationTimeSchema(DepartmentRowSchema):
    averageChatDurationTimeInSeconds = fields.Integer()


class AverageWaitingTimeSchema(DepartmentRowSchema):
    averageWaitingTimeInSeconds = fields.Integer()


class TotalAbandonedChatsSchema(DepartmentRowSchema):
    abandonedRooms = fields.Integer()


class PercentageAbandonedChatsSchema(DepartmentRowSchema):
    percentageOfAbandonedChats = fields.Integer()


def envelope_schema(row: type[DepartmentRowSchema]) -> Schema:
    """The 200 body: the page of rows, its size, the offset used and the number of groups."""
    envelope = Schema.from_dict(
        {
            "departments": fields.List(fields.Nested(row), metadata={"description": "This page's rows."}),
            "count": fields.Integer(metadata={"description": "Rows on this page."}),
            "offset": fields.Integer(metadata={"description": "The offset used."}),
            "total": fields.Integer(metadata={"description": "Department groups before paging."}),
            "success": fields.Boolean(metadata={"enum": [True]}),
        },
        name=row.__name__.removesuffix("Schema") + "EnvelopeSchema",
    )
    envelope.__doc__ = envelope_schema.__doc__.split(": ", 1)[1]  # type: ignore[union-attr]
    return envelope()


class ErrorSchema(Schema):
    """The body of every answer other than 200, for the OpenAPI document (:mod:`.errors` builds it)."""

    success = fields.Boolean(required=True, validate=validate.Equal(False))
    error = fields.String(required=True, metadata={"description": "What went wrong, in readable words."})
    errorType = fields.String(
        metadata={
            "description": "A stable name for the kind of error: invalid-params, database-unavailable, "
            "query-timeout, database-error."
        }
    )
    details = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class InvalidParamsErrorSchema(ErrorSchema):
    """400: the messages per parameter name in ``details``."""

    errorType = fields.String(required=True, validate=validate.Equal("invalid-params"))
    details = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        metadata={"description": "The messages per query parameter name."},
    )


class NotLoggedInErrorSchema(ErrorSchema):
    """401, which Rocket.Chat words with ``status`` and ``message`` as well."""

    status = fields.String(required=True, validate=validate.Equal("error"))
    message = fields.String(required=True)


class DatabaseUnavailableErrorSchema(ErrorSchema):
    """503: the database could not be reached."""

    errorType = fields.String(required=True, validate=validate.Equal("database-unavailable"))


class QueryTimeoutErrorSchema(ErrorSchema):
    """504: the aggregation ran past its time limit."""

    errorType = fields.String(required=True, validate=validate.Equal("query-timeout"))
