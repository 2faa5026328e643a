"""The body of ``conversations``: a page of rooms, one row each, with the metrics the other
endpoints aggregate; it declares its CSV shape (the page's rows)."""

from __future__ import annotations

from marshmallow import Schema, fields

from ...schemas import Amount, envelope_schema
from ..agents import Moment
from ..hours import body_fields
from .query import STATUSES

#: The columns a visitor's personal data fills, only with ``EXPORT_VISITOR_DETAILS`` on.
VISITOR_DETAILS = ("visitorName", "visitorEmail", "visitorPhone")


def _text(description: str) -> fields.String:
    return fields.String(allow_none=True, metadata={"description": description})


def _seconds(description: str) -> Amount:
    return Amount(allow_none=True, metadata={"description": description + ", in seconds; null when missing."})


class ConversationRowSchema(Schema):
    """One room."""

    OPTIONAL_FIELDS = VISITOR_DETAILS

    _id = fields.String(metadata={"description": "The room id."})
    createdAt = Moment(metadata={"description": "When the room was created (`ts`)."})
    closedAt = Moment(allow_none=True, metadata={"description": "When it closed; null while open."})
    status = fields.String(
        metadata={
            "description": "Its one status, as `conversations-by-status` counts it.",
            "enum": list(STATUSES),
        }
    )
    departmentId = _text("Its department; null without one.")
    departmentName = _text("Its department's name; null without one or when unknown.")
    agentId = _text("Its last agent (`servedBy._id`); null when nobody served it.")
    agentUsername = _text("Its last agent's username (`servedBy.username`).")
    source = _text("`source.alias`, else `source.type`; null without either.")
    tags = fields.List(fields.String(), metadata={"description": "Its tags (in CSV: joined with `|`)."})
    firstResponseSeconds = _seconds("Its first response time (`metrics.response.ft`)")
    avgResponseSeconds = _seconds("Its mean response time (`metrics.response.avg`)")
    firstReactionSeconds = _seconds("Its first reaction time (`metrics.reaction.ft`)")
    chatDurationSeconds = _seconds("Its duration (`metrics.chatDuration`)")
    serviceTimeSeconds = _seconds("Its service time (`metrics.serviceTimeDuration`)")
    messages = Amount(allow_none=True, metadata={"description": "Its messages (`msgs`); null when missing."})
    transfers = fields.Integer(
        metadata={"description": "Its transfer messages (`livechat_transfer_history`)."}
    )
    answered = fields.Boolean(
        metadata={"description": "Whether the visitor got an answer (`amount-of-chats`)."}
    )
    abandoned = fields.Boolean(
        metadata={"description": "Whether it was abandoned, by the rule of `total-abandoned-chats`."}
    )
    closer = _text("Who closed it (`user`, `visitor`, ...); null while open.")
    priorityId = _text("Its priority; null without one.")
    slaId = _text("Its SLA policy; null without one.")
    rating = fields.Integer(
        allow_none=True,
        metadata={"description": "The visitor's rating (`surveyFeedback.satisfaction`), 1 to 5; else null."},
    )
    visitorId = _text("Its contact (`contactId`), else its visitor (`v._id`).")
    visitorName = _text("With `EXPORT_VISITOR_DETAILS` on only: the visitor's name (`fname`, else `v.name`).")
    visitorEmail = _text("With `EXPORT_VISITOR_DETAILS` on only: the visitor's first e-mail address.")
    visitorPhone = _text("With `EXPORT_VISITOR_DETAILS` on only: the visitor's first phone number.")


#: The columns every row has, in order: what ``sort`` may name.
COLUMNS = tuple(name for name in ConversationRowSchema._declared_fields if name not in VISITOR_DETAILS)


def envelope() -> Schema:
    """The 200 body: a page of rooms, and what ``businessHours=true`` adds."""
    return envelope_schema(
        ConversationRowSchema, rows="conversations", groups="Rooms", optional=body_fields()
    )
