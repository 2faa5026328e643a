"""The service-level family, under ``sla/`` and ``trends/sla-compliance``: did each room get its
first answer within its target, counted in calendar or in business time.

A room's target ``T`` is the request's ``target``, else its SLA policy's ``dueTimeInMinutes``
(``slaId``), else none. Its measured value ``m`` is its first response time (with
``businessHours=true``, the business seconds of its wait, :mod:`..hours`). A room with a target is
``met`` (``m <= T``), ``breached`` (``m > T``, or no answer for longer than ``T``), ``pending`` (open,
no answer yet, ``T`` not run out) or ``unansweredWithinTarget`` (closed without an answer before
``T`` ran out). The time without an answer of an open room runs to the moment of the request
(:func:`.outcome.now`), so an answer holding pending rooms changes with time.

Each request reads its window's rooms once: one aggregate whose first stage is the indexed match of
every family, then a ``$project`` of the few fields a room's outcome needs; the SLA policies (a
small collection) and the schedules are read once. The outcomes, groups, percentiles, buckets and
pages are computed in Python, where the business time is: a room's outcome and the tallies in
:mod:`.outcome`, the query strings in :mod:`.query`, the bodies in :mod:`.body`, the endpoints here.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from ...repository import Repository
from ..common import DAY, Context, bucket_starts, dumped, local_iso, milliseconds, timezone_name
from ..row import Endpoint, Family
from ..stored import named
from ..trends import department_series, previous_window
from .body import BreachRowSchema, ComplianceRowSchema, envelope, trend_schema
from .outcome import BREACHED, Measured, Reading, Tally, hours_fields, page_of, read
from .query import (
    GROUPS,
    BreachesArgsSchema,
    ComplianceArgsSchema,
    SlaQuery,
    SlaTrendArgsSchema,
    SlaTrendQuery,
)

# -- What the endpoints compute -------------------------------------------------------------------


def names_asked(query: Any, context: Context) -> bool:
    """Whether department and agent rows carry a name: the setting, or ``names=true``."""
    return context.department_names or bool(getattr(query, "names", False))


def _names(query: SlaQuery, repository: Repository, ids: list[Any]) -> dict[Any, Any]:
    """The names of the groups' departments or agents, by id (None when unknown)."""
    wanted: list[str | None] = [group for group in ids if isinstance(group, str)]
    if query.group_by == "department":
        found = repository.department_names(wanted)
    else:
        users = repository.collection("users").find({"_id": {"$in": wanted}}, {"name": 1})
        found = {user["_id"]: user.get("name") for user in users}
    return {group: named(found.get(group)) for group in ids}


def _naming(query: SlaQuery, context: Context) -> bool:
    """Whether the rows of this query carry a name: department or agent groups, names on."""
    return query.group_by in ("department", "agent") and names_asked(query, context)


def group_rows(
    query: SlaQuery, context: Context, repository: Repository
) -> tuple[list[dict[str, Any]], Reading]:
    """One row per group of the window's rooms (one row for ``none``, rooms or not), and the reading."""
    key = GROUPS[query.group_by]
    reading = read(query, context, repository, asked=() if key is None else (key,))
    tallies: dict[Any, Tally] = {None: Tally()} if key is None else {}
    for measured in reading.rooms:
        tallies.setdefault(None if key is None else measured.room.get(key), Tally()).add(measured)
    rows = [{"_id": group, **tally.row()} for group, tally in tallies.items()]
    if _naming(query, context):
        names = _names(query, repository, list(tallies))
        rows = [{"_id": row["_id"], "name": names[row["_id"]], **row} for row in rows]
    return rows, reading


Rows = Callable[[SlaQuery, Context, Repository], tuple[list[dict[str, Any]], Reading]]


def paged(key: str, rows_of: Rows) -> Callable[[SlaQuery, Context, Repository], dict[str, Any]]:
    """A compute that answers the page of the rows ``rows_of`` gives, under ``key``, with their
    number and, in business time, what the reading says of the schedules."""

    def compute(query: SlaQuery, context: Context, repository: Repository) -> dict[str, Any]:
        rows, reading = rows_of(query, context, repository)
        page = page_of(rows, query)
        return {
            key: page,
            "count": len(page),
            "offset": query.offset,
            "total": len(rows),
            **hours_fields(query, reading),
        }

    return compute


def stream_compliance(
    query: SlaQuery, context: Context, repository: Repository
) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """Every group (or the page asked for), for a CSV answer."""
    rows, _ = group_rows(query, context, repository)
    name_column = ["name"] if _naming(query, context) else []
    columns = [
        "_id",
        *name_column,
        *(name for name in ComplianceRowSchema._declared_fields if name not in ("_id", "name")),
    ]
    return columns, dumped(page_of(rows, query), ComplianceRowSchema())


def breach_rows(
    query: SlaQuery, context: Context, repository: Repository
) -> tuple[list[dict[str, Any]], Reading]:
    """One row per breached room of the window, and the reading."""
    reading = read(query, context, repository, asked=("_id", "departmentId", "agentId", "agentUsername"))
    rows = [
        {
            "_id": measured.room["_id"],
            "ts": measured.room["ts"],
            "departmentId": measured.room.get("departmentId"),
            "agentId": measured.room.get("agentId"),
            "agentUsername": measured.room.get("agentUsername"),
            "target": measured.target,
            "firstResponseSeconds": measured.seconds,
            "overBySeconds": measured.over,
        }
        for measured in reading.rooms
        if measured.outcome == BREACHED
    ]
    return rows, reading


def stream_breaches(
    query: SlaQuery, context: Context, repository: Repository
) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """Every breached room (or the page asked for), for a CSV answer."""
    rows, _ = breach_rows(query, context, repository)
    return list(BreachRowSchema._declared_fields), dumped(page_of(rows, query), BreachRowSchema())


