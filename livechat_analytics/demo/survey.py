"""What visitors said of their chats: the ratings and comments on part of the closed, served rooms,
as Rocket.Chat's ``livechat/room.survey`` stores them (``surveyFeedback``, each rating a string)."""

from __future__ import annotations

import random

from .document import Document

#: The share of the closed, served rooms whose visitor rated the chat.
_RATED = 0.35
#: How the visitors rate the chat, ``"1"`` to ``"5"``, weighted: most are content.
_SATISFACTION = (("1", 5), ("2", 6), ("3", 14), ("4", 33), ("5", 42))
#: The other questions, each answered by most visitors who rate, near their rating of the chat.
_QUESTIONS = ("agentKnowledge", "agentResposiveness", "agentFriendliness")
_ANSWERED = 0.8
#: The share of ratings that come with a comment, and what visitors write.
_COMMENTED = 0.3
COMMENTS = (
    "Quick and kind, thanks!",
    "Solved my problem in minutes.",
    "I had to wait too long.",
    "The agent did not understand my question.",
    "Good, but I was transferred twice.",
    "Very helpful, thank you",
)


def survey_fields(rng: random.Random, room: Document) -> Document:
    """The ``surveyFeedback`` of a room, drawn from ``rng`` for every room (so the draws do not
    depend on the room): only a closed, served room may have one."""
    draws = [rng.random() for _ in range(3 + len(_QUESTIONS))]
    satisfaction = rng.choices(
        [value for value, _ in _SATISFACTION], [weight for _, weight in _SATISFACTION]
    )[0]
    comment = rng.choice(COMMENTS)
    if "closedAt" not in room or "servedBy" not in room or draws[0] >= _RATED:
        return {}
    feedback: Document = {"satisfaction": satisfaction}
    for question, draw, shift in zip(_QUESTIONS, draws[3:], (0, 1, -1), strict=True):
        if draw < _ANSWERED:
            feedback[question] = str(min(5, max(1, int(satisfaction) + shift * (draw < 0.2))))
    if draws[1] < _COMMENTED:
        feedback["additionalFeedback"] = comment
    return {"surveyFeedback": feedback}
