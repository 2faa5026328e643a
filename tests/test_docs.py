"""The manual is part of the contract: every setting, endpoint and command is in it, and every
``curl`` example in it runs against the demo's data and answers rows.

The examples follow the conventions of the manual's sources: a ``$ curl`` line (continued with a
trailing `` \\``) in a ``.. code-block:: console`` block; ``-sG`` (or ``-s -G``) and the demo's URL;
headers with ``-H "Name: value"`` (the demo manager's credentials, ``Accept``); parameters with
``--data-urlencode "name=value"``; dates only as ``$(date -u +%F)`` or
``$(date -u -d 'N days ago' +%F)``; ``-o FILE`` allowed. A command outside them fails, naming its file
and line.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import pathlib
import re
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import click
import mongomock
import pytest
from flask.testing import FlaskClient

from livechat_analytics import config, demo
from livechat_analytics.cli import command_group
from livechat_analytics.demo_server import make_demo_app
from livechat_analytics.endpoints import ENDPOINTS

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.rst"))
#: The demo's data is generated up to this moment; the examples' dates are computed from it.
NOW = dt.datetime(2026, 11, 1, 12, 30, tzinfo=dt.timezone.utc)
#: Where ``livechat-analytics demo`` serves, as the examples write it.
BASE_URL = "http://127.0.0.1:3000"
API_ROOT = config.URL_PREFIX
#: The headers an example may send, and the values each may take.
HEADERS = {
    "X-User-Id": {demo.MANAGER_ID},
    "X-Auth-Token": {demo.MANAGER_TOKEN},
    "Accept": {"text/csv", "application/json"},
}
_TODAY = "$(date -u +%F)"
_DAYS_AGO = re.compile(r"\$\(date -u -d '(\d+) days? ago' \+%F\)")
_CONSOLE = re.compile(r"^(\s*)\.\. code-block:: console\s*$")
_PARAMETER = re.compile(r"[A-Za-z][A-Za-z0-9_]*=")


def _load(path: pathlib.Path) -> ModuleType:
    """A module of the repository that is not in the package (the manual's extension, a script)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # for its dataclasses
    spec.loader.exec_module(module)
    return module


livechat_settings = _load(DOCS / "_ext" / "livechat_settings.py")


def _page_text() -> str:
    return "\n".join(page.read_text() for page in PAGES)


# -- Settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", list(config.DEFAULTS))
def test_every_setting_has_a_description(key: str) -> None:
    [row] = [row for row in livechat_settings.settings(config) if row.key == key]
    assert " ".join(row.description).strip(), f"{key} has no #: comment above its default in config.py"


def test_the_settings_table_holds_every_setting() -> None:
    rows = livechat_settings.settings(config)
    text = "\n".join(livechat_settings.table(rows)) + "\n"
    assert [row.key for row in rows] == list(config.DEFAULTS)
    for row in rows:
        assert f".. setting:: {row.key}\n" in text, row.key
        assert f"``{row.default!r}``" in text, row.key
        assert row.kind.replace("_", r"\_") in text, row.key
        # The comment as written, up to a reference the table turns into a link.
        assert row.description[0].split(":data:")[0] in text, row.key


def test_the_settings_table_links_a_setting_a_comment_names() -> None:
    text = "\n".join(livechat_settings.table(livechat_settings.settings(config)))
    # config.py's DEFAULT_COUNT comment names ALLOW_COUNT_ZERO as :data:.
    assert ":setting:`LIVECHAT_ANALYTICS_ALLOW_COUNT_ZERO`" in text
    assert ":data:" not in text


def test_the_configuration_page_shows_the_table() -> None:
    assert ".. livechat-settings::" in (DOCS / "configuration.rst").read_text()


# -- Endpoints and commands ----------------------------------------------------------------------


@pytest.mark.parametrize("path", list(ENDPOINTS))
def test_every_endpoint_is_in_the_manual(path: str) -> None:
    assert f"``{path}``" in _page_text(), f"No page of docs/ names ``{path}``."


def _commands(command: click.Command) -> Iterator[click.Command]:
    yield command
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            yield from _commands(sub)


def test_the_commands_page_documents_the_whole_command_group() -> None:
    text = (DOCS / "commands.rst").read_text()
    directive = re.search(
        r"^\.\. click:: livechat_analytics\.cli:command_group\n((?:   :.*\n)+)", text, re.M
    )
    assert directive is not None, "commands.rst has no '.. click::' directive for command_group"
    assert "   :nested: full" in directive[1].splitlines()


@pytest.mark.parametrize("command", list(_commands(command_group)), ids=lambda command: command.name)
def test_every_command_and_option_has_a_help_text(command: click.Command) -> None:
    assert (command.help or "").strip(), f"The command {command.name} has no help text."
    for parameter in command.params:
        if isinstance(parameter, click.Option):
            assert (parameter.help or "").strip(), f"{command.name} {parameter.opts[0]} has no help text."


# -- The examples --------------------------------------------------------------------------------


class Unconventional(ValueError):
    """An example that the manual's conventions do not allow."""


@dataclass(frozen=True)
class Example:
    """One ``$ curl`` command of a page, its continuation lines joined."""

    page: str
    line: int
    command: str

    def __str__(self) -> str:
        return f"{self.page}:{self.line}"


@dataclass
class Request:
    """What an example asks of the demo."""

    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)


