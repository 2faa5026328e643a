"""The commands: ``ensure-indexes`` and ``seed``, as the console script and under ``flask``, and what
they say when the database is out of reach."""

from __future__ import annotations

import datetime as dt
import functools
import re
import time
from collections.abc import Callable
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from commands import flask_command
from flask import Flask
from pymongo.database import Database
from pymongo.errors import ServerSelectionTimeoutError
from support import OUR_INDEXES, UTC

import livechat_analytics
from livechat_analytics import cli, demo, hash_token, indexes
from livechat_analytics.demo import DemoData

NOW = dt.datetime(2024, 6, 14, 15, 30, 12, 345000, tzinfo=UTC)
ROOM = "rocketchat_room"
MESSAGE = "rocketchat_message"


def uri_of(database: Database) -> str:
    host, port = database.client.address
    return f"mongodb://{host}:{port}/{database.name}"


@pytest.fixture
def invoke(database: Database, backend: str, make_app: Callable[..., Flask]) -> Callable[..., Result]:
    """``livechat-analytics <args>`` on the test database: the console script with ``--mongo-uri``
    on a server, ``flask livechat-analytics`` over a host app on mongomock (which has no URI)."""

    def run(*args: str) -> Result:
        if backend == "mongomock":
            return flask_command(make_app(), *args)
        return CliRunner().invoke(cli.command_group, [*args, "--mongo-uri", uri_of(database)])

    return run


def index_specs(database: Database) -> dict[str, dict[str, Any]]:
    """Every index of every collection, by collection and name."""
    return {
        name: database[name].index_information()
        for name in database.list_collection_names()
        if not name.startswith("system.")
    }


def status_line(status: str, collection: str, name: str, detail: str = "") -> str:
    return f"  {status:<8} {collection}.{name}" + (f" ({detail})" if detail else "")


# ensure-indexes

ACTIVITY = "rocketchat_livechat_agent_activity"


def insert_demo(database: Database, rooms: int) -> None:
    """The demo data set, and the agent activity collection Rocket.Chat makes at start-up (with
    its indexes) when the data set has no activity of its own."""
    demo.insert(database, DemoData(rooms=rooms, now=NOW))
    if ACTIVITY not in database.list_collection_names():
        database.create_collection(ACTIVITY)


def test_ensure_indexes_creates_the_indexes_once(database: Database, invoke: Callable[..., Result]):
    insert_demo(database, 50)
    first = invoke("ensure-indexes")
    assert first.exit_code == 0, first.output
    for collection, name in OUR_INDEXES:
        assert status_line("created", collection, name) in first.output
    assert "Created 10 and found 0 of the 10 indexes" in first.output
    made = index_specs(database)
    assert made[ROOM]["livechat_analytics_t_ts"]["key"] == [("t", 1), ("ts", 1)]
    assert made[ROOM]["livechat_analytics_t_department_ts"]["key"] == [
        ("t", 1),
        ("departmentId", 1),
        ("ts", 1),
    ]
    transfers = made[MESSAGE]["livechat_analytics_transfer_ts"]
    assert transfers["key"] == [("ts", 1)]
    assert dict(transfers["partialFilterExpression"]) == {"t": "livechat_transfer_history"}

    second = invoke("ensure-indexes")
    assert second.exit_code == 0, second.output
    lines = second.output.splitlines()[1:8]
    assert [line.split()[0] for line in lines] == ["exists"] * 7
    assert "Created 0 and found 10 of the 10 indexes" in second.output
    assert index_specs(database) == made


