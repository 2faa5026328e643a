"""What every generated document shares: Rocket.Chat's ids, the message document and its author, and a
chat (a room with its messages)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any, NamedTuple

from ..endpoints.common import TRANSFER_MESSAGE

Document = dict[str, Any]

#: The characters of a Rocket.Chat (Meteor) id, which is :data:`ID_LENGTH` of them.
ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"
ID_LENGTH = 17

UTC = dt.timezone.utc
#: BSON dates hold milliseconds: the generated times are whole ones.
MILLISECOND = dt.timedelta(milliseconds=1)


def random_id(rng: random.Random) -> str:
    """A new id in Rocket.Chat's form: 17 characters of :data:`ID_ALPHABET`."""
    return "".join(rng.choices(ID_ALPHABET, k=ID_LENGTH))


class Chat(NamedTuple):
    """One generated room and the messages written in it (transfers included), oldest first."""

    room: Document
    messages: list[Document]

    @property
    def transfers(self) -> list[Document]:
        """The room's ``livechat_transfer_history`` messages."""
        return [message for message in self.messages if message.get("t") == TRANSFER_MESSAGE]


def new_message(
    rng: random.Random, room_id: str, ts: dt.datetime, user: Document, *, msg: str = "", **fields: Any
) -> Document:
    """A message of ``user`` in room ``room_id`` at ``ts``; ``fields`` such as ``t`` make it a system
    message."""
    return {
        "_id": random_id(rng),
        "rid": room_id,
        "msg": msg,
        "ts": ts,
        "u": user,
        "_updatedAt": ts,
        **fields,
    }


def author(user: Document) -> Document:
    """How a message names its author."""
    return {"_id": user["_id"], "username": user["username"], "name": user["name"]}
