"""Running the commands as ``flask livechat-analytics`` does: through Flask's own command group,
which finds ours by the package's ``flask.commands`` entry point."""

from __future__ import annotations

from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import FlaskGroup


def flask_command(app: Flask, *args: str) -> Result:
    """``flask livechat-analytics <args>`` over ``app``, as its command line would run it."""
    group = FlaskGroup(create_app=lambda: app, load_dotenv=False, set_debug_flag=False)
    return CliRunner().invoke(group, ["livechat-analytics", *args])