def test_ensure_indexes_leaves_every_other_index_alone(database: Database, invoke: Callable[..., Result]):
    insert_demo(database, 50)
    # Ours under another name, one of the host's own, and our name on another definition.
    database[ROOM].create_index([("t", 1), ("ts", 1)], name="t_1_ts_1")
    database[ROOM].create_index([("v.token", 1)], name="v.token_1")
    database[MESSAGE].create_index(
        [("ts", 1)], name="transfers", partialFilterExpression={"t": "livechat_transfer_history"}
    )
    database[MESSAGE].create_index([("rid", 1)], name="livechat_analytics_transfer_ts")
    before = index_specs(database)

    result = invoke("ensure-indexes")
    assert result.exit_code == 0, result.output
    assert status_line("exists", ROOM, "livechat_analytics_t_ts", "as t_1_ts_1") in result.output
    assert status_line("created", ROOM, "livechat_analytics_t_department_ts") in result.output
    assert status_line("exists", MESSAGE, "livechat_analytics_transfer_ts", "as transfers") in result.output
    after = index_specs(database)
    # The messages' only new index is the server's own for the joins: (rid) alone is not (rid, ts).
    assert {name: spec for name, spec in after[MESSAGE].items() if name in before[MESSAGE]} == before[MESSAGE]
    assert set(after[MESSAGE]) - set(before[MESSAGE]) == {"rid_1_ts_1__updatedAt_1"}
    assert {name: spec for name, spec in after[ROOM].items() if name in before[ROOM]} == before[ROOM]
    assert set(after[ROOM]) - set(before[ROOM]) == {
        "livechat_analytics_t_department_ts",
        "livechat_analytics_t_closed",
        "livechat_analytics_t_updated",
        "livechat_analytics_open",
    }


def test_an_index_of_our_name_with_another_definition_is_reported(
    database: Database, invoke: Callable[..., Result]
):
    insert_demo(database, 50)
    database[MESSAGE].create_index([("rid", 1)], name="livechat_analytics_transfer_ts")
    before = index_specs(database)[MESSAGE]
    result = invoke("ensure-indexes")
    assert result.exit_code == 1
    conflict = "an index of this name has another definition"
    assert status_line("conflict", MESSAGE, "livechat_analytics_transfer_ts", conflict) in result.output
    assert "Error: Not there: 1 of the 10 indexes; see above." in result.output
    assert {name: spec for name, spec in index_specs(database)[MESSAGE].items() if name in before} == before
    assert len(index_specs(database)[ROOM]) == 6  # the rooms' indexes were still made


def test_ensure_indexes_creates_no_collection(database: Database, invoke: Callable[..., Result]):
    result = invoke("ensure-indexes")
    assert result.exit_code == 1
    assert status_line("missing", ROOM, "livechat_analytics_t_ts", "no such collection") in result.output
    assert "Error: Not there: 10 of the 10 indexes" in result.output
    assert database.list_collection_names() == []


# seed


