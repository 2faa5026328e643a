"""Sphinx configuration of the livechat-analytics manual (``tox -e docs``, Read the Docs)."""

from __future__ import annotations

import pathlib
import sys

from livechat_analytics.version import __version__

# The local extensions (the settings table).
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "_ext"))

project = "livechat-analytics"
author = "livechat-analytics contributors"
copyright = "livechat-analytics contributors"
release = __version__
version = ".".join(__version__.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx_click",
    "livechat_settings",
]

root_doc = "index"
exclude_patterns = ["_build"]
html_theme = "furo"
html_title = f"livechat-analytics {release}"

# Every reference must resolve, but for the types in signatures that have no page here: Python's
# and the libraries' (with no network at build time there is no intersphinx to link them to), and
# the repository RocketChatAuthenticator takes, which is not public API.
nitpicky = True
nitpick_ignore_regex = [
    ("py:class", r"(collections\.abc|flask|werkzeug|pymongo)\..*"),
]
nitpick_ignore = [
    ("py:class", "livechat_analytics.repository.Repository"),
]

autodoc_member_order = "bysource"
autodoc_typehints = "signature"

# Curly quotes, but "--force" stays two hyphens (the commands' help texts name options).
smartquotes_action = "qe"
