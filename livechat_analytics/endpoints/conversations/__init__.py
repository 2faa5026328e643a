"""The list of conversations, ``conversations``: the rooms behind every count, one row each, with
the metrics the other endpoints aggregate, filtered by the rules those counts use.

A request is one aggregate: the indexed window match of every family (with ``answered`` as
``amount-of-chats`` takes it, :func:`.departments.created_rooms`), the filters, then the page and
the total in one ``$facet``. Sorted by ``createdAt`` or ``_id`` (the default), only the page's rooms
are made rows; the transfer count and the department name are joined (``$lookup``, by index) to the
page's rows only, and the visitor's details read for them in one small read; a sort on another
column makes every room a row first, a sort on a joined column joins every room. ``transferred``
and ``slaOutcome`` read their rooms' ids first (the transfer messages since ``start``; the service
levels' outcome, which needs Python); ``businessHours=true`` measures the rows in Python, then
sorts and pages them there.
The rows' rules are shared: :mod:`.filters`, :data:`.common.STATUS`, :func:`.common.is_abandoned`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from ...repository import STREAM_BATCH_SIZE, UNIT, Repository
from ..common import (
    STATUS,
    TRANSFER_MESSAGE,
    Context,
    Pipeline,
    dumped,
    first_of,
    first_text,
    is_abandoned,
    paged,
    with_ties,
)
from ..common import page_stages as stages_of_page
from ..departments import created_rooms
from ..filters import ANSWERED, RATING, SOURCE
from ..hours import (
    DURATION_FIELDS,
    chat_duration,
    in_business_time,
    read_rooms,
    required_schedules,
    service_time,
)
from ..hours import waiting as waiting_time
from ..row import Endpoint, Family
from ..sla.outcome import ordered, read
from ..stored import NOT_ARRAY, is_date, named, number, text, texts, where
from .body import COLUMNS, VISITOR_DETAILS, ConversationRowSchema, envelope
from .query import NO_TARGET, ConversationArgsSchema, ConversationQuery

#: The envelope's list.
ROWS = "conversations"
#: The columns joined from other collections, which a sort on them joins for every room.
JOINED = ("transfers", "departmentName")

# -- The rooms ----------------------------------------------------------------------------------------


def row_fields(context: Context) -> dict[str, Any]:
    """The ``$project`` of a room into its row (the joined columns aside), each value read by its
    kind (:mod:`.stored`): a value of the wrong type is a missing one."""
    fields: dict[str, Any] = {
        "_id": 1,
        "createdAt": "$ts",
        "closedAt": {"$cond": [is_date("$closedAt"), "$closedAt", None]},
        "status": STATUS,
        "departmentId": text("$departmentId"),
        "agentId": text("$servedBy._id"),
        "agentUsername": text("$servedBy.username"),
        "source": SOURCE,
        "tags": texts("$tags"),
        "firstResponseSeconds": number("$metrics.response.ft"),
        "avgResponseSeconds": number("$metrics.response.avg"),
        "firstReactionSeconds": number("$metrics.reaction.ft"),
        "chatDurationSeconds": number("$metrics.chatDuration"),
        "serviceTimeSeconds": number("$metrics.serviceTimeDuration"),
        "messages": number("$msgs"),
        "answered": ANSWERED,
        "abandoned": is_abandoned(context),
        "closer": text("$closer"),
        "priorityId": text("$priorityId"),
        "slaId": text("$slaId"),
        "rating": RATING,
        "visitorId": {"$ifNull": [text("$contactId"), text("$v._id")]},
    }
    if context.visitor_details:
        fields["_visitor"] = {"id": text("$v._id"), "name": {"$ifNull": [text("$fname"), text("$v.name")]}}
    return fields


def _expressions(query: ConversationQuery, context: Context) -> list[dict[str, Any]]:
    """The filters that test a room's values: its status, source, tag, rating, abandonment."""
    tested: list[dict[str, Any]] = []
    if query.statuses:
        tested.append({"$in": [STATUS, list(query.statuses)]})
    if query.source is not None:
        tested.append({"$eq": [SOURCE, query.source]})
    if query.tag is not None:
        tested.append({"$in": [query.tag, texts("$tags")]})
    if query.rating is not None:
        tested.append({"$eq": [RATING, query.rating]})
    if query.abandoned is not None:
        abandoned = is_abandoned(context)
        tested.append({"$eq": [abandoned, query.abandoned]})
    return tested


