"""The Prometheus exposition at ``<root>/metrics``: off by default, protected by a bearer token or the
login headers, parsed with prometheus_client's own parser; requests, latencies, cache look-ups and
database errors counted; several processes summed in multiprocess mode."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from documents import store_three_rooms
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from pymongo.database import Database
from support import (
    NOT_LOGGED_IN,
    PREFIX,
    ROOT,
    SERVER_BACKENDS,
    UNAUTHORIZED,
    UNAVAILABLE,
    add_user,
    free_port,
)

from livechat_analytics import config, metrics
from livechat_analytics.endpoints.live import clock

URL = ROOT + "/metrics"
AMOUNT = PREFIX + "/amount-of-chats?start=2024-03-01&end=2024-03-31"
TOKEN = "scrape-secret"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
#: The moment of the live gauges' tests.
NOW = dt.datetime(2024, 3, 11, 12, tzinfo=dt.timezone.utc)
WORKTREE = Path(__file__).resolve().parent.parent


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition, parsed by prometheus_client: (name, labels) to value."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scraped(client, headers: dict[str, str] = BEARER) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """The samples of a scrape, which must answer 200 in the text format."""
    response = client.get(URL, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return samples(response.get_data(as_text=True))


def labels(**given: str) -> frozenset[tuple[str, str]]:
    """A sample's labels as :func:`samples` keys them."""
    return frozenset(given.items())


def value(found: dict, metric: str, /, **given: str) -> float:
    """The value of the sample ``metric`` with exactly the labels ``given``."""
    return found[(metric, labels(**given))]


@pytest.fixture
def metered(make_app: Callable[..., Flask], database: Database) -> Callable[..., Flask]:
    """A factory of apps with the metrics on and the test token, over the test database."""

    def make(**settings: object) -> Flask:
        return make_app(**{"METRICS": True, "METRICS_TOKEN": TOKEN, **settings})

    return make


# -- Off, on, and who may scrape -----------------------------------------------------------------


def test_off_by_default_the_path_answers_the_json_404(client):
    response = client.get(URL, headers=BEARER)
    assert response.status_code == 404
    assert response.get_json() == {"success": False, "error": f"There is no analytics endpoint at {URL}."}


