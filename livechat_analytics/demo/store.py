"""Writing a data set into a database: :func:`insert` in batches, leaving the documents already there
alone, and the record of what ``seed`` added, by which it tells its own documents from a real
Rocket.Chat's."""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from .. import config
from ..repository import Repository
from .data import DemoData
from .document import Chat, Document
from .room import inquiry_of, visitor_of

#: The collection in which ``seed`` records how many documents it added to each collection: a
#: database holding more than that holds data of its own, which ``seed`` leaves alone.
SEEDS_COLLECTION = "livechat_analytics_seeds"
# Collections the data set writes and the API does not read, so that the repository does not name
# them: their names after the prefix, by the keys of :meth:`DemoData.fixed_documents`.
_UNREAD = {"priority": "livechat_priority"}


@dataclass
class Counts:
    """What :func:`insert` wrote."""

    departments: int = 0
    users: int = 0
    rooms: int = 0
    """Livechat rooms."""
    other_rooms: int = 0
    """Channels and direct message rooms, which the API must ignore."""
    messages: int = 0
    """All messages, transfers included."""
    transfers: int = 0
    """Transfer messages, those of deleted rooms included."""
    visitors: int = 0
    """Visitors, each once however many rooms they opened."""
    kept: int = 0
    """Fixed documents left as they were: their id was taken, or a unique field such as a username."""


class AlreadyInserted(Exception):
    """The rooms of this data set are in the database already: :func:`insert` wrote nothing."""


