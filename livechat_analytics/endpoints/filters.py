"""What a room is, as the counts and the list of conversations both read it: its source, its
rating, whether it was answered. Defined once, so that a count and the list behind it cannot
disagree.

Each is a plain MongoDB expression over a room document; the room's status
(:data:`.common.STATUS`) and whether it was abandoned (:func:`.common.is_abandoned`) live in
:mod:`.common` beside the other builders every family uses.
"""

from __future__ import annotations

from .common import is_not_true
from .stored import text

#: A room's source: its ``source.alias``, else its ``source.type`` (null when neither is a string).
SOURCE = {"$ifNull": [text("$source.alias"), text("$source.type")]}

#: The ratings a visitor gives, as stored (``surveyFeedback.satisfaction``, a string).
RATINGS = ("1", "2", "3", "4", "5")

#: A room's rating: ``surveyFeedback.satisfaction`` ``"1"`` to ``"5"`` as the integer it names;
#: anything else (missing, ``""``, ``"6"``, a number, a list) null.
RATING = {
    "$switch": {
        "branches": [
            {"case": {"$eq": ["$surveyFeedback.satisfaction", stored]}, "then": int(stored)}
            for stored in RATINGS
        ],
        "default": None,
    }
}

#: Whether the visitor got an answer, as an expression: ``waitingResponse`` is not true (missing
#: counts as answered), the condition ``answered=true`` puts on the rooms of ``amount-of-chats``
#: (:func:`.departments.created_rooms`).
ANSWERED = is_not_true("$waitingResponse")
