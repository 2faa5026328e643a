"""A realistic Rocket.Chat livechat data set, generated deterministically: for the demo and for seeding.

:class:`DemoData` (:mod:`.data`) holds the few fixed documents (the departments, agents and demo
manager of :mod:`.staff`, the schedules, SLA policies and priorities of :mod:`.service`, the
permission and the setting the API reads) and generates the rooms lazily, each drawn by
:mod:`.room`, so that :func:`insert` (:mod:`.store`) can write a data set of any size in batches.
The same ``seed`` and ``now`` always give the same documents.
"""

from __future__ import annotations

from ..endpoints.common import TRANSFER_MESSAGE
from .data import DAYS, DEFAULT_ROOMS, DEFAULT_SEED, DemoData
from .document import ID_ALPHABET, ID_LENGTH, Chat, Document, random_id
from .room import INACTIVITY_TIMEOUT, visitor_of
from .staff import MANAGER_ID, MANAGER_TOKEN, MANAGER_USERNAME
from .store import (
    SEEDS_COLLECTION,
    AlreadyInserted,
    Counts,
    already_inserted,
    document_counts,
    foreign_documents,
    insert,
    record_seed,
)

__all__ = [
    "DAYS",
    "DEFAULT_ROOMS",
    "DEFAULT_SEED",
    "ID_ALPHABET",
    "ID_LENGTH",
    "INACTIVITY_TIMEOUT",
    "MANAGER_ID",
    "MANAGER_TOKEN",
    "MANAGER_USERNAME",
    "SEEDS_COLLECTION",
    "TRANSFER_MESSAGE",
    "AlreadyInserted",
    "Chat",
    "Counts",
    "DemoData",
    "Document",
    "already_inserted",
    "document_counts",
    "foreign_documents",
    "insert",
    "random_id",
    "record_seed",
    "visitor_of",
]
