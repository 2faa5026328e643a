"""The README is part of the contract: its commands, its configuration table."""

from __future__ import annotations

import pathlib
import re

from livechat_analytics.config import DEFAULTS

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.rst").read_text()


def commands() -> list[str]:
    """The literal blocks before the first rule: the newcomer's two commands."""
    head = README.split("----", 1)[0]
    return [block.strip() for block in re.findall(r"::\n\n(.+?)\n\n", head + "\n\n", re.S)]


def test_the_readme_opens_with_the_demo_and_the_test_command():
    demo, suite = commands()
    assert demo.endswith("livechat-analytics demo")
    assert suite.endswith("tox")


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands()[1] in ci.splitlines()


def test_every_configuration_key_is_in_the_readme_table():
    documented = set(re.findall(r"``(LIVECHAT_ANALYTICS_[A-Z_]+)``", README))
    assert documented >= set(DEFAULTS)
    for key, value in DEFAULTS.items():
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            assert re.search(rf"``{key}``\s+``{re.escape(str(value))}``", README), key
