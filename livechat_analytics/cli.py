"""Command line: ``livechat-analytics`` and ``flask livechat-analytics``: the demo, ``seed`` and
``ensure-indexes``. What the demo serves, and on what, is :mod:`.demo_server`."""

from __future__ import annotations

import datetime as dt
import secrets
import shlex
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import BulkWriteError, ConfigurationError, PyMongoError, ServerSelectionTimeoutError
from pymongo.read_preferences import ReadPreference

from . import config, demo, indexes
from .auth import hash_token
from .demo.mover import MOVE_SECONDS, moving
from .demo_server import (
    DEMO_DAYS,
    DEMO_REQUESTS,
    DemoApp,
    api_docs_url,
    dashboard_url,
    demo_requests,
    ended_by_sigterm,
    listen,
    make_demo_app,
    memory_database,
    serve,
)
from .endpoints.departments import METRICS
from .extension import LivechatAnalytics
from .logs import configure_logging
from .repository import Repository
from .state import current
from .version import __version__


def _print_version(context: click.Context, parameter: click.Parameter, value: bool) -> None:
    if not value or context.resilient_parsing:
        return
    click.echo(f"livechat-analytics {__version__}")
    context.exit()


command_group = click.Group(
    "livechat-analytics",
    # Plain text: click shows it as written, and sphinx-click reads it as reStructuredText.
    help="Rocket.Chat livechat analytics: the demo, and the commands that work on a database."
    " In a host app the same commands are 'flask livechat-analytics'.",
    params=[
        click.Option(
            ["--version"],
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=_print_version,
            help="Show the version and exit.",
        )
    ],
)

#: Documents per ``insert_many`` of ``seed``.
SEED_BATCH_SIZE = 1000
#: Seconds ``seed`` and ``ensure-indexes`` look for the server of ``--mongo-uri`` before giving up.
COMMAND_TIMEOUT = 5.0

_DUPLICATE_KEY = 11000

_mongo_uri_option = click.option(
    "--mongo-uri",
    metavar="URI",
    help="The database (the URI names it). Under 'flask livechat-analytics' the app's database by default.",
)


_timeout_option = click.option(
    "--timeout",
    default=COMMAND_TIMEOUT,
    show_default=True,
    type=click.FloatRange(min=0.01),
    metavar="SECONDS",
    help="How long to look for the server of --mongo-uri before giving up.",
)


