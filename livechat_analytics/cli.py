"""Command line: ``livechat-analytics`` and ``flask livechat-analytics``."""

from __future__ import annotations

import click

command_group = click.Group("livechat-analytics", help=__doc__)