def test_on_with_the_token_the_exposition_parses_and_names_the_service_metrics(metered):
    found = scraped(metered().test_client())
    assert value(found, "livechat_analytics_cache_hits_total") == 0
    assert value(found, "livechat_analytics_cache_misses_total") == 0
    assert value(found, "livechat_analytics_open_streams") == 0
    for kind in ("unavailable", "timeout", "other"):
        assert value(found, "livechat_analytics_database_errors_total", kind=kind) == 0


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}"],
)
def test_a_missing_or_wrong_token_answers_401(metered, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = metered().test_client().get(URL, headers=headers)
    assert (response.status_code, response.get_json()) == (401, NOT_LOGGED_IN)


def test_the_scheme_is_read_in_any_case(metered):
    response = metered().test_client().get(URL, headers={"Authorization": f"bearer {TOKEN}"})
    assert response.status_code == 200


def test_with_a_token_set_the_login_headers_do_not_scrape(metered, headers):
    response = metered().test_client().get(URL, headers=headers)
    assert (response.status_code, response.get_json()) == (401, NOT_LOGGED_IN)


def test_without_a_token_a_manager_scrapes_with_the_login_headers(metered, headers):
    client = metered(METRICS_TOKEN=None).test_client()
    assert "livechat_analytics_cache_hits_total" in {name for name, _ in scraped(client, headers)}
    response = client.get(URL, headers=BEARER)
    assert (response.status_code, response.get_json()) == (401, NOT_LOGGED_IN)


def test_without_a_token_a_user_without_the_permission_answers_403(metered, database):
    headers = add_user(database, "visitor", token="visitor-token", roles=("user",))
    response = metered(METRICS_TOKEN=None).test_client().get(URL, headers=headers)
    assert (response.status_code, response.get_json()) == (403, UNAUTHORIZED)


def test_without_a_token_a_monitor_restricted_to_units_answers_403(metered, database):
    # The gauges cover every department: a monitor who sees some of them only may not scrape.
    database["rocketchat_livechat_department"].insert_one({"_id": "unit", "type": "u", "name": "Unit"})
    headers = add_user(database, "monitor", token="monitor-token", roles=("livechat-monitor",))
    response = metered(METRICS_TOKEN=None).test_client().get(URL, headers=headers)
    assert (response.status_code, response.get_json()) == (403, UNAUTHORIZED)


def test_other_methods_answer_405_and_options_the_allowed_methods(metered):
    client = metered().test_client()
    response = client.post(URL, headers=BEARER)
    assert (response.status_code, response.get_json()) == (
        405,
        {"success": False, "error": "The metrics endpoint answers GET only."},
    )
    assert client.options(URL).headers["Allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize("token", ["", 12345])
def test_a_token_setting_must_be_a_non_empty_string_and_is_never_repeated(token):
    with pytest.raises(RuntimeError) as refused:
        config.validate({"LIVECHAT_ANALYTICS_METRICS_TOKEN": token})
    assert str(refused.value) == "LIVECHAT_ANALYTICS_METRICS_TOKEN must be None or a non-empty string."


# -- What is counted -----------------------------------------------------------------------------


def test_requests_are_counted_by_endpoint_and_status_with_their_latency(metered, database):
    headers = store_three_rooms(database)
    client = metered().test_client()
    for _ in range(3):
        assert client.get(AMOUNT, headers=headers).status_code == 200
    assert client.get(AMOUNT).status_code == 401
    assert client.get(ROOT + "/no/such/path").status_code == 404
    assert client.get(ROOT + "/another").status_code == 404
    assert client.get(ROOT + "/health").status_code == 200
    found = scraped(client)
    requests = "livechat_analytics_requests_total"
    assert value(found, requests, endpoint="departments/amount-of-chats", status="200") == 3
    assert value(found, requests, endpoint="departments/amount-of-chats", status="401") == 1
    # A path a client makes up is one label, not one per path.
    assert value(found, requests, endpoint="unrouted", status="404") == 2
    assert value(found, requests, endpoint="health", status="200") == 1
    latency = "livechat_analytics_request_seconds"
    assert value(found, latency + "_count", endpoint="departments/amount-of-chats") == 4
    assert value(found, latency + "_bucket", endpoint="departments/amount-of-chats", le="+Inf") == 4
    assert value(found, latency + "_sum", endpoint="departments/amount-of-chats") > 0
    # The scrape itself is counted once it has answered.
    assert ("livechat_analytics_requests_total", labels(endpoint="metrics", status="200")) not in found
    assert value(scraped(client), requests, endpoint="metrics", status="200") == 1


def test_the_host_paths_are_not_counted(metered):
    app = metered()
    app.add_url_rule("/host", "host", lambda: "host")
    client = app.test_client()
    assert client.get("/host").status_code == 200
    found = scraped(client)
    assert not [key for key in found if key[0] == "livechat_analytics_requests_total"]


def test_cache_hits_and_misses_are_counted(metered, database):
    headers = store_three_rooms(database)
    client = metered(CACHE_SECONDS=10).test_client()
    other = PREFIX + "/amount-of-chats?start=2024-03-01&end=2024-03-30"
    for url in (AMOUNT, AMOUNT, AMOUNT, other):
        assert client.get(url, headers=headers).status_code == 200
    found = scraped(client)
    assert value(found, "livechat_analytics_cache_hits_total") == 2
    assert value(found, "livechat_analytics_cache_misses_total") == 2


def test_without_a_cache_nothing_is_looked_up(metered, database):
    headers = store_three_rooms(database)
    client = metered(CACHE_SECONDS=0).test_client()
    assert client.get(AMOUNT, headers=headers).status_code == 200
    found = scraped(client)
    assert value(found, "livechat_analytics_cache_hits_total") == 0
    assert value(found, "livechat_analytics_cache_misses_total") == 0


# -- The live gauges -----------------------------------------------------------------------------


def room(_id: str, ago: float, **fields: object) -> dict:
    """An open livechat room created ``ago`` seconds before :data:`NOW`, queued unless served."""
    return {"_id": _id, "t": "l", "ts": NOW - dt.timedelta(seconds=ago), "open": True, **fields}


def served(agent: str) -> dict:
    return {"servedBy": {"_id": agent, "username": agent, "ts": NOW - dt.timedelta(seconds=5)}}


def agent(_id: str, status: str, livechat: str) -> dict:
    return {
        "_id": _id,
        "username": _id,
        "name": _id.title(),
        "roles": ["user", "livechat-agent"],
        "status": status,
        "statusLivechat": livechat,
    }


@pytest.fixture
def live(database, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Open rooms of two departments and none, and four agents, at the frozen :data:`NOW`; the
    manager's headers."""
    monkeypatch.setattr(clock, "now", lambda: NOW)
    database["rocketchat_room"].insert_many(
        [
            room("q1", 10, departmentId="d1"),
            room("q2", 100, departmentId="d1"),
            room("q3", 50, departmentId="d1"),
            room("o1", 400, departmentId="d1", **served("ana")),
            room("h1", 500, departmentId="d2", onHold=True, **served("ana")),
            room("o2", 30, departmentId="d2", **served("bob")),
            room("q4", 70.9),
            {"_id": "closed", "t": "l", "ts": NOW, "open": False, "departmentId": "d1"},
        ]
    )
    database["rocketchat_livechat_department"].insert_many(
        [{"_id": "d1", "name": "Sales", "enabled": True}, {"_id": "d2", "name": "Support", "enabled": True}]
    )
    database["users"].insert_many(
        [
            agent("ana", "online", "available"),
            agent("bob", "busy", "available"),
            agent("cyd", "online", "not-available"),
            agent("dan", "offline", "not-available"),
        ]
    )
    return add_user(database)


#: The gauges of :func:`live` by department, worked out by hand: queued, oldest wait, open, on hold.
BY_DEPARTMENT = {"d1": (3, 100, 1, 0), "d2": (0, 0, 1, 1), "": (1, 70, 0, 0)}
GAUGES = (
    "livechat_queued_chats",
    "livechat_oldest_queued_seconds",
    "livechat_open_chats",
    "livechat_onhold_chats",
)
#: Agents of :func:`live` by (status, livechat status); every other pair is 0.
AGENTS = {("online", "available"): 1, ("busy", "available"): 1, ("online", "not-available"): 1,
          ("offline", "not-available"): 1}


def test_the_live_gauges_are_the_numbers_of_the_rooms_and_agents(metered, live):
    found = scraped(metered().test_client())
    for department, numbers in BY_DEPARTMENT.items():
        for name, number in zip(GAUGES, numbers, strict=True):
            assert value(found, name, department=department) == number, (name, department)
    assert {key for key in found if key[0] == "livechat_queued_chats"} == {
        ("livechat_queued_chats", labels(department=department)) for department in BY_DEPARTMENT
    }
    for status in ("online", "away", "busy", "offline"):
        for livechat in ("available", "not-available"):
            expected = AGENTS.get((status, livechat), 0)
            assert value(found, "livechat_agents", status=status, livechat_status=livechat) == expected


def test_the_live_gauges_equal_the_json_endpoints(metered, live):
    client = metered(METRICS_TOKEN=None).test_client()
    queue = client.get(ROOT + "/live/queue", headers=live).get_json()
    agents = client.get(ROOT + "/live/agents", headers=live).get_json()["agents"]
    found = scraped(client, live)
    fields = dict(zip(GAUGES, ("queued", "oldestWaitSeconds", "open", "onHold"), strict=True))
    answered = {
        (name, row["_id"] or ""): row[field] for row in queue["departments"] for name, field in fields.items()
    }
    gauged = {
        (name, dict(key)["department"]): number for (name, key), number in found.items() if name in fields
    }
    assert gauged == answered
    tally = Counter((row["status"], row["statusLivechat"]) for row in agents)
    gauged_agents = {
        (dict(key)["status"], dict(key)["livechat_status"]): number
        for (name, key), number in found.items()
        if name == "livechat_agents" and number
    }
    assert gauged_agents == tally and sum(tally.values()) == 4


def test_with_department_names_on_the_gauges_are_named(metered, live):
    found = scraped(metered(DEPARTMENT_NAMES=True).test_client())
    assert value(found, "livechat_queued_chats", department="d1", name="Sales") == 3
    assert value(found, "livechat_onhold_chats", department="d2", name="Support") == 1
    assert value(found, "livechat_queued_chats", department="", name="") == 1


def test_the_live_gauges_are_read_at_most_once_a_second():
    rows = [{"_id": "d1", "queued": n, "oldestWaitSeconds": 9, "open": 0, "onHold": 0} for n in (1, 2)]
    bodies = [({"departments": [row]}, {"agents": []}) for row in rows]
    reads = iter(bodies)
    moments = iter([100.0, 100.5, 101.0, 101.2])
    collector = metrics.LiveCollector(
        lambda: next(reads), department_names=False, deadline=1, failed=print, clock=lambda: next(moments)
    )

    def queued() -> float:
        [family] = [family for family in collector.collect() if family.name == "livechat_queued_chats"]
        return family.samples[0].value

    # At 100 s, then half a second later (the same read), then a second later (a new one).
    assert [queued(), queued(), queued(), queued()] == [1, 1, 2, 2]


# -- Database errors -----------------------------------------------------------------------------


def test_an_unreachable_database_is_counted_and_the_scrape_still_answers(make_app):
    uri = f"mongodb://127.0.0.1:{free_port()}/rocketchat"
    app = make_app(database=None, MONGO_URI=uri, MAX_TIME_MS=300, METRICS=True, METRICS_TOKEN=TOKEN)
    client = app.test_client()
    for _ in range(2):
        response = client.get(AMOUNT, headers={"X-User-Id": "u", "X-Auth-Token": "t"})
        assert (response.status_code, response.get_json()) == (503, UNAVAILABLE)
    found = scraped(client)
    # The scrape's own read of the live gauges failed too: counted, and the gauges left out.
    assert value(found, "livechat_analytics_database_errors_total", kind="unavailable") == 3
    assert value(found, "livechat_analytics_database_errors_total", kind="timeout") == 0
    assert not [key for key in found if key[0].startswith(("livechat_agents", "livechat_queued"))]
    requests = "livechat_analytics_requests_total"
    assert value(found, requests, endpoint="departments/amount-of-chats", status="503") == 2


@pytest.fixture
def failing(database):
    """The test database (on a server) with its fail points switched off afterwards."""
    yield database
    database.client.admin.command("configureFailPoint", "maxTimeAlwaysTimeOut", mode="off")
    database.client.admin.command("configureFailPoint", "failCommand", mode="off")


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_a_query_over_its_time_limit_is_counted_as_a_timeout(failing, metered):
    headers = store_three_rooms(failing)
    client = metered().test_client()
    failing.client.admin.command("configureFailPoint", "maxTimeAlwaysTimeOut", mode={"times": 1})
    assert client.get(AMOUNT, headers=headers).status_code == 504
    found = scraped(client)
    assert value(found, "livechat_analytics_database_errors_total", kind="timeout") == 1
    assert value(found, "livechat_analytics_database_errors_total", kind="unavailable") == 0


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_any_other_database_error_is_counted_as_other(failing, metered):
    headers = store_three_rooms(failing)
    client = metered().test_client()
    failing.client.admin.command(
        "configureFailPoint",
        "failCommand",
        mode={"times": 1},
        data={"failCommands": ["aggregate"], "errorCode": 2, "errorMessage": "boom"},
    )
    assert client.get(AMOUNT, headers=headers).status_code == 500
    assert value(scraped(client), "livechat_analytics_database_errors_total", kind="other") == 1


# -- Two apps, several processes -----------------------------------------------------------------


def test_two_apps_in_one_process_count_apart(metered):
    first, second = metered().test_client(), metered().test_client()
    assert first.get(ROOT + "/nowhere").status_code == 404
    assert value(scraped(first), "livechat_analytics_requests_total", endpoint="unrouted", status="404") == 1
    unrouted = ("livechat_analytics_requests_total", labels(endpoint="unrouted", status="404"))
    assert unrouted not in scraped(second)


#: A process of the standalone app that makes ``argv[1]`` requests to a path of none, then prints a
#: scrape of its exposition when ``argv[2]`` says so.
CHILD = f"""
import sys
from livechat_analytics.app import create_app

client = create_app().test_client()
for _ in range(int(sys.argv[1])):
    assert client.get("{ROOT}/nowhere").status_code == 404
if sys.argv[2] == "scrape":
    answer = client.get("{URL}", headers={{"Authorization": "Bearer {TOKEN}"}})
    sys.stdout.write(answer.get_data(as_text=True))
"""


def test_in_multiprocess_mode_one_exposition_sums_every_process(secantus_uri):
    with tempfile.TemporaryDirectory(prefix="prometheus-") as folder:
        env = {
            **os.environ,
            "PROMETHEUS_MULTIPROC_DIR": folder,
            "LIVECHAT_ANALYTICS_MONGO_URI": secantus_uri.rstrip("/") + "/rocketchat",
            "LIVECHAT_ANALYTICS_METRICS": "true",
            "LIVECHAT_ANALYTICS_METRICS_TOKEN": TOKEN,
        }

        def run(requests: int, then: str) -> str:
            done = subprocess.run(
                [sys.executable, "-c", CHILD, str(requests), then],
                cwd=WORKTREE,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            return done.stdout

        run(2, "-")
        found = samples(run(3, "scrape"))
        written = sorted(path.name.split("_")[0] for path in Path(folder).iterdir())
    assert value(found, "livechat_analytics_requests_total", endpoint="unrouted", status="404") == 5
    assert value(found, "livechat_analytics_request_seconds_count", endpoint="unrouted") == 5
    assert value(found, "livechat_analytics_open_streams") == 0
    # Each process wrote files of its own, which the second one's exposition read.
    assert written.count("counter") == 2 and written.count("histogram") == 2
