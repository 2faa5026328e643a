"""What a room is, as the counts and the list of conversations both read it: its source, its
rating, whether it was answered. Defined once, so that a count and the list behind it cannot
disagree.

Each is a plain MongoDB expression over a room document; the room's status
(:data:`.common.STATUS`) and whether it was abandoned (:func:`.common.is_abandoned`) live in
:mod:`.common` beside the other builders every family uses.
"""

from __future__ import annotations

from typing import Any

from .common import is_not_true
from .stored import text

#: A room's source: its ``source.alias``, else its ``source.type`` (null when neither is a string).
SOURCE = {"$ifNull": [text("$source.alias"), text("$source.type")]}

#: The ratings a visitor gives, as stored (each question of ``surveyFeedback``, a string).
RATINGS = ("1", "2", "3", "4", "5")

#: The questions a visitor answers, as ``surveyFeedback`` names them (the reference's spelling,
#: ``agentResposiveness``).
QUESTIONS = ("satisfaction", "agentKnowledge", "agentResposiveness", "agentFriendliness")


def rating(question: str) -> dict[str, Any]:
    """A room's rating on ``question``: ``surveyFeedback.<question>`` ``"1"`` to ``"5"`` as the
    integer it names; anything else (missing, ``""``, ``"6"``, a number, a list) null."""
    path = f"$surveyFeedback.{question}"
    return {
        "$switch": {
            "branches": [{"case": {"$eq": [path, stored]}, "then": int(stored)} for stored in RATINGS],
            "default": None,
        }
    }


#: A room's rating of the chat (``surveyFeedback.satisfaction``), as :func:`rating` reads it.
RATING = rating("satisfaction")

#: Whether the visitor got an answer, as an expression: ``waitingResponse`` is not true (missing
#: counts as answered), the condition ``answered=true`` puts on the rooms of ``amount-of-chats``
#: (:func:`.departments.created_rooms`).
ANSWERED = is_not_true("$waitingResponse")
