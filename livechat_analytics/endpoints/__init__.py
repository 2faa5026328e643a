"""The endpoints as data: every family is a module holding one :class:`~.row.Family`, a table of
rows, each row an endpoint (:mod:`.row`).

One generic view (:mod:`..views`) serves every row: it authenticates, checks the row's permission,
validates the query with the row's schema, computes the body through the answer cache within the
request's deadline, and renders it with the row's response schema (JSON, or CSV in the shape the
schema declares). Adding an endpoint means adding a row (and its schema) to its family's module.
"""

from __future__ import annotations

from . import (
    agents,
    conversations,
    dashboards,
    departments,
    live,
    overview,
    reports,
    satisfaction,
    sla,
    trends,
)
from .row import Endpoint, Family

#: Every family, in the order of the OpenAPI document's tags.
FAMILIES: tuple[Family, ...] = (
    departments.FAMILY,
    dashboards.FAMILY,
    overview.FAMILY,
    agents.FAMILY,
    reports.FAMILY,
    trends.FAMILY,
    sla.FAMILY,
    conversations.FAMILY,
    satisfaction.FAMILY,
    live.FAMILY,
)

#: Every endpoint of every family, by path.
ENDPOINTS: dict[str, Endpoint] = {row.path: row for family in FAMILIES for row in family.endpoints}
#: The name of each endpoint's family, by path.
FAMILY_OF: dict[str, str] = {row.path: family.name for family in FAMILIES for row in family.endpoints}

__all__ = ["ENDPOINTS", "FAMILIES", "FAMILY_OF", "Endpoint", "Family"]
