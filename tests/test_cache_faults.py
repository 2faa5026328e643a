"""The answer cache under faults: a stopped or frozen Redis (a real server of the test's own) costs
no request its deadline nor a 500, a breaker skips the failing backend and closes again, and
requests waiting for another's answer answer what it answered, never past their own deadline."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from conftest import redis_server_command
from pymongo import MongoClient
from pymongo.errors import PyMongoError
from support import (
    PREFIX,
    SERVER_BACKENDS,
    UNAVAILABLE,
    UTC,
    Commands,
    add_user,
    free_port,
    frozen,
    server_process,
)

from livechat_analytics import config
from livechat_analytics.cache import WAIT_GRACE, Answers, Breaker, WaitTimeout, backend_timeout

TS = dt.datetime(2024, 3, 5, tzinfo=UTC)
AMOUNT = f"{PREFIX}/amount-of-chats?start=2024-03-01&end=2024-03-31"
TIMEOUT = {"success": False, "error": "The query took too long.", "errorType": "query-timeout"}
#: The request deadline of these tests' apps (``MAX_TIME_MS``), in seconds.
DEADLINE = 2.0
#: What an answer may take beyond its deadline: one backend timeout (0.2 s here) and a busy machine.
MARGIN = 0.5
OPENED = "The answer cache failed, answering without it: "
CLOSED = re.compile(r"The answer cache answers again after \d+\.\d s without it \((\d+) calls skipped\)")
P = "LIVECHAT_ANALYTICS_"


def room(room_id: str) -> dict[str, Any]:
    return {"_id": room_id, "t": "l", "ts": TS, "departmentId": "sales"}


def rooms(body: dict[str, Any]) -> int:
    """The rooms of an amount-of-chats answer (all of them in one department)."""
    [row] = body["departments"]
    return row["rooms"]


def cache_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the answer cache logged."""
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("The answer cache")]


# -- A Redis server of the test's own ----------------------------------------------------------


class RedisServer:
    """A ``redis-server`` on a fixed loopback port, which a test may stop, start again, freeze
    (SIGSTOP: its port still accepts connections, nothing answers) and thaw."""

    def __init__(self, directory: str) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                redis_server_command(),
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        until = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > until:
                    pytest.fail(f"The Redis server did not start (exit code {self.process.poll()}).")
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGCONT)
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def freeze(self) -> None:
        """Stop the process, and wait until each of its threads has stopped."""
        assert self.process is not None
        frozen(self.process.pid)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def keys(self, prefix: str) -> list[bytes]:
        return redis.Redis.from_url(self.url, socket_timeout=5).keys(prefix + "*")


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    with tempfile.TemporaryDirectory(prefix="redis-") as directory:
        server = RedisServer(directory)
        server.start()
        try:
            yield server
        finally:
            server.stop()


def shared_cache(server: RedisServer, prefix: str, **settings: Any) -> dict[str, Any]:
    """The settings of an app keeping its answers in ``server`` under ``prefix`` (the answer cache
    alone: tests/test_slots.py has the room table's kept days in Redis)."""
    return {
        "CACHE_SECONDS": None,  # the default, 10
        "SLOT_SECONDS": 0,
        "CACHE_TYPE": "RedisCache",
        "CACHE_URL": server.url,
        "CACHE_CONFIG": {"CACHE_KEY_PREFIX": prefix},
        "CACHE_BREAKER_SECONDS": 1,
        "MAX_TIME_MS": int(DEADLINE * 1000),
        **settings,
    }


def timed_get(client: Any, url: str, headers: dict[str, str]) -> tuple[float, int, Any]:
    started = time.monotonic()
    response = client.get(url, headers=headers)
    return time.monotonic() - started, response.status_code, response.get_json()


