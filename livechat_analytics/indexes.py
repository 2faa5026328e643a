"""The indexes the endpoints' first stages and joins need (:data:`INDEXES`), and creating them on a
Rocket.Chat database: only those.

Nothing is ever dropped or changed: an index already there with the same definition, under any
name, is reported as there (so is one that serves the same stages, where an index says which); one
with our name and another definition is reported and left alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from pymongo.errors import OperationFailure
from pymongo.read_preferences import ReadPreference

from .endpoints.common import TRANSFER_MESSAGE
from .repository import Repository


@dataclass(frozen=True)
class Index:
    """An index that serves the first stage of some pipelines, on ``collection`` (a key of
    :meth:`~.repository.Repository.name`)."""

    collection: str
    name: str
    keys: tuple[tuple[str, int], ...]
    #: Only the documents that match it are indexed (``partialFilterExpression``).
    partial_filter: Mapping[str, Any] | None = None
    #: Any index of the collection whose keys begin with these, whole (no partial filter), serves
    #: the same stages: it is reported as there and nothing is created (None: only this definition).
    served_by: tuple[tuple[str, int], ...] | None = None

    def options(self) -> dict[str, Any]:
        """The options of ``create_index`` besides the keys."""
        options: dict[str, Any] = {"name": self.name}
        if self.partial_filter is not None:
            options["partialFilterExpression"] = dict(self.partial_filter)
        return options


#: What ``livechat-analytics ensure-indexes`` creates. Each room pipeline starts with ``t`` equal,
#: the department when filtered, then a ``ts`` range (``ts >= start`` at least): the index bounds
#: take all three, and the other conditions are checked on the rooms fetched. The joins of a room's
#: messages look them up by ``rid``.
INDEXES: tuple[Index, ...] = (
    Index("room", "livechat_analytics_t_ts", (("t", 1), ("ts", 1))),
    Index("room", "livechat_analytics_t_department_ts", (("t", 1), ("departmentId", 1), ("ts", 1))),
    # The satisfaction family's window is on the close, not the creation.
    Index("room", "livechat_analytics_t_closed", (("t", 1), ("closedAt", 1))),
    # The room table's kept slots ask which rooms changed since they were read (slots.py).
    Index("room", "livechat_analytics_t_updated", (("t", 1), ("_updatedAt", 1))),
    # The live state reads the open rooms, a sliver of all, whatever their age: index only them.
    Index("room", "livechat_analytics_open", (("t", 1), ("departmentId", 1)), {"open": True}),
    # Transfers are a sliver of all messages: index only them.
    Index("message", "livechat_analytics_transfer_ts", (("ts", 1),), {"t": TRANSFER_MESSAGE}),
    # The joins of the rooms' messages (an equality on rid per room): the livechat server's own
    # index, as it defines and names it; one that older servers made on (rid, ts) serves as well.
    Index(
        "message",
        "rid_1_ts_1__updatedAt_1",
        (("rid", 1), ("ts", 1), ("_updatedAt", 1)),
        served_by=(("rid", 1), ("ts", 1)),
    ),
    # The available time of the agents reads the activity of the days of a window.
    Index("agent_activity", "livechat_analytics_date", (("date", 1),)),
    # The agents of one department, and the users holding the agent role.
    Index("department_agents", "livechat_analytics_department", (("departmentId", 1),)),
    Index("users", "livechat_analytics_roles", (("roles", 1),)),
)

CREATED = "created"
EXISTS = "exists"
#: Our name is taken by another definition, or the server refused the index.
CONFLICT = "conflict"
#: The collection does not exist (a wrong database or prefix?): nothing was created.
MISSING = "missing"

#: The options that change what an index holds or does; two indexes that agree on these and on
#: their keys are the same index whatever their names.
_DEFINING_OPTIONS = (
    "unique",
    "sparse",
    "hidden",
    "partialFilterExpression",
    "collation",
    "expireAfterSeconds",
)


class Outcome(NamedTuple):
    """What :func:`ensure_indexes` did about one index."""

    collection: str
    name: str
    status: str
    """:data:`CREATED`, :data:`EXISTS`, :data:`CONFLICT` or :data:`MISSING`."""
    detail: str = ""


def ensure_indexes(repository: Repository, indexes: Iterable[Index] = INDEXES) -> list[Outcome]:
    """Create each of ``indexes`` that the database lacks; one :class:`Outcome` per index."""
    # Index commands go to the primary; so does the look at what is there, which must be current.
    database = repository.database.with_options(read_preference=ReadPreference.PRIMARY)
    # Creating an index creates its collection: under a wrong prefix or database that would leave
    # empty Rocket.Chat collections behind, so only existing ones are indexed.
    collections = set(database.list_collection_names())
    outcomes = []
    for index in indexes:
        name = repository.name(index.collection)
        if name not in collections:
            outcomes.append(Outcome(name, index.name, MISSING, "no such collection"))
            continue
        collection = database[name]
        existing = list(collection.list_indexes())
        same = next((info["name"] for info in existing if _same_definition(info, index)), None)
        same = same or next((info["name"] for info in existing if _serves(info, index)), None)
        if same is not None:
            detail = "" if same == index.name else f"as {same}"
            outcomes.append(Outcome(name, index.name, EXISTS, detail))
        elif any(info["name"] == index.name for info in existing):
            outcomes.append(
                Outcome(name, index.name, CONFLICT, "an index of this name has another definition")
            )
        else:
            try:
                collection.create_index(list(index.keys), **index.options())
            except OperationFailure as error:
                # Say beside an index on the same keys with other options, which MongoDB refuses.
                detail = error.details.get("errmsg", str(error)) if error.details else str(error)
                outcomes.append(Outcome(name, index.name, CONFLICT, detail))
            else:
                outcomes.append(Outcome(name, index.name, CREATED))
    return outcomes


def _same_definition(info: Mapping[str, Any], index: Index) -> bool:
    keys = [(field, _direction(value)) for field, value in info["key"].items()]
    return keys == list(index.keys) and _defining(info) == _defining(index.options())


def _serves(info: Mapping[str, Any], index: Index) -> bool:
    """Whether the existing index ``info`` serves what ``index`` is for (:attr:`Index.served_by`)."""
    if index.served_by is None or _defining(info):
        return False
    keys = [(field, _direction(value)) for field, value in info["key"].items()]
    return keys[: len(index.served_by)] == list(index.served_by)


def _defining(options: Mapping[str, Any]) -> dict[str, Any]:
    # A false flag is the same as none; 0 is a real expireAfterSeconds.
    return {
        option: _plain(options[option])
        for option in _DEFINING_OPTIONS
        if options.get(option) is not None and options.get(option) is not False
    }


def _direction(value: Any) -> Any:
    """1 and 1.0 (some servers answer doubles) are the same direction; "text" stays as it is."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _plain(value: Any) -> Any:
    """SON and nested mappings as plain dicts, so that they compare equal to ours."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
