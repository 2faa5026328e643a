"""The satisfaction family, under ``satisfaction`` and ``trends/satisfaction``: the ratings
visitors gave their served chats (``surveyFeedback``), per group, room by room, and over time.

A rating is the string ``"1"`` to ``"5"`` (:func:`.filters.rating`); anything else is no rating for
that question. The rooms are the served ones closed in the window (on ``closedAt``). Each request is
one aggregate (:mod:`.score`): the groups and the trend's quarter hours are summed by the
database, the values made and the groups paged in Python (a page of groups is bounded by the
departments, agents, tags or sources); the rated rooms are paged by the database, its total from
the same round trip. The query strings are in :mod:`.query`, the bodies in :mod:`.body`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from ...repository import Repository
from ..common import (
    DAY,
    DEPARTMENT_KEY,
    Context,
    Pipeline,
    bucket_starts,
    dumped,
    local_iso,
    milliseconds,
    page_stages,
    paged,
    quarter_hour,
    slot_bucket,
    timezone_name,
    with_ties,
)
from ..filters import QUESTIONS, RATINGS, rating
from ..row import Endpoint, Family
from ..sla.outcome import page_of
from ..stored import text
from ..trends import department_series, previous_window
from .body import ResponseRowSchema, SatisfactionRowSchema, envelope, trend_schema
from .query import (
    ResponsesArgsSchema,
    SatisfactionArgsSchema,
    SatisfactionQuery,
    SatisfactionTrendArgsSchema,
    SatisfactionTrendQuery,
)
from .score import WRITTEN, Tally, closed_rooms, counted, rated_only

#: What each ``groupBy`` groups the rooms by in the database: the stored values (for ``tag``, the
#: whole array), which :data:`GROUPS` reads. Stored values make a cheap key, and few groups.
GROUP_KEYS: dict[str, Any] = {
    "none": {"$literal": None},
    "department": "$departmentId",
    "agent": "$servedBy._id",
    "source": {"alias": "$source.alias", "type": "$source.type"},
    "tag": "$tags",
}


def _text(stored: Any) -> str | None:
    """A stored id or label: a string, else none (as :func:`.stored.text` reads it)."""
    return stored if isinstance(stored, str) else None


def _source(stored: Any) -> list[str | None]:
    """A room's source from its stored alias and type, as :data:`.filters.SOURCE` reads it."""
    return [_text(stored.get("alias")) or _text(stored.get("type")) if isinstance(stored, dict) else None]


def _tags(stored: Any) -> list[str | None]:
    """A room's groups by tag: each distinct string of its tags (as :func:`.stored.texts` reads
    them), or null for none."""
    tags = sorted({tag for tag in stored if isinstance(tag, str)}) if isinstance(stored, list) else []
    return list(tags) or [None]


#: The groups a room falls in, for each ``groupBy``, from what :data:`GROUP_KEYS` gives: the same
#: values as :data:`.common.DEPARTMENT_KEY`, ``text("$servedBy._id")``, :data:`.filters.SOURCE` and
#: :func:`.stored.texts` (a property compares them), read in Python, where they cost nothing per
#: room.
GROUPS: dict[str, Any] = {
    "none": lambda stored: [None],
    "department": lambda stored: [_text(stored)],
    "agent": lambda stored: [_text(stored)],
    "source": _source,
    "tag": _tags,
}

# -- satisfaction -----------------------------------------------------------------------------------


def groups_pipeline(query: SatisfactionQuery, context: Context) -> Pipeline:
    """The query's rooms counted per stored group key (:data:`GROUP_KEYS`) and rating."""
    return [*closed_rooms(query, context), counted(query.question, g=GROUP_KEYS[query.group_by])]


def group_rows(query: SatisfactionQuery, context: Context, repository: Repository) -> list[dict[str, Any]]:
    """One row per group (one for ``none``, rooms or not), unsorted and unpaged."""
    tallies: dict[Any, Tally] = {None: Tally()} if query.group_by == "none" else {}
    for document in repository.aggregate("room", groups_pipeline(query, context)):
        for group in GROUPS[query.group_by](document["_id"].get("g")):
            tallies.setdefault(group, Tally()).add(document)
    return [{"_id": group, **tally.row()} for group, tally in tallies.items()]


def compute_groups(query: SatisfactionQuery, context: Context, repository: Repository) -> dict[str, Any]:
    """The page of groups and their number."""
    rows = group_rows(query, context, repository)
    page = page_of(rows, query)
    return {"groups": page, "count": len(page), "offset": query.offset, "total": len(rows)}


