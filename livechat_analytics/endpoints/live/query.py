"""The query strings of the live family: a department, and for the queue its names; no window, as
the answer is the state at the request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ...schemas import ArgsSchema, Query, department_filter, flag


@dataclass(frozen=True)
class QueueQuery(Query):
    """The queue of every department or one, with the departments' names when asked for."""

    names: bool = False


class QueueArgsSchema(ArgsSchema):
    """``live/queue``: a department, and ``names``."""

    query_type: ClassVar[type[Query]] = QueueQuery

    department_id = department_filter("open rooms")
    names = flag(
        "`true`: each department row also has its department's `name` (`null` when unknown), as "
        "with `LIVECHAT_ANALYTICS_DEPARTMENT_NAMES` on."
    )


class AgentsArgsSchema(ArgsSchema):
    """``live/agents``: a department."""

    department_id = department_filter("agents")
