"""A thin, read-only repository over the Rocket.Chat collections the API reads."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cached_property
from types import MappingProxyType
from typing import Any

from bson.codec_options import DatetimeConversion
from pymongo.collection import Collection
from pymongo.database import Database

#: The ``type`` of a business unit's document in the department collection.
UNIT = "u"
#: Documents per round trip when a cursor is streamed (a CSV answer): memory stays one batch.
STREAM_BATCH_SIZE = 1000


class Repository:
    """Reads the host's Rocket.Chat database. It never writes.

    ``database`` is a pymongo (or mongomock) ``Database``; collection names are the
    ``collection_prefix`` plus Rocket.Chat's names, except ``users_collection``. Reads carry no time
    limit of their own: the caller runs them under one deadline (``pymongo.timeout``).

    Dates are read timezone-aware whatever the client's ``tz_aware``: a naive one is UTC, as
    MongoDB stores it. The database's other codec options are kept.
    """

    def __init__(
        self,
        database: Database,
        *,
        collection_prefix: str = "rocketchat_",
        users_collection: str = "users",
    ) -> None:
        self.database = database
        self._names = {
            "room": collection_prefix + "room",
            "message": collection_prefix + "message",
            "department": collection_prefix + "livechat_department",
            "permissions": collection_prefix + "permissions",
            "settings": collection_prefix + "settings",
            "department_agents": collection_prefix + "livechat_department_agents",
            "unit_monitors": collection_prefix + "livechat_unit_monitors",
            "agent_activity": collection_prefix + "livechat_agent_activity",
            "visitor": collection_prefix + "livechat_visitor",
            "business_hours": collection_prefix + "livechat_business_hours",
            "sla": collection_prefix + "omnichannel_service_level_agreements",
            "inquiry": collection_prefix + "livechat_inquiry",
            "users": users_collection,
        }

    @property
    def names(self) -> Mapping[str, str]:
        """Every collection's real name, by the keys :meth:`name` takes."""
        return MappingProxyType(self._names)

    def name(self, collection: str) -> str:
        """The real name of one of the collections: ``room``, ``message``, ``department``,
        ``permissions``, ``settings``, ``department_agents``, ``unit_monitors``, ``agent_activity``,
        ``visitor``, ``business_hours``, ``sla`` (the SLA policies), ``inquiry`` (the queue's inquiries)
        or ``users``."""
        return self._names[collection]

    @cached_property
    def _codec_options(self) -> Any:
        """The database's codec options, ``tz_aware`` on."""
        return self.database.codec_options.with_options(tz_aware=True)

    def collection(self, collection: str) -> Collection:
        """One of the collections by the keys :meth:`name` takes, its dates read timezone-aware."""
        # Per collection: mongomock's Database.with_options drops codec options, get_collection not.
        return self.database.get_collection(self.name(collection), codec_options=self._codec_options)

    def find_user(self, user_id: str, hashed_token: str) -> dict[str, Any] | None:
        """The user with this id who holds this hashed resume token: ``active`` and ``roles``."""
        return self.collection("users").find_one(
            {"_id": user_id, "services.resume.loginTokens.hashedToken": hashed_token},
            {"active": 1, "roles": 1}
        )

    def permission_roles(self, permission: str) -> Any:
        """The ``roles`` of ``permission``'s document as stored, unchecked (``[]`` when missing or
        null), or None when it has no document."""
        document = self.collection("permissions").find_one(
            {"_id": permission}, {"roles": 1}
        )
        if document is None:
            return None
        roles = document.get("roles")
        return [] if roles is None else roles

    def department_names(self, department_ids: list[str | None]) -> dict[str, str]:
        """The names of these departments, by id; unknown ones are left out."""
        wanted = [department for department in department_ids if department is not None]
        if not wanted:
            return {}
        # A business unit is stored among the departments but is none.
        found = self.collection("department").find(
            {"_id": {"$in": wanted}, "type": {"$ne": UNIT}}, {"name": 1}
        )
        return {document["_id"]: document.get("name") for document in found}

    def units_exist(self) -> bool:
        """Whether any business unit is stored (a department document of ``type: "u"``)."""
        return self.collection("department").find_one({"type": UNIT}, {"_id": 1}) is not None

    def monitored_units(self, user_id: str) -> list[str]:
        """The ids of the units ``user_id`` monitors."""
        found = self.collection("unit_monitors").find({"monitorId": user_id}, {"unitId": 1})
        return [document["unitId"] for document in found if isinstance(document.get("unitId"), str)]

    def unit_departments(self, units: list[str]) -> list[str]:
        """The ids of the departments (never units) whose ``ancestors`` hold one of ``units``."""
        if not units:
            return []
        found = self.collection("department").find(
            {"ancestors": {"$in": units}, "type": {"$ne": UNIT}}, {"_id": 1}
        )
        return [document["_id"] for document in found]

    def served_departments(self, agent_id: str) -> list[str]:
        """The ids of the departments ``agent_id`` serves as an agent."""
        found = self.collection("department_agents").find({"agentId": agent_id}, {"departmentId": 1})
        return [
            document["departmentId"] for document in found if isinstance(document.get("departmentId"), str)
        ]

    def department_agent_ids(self, departments: list[str]) -> list[str]:
        """The ids of the agents of these departments."""
        if not departments:
            return []
        found = self.collection("department_agents").find(
            {"departmentId": {"$in": departments}}, {"agentId": 1}
        )
        return sorted({document["agentId"] for document in found if isinstance(document.get("agentId"), str)})

    def setting(self, name: str) -> Any:
        """The value of a Rocket.Chat setting, or None when it has no document."""
        document = self.collection("settings").find_one(
            {"_id": name}, {"value": 1}
        )
        return None if document is None else document.get("value")

    def aggregate(self, collection: str, pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Run a pipeline on one of the collections; its documents, which the pipeline keeps few."""
        return list(self.collection(collection).aggregate(pipeline))

    def aggregate_page(self, collection: str, pipeline: list[dict[str, Any]]) -> tuple[list[dict], int]:
        """Run a pipeline ending in the ``{total, page}`` facet; one round trip for both."""
        result = list(self.collection(collection).aggregate(pipeline))
        facet = result[0] if result else {}
        # MongoDB's $count gives no document at all on empty input (mongomock gives n: 0).
        total = facet.get("total") or [{"n": 0}]
        return list(facet.get("page", [])), int(total[0]["n"])

    def stream(
        self,
        collection: str,
        pipeline: list[dict[str, Any]],
        *,
        batch_size: int | None = None,
        any_dates: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Run a pipeline whose documents may be many; its cursor, read ``batch_size`` documents per
        round trip, so the caller holds one batch at a time.

        With ``any_dates``, a stored date Python cannot hold (before year 1, after 9999) arrives as a
        ``bson.DatetimeMS`` instead of failing the read, so a pipeline may hand over dates as stored
        and the caller read them by their kind (:func:`.endpoints.stored.date_of`).

        The command runs (and its first batch arrives) at this call; each later batch is fetched
        as the caller iterates, under whatever timeout is in force then.
        """
        size = batch_size or STREAM_BATCH_SIZE
        source = self._any_dates(collection) if any_dates else self.collection(collection)
        return source.aggregate(pipeline, batchSize=size)

    def _any_dates(self, collection: str) -> Collection:
        """The collection, its dates outside Python's range read as ``bson.DatetimeMS``: a pymongo
        database decodes BSON, so it takes the option; any other (mongomock's) holds Python's own
        dates only, and is read as it is."""
        if not isinstance(self.database, Database):
            return self.collection(collection)
        options = self._codec_options.with_options(datetime_conversion=DatetimeConversion.DATETIME_AUTO)
        return self.database.get_collection(self.name(collection), codec_options=options)

    def ping(self) -> None:
        """Ask the database to answer at all; raises ``PyMongoError`` when it does not."""
        self.database.command("ping")