#: The CSV columns of a group: its fields, the distribution one column per rating.
GROUP_COLUMNS = [
    *(name for name in SatisfactionRowSchema._declared_fields if name not in ("distribution", "comments")),
    *(f"distribution.{stored}" for stored in RATINGS),
    "comments",
]


def stream_groups(
    query: SatisfactionQuery, context: Context, repository: Repository
) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """Every group (or the page asked for), for a CSV answer: a column per rating."""
    rows = page_of(group_rows(query, context, repository), query)
    return GROUP_COLUMNS, (_flat(row) for row in dumped(rows, SatisfactionRowSchema()))


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """A dumped group with its distribution as ``distribution.<rating>`` cells."""
    distribution = row.pop("distribution")
    return {**row, **{f"distribution.{stored}": distribution[stored] for stored in RATINGS}}


# -- satisfaction/responses -------------------------------------------------------------------------


def rated_rooms(query: SatisfactionQuery, context: Context) -> Pipeline:
    """The query's rooms rated on its question, as stored (unsorted, unpaged)."""
    return [*closed_rooms(query, context), {"$match": rated_only(query.question)}]


#: A rated room made a row of ``satisfaction/responses``.
ROW = {
    "$project": {
        "_id": 1,
        "closedAt": 1,
        "departmentId": DEPARTMENT_KEY,
        "agentId": text("$servedBy._id"),
        "agentUsername": text("$servedBy.username"),
        **{name: rating(name) for name in QUESTIONS},
        "comment": {"$cond": [WRITTEN, "$surveyFeedback.additionalFeedback", None]},
    }
}
#: The fields :data:`ROW` makes: a sort on one of them makes every row first; on ``closedAt`` or
#: ``_id`` (the default), only the page's rows are made.
MADE = tuple(name for name in ROW["$project"] if name not in ("_id", "closedAt"))


def response_page(query: SatisfactionQuery, count: int | None) -> Pipeline:
    """The stages of the query's page of rows (every row when ``count`` is None)."""
    sort = with_ties(query.sort)
    return page_stages(sort=sort, offset=query.offset, count=count, annotate=[ROW], annotated=MADE)


def compute_responses(query: SatisfactionQuery, context: Context, repository: Repository) -> dict[str, Any]:
    """The page of rated rooms and their number, from one aggregate."""
    pipeline = paged(rated_rooms(query, context), response_page(query, query.count))
    rows, total = repository.aggregate_page("room", pipeline)
    return {"responses": rows, "count": len(rows), "offset": query.offset, "total": total}


def stream_responses(
    query: SatisfactionQuery, context: Context, repository: Repository
) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """Every rated room (or the page asked for) from the cursor, for a CSV answer."""
    cursor = repository.stream("room", [*rated_rooms(query, context), *response_page(query, query.count)])
    return list(ResponseRowSchema._declared_fields), dumped(cursor, ResponseRowSchema(), close=cursor)


# -- trends/satisfaction ----------------------------------------------------------------------------


def trend_pipeline(query: SatisfactionTrendQuery, context: Context, start: dt.datetime) -> Pipeline:
    """The rated rooms closed from ``start`` to the query's end, summed per UTC quarter hour of
    their close, per department with ``byDepartment``, and apart before and from the query's start."""
    key: dict[str, Any] = {"slot": quarter_hour("$closedAt")}
    if start < query.start:
        key["before"] = {"$lt": ["$closedAt", query.start]}
    if query.by_department:
        key["department"] = "$departmentId"  # as stored: read by series()
    return [
        *closed_rooms(query, context, start=start),
        {"$match": rated_only(query.question)},
        counted(query.question, comments=False, **key),
    ]


def series(
    query: SatisfactionTrendQuery, documents: list[dict[str, Any]], context: Context, repository: Repository
) -> list[dict[str, Any]]:
    """The series of ``documents`` (quarter hours of the query's window): every bucket of each."""
    starts = bucket_starts(query.start, query.end, query.timezone, query.group_by)
    starts_ms = [milliseconds(start) for start in starts]
    tallies: dict[str | None, list[Tally]] = {}
    if not query.by_department:
        tallies[None] = [Tally() for _ in starts]
    elif query.department_id is not None:
        tallies[query.department_id] = [Tally() for _ in starts]
    for document in documents:
        department = _text(document["_id"].get("department"))
        buckets = tallies.setdefault(department, [Tally() for _ in starts])
        buckets[slot_bucket(document["_id"]["slot"], starts_ms)].add(document)
    labels = [local_iso(start, query.timezone) for start in starts]
    return department_series(query, context, repository, labels, tallies, Tally.bucket)


