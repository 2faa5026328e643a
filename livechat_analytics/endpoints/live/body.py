"""The bodies of the live family: the queue per department with its total, and the agents; each
declares its CSV shape (one line per department, per agent)."""

from __future__ import annotations

from marshmallow import Schema, fields

from ...schemas import Amount, count, succeeded
from ...shape import Page


def _at() -> fields.String:
    return fields.String(
        metadata={
            "description": "The moment of the state (of the request), ISO 8601 in UTC with milliseconds."
        }
    )


class QueueNumbersSchema(Schema):
    """The open rooms of a department (or of all): queued, the oldest wait, open and on hold."""

    queued = count("Open rooms nobody serves, not on hold.")
    oldestWaitSeconds = count(
        "Whole seconds (rounded down) since the earliest queued room was queued (its `queuedAt`, else its "
        "inquiry's, else its `ts`); 0 when none is queued."
    )
    open = count("Open rooms an agent serves, not on hold.")
    onHold = count("Open rooms on hold.")


class DepartmentSchema(Schema):
    """A department: its id, and its name when names are on."""

    OPTIONAL_FIELDS = ("name",)

    _id = fields.String(
        allow_none=True, metadata={"description": "The department id; null for rooms without one."}
    )
    name = fields.String(
        allow_none=True,
        metadata={
            "description": "The department's name (null when unknown); only when names are on or asked for."
        },
    )


class QueueRowSchema(QueueNumbersSchema, DepartmentSchema):
    """One department with open rooms: the department first, then its numbers."""


class QueueSchema(Schema):
    """The queue now: a row per department with open rooms, and the same numbers over all of them."""

    CSV = Page("departments")

    departments = fields.List(
        fields.Nested(QueueRowSchema),
        metadata={"description": "One row per department with open rooms, null first, then by id."},
    )
    total = fields.Nested(QueueNumbersSchema, metadata={"description": "Over every department together."})
    at = _at()
    success = succeeded()


class AgentRowSchema(Schema):
    """One agent now."""

    _id = fields.String(metadata={"description": "The agent's user id."})
    username = fields.String(allow_none=True, metadata={"description": "The username; null when unknown."})
    name = fields.String(allow_none=True, metadata={"description": "The name; null when unknown."})
    status = fields.String(
        metadata={
            "description": "`online`, `away`, `busy` or `offline` (also for a missing or unknown status).",
            "enum": ["online", "away", "busy", "offline"],
        }
    )
    statusLivechat = fields.String(
        metadata={
            "description": "`available`, or `not-available` for anything else stored.",
            "enum": ["available", "not-available"],
        }
    )
    openChats = count("Open rooms the agent serves (`servedBy._id`), not on hold.")
    onHoldChats = count("Open rooms the agent serves, on hold.")
    maxChats = fields.Integer(
        allow_none=True,
        metadata={
            "description": "The agent's `livechat.maxNumberSimultaneousChat` when above 0, else the "
            "`Livechat_maximum_chats_per_agent` setting when above 0, else null."
        },
    )
    occupancy = Amount(
        allow_none=True,
        metadata={
            "description": "`openChats / maxChats` rounded half up to two decimals; null without a maximum."
        },
    )


class AgentsSchema(Schema):
    """The agents now, sorted by username."""

    CSV = Page("agents")

    agents = fields.List(
        fields.Nested(AgentRowSchema), metadata={"description": "One row per agent, by username."}
    )
    at = _at()
    success = succeeded()
