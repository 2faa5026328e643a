"""The README is part of the contract: its two commands, and the links it gives."""

from __future__ import annotations

import pathlib
import re

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


def test_the_readme_links_to_the_manual_and_files_that_exist():
    # The settings are documented in the manual, whose table is generated from config.py.
    assert "https://livechat-analytics.readthedocs.io/" in README
    for image in re.findall(r"^\.\. image:: (\S+)$", README, re.M):
        assert (ROOT / image).is_file(), image
    for name in ("CHANGELOG.rst", "LICENSE", "docs/index.rst"):
        assert (ROOT / name).is_file(), name