def conditions(query: ConversationQuery, context: Context, ids: dict[str, Any]) -> dict[str, Any]:
    """The ``$match`` conditions of the query's filters besides the window, the department and
    ``answered``; ``ids`` is the condition on the rooms' ids that :func:`chosen_ids` read."""
    found: dict[str, Any] = dict(ids)
    if query.agent_id is not None:
        found["servedBy._id"] = {"$eq": query.agent_id, **NOT_ARRAY}
    tested = _expressions(query, context)
    if tested:
        found.update(where(*tested))
    return found


def _transferred_ids(query: ConversationQuery, repository: Repository) -> list[Any]:
    """The rooms with a transfer message since ``start`` (a room is transferred after it is made)."""
    pipeline: Pipeline = [
        {"$match": {"t": TRANSFER_MESSAGE, "ts": {"$gte": query.start}}},
        {"$group": {"_id": "$rid"}},
    ]
    return [document["_id"] for document in repository.aggregate("message", pipeline)]


def _outcome_ids(query: ConversationQuery, context: Context, repository: Repository) -> list[Any]:
    """The window's rooms of the outcome asked for, measured as the service-level family does."""
    reading = read(query, context, repository, asked=("_id",))
    return [
        measured.room["_id"]
        for measured in reading.rooms
        if (measured.outcome or NO_TARGET) == query.sla_outcome
    ]


def chosen_ids(query: ConversationQuery, context: Context, repository: Repository) -> dict[str, Any]:
    """A condition on ``_id`` for ``transferred`` and ``slaOutcome`` (empty without them), read
    before the aggregate: both need more than the room itself."""
    either: list[dict[str, Any]] = []
    if query.transferred is not None:
        operator = "$in" if query.transferred else "$nin"
        either.append({"_id": {operator: _transferred_ids(query, repository)}})
    if query.sla_outcome is not None:
        either.append({"_id": {"$in": _outcome_ids(query, context, repository)}})
    if len(either) == 2:
        return {"$and": either}
    return either[0] if either else {}


def pipeline(query: ConversationQuery, context: Context, repository: Repository) -> Pipeline:
    """The query's rooms, unpaged and not yet rows: the window's indexed match first."""
    ids = chosen_ids(query, context, repository)
    return created_rooms(query, context, **conditions(query, context, ids))


def rows_stage(query: ConversationQuery, context: Context) -> dict[str, Any]:
    """The ``$project`` of the rooms into rows; in business time with what their durations are
    measured from."""
    project = row_fields(context)
    if query.business_hours:
        project["_durations"] = DURATION_FIELDS
    return {"$project": project}


# -- The joined columns -----------------------------------------------------------------------------


def joins(context: Context) -> Pipeline:
    """Stages that add the joined columns to every row: what a sort on one of them needs. (A
    message without ``t`` is read as null: mongomock's ``$filter`` loses a missing one.)"""
    transfers = {
        "$filter": {
            "input": "$_messages",
            "as": "m",
            "cond": {"$eq": [{"$ifNull": ["$$m.t", None]}, TRANSFER_MESSAGE]},
        }
    }
    name = {
        "$cond": [{"$eq": [first_of("$_department", "type"), UNIT]}, None, first_text("$_department", "name")]
    }
    return [
        {
            "$lookup": {
                "from": context.names["message"],
                "localField": "_id",
                "foreignField": "rid",
                "as": "_messages",
            }
        },
        {
            "$lookup": {
                "from": context.names["department"],
                "localField": "departmentId",
                "foreignField": "_id",
                "as": "_department",
            }
        },
        {"$set": {"transfers": {"$size": transfers}, "departmentName": name}},
        {"$project": {"_messages": 0, "_department": 0}},
    ]


#: The columns that sort as the stored fields they are read from, by those fields: the window's
#: match leaves only rooms whose ``ts`` is a date.
STORED_ORDER = {"_id": "_id", "createdAt": "ts"}


def page_stages(query: ConversationQuery, context: Context) -> Pipeline:
    """The page's stages over the rooms, the joined columns added to the page's rows. Sorted by
    stored fields (the default), only the page's rooms are made rows; sorted by another column,
    every room is, and joined first when the sort names a joined column."""
    sort = with_ties(query.sort)
    if all(name in STORED_ORDER for name, _ in sort):
        stored = tuple((STORED_ORDER[name], direction) for name, direction in sort)
        rows = [rows_stage(query, context), *joins(context)]
        return stages_of_page(sort=stored, offset=query.offset, count=query.count, annotate=rows)
    page = stages_of_page(
        sort=sort, offset=query.offset, count=query.count, annotate=joins(context), annotated=JOINED
    )
    return [rows_stage(query, context), *page]