def compute_trend(query: SatisfactionTrendQuery, context: Context, repository: Repository) -> dict[str, Any]:
    """The series, and with ``compare`` the previous one: both windows summed by one aggregate."""
    earlier = previous_window(query.start, query.end) if query.compare == "previous" else None
    start = query.start if earlier is None else earlier[0]
    documents = repository.aggregate("room", trend_pipeline(query, context, start))
    body: dict[str, Any] = {
        "metric": "satisfaction",
        "groupBy": query.group_by,
        "timezone": timezone_name(query.timezone),
        "question": query.question,
        "series": series(query, [d for d in documents if not d["_id"].get("before")], context, repository),
    }
    if earlier is not None:
        before = [d for d in documents if d["_id"].get("before")]
        body["previous"] = series(
            replace(query, start=earlier[0], end=earlier[1]), before, context, repository
        )
    return body


# -- The table --------------------------------------------------------------------------------------

_RATED = (
    " The rooms are the served ones (`servedBy` present) closed in the window (`closedAt`). A "
    'rating is `surveyFeedback.<question>` stored as the string `"1"` to `"5"`; anything else '
    '(missing, `""`, `"0"`, `"6"`, a number, a list) is no rating for that question.'
)

_GROUP_FIELDS = tuple(name for name in SatisfactionRowSchema._declared_fields if name != "distribution")
_RESPONSE_FIELDS = tuple(ResponseRowSchema._declared_fields)

FAMILY = Family(
    name="satisfaction",
    description="Satisfaction: the ratings visitors gave their chats, per group, room by room and over time.",
    endpoints=(
        Endpoint(
            path="satisfaction",
            args=SatisfactionArgsSchema,
            response=envelope(SatisfactionRowSchema, "groups", "Groups"),
            compute=compute_groups,
            stream=stream_groups,
            sortable=_GROUP_FIELDS,
            summary="The served rooms closed in the window, those rated, the response rate, CSAT, "
            "the mean rating, the distribution and the comments, per group.",
            description=_RATED,
            example={
                "groups": [
                    {
                        "_id": None,
                        "closedChats": 10,
                        "responses": 5,
                        "responseRate": 50.0,
                        "csat": 60.0,
                        "average": 3.6,
                        "distribution": {"1": 1, "2": 0, "3": 1, "4": 1, "5": 2},
                        "comments": 2,
                    }
                ],
                "count": 1,
                "offset": 0,
                "total": 1,
                "success": True,
            },
        ),
        Endpoint(
            path="satisfaction/responses",
            args=ResponsesArgsSchema,
            response=envelope(ResponseRowSchema, "responses", "Rated rooms"),
            compute=compute_responses,
            stream=stream_responses,
            sortable=_RESPONSE_FIELDS,
            summary="The served rooms closed in the window and rated on the question, newest first: "
            "their four ratings and the comment.",
            description=_RATED,
            example={
                "responses": [
                    {
                        "_id": "room1",
                        "closedAt": "2024-03-01T09:12:30.000Z",
                        "departmentId": "GgYvrkAF63aeQmsh4",
                        "agentId": "agent1",
                        "agentUsername": "ana",
                        "satisfaction": 5,
                        "agentKnowledge": 4,
                        "agentResposiveness": 5,
                        "agentFriendliness": None,
                        "comment": "Quick and kind, thanks!",
                    }
                ],
                "count": 1,
                "offset": 0,
                "total": 1,
                "success": True,
            },
        ),
        Endpoint(
            path="trends/satisfaction",
            args=SatisfactionTrendArgsSchema,
            response=trend_schema(),
            compute=compute_trend,
            summary="The responses, CSAT and mean rating per local hour, day, ISO week or month of "
            "the rooms' close.",
            description=_RATED,
            example={
                "metric": "satisfaction",
                "groupBy": DAY,
                "timezone": "Europe/Berlin",
                "question": "satisfaction",
                "series": [
                    {
                        "_id": None,
                        "buckets": [
                            {
                                "start": "2024-03-01T00:00:00+01:00",
                                "responses": 5,
                                "csat": 60.0,
                                "average": 3.6,
                            },
                            {
                                "start": "2024-03-02T00:00:00+01:00",
                                "responses": 0,
                                "csat": None,
                                "average": None,
                            },
                        ],
                    }
                ],
                "success": True,
            },
        ),
    ),
)
