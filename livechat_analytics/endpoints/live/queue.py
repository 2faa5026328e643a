"""The queue now: per department, the rooms waiting for an agent and how long the first of them
has waited, and the rooms open and on hold.

One aggregate reads the open livechat rooms the caller may see, each as its department, its status
(the one room status of every family) and the moments it may have been queued at; the rooms are
counted in Python. The queued rooms without a ``queuedAt`` of their own cost one more read, of
their inquiries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ...repository import Repository
from ..common import DEPARTMENT_KEY, ONHOLD, OPEN, QUEUED, STATUS, Context, Pipeline, both, seen
from ..stored import NOT_ARRAY, date_of, named
from . import clock


def open_rooms(department_id: str | None, context: Context) -> Pipeline:
    """The open livechat rooms of the department (every one for None) the caller may see: their
    ``_id``, ``department`` (null for none), ``status`` and the ``queuedAt`` and ``ts`` stored."""
    match: dict[str, Any] = {"t": "l", "open": True}
    conditions = seen(context.scope, department_id)
    if department_id is not None:
        match["departmentId"] = department_id
        # An array holding the id is no department (stored.py): not the one asked for.
        conditions = both({"departmentId": NOT_ARRAY}, conditions)
    stages: Pipeline = [{"$match": match}]
    if conditions:
        stages.append({"$match": conditions})
    fields = {"_id": 1, "department": DEPARTMENT_KEY, "status": STATUS, "queuedAt": 1, "ts": 1}
    return [*stages, {"$project": fields}]


def inquiry_times(repository: Repository, room_ids: list[str]) -> dict[str, dt.datetime]:
    """When each of these rooms was queued as its inquiry says (``queuedAt``), by room id: the
    earliest of its inquiries; rooms without a dated inquiry are left out."""
    if not room_ids:
        return {}
    found: dict[str, dt.datetime] = {}
    for inquiry in repository.collection("inquiry").find(
        {"rid": {"$in": room_ids}}, {"rid": 1, "queuedAt": 1}
    ):
        moment = date_of(inquiry.get("queuedAt"))
        room = inquiry.get("rid")
        if moment is not None and isinstance(room, str) and (room not in found or moment < found[room]):
            found[room] = moment
    return found


@dataclass
class Line:
    """The open rooms of one department: how many of each status, and the earliest queued moment."""

    queued: int = 0
    open: int = 0
    on_hold: int = 0
    first: dt.datetime | None = None

    def add(self, status: str, queued_at: dt.datetime | None) -> None:
        """Count one room of ``status``, queued at ``queued_at`` when it is queued."""
        if status == QUEUED:
            self.queued += 1
            if queued_at is not None and (self.first is None or queued_at < self.first):
                self.first = queued_at
        elif status == ONHOLD:
            self.on_hold += 1
        elif status == OPEN:
            self.open += 1

    def row(self, moment: dt.datetime) -> dict[str, int]:
        """The counts, and the whole seconds the first queued room has waited at ``moment``."""
        waited = 0 if self.first is None else clock.whole_seconds(self.first, moment)
        return {"queued": self.queued, "oldestWaitSeconds": waited, "open": self.open, "onHold": self.on_hold}


def queued_at(room: Mapping[str, Any], inquiries: Mapping[str, dt.datetime]) -> dt.datetime | None:
    """When a room was queued: its ``queuedAt``, else its inquiry's, else its creation (``ts``);
    None when none of them is a date."""
    own = date_of(room.get("queuedAt"))
    if own is not None:
        return own
    return inquiries.get(room["_id"]) or date_of(room.get("ts"))


def lines(rooms: Iterable[Mapping[str, Any]], repository: Repository) -> dict[str | None, Line]:
    """The rooms counted per department; the inquiries read for the queued rooms that need them."""
    rooms = list(rooms)
    unstamped = [
        room["_id"]
        for room in rooms
        if room.get("status") == QUEUED
        and date_of(room.get("queuedAt")) is None
        and isinstance(room["_id"], str)
    ]
    inquiries = inquiry_times(repository, unstamped)
    counted: dict[str | None, Line] = {}
    for room in rooms:
        counted.setdefault(room.get("department"), Line()).add(room["status"], queued_at(room, inquiries))
    return counted


def queue_state(department_id: str | None, context: Context, repository: Repository) -> dict[str, Any]:
    """The queue at this moment: one row per department with open rooms (``_id`` null for the rooms
    without one; ``name`` too when department names are on), null first then by id, the same
    numbers over every department in ``total``, and ``at``, the moment."""
    moment = clock.now()
    rooms = repository.stream("room", open_rooms(department_id, context), any_dates=True)
    counted = lines(rooms, repository)
    order = sorted(counted, key=lambda key: (key is not None, key or ""))
    rows: list[dict[str, Any]] = [{"_id": key, **counted[key].row(moment)} for key in order]
    if context.department_names:
        names = repository.department_names(order)
        rows = [{"_id": row["_id"], "name": named(names.get(row["_id"])), **row} for row in rows]
    everything = Line(
        queued=sum(line.queued for line in counted.values()),
        open=sum(line.open for line in counted.values()),
        on_hold=sum(line.on_hold for line in counted.values()),
        first=min((line.first for line in counted.values() if line.first is not None), default=None),
    )
    return {"departments": rows, "total": everything.row(moment), "at": clock.instant(moment)}