def finish(
    rows: list[dict[str, Any]], query: ConversationQuery, context: Context, repository: Repository
) -> list[dict[str, Any]]:
    """Some rows with, when they are switched on, their visitors' details (one read for all)."""
    if context.visitor_details:
        _add_visitors(rows, repository)
    return rows


def _add_visitors(rows: list[dict[str, Any]], repository: Repository) -> None:
    """The visitors' names (from the rooms), first e-mail address and phone number (one read of
    the visitor documents)."""
    ids = list({row["_visitor"]["id"] for row in rows if row["_visitor"]["id"] is not None})
    found = repository.collection("visitor").find({"_id": {"$in": ids}}, {"visitorEmails": 1, "phone": 1})
    visitors = {document["_id"]: document for document in found}
    for row in rows:
        said = row.pop("_visitor")
        visitor = visitors.get(said["id"], {})
        row["visitorName"] = said["name"]
        row["visitorEmail"] = _first(visitor.get("visitorEmails"), "address")
        row["visitorPhone"] = _first(visitor.get("phone"), "phoneNumber")


def _first(listed: Any, key: str) -> str | None:
    """``key`` of the first object of ``listed`` when it is a string, else None."""
    if not isinstance(listed, list) or not listed or not isinstance(listed[0], dict):
        return None
    return named(listed[0].get(key))


# -- Business time ------------------------------------------------------------------------------------


def measured_rows(
    query: ConversationQuery, context: Context, repository: Repository
) -> tuple[list[dict[str, Any]], int]:
    """Every row of the query with its waiting, chat duration and service time in business seconds
    by its department's schedule, and the rows measured without one."""
    schedules = required_schedules(repository)
    rows, without = [], 0
    every = [*pipeline(query, context, repository), rows_stage(query, context), *joins(context)]
    cursor = repository.stream("room", every, any_dates=True)
    for chunk in _chunks(cursor):
        for row in finish(chunk, query, context, repository):
            [room] = read_rooms([row.pop("_durations")])
            schedule = schedules.of(room.get("departmentId"))
            without += schedule is None
            row["firstResponseSeconds"] = waiting_time(room, schedule)
            row["chatDurationSeconds"] = chat_duration(room, schedule)
            row["serviceTimeSeconds"] = service_time(room, schedule)
            rows.append(row)
    return ordered(rows, query.sort), without