def _seed_option(help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--seed", default=demo.DEFAULT_SEED, show_default=True, type=int, help=help)


@command_group.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=3000, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@click.option(
    "--mongo-uri",
    metavar="URI",
    help="Serve this Rocket.Chat database (the URI names it) instead of generated data in memory.",
)
@click.option(
    "--rooms",
    default=demo.DEFAULT_ROOMS,
    show_default=True,
    type=click.IntRange(min=0),
    help="Livechat rooms to generate (without --mongo-uri).",
)
@_seed_option("Seed of the generated data (without --mongo-uri).")
@click.option(
    "--still",
    is_flag=True,
    help="Keep the generated queue as it was made: without it, chats are opened, taken and closed"
    f" every {MOVE_SECONDS:g} s (never with --mongo-uri).",
)
def demo_command(host: str, port: int, mongo_uri: str | None, rooms: int, seed: int, still: bool) -> None:
    """Serve the API on generated livechat data, and print curl commands to try it."""
    now = dt.datetime.now(dt.timezone.utc)
    # The port first: nothing is printed, and no data made, that a taken port would make useless.
    with closing(listen(host, port)) as listening, ExitStack() as stack:
        stack.enter_context(ended_by_sigterm())  # first: the database's process stops with the demo
        database = None if mongo_uri is not None else stack.enter_context(memory_database())
        try:
            made = make_demo_app(mongo_uri=mongo_uri, database=database, rooms=rooms, seed=seed, now=now)
        except RuntimeError as error:  # a URI the extension cannot use
            raise click.ClickException(str(error)) from error
        _print_data(made)
        base_url = f"http://{_url_host(host)}:{port}"
        _print_requests(made.app, base_url, now)
        if database is not None and not still:
            # Only the database memory_database() made: moving() refuses any other.
            stack.enter_context(moving(database, seed=seed))
            click.echo(
                f"\nThe queue moves every {MOVE_SECONDS:g} s: chats open, are taken and close (--still: not)."
            )
        click.echo(f"\nServing {base_url} (Ctrl+C to stop).")
        configure_logging()  # each request's JSON line, as the standalone app shows it
        serve(made.app, listening)


def _print_data(made: DemoApp) -> None:
    """What the demo serves: the generated data set, or the database of ``--mongo-uri``."""
    if made.data is None or made.counts is None:
        name = current(made.app).repository.database.name
        # Never echo the URI: it may hold a password.
        click.echo(f"Serving the database {name!r} from --mongo-uri.")
        click.echo(
            f"The commands below log in as the demo manager ({demo.MANAGER_USERNAME}),"
            " who exists only where the demo data set was written. They send the in-memory demo's"
            " public token: over a database that 'seed' wrote, send the token it printed instead."
        )
        return
    counts = made.counts
    click.echo(
        f"Generated {counts.rooms} livechat rooms over the last {demo.DAYS} days"
        f" in {counts.departments} departments, with {counts.transfers} transfers"
        f" (and {counts.other_rooms} other rooms, {counts.messages} messages in all)."
    )
    departments = ", ".join(
        f"{department['name']} {department['_id']}" + ("" if department["enabled"] else " (disabled)")
        for department in made.data.departments
    )
    click.echo(f"Departments: {departments}.")
    click.echo(f"The commands below log in as the livechat manager {demo.MANAGER_USERNAME}.")


def _print_requests(app: Flask, base_url: str, now: dt.datetime) -> None:
    """A ``curl`` command per request of :func:`demo_requests`, and the pages' URLs."""
    for path, request in demo_requests(app, now).items():
        click.echo(f"\n# {DEMO_REQUESTS[path]}, last {DEMO_DAYS} days:")
        login = ["-H", f"X-User-Id: {demo.MANAGER_ID}", "-H", f"X-Auth-Token: {demo.MANAGER_TOKEN}"]
        click.echo(shlex.join(["curl", "-s", *login, base_url + request]))
    others = ", ".join(path.removeprefix("departments/") for path in METRICS if path not in DEMO_REQUESTS)
    click.echo(f"\n# The same query works on the other departments/ endpoints: {others}.")
    page = dashboard_url(app, base_url)
    if page is not None:
        click.echo(
            f"\n# The dashboard page, in a browser (signed in as {demo.MANAGER_USERNAME};"
            f" {base_url}/ leads there too):\n{page}"
        )
    viewer = api_docs_url(app, base_url)
    if viewer is not None:
        click.echo(
            '\n# The API viewer, in a browser ("Authorize" with the X-User-Id and X-Auth-Token above,'
            f' then "Try it out"):\n{viewer}'
        )


def _url_host(host: str) -> str:
    """``host`` as a URL names it; a wildcard address becomes the loopback one."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


@command_group.command("ensure-indexes")
@_mongo_uri_option
@_timeout_option
def ensure_indexes_command(mongo_uri: str | None, timeout: float) -> None:
    """Create the indexes the endpoints need, and say what was created and what was there.

    It never drops or changes an index; run it again after upgrades.
    """
    with _target_app(mongo_uri, timeout) as app:
        repository = current(app).repository
        with _database_trouble(repository.database):
            # Asked first, so that an unreachable server is one line rather than a half-made list.
            repository.database.command("ping")
            click.echo(f"Indexes of the database {repository.database.name!r}:")
            outcomes = indexes.ensure_indexes(repository)
    for outcome in outcomes:
        detail = f" ({outcome.detail})" if outcome.detail else ""
        click.echo(f"  {outcome.status:<8} {outcome.collection}.{outcome.name}{detail}")
    created = sum(outcome.status == indexes.CREATED for outcome in outcomes)
    there = sum(outcome.status == indexes.EXISTS for outcome in outcomes)
    click.echo(
        f"Created {created} and found {there} of the {len(outcomes)} indexes; nothing was dropped or changed."
    )
    missing = len(outcomes) - created - there
    if missing:
        # A script that runs this before going live must notice that an index is not there.
        raise click.ClickException(f"Not there: {missing} of the {len(outcomes)} indexes; see above.")


@command_group.command("seed")
@_mongo_uri_option
@click.option("--rooms", required=True, type=click.IntRange(min=0), help="Livechat rooms to generate.")
@_seed_option("Seed of the generated data: each seed writes other rooms.")
@click.option(
    "--batch-size",
    default=SEED_BATCH_SIZE,
    show_default=True,
    type=click.IntRange(min=1),
    help="Documents per insert.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Write into a database that holds data seed did not write. Its documents are left as they are.",
)
@_timeout_option
def seed_command(
    mongo_uri: str | None, rooms: int, seed: int, batch_size: int, force: bool, timeout: float
) -> None:
    """Write the demo's generated data set into a database, for trials and benchmarks.

    It refuses a database holding data it did not write (a real Rocket.Chat) unless given --force;
    documents already there (departments, users, the permission, the setting) are left as they are.
    The demo manager it adds gets a fresh random token, printed once.
    """
    token = secrets.token_urlsafe(32)
    data = demo.DemoData(rooms=rooms, seed=seed, manager_token=token)
    refused = f"The rooms of seed {seed} are already in this database; use another --seed."
    with _target_app(mongo_uri, timeout) as app:
        # The primary: the app may read from secondaries, which lag behind our writes.
        database = current(app).repository.database.with_options(
            read_preference=ReadPreference.PRIMARY
        )
        prefix = config.read(app.config, "COLLECTION_PREFIX")
        users = config.read(app.config, "USERS_COLLECTION")
        names = Repository(database, collection_prefix=prefix, users_collection=users)
        with _database_trouble(database):
            _refuse_foreign(database, names, force=force)
            # Asked before the bar shows, so that a refusal comes alone; insert asks again.
            if demo.already_inserted(database, data, collection_prefix=prefix):
                raise click.ClickException(refused)
            click.echo(f"Writing seed {seed} into the database {database.name!r}.")
            started = time.monotonic()
            before = demo.document_counts(database, names)
            try:
                counts = _insert(database, data, prefix=prefix, users=users, batch_size=batch_size)
            finally:
                # What did go in, even when a write failed halfway, so the next seed sees it as ours.
                after = demo.document_counts(database, names)
                added = {name: after[name] - before[name] for name in after if after[name] > before[name]}
                if added:
                    demo.record_seed(database, seed, added, now=data.now)
            manager = database[names.name("users")].find_one(
                {"_id": demo.MANAGER_ID, "services.resume.loginTokens.hashedToken": hash_token(token)},
                {"_id": 1},
            )
    _report_seed(counts, seconds=time.monotonic() - started, token=token if manager is not None else None)


def _refuse_foreign(database: Database, names: Repository, *, force: bool) -> None:
    """Stop before writing into a database holding documents seed did not write, unless forced."""
    foreign = demo.foreign_documents(database, names)
    if foreign and not force:
        listed = ", ".join(f"{name} ({n})" for name, n in sorted(foreign.items()))
        raise click.ClickException(
            f"The database {database.name!r} holds documents seed did not write: {listed}."
            " Nothing was written. Seed an empty database, or pass --force to add the demo"
            " data set (and its demo manager) to this one."
        )


def _report_seed(counts: demo.Counts, *, seconds: float, token: str | None) -> None:
    """What seed wrote, and how the demo manager logs in (``token`` None: it was there already)."""
    click.echo(
        f"Wrote {counts.rooms} livechat rooms (and {counts.other_rooms} other rooms),"
        f" {counts.messages} messages of which {counts.transfers} transfers,"
        f" {counts.departments} departments and {counts.users} users"
        f" in {seconds:.1f} s."
    )
    if counts.kept:
        click.echo(
            f"Left {counts.kept} documents as they were: the database had their ids (or their"
            " usernames) already."
        )
    if token is not None:
        click.echo(
            f"The demo manager {demo.MANAGER_USERNAME} logs in with the headers X-User-Id: {demo.MANAGER_ID}"
            f" and X-Auth-Token: {token} (shown this once only; it is stored hashed)."
        )
    else:
        click.echo(f"The demo manager {demo.MANAGER_USERNAME} was there already and keeps the token it had.")


def _insert(
    database: Database, data: demo.DemoData, *, prefix: str, users: str, batch_size: int
) -> demo.Counts:
    """:func:`demo.insert` with a progress bar, its refusals as messages."""
    refused = f"The rooms of seed {data.seed} are already in this database; use another --seed."
    try:
        with click.progressbar(length=data.room_count, label="Livechat rooms") as bar:
            return demo.insert(
                database,
                data,
                batch_size=batch_size,
                collection_prefix=prefix,
                users_collection=users,
                progress=bar.update,
            )
    except demo.AlreadyInserted:  # written in the meantime
        raise click.ClickException(refused) from None
    except BulkWriteError as error:
        if any(failure["code"] != _DUPLICATE_KEY for failure in error.details["writeErrors"]):
            raise click.ClickException(f"The database refused a write: {error}") from error
        raise click.ClickException(
            f"Some rooms or messages of seed {data.seed} are already in this database; use another --seed."
        ) from None


@contextmanager
def _database_trouble(database: Database) -> Iterator[None]:
    """Database errors as one readable line: never the driver's topology dump, nor the URI."""
    try:
        yield
    except ServerSelectionTimeoutError:
        raise click.ClickException(f"Cannot reach the database{_where(database)}.") from None
    except PyMongoError as error:
        raise click.ClickException(f"The database failed: {_first_line(error)}") from error


def _where(database: Database) -> str:
    """`` at host:port within N s`` for a pymongo client, as far as it can say."""
    # mongomock's database has no client: its "client" attribute is a collection of that name.
    client = database.client
    if not isinstance(client, MongoClient):
        return ""
    servers = ", ".join(f"{host}:{port}" for host, port in client.topology_description.server_descriptions())
    return f" at {servers} within {client.options.server_selection_timeout:g} s"


def _first_line(error: PyMongoError) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    # pymongo appends the whole topology description after "Topology Description:".
    return text.split(", Timeout:")[0].split(" Topology Description:")[0]


@contextmanager
def _target_app(mongo_uri: str | None, timeout: float = COMMAND_TIMEOUT) -> Iterator[Flask]:
    """The app whose database a command works on: one made for ``mongo_uri`` (its client closed
    afterwards, and ``timeout`` seconds to find its server), else the app of ``flask livechat-analytics``."""
    if mongo_uri is None:
        yield _host_app()
        return
    try:
        client: MongoClient = MongoClient(
            mongo_uri,
            connect=False,
            tz_aware=True,
            appname="livechat-analytics",
            serverSelectionTimeoutMS=max(1, round(timeout * 1000)),
        )
    except (ConfigurationError, ValueError, TypeError) as error:  # not a MongoDB URI; may hold a password
        raise click.ClickException(
            "--mongo-uri is not a MongoDB URI such as mongodb://host:27017/rocketchat."
        ) from error
    try:
        try:
            database = client.get_default_database()
        except ConfigurationError:
            raise click.ClickException(
                "--mongo-uri must name the database, as in mongodb://host:27017/rocketchat."
            ) from None
        app = Flask(__name__)
        LivechatAnalytics(app, database=database)
        yield app
    finally:
        client.close()


def _host_app() -> Flask:
    """The app of ``flask livechat-analytics``, in an app context (as ``flask.cli.with_appcontext``
    does); a usage error for the console script, which has no app."""
    context = click.get_current_context()
    if not current_app:
        info = context.find_object(ScriptInfo)
        if info is None:
            raise click.UsageError("Missing option '--mongo-uri'.", context)
        context.with_resource(info.load_app().app_context())
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if config.EXTENSION_KEY not in app.extensions:
        raise click.UsageError("LivechatAnalytics is not registered on this app: pass --mongo-uri.", context)
    return app
