"""What the satisfaction family counts: the served rooms closed in a window, their ratings on one
question, and the values made of those counts.

Every request reads its rooms in one aggregate. Its first stage matches livechat rooms closed in the
window, which the index ``livechat_analytics_t_closed`` (``t``, ``closedAt``) serves, so a request
reads the window's closed rooms and no others; the department, the agent, the service and the
caller's scope follow in a ``$match`` of their own (SecantusDB scans an index only for a ``$match``
it covers whole; MongoDB merges the two). The rooms are then
counted by MongoDB per group and per rating and comment as stored (:func:`counted`), which Python
reads (:class:`Tally`): the web process receives a few documents per group (or per group and UTC
quarter hour, for a trend), never one per room.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..common import Context, Pipeline, both, in_window, seen
from ..filters import RATINGS
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
_FEEDBACK = "$surveyFeedback.additionalFeedback"


def rated_only(question: str) -> dict[str, Any]:
    """A ``$match`` condition: the room is rated on ``question`` (the string ``"1"`` to ``"5"``;
    an array holding one is not)."""
    return {f"surveyFeedback.{question}": {"$in": list(RATINGS), **NOT_ARRAY}}


def counted(question: str, *, comments: bool = True, **key: Any) -> dict[str, Any]:
    """The ``$group`` of rooms by ``key`` and by what they hold, as stored: the rating on
    ``question`` (``r``) and two comparisons of the comment, which hold both for a string of at
    least one character only (BSON orders numbers, then strings, then objects and the rest): above
    ``""`` (``c``) and below ``{}`` (``s``); ``n`` rooms each. Raw values and plain comparisons make
    a cheap key, and few groups: :meth:`Tally.add` reads them. Without ``comments`` (a trend), the
    rating only."""
    held: dict[str, Any] = {"r": f"$surveyFeedback.{question}"}
    if comments:
        held.update(c={"$gt": [_FEEDBACK, ""]}, s={"$lt": [_FEEDBACK, {}]})
    return {"$group": {"_id": {**key, **held}, "n": {"$sum": 1}}}


def hundredths(part: int, whole: int, scale: int = 100) -> float | None:
    """``scale * part / whole`` rounded half up to two decimals, in integers first (so exactly);
    None when ``whole`` is 0."""
    if not whole:
        return None
    return (part * scale * 200 + whole) // (2 * whole) / 100


@dataclass
class Tally:
    """The counts of some rooms: added up from the documents of :func:`counted`."""

    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("closedChats", "responses", "satisfied", "sum", "comments", *(f"r{n}" for n in RATINGS)), 0
        )
    )

    def add(self, document: Mapping[str, Any]) -> None:
        """Add the ``n`` rooms of one document of :func:`counted`."""
        held, rooms = document["_id"], int(document["n"])
        counts = self.counts
        counts["closedChats"] += rooms
        stored = held.get("r")
        if not (isinstance(stored, str) and stored in RATINGS):
            return
        counts["responses"] += rooms
        counts[f"r{stored}"] += rooms
        counts["sum"] += int(stored) * rooms
        counts["satisfied"] += rooms if int(stored) >= SATISFIED else 0
        counts["comments"] += rooms if held.get("c") and held.get("s") else 0

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