def insert(
    database: Database,
    data: DemoData,
    *,
    batch_size: int = 1000,
    collection_prefix: str = config.COLLECTION_PREFIX,
    users_collection: str = config.USERS_COLLECTION,
    progress: Callable[[int], None] | None = None,
) -> Counts:
    """Write ``data`` into ``database`` (pymongo or mongomock), ``batch_size`` documents per
    ``insert_many``.

    The fixed documents (departments, users, the permission and the setting, the orphan transfers)
    only go where nothing is: one whose id or unique field is taken is left out, so a real
    Rocket.Chat database keeps its own. The rooms and their messages are inserted; when the first
    room is there already (this seed was written before), :class:`AlreadyInserted` is raised
    before anything is written.

    ``progress`` is called after each batch of rooms with the number of livechat rooms it held.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1.")
    if already_inserted(database, data, collection_prefix=collection_prefix):
        raise AlreadyInserted(f"The rooms of seed {data.seed} are already in this database.")
    names = Repository(database, collection_prefix=collection_prefix, users_collection=users_collection)
    counts = _insert_fixed(database, names, data.fixed_documents(), collection_prefix)
    writer = _ChatWriter(database, names, counts, batch_size=batch_size, progress=progress)
    for chat in data.chats():
        writer.add(chat)
    writer.flush()
    return counts


def already_inserted(
    database: Database, data: DemoData, *, collection_prefix: str = config.COLLECTION_PREFIX
) -> bool:
    """Whether the first room of ``data`` is in ``database``: then :func:`insert` would refuse."""
    first = next(data.chats(), None)
    rooms = database[Repository(database, collection_prefix=collection_prefix).name("room")]
    return first is not None and rooms.find_one({"_id": first.room["_id"]}, {"_id": 1}) is not None


def document_counts(database: Database, names: Repository) -> dict[str, int]:
    """How many documents each Rocket.Chat collection holds, by real name."""
    return {name: database[name].estimated_document_count() for name in names.names.values()}


def foreign_documents(database: Database, names: Repository) -> dict[str, int]:
    """The collections holding more documents than the recorded ``seed`` runs added, with how many
    more: empty for an empty database and for one that only ``seed`` wrote."""
    seeded: collections.Counter[str] = collections.Counter()
    for record in database[SEEDS_COLLECTION].find({}, {"added": 1}):
        added = record.get("added")
        if isinstance(added, dict):
            seeded.update({name: n for name, n in added.items() if isinstance(n, int)})
    counts = document_counts(database, names)
    return {name: n - seeded[name] for name, n in counts.items() if n > seeded[name]}


def record_seed(database: Database, seed: int, added: dict[str, int], *, now: dt.datetime) -> None:
    """Record that ``seed`` added ``added`` documents (by collection), for :func:`foreign_documents`."""
    database[SEEDS_COLLECTION].insert_one({"seed": seed, "added": added, "at": now})


def _insert_fixed(
    database: Database, names: Repository, fixed: dict[str, list[Document]], collection_prefix: str
) -> Counts:
    """Write the fixed documents where nothing is, and count them: the orphan transfers are the
    messages written so far."""
    written = {
        collection: _insert_new(database[_name(names, collection, collection_prefix)], documents)
        for collection, documents in fixed.items()
    }
    return Counts(
        departments=written["department"],
        users=written["users"],
        messages=written["message"],
        transfers=written["message"],
        kept=sum(map(len, fixed.values())) - sum(written.values()),
    )


def _name(names: Repository, collection: str, collection_prefix: str) -> str:
    """The real name of one of the collections of :meth:`DemoData.fixed_documents`."""
    if collection in _UNREAD:
        return collection_prefix + _UNREAD[collection]
    return names.name(collection)


def _insert_new(collection: Collection, documents: list[Document]) -> int:
    """Insert each document whose ``_id`` is free, and never touch one that is there: how many went in.

    One read for the ids taken and one unordered ``insert_many`` for the rest, so that a day-by-day
    collection (agent activity) costs two round trips, not one per document.
    """
    if not documents:
        return 0
    ids = [document["_id"] for document in documents]
    taken = {found["_id"] for found in collection.find({"_id": {"$in": ids}}, {"_id": 1})}
    fresh = [document for document in documents if document["_id"] not in taken]
    if not fresh:
        return 0
    try:
        return len(collection.insert_many(fresh, ordered=False).inserted_ids)
    except BulkWriteError as error:  # a unique field is taken, say the username of a real user
        return int(error.details.get("nInserted", 0))


class _ChatWriter:
    """Writes the generated chats for :func:`insert` in batches, and adds them to ``counts``.

    The rooms go out when a batch of rooms is full, the messages (with the visitors met since) when
    a batch of messages is: a data set of any size is never held whole.
    """

    def __init__(
        self,
        database: Database,
        names: Repository,
        counts: Counts,
        *,
        batch_size: int,
        progress: Callable[[int], None] | None,
    ) -> None:
        self._database = database
        self._names = names
        self._counts = counts
        self._batch_size = batch_size
        self._progress = progress
        self._rooms: list[Document] = []
        self._livechat_rooms = 0  # of self._rooms, for progress
        self._messages: list[Document] = []
        self._visitors: list[Document] = []
        self._inquiries: list[Document] = []
        self._seen: set[str] = set()  # the visitors' ids, so that each is written once

    def add(self, chat: Chat) -> None:
        """Count ``chat`` and queue its documents; write the batches it fills."""
        self._rooms.append(chat.room)
        self._messages.extend(chat.messages)
        self._counts.messages += len(chat.messages)
        if chat.room["t"] == "l":
            self._add_livechat(chat)
        else:
            self._counts.other_rooms += 1
        if len(self._rooms) >= self._batch_size:
            self._write_rooms()
        if len(self._messages) >= self._batch_size:
            self._write_messages()

    def flush(self) -> None:
        """Write what is queued."""
        self._write_rooms()
        self._write_messages()

    def _add_livechat(self, chat: Chat) -> None:
        visitor_id = chat.room["v"]["_id"]
        if visitor_id not in self._seen:
            self._seen.add(visitor_id)
            self._visitors.append(visitor_of(chat.room))
            self._counts.visitors += 1
        self._counts.rooms += 1
        self._counts.transfers += len(chat.transfers)
        inquiry = inquiry_of(chat)
        if inquiry is not None:
            self._inquiries.append(inquiry)
        self._livechat_rooms += 1

    def _write_rooms(self) -> None:
        self._write("room", self._rooms)
        if self._progress is not None and self._livechat_rooms:
            self._progress(self._livechat_rooms)
        self._livechat_rooms = 0

    def _write_messages(self) -> None:
        self._write("message", self._messages)
        self._write("visitor", self._visitors)
        self._write("inquiry", self._inquiries)

    def _write(self, collection: str, documents: list[Document]) -> None:
        """One ``insert_many`` of the queued ``documents``, which it empties: none when there are none."""
        if documents:
            self._database[self._names.name(collection)].insert_many(documents)
            documents.clear()