def series(
    query: SlaTrendQuery, rooms: list[Measured], context: Context, repository: Repository
) -> list[dict[str, Any]]:
    """The compliance of ``rooms`` per local bucket of their creation: one series, or one per
    department; every bucket of each series present."""
    starts = bucket_starts(query.start, query.end, query.timezone, query.group_by)
    starts_ms = [milliseconds(start) for start in starts]
    tallies: dict[str | None, list[Tally]] = {}
    if not query.by_department:
        tallies[None] = [Tally() for _ in starts]
    elif query.department_id is not None:
        tallies[query.department_id] = [Tally() for _ in starts]
    for measured in rooms:
        key = measured.room.get("departmentId") if query.by_department else None
        index = bisect.bisect_right(starts_ms, milliseconds(measured.room["ts"])) - 1
        tallies.setdefault(key, [Tally() for _ in starts])[min(max(index, 0), len(starts) - 1)].add(measured)
    labels = [local_iso(start, query.timezone) for start in starts]
    return department_series(query, context, repository, labels, tallies, Tally.bucket)


def compute_trend(query: SlaTrendQuery, context: Context, repository: Repository) -> dict[str, Any]:
    """The series, and with ``compare`` the previous one: both windows read by one aggregate."""
    earlier = previous_window(query.start, query.end) if query.compare == "previous" else None
    reading = read(
        query,
        context,
        repository,
        start=None if earlier is None else earlier[0],
        asked=("departmentId",) if query.by_department else (),
    )
    current = [measured for measured in reading.rooms if measured.room["ts"] >= query.start]
    body: dict[str, Any] = {
        "metric": "sla-compliance",
        "groupBy": query.group_by,
        "timezone": timezone_name(query.timezone),
        "series": series(query, current, context, repository),
    }
    if earlier is not None:
        before = [measured for measured in reading.rooms if measured.room["ts"] < query.start]
        body["previous"] = series(
            replace(query, start=earlier[0], end=earlier[1]), before, context, repository
        )
    return {**body, **hours_fields(query, reading)}


# -- Response schemas -------------------------------------------------------------------------------


# -- The table --------------------------------------------------------------------------------------

_TARGETS = (
    " A room's target is `target` when given, else its SLA policy's `dueTimeInMinutes` * 60 "
    "(`slaId`), else it has none; its wait is `metrics.response.ft` (with `businessHours=true`, "
    "the business seconds of that wait). Met: wait ≤ target; breached: wait > target, or no answer "
    "for longer than the target; pending: open, no answer, target not run out; "
    "unansweredWithinTarget: closed without an answer before the target ran out. An open room's "
    "time without an answer runs to the moment of the request."
)

_COMPLIANCE_FIELDS = tuple(name for name in ComplianceRowSchema._declared_fields if name != "name")
_BREACH_FIELDS = tuple(BreachRowSchema._declared_fields)

FAMILY = Family(
    name="sla",
    description="Service levels: first responses within their targets, in calendar or business time.",
    endpoints=(
        Endpoint(
            path="sla/compliance",
            args=ComplianceArgsSchema,
            response=envelope(ComplianceRowSchema, "groups", "Groups"),
            compute=paged("groups", group_rows),
            stream=stream_compliance,
            sortable=_COMPLIANCE_FIELDS,
            department_rows=True,
            summary="Rooms created in the window met, breached, pending or unanswered within their "
            "response target, with compliance and the waits' p50 and p90, per group.",
            description=_TARGETS,
            example={
                "groups": [
                    {
                        "_id": "GgYvrkAF63aeQmsh4",
                        "eligible": 120,
                        "met": 96,
                        "breached": 18,
                        "pending": 2,
                        "unansweredWithinTarget": 4,
                        "noTarget": 9,
                        "compliance": 84.21,
                        "p50": 41,
                        "p90": 133,
                    }
                ],
                "count": 1,
                "offset": 0,
                "total": 1,
                "success": True,
            },
        ),
        Endpoint(
            path="sla/breaches",
            args=BreachesArgsSchema,
            response=envelope(BreachRowSchema, "breaches", "Breached rooms"),
            compute=paged("breaches", breach_rows),
            stream=stream_breaches,
            sortable=_BREACH_FIELDS,
            summary="The rooms created in the window that breached their response target, furthest "
            "over it first.",
            description=_TARGETS,
            example={
                "breaches": [
                    {
                        "_id": "room1",
                        "ts": "2024-03-01T09:00:00.000Z",
                        "departmentId": "GgYvrkAF63aeQmsh4",
                        "agentId": "agent1",
                        "agentUsername": "ana",
                        "target": 60,
                        "firstResponseSeconds": 95,
                        "overBySeconds": 35,
                    }
                ],
                "count": 1,
                "offset": 0,
                "total": 1,
                "success": True,
            },
        ),
        Endpoint(
            path="trends/sla-compliance",
            args=SlaTrendArgsSchema,
            response=trend_schema(),
            compute=compute_trend,
            summary="Compliance with the response target per local hour, day, ISO week or month of the "
            "rooms' creation.",
            description=_TARGETS,
            example={
                "metric": "sla-compliance",
                "groupBy": DAY,
                "timezone": "Europe/Berlin",
                "series": [
                    {
                        "_id": None,
                        "buckets": [
                            {
                                "start": "2024-03-01T00:00:00+01:00",
                                "eligible": 6,
                                "met": 2,
                                "breached": 2,
                                "compliance": 50.0,
                            },
                            {
                                "start": "2024-03-02T00:00:00+01:00",
                                "eligible": 0,
                                "met": 0,
                                "breached": 0,
                                "compliance": None,
                            },
                        ],
                    }
                ],
                "success": True,
            },
        ),
    ),
)
