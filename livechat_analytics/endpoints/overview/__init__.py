"""The overview family: Rocket.Chat's Omnichannel "Analytics" page, its boards and agent table
(:mod:`.board`) and its chart series (:mod:`.chart`)."""

from __future__ import annotations

from ..row import Family
from . import board, chart

FAMILY = Family(
    name="overview",
    description="The Analytics page: a board or an agent table chosen by `name`, over whole days, and "
    "the chart series of the page.",
    endpoints=(*board.ROWS, *chart.ROWS),
)