def _console_blocks(lines: list[str]) -> Iterator[tuple[int, list[str]]]:
    """The lines of each ``code-block:: console`` (number of the first line, from 1; the lines)."""
    index = 0
    while index < len(lines):
        directive = _CONSOLE.match(lines[index])
        index += 1
        if directive is None:
            continue
        indent = len(directive[1])
        start = index
        while index < len(lines) and (
            not lines[index].strip() or len(lines[index]) - len(lines[index].lstrip()) > indent
        ):
            index += 1
        yield start + 1, lines[start:index]


def examples(text: str, page: str) -> list[Example]:
    """Every ``$ curl`` command in the console blocks of ``text``, continuations joined."""
    found = []
    for first, block in _console_blocks(text.splitlines()):
        at = 0
        while at < len(block):
            line, number = block[at].strip(), first + at
            at += 1
            if not line.startswith("$ curl"):
                continue
            parts = [line.removeprefix("$ ")]
            # A continuation to no line is kept, for request_of to refuse.
            while parts[-1].endswith(" \\") and at < len(block) and block[at].strip():
                parts[-1] = parts[-1].removesuffix(" \\")
                parts.append(block[at].strip())
                at += 1
            found.append(Example(page, number, " ".join(parts)))
    return found


def _dated(command: str, now: dt.datetime) -> str:
    """``command`` with its dates as the shell would print them at ``now`` (UTC)."""
    today = now.astimezone(dt.timezone.utc).date()
    command = command.replace(_TODAY, today.isoformat())
    command = _DAYS_AGO.sub(lambda match: (today - dt.timedelta(days=int(match[1]))).isoformat(), command)
    if "$" in command or "`" in command:
        raise Unconventional(
            "a shell expansion other than $(date -u +%F) and $(date -u -d 'N days ago' +%F)"
        )
    return command


def _header(request: Request, text: str) -> None:
    name, colon, value = text.partition(": ")
    if not colon or value not in HEADERS.get(name, ()):
        raise Unconventional(f"the header {text!r}: only {', '.join(HEADERS)}, with the demo's values")
    request.headers[name] = value


def _parameter(request: Request, text: str) -> None:
    if not _PARAMETER.match(text):
        raise Unconventional(f"--data-urlencode {text!r}: write it as \"name=value\"")
    name, _, value = text.partition("=")
    request.query.append((name, value))


def _options(request: Request, words: list[str]) -> list[str]:
    """Read curl's options into ``request``; the other words (the URLs)."""
    urls, arguments = [], iter(words)
    for word in arguments:
        if word in ("-s", "-G", "-sG"):
            request.flags.update(word[1:])
        elif word in ("-H", "--data-urlencode", "-o"):
            value = next(arguments, None)
            if value is None:
                raise Unconventional(f"{word} without its value")
            if word == "-H":
                _header(request, value)
            elif word == "--data-urlencode":
                _parameter(request, value)
        elif word.startswith("-"):
            raise Unconventional(f"the option {word}")
        else:
            urls.append(word)
    return urls