@pytest.fixture
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands generate their data at :data:`NOW`, so that the tests can generate it too."""
    monkeypatch.setattr(demo, "DemoData", functools.partial(DemoData, now=NOW))


@pytest.fixture
def bars(monkeypatch: pytest.MonkeyPatch) -> list:
    """The progress bars the commands make."""
    made = []
    progressbar = click.progressbar

    def recorded(*args: Any, **kwargs: Any) -> Any:
        made.append(progressbar(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(click, "progressbar", recorded)
    return made


def generated(rooms: int, seed: int) -> dict[str, int]:
    """What ``seed --rooms <rooms> --seed <seed>`` writes into an empty database."""
    data = DemoData(rooms=rooms, seed=seed, now=NOW)
    chats = list(data.chats())
    return {
        "livechat rooms": sum(chat.room["t"] == "l" for chat in chats),
        "rooms": len(chats),
        "messages": len(data.orphan_transfers) + sum(len(chat.messages) for chat in chats),
        "transfers": len(data.orphan_transfers) + sum(len(chat.transfers) for chat in chats),
    }


def stored(database: Database, prefix: str = "rocketchat_") -> dict[str, int]:
    messages = database[prefix + "message"]
    return {
        "livechat rooms": database[prefix + "room"].count_documents({"t": "l"}),
        "rooms": database[prefix + "room"].count_documents({}),
        "messages": messages.count_documents({}),
        "transfers": messages.count_documents({"t": "livechat_transfer_history"}),
    }


def contents(database: Database) -> dict[str, list[dict]]:
    return {
        name: list(database[name].find({}, sort=[("_id", 1)]))
        for name in sorted(database.list_collection_names())
        if not name.startswith("system.")
    }


def test_seed_writes_the_generated_data_set_with_a_progress_bar(
    database: Database, invoke: Callable[..., Result], fixed_now: None, bars: list
):
    result = invoke("seed", "--rooms", "200", "--seed", "5", "--batch-size", "64")
    assert result.exit_code == 0, result.output
    expected = generated(200, 5)
    assert stored(database) == expected
    [bar] = bars
    assert (bar.length, bar.pos) == (200, 200)
    assert "Livechat rooms" in result.output  # without a terminal the bar shows its label only
    assert (
        f"Wrote 200 livechat rooms (and {expected['rooms'] - 200} other rooms), {expected['messages']}"
        f" messages of which {expected['transfers']} transfers, 6 departments and 11 users in "
    ) in result.output
    assert "Left" not in result.output


def test_the_same_seed_again_is_refused_and_another_seed_adds_more(
    database: Database, invoke: Callable[..., Result], fixed_now: None
):
    assert invoke("seed", "--rooms", "200").exit_code == 0
    before = contents(database)
    again = invoke("seed", "--rooms", "200")
    assert again.exit_code == 1
    assert again.output == "Error: The rooms of seed 1 are already in this database; use another --seed.\n"
    assert contents(database) == before

    other = invoke("seed", "--rooms", "200", "--seed", "2")
    assert other.exit_code == 0, other.output
    first, second = generated(200, 1), generated(200, 2)
    assert stored(database) == {key: first[key] + second[key] for key in first}
    # The departments and agents are new; the manager, the permission and the two settings are not.
    assert "6 departments and 10 users" in other.output
    assert "Left 4 documents as they were" in other.output


def test_seed_leaves_a_real_databases_documents_alone(
    database: Database, invoke: Callable[..., Result], fixed_now: None
):
    permission = {"_id": "view-livechat-manager", "roles": ["admin", "support-lead"]}
    setting = {"_id": "Livechat_visitor_inactivity_timeout", "value": 600}
    user = {"_id": "RealUser234567890", "username": "ana.souza", "roles": ["user"]}
    database["rocketchat_permissions"].insert_one(permission)
    database["rocketchat_settings"].insert_one(setting)
    database["users"].create_index("username", unique=True)  # as Rocket.Chat has it
    database["users"].insert_one(user)

    before = contents(database)
    refused = invoke("seed", "--rooms", "50")
    assert refused.exit_code == 1
    assert refused.output == (
        f"Error: The database {database.name!r} holds documents seed did not write:"
        " rocketchat_permissions (1), rocketchat_settings (1), users (1). Nothing was written. Seed an"
        " empty database, or pass --force to add the demo data set (and its demo manager) to this one.\n"
    )
    assert contents(database) == before

    result = invoke("seed", "--rooms", "50", "--force")
    assert result.exit_code == 0, result.output
    assert database["rocketchat_permissions"].find_one({"_id": permission["_id"]}) == permission
    assert database["rocketchat_settings"].find_one({"_id": setting["_id"]}) == setting
    # The agent called ana.souza is left out: the username is taken.
    assert database["users"].find_one({"username": "ana.souza"}) == user
    assert database["users"].count_documents({}) == 11
    assert "6 departments and 10 users" in result.output
    assert "Left 3 documents as they were" in result.output


def test_under_flask_the_commands_use_the_apps_database_and_names(
    make_app: Callable[..., Flask], database: Database, fixed_now: None
):
    host = make_app(COLLECTION_PREFIX="rc_", USERS_COLLECTION="people")
    seeded = flask_command(host, "seed", "--rooms", "30")
    assert seeded.exit_code == 0, seeded.output
    assert f"Writing seed 1 into the database {database.name!r}." in seeded.output
    assert stored(database, "rc_") == generated(30, 1)
    assert database["people"].count_documents({}) == 11
    if "rc_livechat_agent_activity" not in database.list_collection_names():
        database.create_collection("rc_livechat_agent_activity")  # as Rocket.Chat makes it
    indexed = flask_command(host, "ensure-indexes")
    assert indexed.exit_code == 0, indexed.output
    assert status_line("created", "rc_room", "livechat_analytics_t_ts") in indexed.output
    assert {"rocketchat_room", "rocketchat_message", "users"}.isdisjoint(database.list_collection_names())


@pytest.mark.parametrize("command", [["seed", "--rooms", "1"], ["ensure-indexes"]])
def test_the_console_script_needs_a_uri_that_names_the_database(command: list[str]):
    result = CliRunner().invoke(cli.command_group, command)
    assert result.exit_code == 2
    assert "Missing option '--mongo-uri'." in result.output
    result = CliRunner().invoke(cli.command_group, [*command, "--mongo-uri", "mongodb://127.0.0.1:1"])
    assert (result.exit_code, result.output) == (
        1,
        "Error: --mongo-uri must name the database, as in mongodb://host:27017/rocketchat.\n",
    )
    result = CliRunner().invoke(cli.command_group, [*command, "--mongo-uri", "postgres://u:s3cret@db/rc"])
    assert (result.exit_code, result.output) == (
        1,
        "Error: --mongo-uri is not a MongoDB URI such as mongodb://host:27017/rocketchat.\n",
    )


@pytest.mark.parametrize("command", [["seed", "--rooms", "1"], ["ensure-indexes"]])
def test_an_unreachable_server_is_one_line_without_the_password(command: list[str]):
    started = time.monotonic()
    result = CliRunner().invoke(
        cli.command_group,
        [*command, "--mongo-uri", "mongodb://admin:s3cret@127.0.0.1:9/rc", "--timeout", "0.2"],
    )
    assert time.monotonic() - started < 3
    assert (result.exit_code, result.output) == (
        1,
        "Error: Cannot reach the database at 127.0.0.1:9 within 0.2 s.\n",
    )


def test_the_console_script_tells_its_version():
    result = CliRunner().invoke(cli.command_group, ["--version"])
    assert (result.exit_code, result.output) == (0, f"livechat-analytics {livechat_analytics.__version__}\n")


@pytest.mark.parametrize(
    ("command", "function"),
    [(["seed", "--rooms", "1"], (demo, "insert")), (["ensure-indexes"], (indexes, "ensure_indexes"))],
)
def test_database_trouble_is_a_message_not_a_traceback(make_app, memory, monkeypatch, command, function):
    def unreachable(*args: Any, **kwargs: Any) -> None:
        raise ServerSelectionTimeoutError("db.example:27017: timed out")

    monkeypatch.setattr(*function, unreachable)
    host = make_app(database=memory)
    result = flask_command(host, *command)
    assert result.exit_code == 1
    assert result.output.endswith("\nError: Cannot reach the database.\n")


def printed_token(output: str) -> str:
    [token] = re.findall(r"X-Auth-Token: (\S+) \(shown this once only; it is stored hashed\)\.", output)
    return token


def test_the_seeded_manager_has_a_fresh_token_printed_once(
    make_app: Callable[..., Flask], database: Database, invoke: Callable[..., Result], fixed_now: None
):
    result = invoke("seed", "--rooms", "20")
    assert result.exit_code == 0, result.output
    token = printed_token(result.output)
    assert len(token) >= 40 and token != demo.MANAGER_TOKEN
    assert (
        f"The demo manager demo.manager logs in with the headers X-User-Id: {demo.MANAGER_ID}"
        f" and X-Auth-Token: {token} (shown this once only; it is stored hashed).\n"
    ) in result.output
    [stored_token] = database["users"].find_one({"_id": demo.MANAGER_ID})["services"]["resume"]["loginTokens"]
    assert stored_token["hashedToken"] == hash_token(token)
    app = make_app()
    url = "/api/v1/livechat/analytics/departments/amount-of-chats?start=2024-06-01&end=2024-06-14"
    client = app.test_client()
    assert client.get(url, headers={"X-User-Id": demo.MANAGER_ID, "X-Auth-Token": token}).status_code == 200
    public = {"X-User-Id": demo.MANAGER_ID, "X-Auth-Token": demo.MANAGER_TOKEN}
    assert client.get(url, headers=public).status_code == 401


def test_only_earlier_seeds_are_ours(database: Database, invoke: Callable[..., Result], fixed_now: None):
    first = invoke("seed", "--rooms", "20")
    token = printed_token(first.output)
    second = invoke("seed", "--rooms", "20", "--seed", "2")
    assert second.exit_code == 0, second.output
    assert "The demo manager demo.manager was there already and keeps the token it had.\n" in second.output
    # One real user among the seeded ones is enough to refuse.
    database["users"].insert_one({"_id": "RealUser234567890", "username": "rita", "roles": ["admin"]})
    before = contents(database)
    third = invoke("seed", "--rooms", "20", "--seed", "3")
    assert third.exit_code == 1
    assert "holds documents seed did not write: users (1). Nothing was written." in third.output
    assert contents(database) == before

    forced = invoke("seed", "--rooms", "20", "--seed", "3", "--force")
    assert forced.exit_code == 0, forced.output
    assert "The demo manager demo.manager was there already and keeps the token it had.\n" in forced.output
    [kept] = database["users"].find_one({"_id": demo.MANAGER_ID})["services"]["resume"]["loginTokens"]
    assert kept["hashedToken"] == hash_token(token)
    assert database["users"].find_one({"_id": "RealUser234567890"})["roles"] == ["admin"]


@pytest.mark.parametrize(
    ("collection", "document"),
    [
        ("rocketchat_room", {"_id": "GENERAL", "t": "c", "name": "general"}),
        ("rocketchat_message", {"_id": "m1", "rid": "GENERAL", "msg": "hi"}),
        ("rocketchat_livechat_department", {"_id": "d1", "name": "Sales", "enabled": True}),
        ("rocketchat_settings", {"_id": "Site_Url", "value": "https://chat.example"}),
    ],
)
def test_seed_refuses_any_real_collection(
    database: Database, invoke: Callable[..., Result], collection, document
):
    database[collection].insert_one(document)
    result = invoke("seed", "--rooms", "5")
    assert result.exit_code == 1
    assert f"holds documents seed did not write: {collection} (1). Nothing was written." in result.output
    assert contents(database) == {collection: [document]}


# Help


def command_paths(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The group and every command under it, as the words that name them."""
    paths = [path]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            paths += command_paths(command, (*path, name))
        else:
            paths.append((*path, name))
    return paths


#: reStructuredText that a terminal would show as written: literals, roles, references, emphasis.
MARKUP = re.compile(r"``|:[a-z:]+:`|`_|\*\*|\.\. |`[^`]+`")


@pytest.mark.parametrize("path", command_paths(cli.command_group), ids=" ".join)
def test_the_help_of_every_command_is_plain_text(path: tuple[str, ...]):
    result = CliRunner().invoke(cli.command_group, [*path, "--help"], prog_name="livechat-analytics")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: {' '.join(['livechat-analytics', *path])} [OPTIONS]")
    assert MARKUP.findall(result.output) == []


def test_the_markup_check_sees_markup():
    # The pattern of the test above, on the group's help as it was.
    assert MARKUP.findall("Command line: ``livechat-analytics`` and :func:`x`.") == ["``", "``", ":func:`"]
