"""What the satisfaction family counts: the served rooms closed in a window, their ratings on one
question, and the values made of those counts.

Every request reads its rooms in one aggregate. Its first stage matches livechat rooms closed in the
window, which the index ``livechat_analytics_t_closed`` (``t``, ``closedAt``) serves, so a request
reads the window's closed rooms and no others; the department, the agent, the service and the
caller's scope follow in a ``$match`` of their own (SecantusDB scans an index only for a ``$match``
it covers whole; MongoDB merges the two). The rooms are then
reduced to their group and their rating and summed by MongoDB: the web process receives one
document per group (or per group and UTC quarter hour, for a trend), never one per room.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..common import Context, Pipeline, both, count_if, in_window, is_set, seen
from ..filters import RATINGS, rating
from ..stored import NOT_ARRAY, is_text

#: The ratings that count as satisfied (CSAT): 4 and 5.
SATISFIED = 4


def closed_rooms(query: Any, context: Context, *, start: dt.datetime | None = None) -> Pipeline:
    """The served livechat rooms of the query's department (and agent) closed in its window (from
    ``start`` when given): ``servedBy`` present, ``closedAt`` a date in the window."""
    conditions: dict[str, Any] = {"servedBy": {"$ne": None}}
    if query.department_id is not None:
        # An array holding the id is no department (stored.py): not the one asked for.
        conditions["departmentId"] = {"$eq": query.department_id, **NOT_ARRAY}
    if query.agent_id is not None:
        conditions["servedBy._id"] = {"$eq": query.agent_id, **NOT_ARRAY}
    closed = {"t": "l", "closedAt": in_window(query.start if start is None else start, query.end)}
    return [{"$match": closed}, {"$match": both(seen(context.scope, query.department_id), conditions)}]


#: An expression: the room's ``additionalFeedback`` is a string of at least one character.
WRITTEN = {
    "$cond": [
        is_text("$surveyFeedback.additionalFeedback"),
        {"$ne": ["$surveyFeedback.additionalFeedback", ""]},
        False,
    ]
}


def rated(question: str, **kept: Any) -> dict[str, Any]:
    """The ``$project`` of a room into its rating on ``question`` (``_rating``, null when not
    rated), whether it holds a comment (``_comment``) and the ``kept`` fields."""
    return {"$project": {"_id": 0, **kept, "_rating": rating(question), "_comment": WRITTEN}}


def sums() -> dict[str, Any]:
    """The accumulators of a group of rooms made by :func:`rated`: the rooms, those rated, the
    satisfied, the ratings' sum, each rating's rooms, and the rated rooms with a comment."""
    answered = is_set("$_rating")
    return {
        "closedChats": {"$sum": 1},
        "responses": count_if(answered),
        "satisfied": count_if({"$and": [answered, {"$gte": ["$_rating", SATISFIED]}]}),
        "sum": {"$sum": {"$ifNull": ["$_rating", 0]}},
        **{f"r{stored}": count_if({"$eq": ["$_rating", int(stored)]}) for stored in RATINGS},
        "comments": count_if({"$and": [answered, "$_comment"]}),
    }


def hundredths(part: int, whole: int, scale: int = 100) -> float | None:
    """``scale * part / whole`` rounded half up to two decimals, in integers first (so exactly);
    None when ``whole`` is 0."""
    if not whole:
        return None
    return (part * scale * 200 + whole) // (2 * whole) / 100


@dataclass
class Tally:
    """The counts of some rooms: added up from the documents of :func:`sums`."""

    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("closedChats", "responses", "satisfied", "sum", "comments", *(f"r{n}" for n in RATINGS)), 0
        )
    )

    def add(self, document: Mapping[str, Any]) -> None:
        """Add one document's counts."""
        for name in self.counts:
            self.counts[name] += int(document.get(name) or 0)

    def row(self) -> dict[str, Any]:
        """A group's values: the rooms, the responses and their rate, CSAT, the mean rating, the
        distribution and the comments."""
        counts = self.counts
        return {
            "closedChats": counts["closedChats"],
            "responses": counts["responses"],
            "responseRate": hundredths(counts["responses"], counts["closedChats"]),
            **self.bucket(),
            "distribution": {stored: counts[f"r{stored}"] for stored in RATINGS},
            "comments": counts["comments"],
        }

    def bucket(self) -> dict[str, Any]:
        """A trend bucket's values: the responses, CSAT and the mean rating."""
        responses = self.counts["responses"]
        return {
            "responses": responses,
            "csat": hundredths(self.counts["satisfied"], responses),
            "average": hundredths(self.counts["sum"], responses, scale=1),
        }