def request_of(command: str, now: dt.datetime) -> Request:
    """What a ``curl`` command asks, read by the conventions; :class:`Unconventional` otherwise."""
    if command.endswith("\\"):
        raise Unconventional("a trailing ' \\' continues to no line of its block")
    try:
        words = shlex.split(_dated(command, now))
    except ValueError as error:
        raise Unconventional(str(error)) from None
    request = Request("")
    urls = _options(request, words[1:])
    if request.flags != {"s", "G"}:
        raise Unconventional("curl without -sG (or -s -G)")
    if len(urls) != 1 or not urls[0].startswith(BASE_URL + "/") or any(c in urls[0] for c in "?#"):
        raise Unconventional(f"the URL(s) {urls}: one, under {BASE_URL}/, its parameters not in it")
    request.path = urls[0].removeprefix(BASE_URL)
    return request


def rows(body: Any) -> int:
    """How many rows a JSON answer holds: the items of a list body; in an object, the items of its
    lists and objects (departments, agents, totalizers, data, series, one object per agent or
    department); in an object of counts only, the counts that are not 0."""
    if isinstance(body, list):
        return len(body)
    values = [value for key, value in body.items() if key != "success"]
    containers = [value for value in values if isinstance(value, (list, dict))]
    if containers:
        return sum(len(value) for value in containers)
    return sum(1 for value in values if type(value) in (int, float) and value != 0)


def _checked(client: FlaskClient, example: Example) -> None:
    try:
        request = request_of(example.command, NOW)
    except Unconventional as error:
        pytest.fail(f"{example}: not as the manual's conventions write an example: {error}")
    response = client.get(request.path, query_string=request.query, headers=request.headers)
    body = response.get_data(as_text=True)
    if response.status_code != 200:
        pytest.fail(f"{example}: {response.status_code} {body[:300]}")
    if request.headers.get("Accept") == "text/csv" or ("format", "csv") in request.query:
        lines = body.splitlines()
        if response.mimetype != "text/csv" or len(lines) < 2 or not lines[0]:
            pytest.fail(f"{example}: not a CSV with a header and rows: {response.mimetype} {body[:300]!r}")
    elif request.path.removeprefix(API_ROOT + "/") in ENDPOINTS and rows(response.get_json()) == 0:
        pytest.fail(f"{example}: no rows: {body[:300]}")


@pytest.fixture(scope="module")
def demo_client() -> FlaskClient:
    """A client of the app ``livechat-analytics demo`` serves, its data generated up to :data:`NOW`."""
    database = mongomock.MongoClient(tz_aware=True)["rocketchat"]
    return make_demo_app(database=database, now=NOW).app.test_client()


def _all_examples() -> list[Example]:
    return [example for page in PAGES for example in examples(page.read_text(), page.name)]


@pytest.mark.parametrize("example", _all_examples(), ids=str)
def test_every_example_of_the_manual_runs(demo_client: FlaskClient, example: Example) -> None:
    _checked(demo_client, example)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_curl_command_is_an_example(page: pathlib.Path) -> None:
    """A ``curl`` command outside a console block, or not on a ``$ `` line, would go untested."""
    found = {example.line for example in examples(page.read_text(), page.name)}
    lines = page.read_text().splitlines()
    stray = [
        f"{page.name}:{number}"
        for number, line in enumerate(lines, 1)
        if re.search(r"\bcurl\s+-", line) and number not in found
    ]
    assert not stray, f"curl commands outside a '.. code-block:: console' '$ ' line: {stray}"


# -- The runner itself, on a sample -------------------------------------------------------------

SAMPLE = """\
Some prose, then a console block with two commands and some output.

.. code-block:: console

   $ curl -sG http://127.0.0.1:3000/api/v1/livechat/analytics/agents/total-service-time \\
       -H "X-User-Id: DemoManager234567" -H "X-Auth-Token: livechat-analytics-demo-token" \\
       --data-urlencode "start=$(date -u -d '6 days ago' +%F)" \\
       --data-urlencode "end=$(date -u +%F)"
   {"agents": [...]}
   $ curl -s -G http://127.0.0.1:3000/api/v1/livechat/analytics/dashboards/conversations-by-status \\
       -H "X-User-Id: DemoManager234567" -H "X-Auth-Token: livechat-analytics-demo-token" \\
       -H "Accept: text/csv" -o status.csv \\
       --data-urlencode "start=$(date -u -d '1 day ago' +%F)" --data-urlencode "end=$(date -u +%F)"

.. code-block:: shell

   $ curl -s http://example.com/not-an-example

Not in a block: $ curl -sG http://127.0.0.1:3000/
"""


