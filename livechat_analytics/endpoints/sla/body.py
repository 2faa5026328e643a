"""The bodies of the service-level family: a page of compliance groups or of breached rooms, and
the trend's series; each declares its CSV shape."""

from __future__ import annotations

from marshmallow import Schema, fields

from ...schemas import Amount, count, envelope_schema
from ..agents import Moment
from ..hours import body_fields
from ..trends import series_body


def _compliance_field() -> Amount:
    return Amount(
        allow_none=True,
        metadata={
            "description": "100 * met / (met + breached), rounded half up to two decimals; null when "
            "no room was met or breached."
        },
    )


class ComplianceRowSchema(Schema):
    """One group of rooms: their outcomes, compliance and the percentiles of their waits."""

    OPTIONAL_FIELDS = ("name",)

    _id = fields.String(
        allow_none=True,
        metadata={
            "description": "The group: a department, agent, SLA policy or priority id; null for "
            "`groupBy=none` and for the rooms without one."
        },
    )
    name = fields.String(
        allow_none=True,
        metadata={
            "description": "The department's or agent's name (null when unknown); only when names "
            "are on or asked for, with `groupBy=department` or `agent`."
        },
    )
    eligible = count("Rooms with a target.")
    met = count("Rooms answered within their target (at it included).")
    breached = count("Rooms answered after their target, or unanswered for longer than it.")
    pending = count("Open rooms without an answer whose target has not run out.")
    unansweredWithinTarget = count("Closed rooms without an answer, closed before their target ran out.")
    noTarget = count("Rooms without a target (no `target`, no usable SLA policy).")
    compliance = _compliance_field()
    p50 = fields.Integer(
        allow_none=True,
        metadata={
            "description": "The median wait of the group's answered rooms (nearest rank), in whole "
            "seconds rounded up; null for none."
        },
    )
    p90 = fields.Integer(
        allow_none=True,
        metadata={"description": "The 90th percentile of the same waits (nearest rank); null for none."},
    )


class BreachRowSchema(Schema):
    """One breached room."""

    _id = fields.String(metadata={"description": "The room id."})
    ts = Moment(metadata={"description": "When the room was created."})
    departmentId = fields.String(allow_none=True, metadata={"description": "Its department; null for none."})
    agentId = fields.String(allow_none=True, metadata={"description": "Its last agent (`servedBy._id`)."})
    agentUsername = fields.String(allow_none=True, metadata={"description": "Its last agent's username."})
    target = Amount(metadata={"description": "Its target, in seconds."})
    firstResponseSeconds = Amount(
        allow_none=True,
        metadata={"description": "Its wait for the first answer, in seconds; null when unanswered."},
    )
    overBySeconds = fields.Integer(
        metadata={
            "description": "How far past the target: the wait (or the time without an answer) "
            "less the target, in whole seconds rounded up."
        }
    )


def envelope(row: type[Schema], key: str, what: str) -> Schema:
    """The 200 body of a page of ``row`` listed under ``key``, ``total`` counting ``what``, and what
    ``businessHours=true`` adds."""
    return envelope_schema(row, rows=key, groups=what, optional=body_fields())


def trend_schema() -> Schema:
    """The 200 body of ``trends/sla-compliance``."""
    return series_body(
        "SlaCompliance",
        {
            "eligible": count("Rooms created in the bucket with a target."),
            "met": count("Of them, met."),
            "breached": count("Of them, breached."),
            "compliance": _compliance_field(),
        },
        what="Compliance per local bucket: a series for all departments, or one per department.",
        metric="`sla-compliance`.",
        tail=body_fields(),
    )