def at_once(asks: list[Callable[[], Any]]) -> list[Any]:
    """Each of ``asks`` in a thread of its own, started together: what each returned."""
    start = threading.Barrier(len(asks))
    answered: list[Any] = [None] * len(asks)

    def run(number: int) -> None:
        start.wait()
        answered[number] = asks[number]()

    threads = [threading.Thread(target=run, args=(number,)) for number in range(len(asks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answered


# -- The timeouts of the Redis client ----------------------------------------------------------


@pytest.mark.parametrize(
    ("deadline", "seconds"), [(0.001, 0.1), (0.5, 0.1), (1.5, 0.15), (2.0, 0.2), (20.0, 0.5)]
)
def test_a_backend_call_may_take_a_tenth_of_the_deadline_from_a_tenth_to_half_a_second(deadline, seconds):
    assert backend_timeout(deadline) == pytest.approx(seconds)


def connection_options(app: Any) -> dict[str, Any]:
    return app.extensions[
        "livechat_analytics"
    ].answers.backend._write_client.connection_pool.connection_kwargs


def test_the_redis_client_times_out_with_the_deadline_and_retries_a_dropped_connection_once(make_app, memory):
    options = connection_options(
        make_app(
            database=memory, CACHE_SECONDS=None, CACHE_TYPE="RedisCache", CACHE_URL="redis://cache:6379/0"
        )
    )
    # The default deadline, 20 s: half a second.
    assert (options["socket_timeout"], options["socket_connect_timeout"]) == (0.5, 0.5)
    retry = options["retry"]
    assert retry.get_retries() == 1
    assert retry._supported_errors == (redis.ConnectionError,)
    assert retry._backoff.compute(1) == 0


def test_the_hosts_cache_options_win_key_by_key(make_app, memory):
    options = connection_options(
        make_app(
            database=memory,
            CACHE_SECONDS=None,
            CACHE_TYPE="RedisCache",
            CACHE_URL="redis://cache:6379/0",
            MAX_TIME_MS=1500,
            CACHE_CONFIG={"CACHE_OPTIONS": {"socket_timeout": 2.5}},
        )
    )
    assert (options["socket_timeout"], options["socket_connect_timeout"]) == (2.5, pytest.approx(0.15))


@pytest.mark.parametrize("value", [0, -1, "10", True, 3601, 1.5])
def test_a_bad_breaker_setting_stops_the_app(make_app, memory, value):
    with pytest.raises(RuntimeError, match=P + "CACHE_BREAKER_SECONDS must be"):
        make_app(database=memory, CACHE_BREAKER_SECONDS=value)


def test_the_environment_gives_the_breaker_setting():
    assert config.from_environment({P + "CACHE_BREAKER_SECONDS": "30"}) == {P + "CACHE_BREAKER_SECONDS": 30}


# -- The breaker -------------------------------------------------------------------------------


class Backend:
    """A cachelib-like backend that fails while ``failing``, counting the calls it gets."""

    def __init__(self) -> None:
        self.failing = False
        self.calls = 0
        self.values: dict[str, Any] = {}

    def _enter(self) -> None:
        self.calls += 1
        if self.failing:
            raise ConnectionError("cache down")

    def get(self, key: str) -> Any:
        self._enter()
        return self.values.get(key)

    def set(self, key: str, value: Any, timeout: int | None = None) -> bool:
        self._enter()
        self.values[key] = value
        return True

    def add(self, key: str, value: Any, timeout: int | None = None) -> bool:
        self._enter()
        return self.values.setdefault(key, value) is value

    def has(self, key: str) -> bool:
        self._enter()
        return key in self.values

    def delete(self, key: str) -> bool:
        self._enter()
        return self.values.pop(key, None) is not None


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    return now


def test_the_breaker_skips_the_backend_for_its_seconds_then_tries_it_once(clock, caplog):
    backend = Backend()
    answers = Answers(backend, seconds=10, breaker_seconds=5)
    ask = lambda n: answers.compute("p", "perm", n, None, lambda: {"n": n})  # noqa: E731
    assert ask(1) == {"n": 1}
    assert backend.calls == 4  # get, add (the lock), set, delete (the lock)
    backend.failing, backend.calls = True, 0
    # The first call fails; the rest of that request and the next ones skip the backend.
    assert [ask(n) for n in (2, 3, 4)] == [{"n": 2}, {"n": 3}, {"n": 4}]
    assert backend.calls == 1
    clock[0] += 4.9
    assert ask(5) == {"n": 5} and backend.calls == 1
    # After 5 s one call tries the backend; it fails, and the breaker opens again without a word.
    clock[0] += 0.1
    assert ask(6) == {"n": 6} and backend.calls == 2
    clock[0] += 5
    backend.failing = False
    # This trial answers: the breaker closes, and the answers are kept again.
    assert ask(7) == {"n": 7}
    assert backend.calls == 6
    assert ask(7) == {"n": 7} and backend.values[answers.key("p", "perm", 7, None)] == {"n": 7}
    lines = cache_lines(caplog)
    assert lines[0] == OPENED + "ConnectionError: cache down"
    # Skipped: 3 calls of the first failing request, 4 of each of the next three, 3 of the trial's.
    assert lines[1:] == ["The answer cache answers again after 10.0 s without it (18 calls skipped)"]


def test_a_slow_call_from_before_the_failure_does_not_close_the_breaker(clock, caplog):
    breaker = Breaker(5)
    breaker.failed(ConnectionError("cache down"))
    breaker.succeeded(started=clock[0] - 1)
    assert breaker.open and not breaker.allows()
    clock[0] += 5
    assert breaker.allows()  # the trial
    assert not breaker.allows()  # the others skip the backend while it runs
    breaker.succeeded(started=clock[0])
    assert not breaker.open and breaker.allows()
    assert len(cache_lines(caplog)) == 2


# -- A stopped Redis ---------------------------------------------------------------------------


class Counting:
    """A backend that counts the calls it passes on."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self.backend, name)


def test_a_stopped_redis_costs_one_call_per_breaker_period_and_the_cache_comes_back(
    make_app, database, own_redis, caplog, monkeypatch
):
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    database["rocketchat_room"].insert_one(room("a"))
    headers = add_user(database)
    app = make_app(**shared_cache(own_redis, prefix))
    client = app.test_client()
    assert rooms(client.get(AMOUNT, headers=headers).get_json()) == 1
    assert own_redis.keys(prefix)  # kept in Redis
    answers = app.extensions["livechat_analytics"].answers
    counting = answers.backend = Counting(answers.backend)
    connects: list[int] = []
    connect = redis.connection.Connection._connect
    monkeypatch.setattr(
        redis.connection.Connection, "_connect", lambda self: connects.append(1) or connect(self)
    )
    own_redis.stop()
    database["rocketchat_room"].insert_one(room("b"))
    answered = [timed_get(client, f"{AMOUNT}&count={count}", headers) for count in range(1, 21)]
    # Each answer from the database (the new room counted), at once: one backend call in all, whose
    # dropped connection is tried again once, at once.
    assert [(status, rooms(body)) for _, status, body in answered] == [(200, 2)] * 20
    assert max(elapsed for elapsed, _, _ in answered) < 0.5
    assert counting.calls == ["get"]
    assert len(connects) <= 2  # the call and its one retry
    [opened] = cache_lines(caplog)
    assert opened.startswith(OPENED + "ConnectionError: Error 111 connecting to 127.0.0.1:")
    assert opened.endswith("Connection refused.")
    own_redis.start()
    time.sleep(1.1)  # CACHE_BREAKER_SECONDS
    database["rocketchat_room"].insert_one(room("c"))
    assert rooms(client.get(AMOUNT + "&count=30", headers=headers).get_json()) == 3
    [opened, closed] = cache_lines(caplog)
    match = CLOSED.fullmatch(closed)
    assert match is not None and int(match[1]) >= 19 * 4
    # The cache is used again: the answer is kept, though the data changed.
    database["rocketchat_room"].insert_one(room("d"))
    assert rooms(client.get(AMOUNT + "&count=30", headers=headers).get_json()) == 3
    assert len(own_redis.keys(prefix)) == 1  # the restarted server began empty


# -- A frozen Redis under load -----------------------------------------------------------------


def test_a_frozen_redis_under_load_delays_no_answer_past_the_deadline(make_app, database, own_redis, caplog):
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    database["rocketchat_room"].insert_many([room("a"), room("b")])
    headers = add_user(database)
    app = make_app(**shared_cache(own_redis, prefix))
    assert rooms(app.test_client().get(AMOUNT, headers=headers).get_json()) == 2
    own_redis.freeze()
    try:
        database["rocketchat_room"].insert_one(room("c"))
        # 12 different questions and 4 identical ones, from 16 clients at once.
        urls = [f"{AMOUNT}&count={count}" for count in range(1, 13)] + [f"{AMOUNT}&count=50"] * 4
        answered = at_once([lambda url=url: timed_get(app.test_client(), url, headers) for url in urls])
        later = [timed_get(app.test_client(), f"{AMOUNT}&offset=0&count={n}", headers) for n in (60, 61)]
    finally:
        own_redis.thaw()
    assert [(status, rooms(body)) for _, status, body in answered + later] == [(200, 3)] * 18
    assert max(elapsed for elapsed, _, _ in answered) < DEADLINE + MARGIN
    # Once the breaker is open, requests go straight to the database.
    assert max(elapsed for elapsed, _, _ in later) < 0.2
    [opened] = cache_lines(caplog)
    assert opened.startswith(OPENED) and "Timeout" in opened
    time.sleep(1.1)  # CACHE_BREAKER_SECONDS
    assert rooms(app.test_client().get(AMOUNT + "&count=70", headers=headers).get_json()) == 3
    assert CLOSED.fullmatch(cache_lines(caplog)[-1]) is not None
    assert len(cache_lines(caplog)) == 2


# -- Requests waiting for another's answer -----------------------------------------------------


def fail_aggregates(database: Any, fault: dict[str, Any], times: int | str) -> None:
    """The next ``times`` aggregates (or all: ``"alwaysOn"``) fail with ``fault``."""
    database.client.admin.command(
        "configureFailPoint",
        "failCommand",
        mode=times if isinstance(times, str) else {"times": times},
        data={"failCommands": ["aggregate"], **fault},
    )


#: MaxTimeMSExpired, as a server says it; a connection the server closes.
OVER_TIME, CLOSED_CONNECTION = {"errorCode": 50}, {"closeConnection": True}


@pytest.fixture
def failpoint_off(database: Any) -> Iterator[None]:
    yield
    database.client.admin.command("configureFailPoint", "failCommand", mode="off")


def leader_then_waiters(
    app: Any,
    listener: Commands,
    headers: dict[str, str],
    waiters: int,
    meanwhile: Callable[[int], None] | None = None,
) -> list[Any]:
    """One request, then ``waiters`` identical ones once its aggregate is on its way (and then
    ``meanwhile(commands sent so far)``): the timed answers, the first request's first."""
    answered: list[Any] = [None] * (waiters + 1)

    def ask(number: int) -> None:
        answered[number] = timed_get(app.test_client(), AMOUNT, headers)

    aggregates = listener.count("aggregate")
    first = threading.Thread(target=ask, args=(0,))
    first.start()
    until = time.monotonic() + 10
    while listener.count("aggregate") == aggregates and time.monotonic() < until:
        time.sleep(0.005)
    started = len(listener.names)
    others = [threading.Thread(target=ask, args=(number,)) for number in range(1, waiters + 1)]
    for thread in others:
        thread.start()
    if meanwhile is not None:
        meanwhile(started)
    for thread in [first, *others]:
        thread.join(timeout=60)
    return answered


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_waiters_answer_the_first_requests_504(database, watched, failpoint_off):
    database["rocketchat_room"].insert_one(room("a"))
    headers = add_user(database)
    app, listener = watched(slow=0.5, CACHE_SECONDS=None, MAX_TIME_MS=5000)
    fail_aggregates(database, OVER_TIME, times=1)
    answered = leader_then_waiters(app, listener, headers, waiters=7)
    assert [(status, body) for _, status, body in answered] == [(504, TIMEOUT)] * 8
    assert listener.count("aggregate") == 1
    # The next request computes again.
    assert rooms(app.test_client().get(AMOUNT, headers=headers).get_json()) == 1


@pytest.fixture
def own_database() -> Iterator[tuple[subprocess.Popen, str]]:
    """A SecantusDB server in a process of its own, which a test may kill: it and its URI."""
    with server_process() as served:
        yield served


def test_waiters_answer_the_first_requests_503_when_the_database_goes_away(make_app, own_database):
    """The server is killed while the first request's aggregate is held back and the others wait
    for it: the first answers 503 once no server is found to try again on (within the client's
    server selection timeout, 0.5 s), and so do they."""
    process, uri = own_database
    listener = Commands(slow=1.0)
    with MongoClient(uri, tz_aware=True, event_listeners=[listener], serverSelectionTimeoutMS=500) as client:
        database = client["rocketchat"]
        database["rocketchat_room"].insert_one(room("a"))
        headers = add_user(database)
        app = make_app(database=database, CACHE_SECONDS=None, SLOT_SECONDS=0, MAX_TIME_MS=2500)
        asked = len(listener.names)
        assert app.test_client().get(AMOUNT + "&count=5", headers=headers).status_code == 200
        reads = len(listener.names) - asked - 1  # a request's reads before its aggregate

        def kill_once_waiting(started: int) -> None:
            until = time.monotonic() + 10
            while len(listener.names) < started + 6 * reads and time.monotonic() < until:
                time.sleep(0.005)
            time.sleep(0.1)
            process.kill()

        answered = leader_then_waiters(app, listener, headers, waiters=6, meanwhile=kill_once_waiting)
    assert [(status, body) for _, status, body in answered] == [(503, UNAVAILABLE)] * 7
    assert max(elapsed for elapsed, _, _ in answered) < 2.5 + MARGIN
    assert listener.count("aggregate") == 2  # the first request's, once in each app's life


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_a_waiter_answers_504_at_its_own_deadline_when_the_first_request_is_late(database, watched):
    """The first request is held 2 s before its aggregate (past the 1 s deadline); the waiters
    stop at theirs."""
    database["rocketchat_room"].insert_one(room("a"))
    headers = add_user(database)
    app, listener = watched(slow=2.0, CACHE_SECONDS=None, MAX_TIME_MS=1000)
    answered = leader_then_waiters(app, listener, headers, waiters=5)
    assert answered[0][1] in (200, 504)
    for elapsed, status, body in answered[1:]:
        assert (status, body) == (504, TIMEOUT)
        assert 1.0 + WAIT_GRACE <= elapsed < 1.0 + WAIT_GRACE + 0.3
    assert listener.count("aggregate") == 1


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_a_waiter_in_another_process_answers_504_at_its_deadline(database, watched, own_redis, failpoint_off):
    """Two apps sharing Redis: the second one's request polls Redis for the first one's answer,
    which comes too late; a database failing every aggregate gives every request a 504 or 503."""
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    database["rocketchat_room"].insert_one(room("a"))
    headers = add_user(database)
    settings = shared_cache(own_redis, prefix, MAX_TIME_MS=1000)
    (one, first), (two, second) = watched(slow=2.0, **settings), watched(**settings)
    answered: list[Any] = []
    leader = threading.Thread(target=lambda: answered.append(timed_get(one.test_client(), AMOUNT, headers)))
    leader.start()
    until = time.monotonic() + 10
    while first.count("aggregate") == 0 and time.monotonic() < until:
        time.sleep(0.005)
    elapsed, status, body = timed_get(two.test_client(), AMOUNT, headers)
    leader.join(timeout=30)
    assert (status, body) == (504, TIMEOUT)
    assert 1.0 + WAIT_GRACE <= elapsed < 1.0 + WAIT_GRACE + 0.3
    assert second.count("aggregate") == 0  # it waited, and never ran its own
    assert answered[0][1] in (200, 504)  # held past its deadline by the test, the first may answer
    # Every aggregate failing, two more apps sharing Redis: each request answers the database's
    # error within its deadline, none a 500.
    fail_aggregates(database, CLOSED_CONNECTION, times="alwaysOn")
    three, four = (watched(**settings)[0], watched(**settings)[0])
    burst = at_once(
        [
            lambda app=app: timed_get(app.test_client(), AMOUNT + "&count=9", headers)
            for app in [three, four] * 4
        ]
    )
    assert {(s, b["errorType"]) for _, s, b in burst} <= {
        (503, "database-unavailable"),
        (504, "query-timeout"),
    }
    # The driver may look for a server up to half a second past the deadline; waiters wait as long.
    assert max(elapsed for elapsed, _, _ in burst) < 1.0 + WAIT_GRACE + 0.25


def test_a_waiter_in_this_process_stops_at_its_deadline():
    answers = Answers(Backend(), seconds=10)
    release, computing = threading.Event(), threading.Event()

    def slow() -> Any:
        computing.set()
        release.wait(10)
        return {"n": 1}

    first = threading.Thread(target=lambda: answers.compute("p", "perm", 1, None, slow))
    first.start()
    computing.wait(10)
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as raised:
        answers.compute("p", "perm", 1, None, lambda: {"n": 2}, until=started + 0.2)
    assert 0.2 + WAIT_GRACE <= time.monotonic() - started < 0.2 + WAIT_GRACE + 0.3
    release.set()
    first.join(10)
    # As the database's own time limit: a PyMongoError with ``timeout`` set, answered 504.
    assert isinstance(raised.value, PyMongoError) and raised.value.timeout


def test_a_waiter_polling_the_backend_stops_at_its_deadline():
    """Another process holds the lock and never answers."""
    backend = Backend()
    answers = Answers(backend, seconds=10)
    backend.values[answers.key("p", "perm", 1, None) + ":computing"] = "other"
    started = time.monotonic()
    with pytest.raises(WaitTimeout):
        answers.compute("p", "perm", 1, None, lambda: {"n": 1}, until=started + 0.3)
    assert 0.3 + WAIT_GRACE <= time.monotonic() - started < 0.3 + WAIT_GRACE + 0.3
