"""A realistic Rocket.Chat livechat data set, generated deterministically: for the demo and for seeding.

Everything is in :mod:`.data` for now; the public names are the package's.
"""

from __future__ import annotations

from .data import (
    DAYS,
    DEFAULT_ROOMS,
    DEFAULT_SEED,
    ID_ALPHABET,
    ID_LENGTH,
    INACTIVITY_TIMEOUT,
    MANAGER_ID,
    MANAGER_TOKEN,
    MANAGER_USERNAME,
    SEEDS_COLLECTION,
    TRANSFER_MESSAGE,
    AlreadyInserted,
    Chat,
    Counts,
    DemoData,
    Document,
    already_inserted,
    document_counts,
    foreign_documents,
    insert,
    random_id,
    record_seed,
    visitor_of,
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