def test_the_runner_finds_the_commands_of_console_blocks_only() -> None:
    found = examples(SAMPLE, "sample.rst")
    assert [example.line for example in found] == [5, 10]
    assert found[0].command == (
        "curl -sG http://127.0.0.1:3000/api/v1/livechat/analytics/agents/total-service-time"
        ' -H "X-User-Id: DemoManager234567" -H "X-Auth-Token: livechat-analytics-demo-token"'
        " --data-urlencode \"start=$(date -u -d '6 days ago' +%F)\""
        ' --data-urlencode "end=$(date -u +%F)"'
    )


def test_the_runner_reads_a_command_as_curl_does() -> None:
    request = request_of(examples(SAMPLE, "sample.rst")[1].command, NOW)
    assert request.path == "/api/v1/livechat/analytics/dashboards/conversations-by-status"
    assert request.query == [("start", "2026-10-31"), ("end", "2026-11-01")]
    assert request.headers == {
        "X-User-Id": "DemoManager234567",
        "X-Auth-Token": "livechat-analytics-demo-token",
        "Accept": "text/csv",
    }


@pytest.mark.parametrize("example", examples(SAMPLE, "sample.rst"), ids=str)
def test_the_runner_runs_the_sample(demo_client: FlaskClient, example: Example) -> None:
    _checked(demo_client, example)


_GOOD = 'curl -sG -H "X-User-Id: DemoManager234567" http://127.0.0.1:3000/api/v1/livechat/analytics/overview'


#: Commands outside the conventions, and what the refusal says.
_REFUSED = [
    (_GOOD.replace("-sG", "-s"), "-sG"),
    (_GOOD.replace("-sG", "-sGL"), "the option -sGL"),
    (_GOOD + ' -d "name=Conversations"', "the option -d"),
    (_GOOD + "?name=Conversations", "not in it"),
    (_GOOD.replace("127.0.0.1:3000", "localhost:5000"), "under http://127.0.0.1:3000/"),
    (_GOOD.replace("DemoManager234567", "someone"), "the header"),
    (_GOOD + ' -H "Cookie: a=b"', "the header"),
    (_GOOD + ' --data-urlencode "from=$(date +%F)"', "shell expansion"),
    (_GOOD + ' --data-urlencode "from=$(date -u -d yesterday +%F)"', "shell expansion"),
    (_GOOD + " --data-urlencode Conversations", '"name=value"'),
    (_GOOD + ' --data-urlencode "name=unclosed', "quotation"),
    (_GOOD + " -o", "without its value"),
]


@pytest.mark.parametrize(("command", "refusal"), _REFUSED, ids=[refusal for _, refusal in _REFUSED])
def test_the_runner_refuses_what_the_conventions_do_not_allow(command: str, refusal: str) -> None:
    with pytest.raises(Unconventional, match=re.escape(refusal)):
        request_of(command, NOW)


def test_a_failing_example_names_its_page_and_line(demo_client: FlaskClient) -> None:
    example = Example("sample.rst", 7, _GOOD.replace("overview", "no-such-endpoint"))
    with pytest.raises(pytest.fail.Exception, match=r"^sample\.rst:7: 404"):
        _checked(demo_client, example)
    with pytest.raises(pytest.fail.Exception, match=r"^sample\.rst:7: not as the manual"):
        _checked(demo_client, Example("sample.rst", 7, _GOOD + " -v"))


def test_a_trailing_continuation_at_the_end_of_a_block_is_refused(demo_client: FlaskClient) -> None:
    text = ".. code-block:: console\n\n   $ curl -sG http://127.0.0.1:3000/ \\\n\nProse.\n"
    [example] = examples(text, "broken.rst")
    with pytest.raises(pytest.fail.Exception, match=r"^broken\.rst:3: .*continues to no line"):
        _checked(demo_client, example)


# -- The benchmark's results --------------------------------------------------------------------


def test_the_benchmark_page_shows_the_latest_results_as_run_py_wrote_them() -> None:
    results = ROOT / "benchmarks" / "results"
    rst = _load(ROOT / "benchmarks" / "rst.py")
    assert (results / "table.rst").read_text() == rst.to_rst((results / "table.md").read_text())
    page = (DOCS / "benchmark.rst").read_text()
    assert ".. include:: ../benchmarks/results/table.rst" in page
    assert ".. image:: ../benchmarks/results/latency.png" in page