def _chunks(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """The rows a batch at a time."""
    iterator = iter(rows)
    while chunk := list(islice(iterator, STREAM_BATCH_SIZE)):
        yield chunk


# -- What the endpoint answers --------------------------------------------------------------------------


def compute(query: ConversationQuery, context: Context, repository: Repository) -> dict[str, Any]:
    """The page and the total: from one aggregate, or in business time from every row."""
    if query.business_hours:
        rows, without = measured_rows(query, context, repository)
        end = None if query.count is None else query.offset + query.count
        page, total, extra = rows[query.offset : end], len(rows), in_business_time(without)
    else:
        every = paged(pipeline(query, context, repository), page_stages(query, context))
        page, total = repository.aggregate_page("room", every)
        page, extra = finish(page, query, context, repository), {}
    return {ROWS: page, "count": len(page), "offset": query.offset, "total": total, **extra}


def stream(
    query: ConversationQuery, context: Context, repository: Repository
) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """The columns and every row (or the page asked for) for a CSV answer, from the cursor, their
    joined columns read a batch at a time; in business time, from the rows measured."""
    columns = [*COLUMNS, *(VISITOR_DETAILS if context.visitor_details else ())]
    schema = ConversationRowSchema()
    if query.business_hours:
        return columns, _csv_cells(dumped(compute(query, context, repository)[ROWS], schema))
    if query.sort[0][0] == "createdAt":
        times, rows = _by_time(query, context, repository)
        return columns, _csv_cells(dumped(rows, schema, close=times))
    cursor = repository.stream("room", [*pipeline(query, context, repository), *page_stages(query, context)])
    rows = (row for chunk in _chunks(cursor) for row in finish(chunk, query, context, repository))
    return columns, _csv_cells(dumped(rows, schema, close=cursor))


def _by_time(
    query: ConversationQuery, context: Context, repository: Repository
) -> tuple[Iterator[dict[str, Any]], Iterator[dict[str, Any]]]:
    """The rows in ``createdAt`` order, a slice of creation times at a time, and the cursor of the
    times (to close). The rooms' creation times are read first (sorted, nothing else) and cut into
    slices of about a batch of rooms (a slice ends where the time changes, so rooms created at once
    stay together); each slice's rooms are read, made rows and joined by an aggregate of their own,
    its first stage the index's range of that slice. No command waits for every room of the window
    to be made a row, and memory holds one slice."""
    base = pipeline(query, context, repository)
    order = {STORED_ORDER[name]: way for name, way in with_ties(query.sort)}
    sorted_times: Pipeline = [{"$project": {"_id": 0, "ts": 1}}, {"$sort": {"ts": query.sort[0][1]}}]
    times = repository.stream("room", [*base, *sorted_times])
    rows = (
        row
        for first, last in time_slices((room["ts"] for room in times), STREAM_BATCH_SIZE)
        for row in _slice(base, (first, last), order, query, context, repository)
    )
    end = None if query.count is None else query.offset + query.count
    return times, islice(rows, query.offset, end)


def _slice(
    base: Pipeline,
    bounds: tuple[Any, Any],
    order: dict[str, int],
    query: ConversationQuery,
    context: Context,
    repository: Repository,
) -> list[dict[str, Any]]:
    """The rows of the rooms of ``base`` created within ``bounds`` (either way round), sorted, with
    the visitors' details when on: the first stage narrowed to that range of the index."""
    narrowed = {**base[0]["$match"], "ts": {"$gte": min(bounds), "$lte": max(bounds)}}
    stages = [{"$match": narrowed}, *base[1:], {"$sort": order}, rows_stage(query, context), *joins(context)]
    return finish(repository.aggregate("room", stages), query, context, repository)


def time_slices(times: Iterable[Any], size: int) -> Iterator[tuple[Any, Any]]:
    """The first and last of consecutive runs of sorted ``times``, each run at least ``size`` long
    (but the last) and ending where the time changes."""
    first = last = None
    taken = 0
    for moment in times:
        if first is None:
            first = moment
        elif taken >= size and moment != last:
            yield first, last
            first, taken = moment, 0
        last = moment
        taken += 1
    if first is not None:
        yield first, last


def _csv_cells(rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Dumped rows as CSV writes them: the tags joined with ``|``."""
    try:
        for row in rows:
            yield {**row, "tags": "|".join(row["tags"])}
    finally:
        rows.close()  # type: ignore[attr-defined]


FAMILY = Family(
    name="conversations",
    description="The rooms behind every count, one row each, filtered as the counts are.",
    endpoints=(
        Endpoint(
            path="conversations",
            args=ConversationArgsSchema,
            response=envelope(),
            compute=compute,
            stream=stream,
            permission="view-livechat-rooms",
            sortable=COLUMNS,
            reads_inactivity_timeout=True,
            summary="The livechat rooms created in the window, one row each with its metrics, "
            "filtered as the counts are.",
            description="Filters: `departmentId`, `agentId`, `status`, `source`, `tag`, `answered`, "
            "`abandoned`, `transferred`, `slaOutcome` (with `target` and `businessHours`), `rating`. "
            "The rows of a window are the rooms `amount-of-chats` counts; default order: newest first.",
            example={
                ROWS: [
                    {
                        "_id": "room1",
                        "createdAt": "2024-03-01T09:00:00.000Z",
                        "closedAt": "2024-03-01T09:12:30.000Z",
                        "status": "closed",
                        "departmentId": "GgYvrkAF63aeQmsh4",
                        "departmentName": "Sales",
                        "agentId": "agent1",
                        "agentUsername": "ana",
                        "source": "widget",
                        "tags": ["billing"],
                        "firstResponseSeconds": 41,
                        "avgResponseSeconds": 35.5,
                        "firstReactionSeconds": 41,
                        "chatDurationSeconds": 750,
                        "serviceTimeSeconds": 700,
                        "messages": 14,
                        "transfers": 1,
                        "answered": True,
                        "abandoned": False,
                        "closer": "user",
                        "priorityId": None,
                        "slaId": None,
                        "rating": 5,
                        "visitorId": "visitor1",
                    }
                ],
                "count": 1,
                "offset": 0,
                "total": 1,
                "success": True,
            },
        ),
    ),
)
