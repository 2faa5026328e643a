"""The ``.. livechat-settings::`` directive: the table of every setting, generated from
``livechat_analytics/config.py`` so that it cannot drift from the code.

Each row is a setting's full name, its default, the kind of value it takes (``KINDS[name]``) and the
``#:`` comment above its default, read as autodoc reads it (:meth:`ModuleAnalyzer.find_attr_docs`).
Each name is a target of the ``setting`` object type: prose links to it with
``:setting:`LIVECHAT_ANALYTICS_MONGO_URI```.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.pycode import ModuleAnalyzer
from sphinx.util.docutils import SphinxDirective

from livechat_analytics import config

#: The object type (and role) of a setting: ``.. setting:: NAME`` marks it, ``:setting:`NAME``` links it.
OBJECT_TYPE = "setting"
#: A ``:data:`NAME``` reference in a comment, which the table turns into a link to that setting's row.
_DATA_ROLE = re.compile(r":data:`~?(?:livechat_analytics\.config\.)?([A-Z_]+)`")
#: Characters that are markup in reStructuredText, escaped in the plain-text column (the kinds).
_MARKUP = re.compile(r"([\\*`_|])")


@dataclass(frozen=True)
class Setting:
    """One row of the table: what the code says about one setting."""

    key: str
    """The full name, ``LIVECHAT_ANALYTICS_<name>``."""
    default: Any
    kind: str
    """What it takes, in words (plain text)."""
    description: list[str]
    """The lines of the ``#:`` comment above its default (reStructuredText); empty when missing."""


def settings(module: ModuleType = config) -> list[Setting]:
    """Every setting of ``module`` (``config``: its ``DEFAULTS``), in the order of the source."""
    comments = ModuleAnalyzer.for_module(module.__name__).find_attr_docs()
    rows = []
    for key, default in module.DEFAULTS.items():
        name = key.removeprefix(module.PREFIX)
        lines = [line for line in comments.get(("", name), []) if line.strip()]
        rows.append(Setting(key, default, module.KINDS[name].description, lines))
    return rows


def table(rows: list[Setting], *, prefix: str = config.PREFIX) -> list[str]:
    """The rows as the lines of a reStructuredText ``list-table``, each name a ``setting`` target."""
    keys = {row.key for row in rows}

    def linked(match: re.Match[str]) -> str:
        key = prefix + match[1]
        return f":{OBJECT_TYPE}:`{key}`" if key in keys else match[0]

    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 30 20 20 30",
        "",
        "   * - setting",
        "     - default",
        "     - takes",
        "     - what it does",
    ]
    for row in rows:
        kind = _MARKUP.sub(r"\\\1", row.kind)
        lines += [
            f"   * - .. {OBJECT_TYPE}:: {row.key}",
            "",
            f"       ``{row.key}``",
            f"     - ``{row.default!r}``",
            f"     - {kind}",
        ]
        description = [_DATA_ROLE.sub(linked, line) for line in row.description] or [""]
        lines += [f"     - {description[0]}", *(f"       {line}" for line in description[1:])]
    return lines


class SettingsTable(SphinxDirective):
    """``.. livechat-settings::``: the table of every setting, with its default, kind and comment."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        # The table changes with config.py: read again whenever it does.
        self.env.note_dependency(config.__file__)
        return self.parse_text_to_nodes("\n".join(table(settings())))


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directive and the ``setting`` object type."""
    app.add_crossref_type(
        OBJECT_TYPE, OBJECT_TYPE, indextemplate="pair: %s; setting", ref_nodeclass=nodes.literal
    )
    app.add_directive("livechat-settings", SettingsTable)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
