"""The query strings of the satisfaction family: the window on ``closedAt``, a department, an agent,
the question; the groups of ``satisfaction``, the order of the responses, the trend's buckets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from marshmallow import fields, validate

from ...schemas import DashboardArgsSchema, PageArgs, PageQuery, Query, Sort, choice
from ..filters import QUESTIONS
from ..trends import TrendArgsSchema, TrendQuery

#: What ``groupBy`` takes: none, or the groups a room falls in.
GROUPS = ("none", "department", "agent", "tag", "source")


def _agent() -> fields.String:
    return fields.String(
        data_key="agentId",
        load_default=None,
        validate=validate.Length(min=1, error="Must not be empty."),
        metadata={"description": "Only the rooms this agent served last (`servedBy._id`)."},
    )


def _question() -> fields.String:
    return choice(
        QUESTIONS,
        "The question whose ratings count: `satisfaction` (the default), `agentKnowledge`, "
        "`agentResposiveness` (the reference's spelling) or `agentFriendliness`.",
        load_default=QUESTIONS[0],
    )


@dataclass(frozen=True)
class SatisfactionQuery(PageQuery):
    """A page of satisfaction groups, or of rated rooms: the agent, the question, the groups."""

    agent_id: str | None = None
    question: str = QUESTIONS[0]
    group_by: str = "none"


class SatisfactionArgsSchema(PageArgs, DashboardArgsSchema):
    """The window (on ``closedAt``), a department, an agent, the question, the groups, the page."""

    query_type: ClassVar[type[Query]] = SatisfactionQuery

    agent_id = _agent()
    question = _question()
    group_by = choice(
        GROUPS,
        "One row for `none` (the default); per `department`, `agent` (the last agent, `servedBy`), "
        "`tag` (a room counts in each of its tags) or `source` (`source.alias`, else `source.type`); "
        "`_id` null for the rooms without one.",
        data_key="groupBy",
        load_default="none",
    )


class ResponsesArgsSchema(PageArgs, DashboardArgsSchema):
    """The window (on ``closedAt``), a department, an agent, the question, the page (newest first)."""

    query_type: ClassVar[type[Query]] = SatisfactionQuery

    agent_id = _agent()
    question = _question()
    sort = Sort(load_default=(("closedAt", -1),))


@dataclass(frozen=True)
class SatisfactionTrendQuery(TrendQuery):
    """A series of ratings: the trend's query, an agent and the question."""

    agent_id: str | None = None
    question: str = QUESTIONS[0]


class SatisfactionTrendArgsSchema(TrendArgsSchema):
    """The trend's parameters, an agent and the question."""

    query_type = SatisfactionTrendQuery

    agent_id = _agent()
    question = _question()
