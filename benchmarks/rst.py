"""The benchmark's results as reStructuredText, for the manual: ``python benchmarks/rst.py``.

``run.py`` writes its tables in Markdown (``results/table.md``, as it prints them) and, through
:func:`to_rst`, the same in reStructuredText (``results/table.rst``), which the manual's benchmark
page includes. Run as a script, this rewrites ``results/table.rst`` from ``results/table.md``
without running the benchmark again.

The Markdown is the little ``run.py`` writes: paragraphs, ``- `` lists, pipe tables and ```code```.
"""

from __future__ import annotations

import pathlib
import re

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
#: Markdown's code spans, the only inline markup the results use.
_CODE = re.compile(r"`([^`]+)`")
#: Characters that are markup in reStructuredText, escaped outside code.
_MARKUP = re.compile(r"([\\*_|`])")


def inline(text: str) -> str:
    """One line of Markdown text: code spans as inline literals, the rest escaped."""
    parts = _CODE.split(text)
    return "".join(
        f"``{part}``" if index % 2 else _MARKUP.sub(r"\\\1", part) for index, part in enumerate(parts)
    )


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _table(lines: list[str]) -> list[str]:
    """A pipe table (header, alignment row, body) as a ``list-table``."""
    header, _alignment, *body = lines
    out = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header, *body]:
        for index, cell in enumerate(_cells(row)):
            marker = "   * -" if index == 0 else "     -"
            out.append(f"{marker} {inline(cell)}".rstrip())
    return out


def to_rst(markdown: str) -> str:
    """``run.py``'s Markdown as reStructuredText."""
    blocks = [block.splitlines() for block in re.split(r"\n\s*\n", markdown.strip())]
    out: list[list[str]] = []
    for lines in blocks:
        if all(line.startswith("|") for line in lines):
            out.append(_table(lines))
        elif all(line.startswith("- ") for line in lines):
            out.append([f"- {inline(line[2:])}" for line in lines])
        else:
            out.append([inline(line) for line in lines])
    return "\n\n".join("\n".join(block) for block in out) + "\n"


def main() -> None:
    (RESULTS / "table.rst").write_text(to_rst((RESULTS / "table.md").read_text()))


if __name__ == "__main__":
    main()
