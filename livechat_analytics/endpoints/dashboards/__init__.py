"""The real-time monitoring family: the totalizers and charts of Rocket.Chat's "Real-time monitoring"
page, under ``dashboards/``, over the rooms created in the window, every department together or one.
"""

from __future__ import annotations

from ..row import Family
from . import charts, totalizers

FAMILY = Family(
    name="dashboards",
    description="The real-time monitoring page: totalizers and charts over the rooms created in the "
    "window, every department together or one.",
    endpoints=(*totalizers.ROWS, *charts.ROWS),
)
