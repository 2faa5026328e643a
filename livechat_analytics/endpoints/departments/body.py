"""The rows of the department family: a department's id (and name, when asked for) and the
metric's values, one schema per metric."""

from __future__ import annotations

from marshmallow import Schema, fields


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
    rooms = fields.Integer(metadata={"description": "Livechat rooms created in the window (a count)."})


class TotalTransferredChatsSchema(DepartmentRowSchema):
    numberOfTransferredRooms = fields.Integer(
        metadata={"description": "Transfers that happened in the window (a count of transfer events)."}
    )


class AverageServiceTimeSchema(DepartmentRowSchema):
    averageServiceTimeInSeconds = fields.Integer(
        metadata={"description": "Mean time from pickup to the agent's last reply, in seconds, rounded up."}
    )


class TotalServiceTimeSchema(DepartmentRowSchema):
    chats = fields.Integer(metadata={"description": "Closed rooms with a service time (a count)."})
    serviceTimeDuration = fields.Integer(
        metadata={"description": "Their service times added up, in seconds, rounded up."}
    )


class AverageChatDurationTimeSchema(DepartmentRowSchema):
    averageChatDurationTimeInSeconds = fields.Integer(
        metadata={"description": "Mean time from creation to close, in seconds, rounded up."}
    )


class AverageWaitingTimeSchema(DepartmentRowSchema):
    averageWaitingTimeInSeconds = fields.Integer(
        metadata={"description": "Mean time to the agent's first reply, in seconds, rounded up."}
    )


class TotalAbandonedChatsSchema(DepartmentRowSchema):
    abandonedRooms = fields.Integer(
        metadata={"description": "Closed rooms whose visitor stayed silent `T` seconds or more (a count)."}
    )


class PercentageAbandonedChatsSchema(DepartmentRowSchema):
    percentageOfAbandonedChats = fields.Integer(
        metadata={"description": "Abandoned rooms per 100 rooms created in the window, rounded down."}
    )
