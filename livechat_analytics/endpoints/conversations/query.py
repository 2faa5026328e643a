"""The query string of ``conversations``: the window and the filters of every count that lists
rooms, the target and business time of the service levels, and the page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from marshmallow import ValidationError, fields, validate

from ...schemas import PageQuery, Query, Sort, WholeNumber, choice, flag
from ..common import CLOSED, ONHOLD, OPEN, QUEUED
from ..filters import RATINGS
from ..sla.outcome import OUTCOMES
from ..sla.query import SlaArgsSchema

#: The statuses ``status`` takes, in the order of ``conversations-by-status``.
STATUSES = (OPEN, CLOSED, QUEUED, ONHOLD)
#: What ``slaOutcome`` takes: the four outcomes of a room with a target, and ``noTarget``.
NO_TARGET = "noTarget"
SLA_OUTCOMES = (*OUTCOMES, NO_TARGET)
RATING_MESSAGE = "Must be a whole number from 1 to 5."
STATUS_MESSAGE = "Must be one or more of " + ", ".join(STATUSES) + ", separated by commas."


@dataclass(frozen=True)
class ConversationQuery(PageQuery):
    """A page of rooms and what they are filtered by; None (or empty) filters nothing."""

    sort: tuple[tuple[str, int], ...] = (("createdAt", -1), ("_id", 1))
    agent_id: str | None = None
    statuses: tuple[str, ...] | None = None
    source: str | None = None
    tag: str | None = None
    abandoned: bool | None = None
    transferred: bool | None = None
    sla_outcome: str | None = None
    target: int | None = None
    business_hours: bool = False
    rating: int | None = None


class Statuses(fields.Field):
    """One status or several, separated by commas: ``open,queued``."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple[str, ...]:
        parts: list[str] = value.split(",") if isinstance(value, str) else []
        if not parts or not all(part in STATUSES for part in parts):
            raise ValidationError(STATUS_MESSAGE)
        return tuple(dict.fromkeys(parts))


def _text(description: str, data_key: str) -> fields.String:
    return fields.String(
        data_key=data_key,
        load_default=None,
        validate=validate.Length(min=1, error="Must not be empty."),
        metadata={"description": description},
    )


def _either(description: str) -> fields.Boolean:
    return flag(description, default=None)


class ConversationArgsSchema(SlaArgsSchema):
    """The window, a department, the target and business time of the service levels, the
    filters; the page, newest first by default."""

    query_type: ClassVar[type[Query]] = ConversationQuery

    agent_id = _text("Only the rooms whose last agent (`servedBy._id`) is this one.", "agentId")
    statuses = Statuses(
        data_key="status",
        load_default=None,
        metadata={
            "description": "Only rooms of these statuses (`open`, `closed`, `queued`, `onhold`), "
            "separated by commas; the statuses of `conversations-by-status`.",
            "type": "string",
        },
    )
    source = _text("Only rooms of this source: `source.alias`, else `source.type`.", "source")
    tag = _text("Only rooms that carry this tag.", "tag")
    answered = _either(
        "`true`: rooms whose visitor got an answer only; `false`: the others only (as "
        "`amount-of-chats`); omitted: every room."
    )
    abandoned = _either(
        "`true`: abandoned rooms only (the rule of `total-abandoned-chats`); `false`: the others only."
    )
    transferred = _either("`true`: rooms transferred at least once only; `false`: the others only.")
    sla_outcome = choice(
        SLA_OUTCOMES,
        "Only rooms of this service-level outcome (`sla/compliance`), with `target` and `businessHours`.",
        data_key="slaOutcome",
        load_default=None,
    )
    rating = WholeNumber(
        load_default=None,
        validate=validate.Range(min=1, max=len(RATINGS), error=RATING_MESSAGE),
        error_messages={"invalid": RATING_MESSAGE},
        metadata={
            "description": "Only rooms whose visitor rated the chat this, 1 to 5 "
            "(`surveyFeedback.satisfaction`)."
        },
    )
    sort = Sort(load_default=(("createdAt", -1),))
