"""The bodies of the satisfaction family: a page of groups or of rated rooms, and the trend's
series; each declares its CSV shape."""

from __future__ import annotations

from marshmallow import Schema, fields

from ...schemas import Amount, count, envelope_schema
from ..agents import Moment
from ..filters import QUESTIONS, RATINGS
from ..trends import series_body


def _hundredths(description: str) -> Amount:
    return Amount(
        allow_none=True,
        metadata={"description": description + ", rounded half up to two decimals; null over no room."},
    )


def _csat() -> Amount:
    return _hundredths("100 * responses rated 4 or 5 / responses")


def _average() -> Amount:
    return _hundredths("The mean rating of the responses (1 to 5)")


#: The responses per rating, ``"1"`` to ``"5"``.
DistributionSchema = Schema.from_dict(
    {stored: count(f"Responses rated {stored}.") for stored in RATINGS}, name="DistributionSchema"
)


class SatisfactionRowSchema(Schema):
    """One group of served rooms closed in the window, and the ratings their visitors gave."""

    _id = fields.String(
        allow_none=True,
        metadata={
            "description": "The group: a department, agent, tag or source; null for `groupBy=none` "
            "and for the rooms without one."
        },
    )
    closedChats = count("Served rooms (`servedBy` present) closed in the window.")
    responses = count('Of them, rated on the question (a string `"1"` to `"5"`).')
    responseRate = _hundredths("100 * responses / closedChats")
    csat = _csat()
    average = _average()
    distribution = fields.Nested(
        DistributionSchema, metadata={"description": 'The responses per rating, `"1"` to `"5"`.'}
    )
    comments = count("Responses with a non-empty comment (`additionalFeedback`).")


def _rating(question: str) -> fields.Integer:
    return fields.Integer(
        allow_none=True,
        metadata={"description": f"The rating `surveyFeedback.{question}`, 1 to 5; null when not rated."},
    )


class ResponseRowSchema(Schema):
    """One rated room."""

    _id = fields.String(metadata={"description": "The room id."})
    closedAt = Moment(metadata={"description": "When it closed."})
    departmentId = fields.String(allow_none=True, metadata={"description": "Its department; null for none."})
    agentId = fields.String(allow_none=True, metadata={"description": "Its last agent (`servedBy._id`)."})
    agentUsername = fields.String(allow_none=True, metadata={"description": "Its last agent's username."})
    satisfaction = _rating("satisfaction")
    agentKnowledge = _rating("agentKnowledge")
    agentResposiveness = _rating("agentResposiveness")
    agentFriendliness = _rating("agentFriendliness")
    comment = fields.String(
        allow_none=True,
        metadata={
            "description": "The visitor's comment (`additionalFeedback`); null without one. In CSV a "
            "text cell, written so that no spreadsheet runs it as a formula."
        },
    )


def envelope(row: type[Schema], key: str, what: str) -> Schema:
    """The 200 body of a page of ``row`` listed under ``key``, ``total`` counting ``what``."""
    return envelope_schema(row, rows=key, groups=what)


def trend_schema() -> Schema:
    """The 200 body of ``trends/satisfaction``."""
    return series_body(
        "Satisfaction",
        {
            "responses": count("Served rooms closed in the bucket and rated on the question."),
            "csat": _csat(),
            "average": _average(),
        },
        what="Ratings per local bucket of the close: a series for all departments, or one per department.",
        metric="`satisfaction`.",
        head={"question": fields.String(metadata={"description": "The question.", "enum": list(QUESTIONS)})},
    )
