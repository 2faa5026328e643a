"""The OpenAPI document: valid OpenAPI 3.1, true to the schemas, and true to the answers."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable

import pytest
import schemathesis
from documents import DAYS, MANAGER, WINDOW
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from pymongo.database import Database
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from support import DEPARTMENT_FIELDS, ROOT, UTC, add_user, get_answer

from livechat_analytics import Authenticator, openapi
from livechat_analytics.endpoints import ENDPOINTS, FAMILY_OF

DOCUMENT = ROOT + "/openapi.json"
ERRORS = {"400", "401", "403", "404", "405", "500", "503", "504"}
COMMON_PARAMETERS = ["start", "end", "departmentId", "offset", "count", "sort"]
#: Every endpoint's, after its own.
SHARED_PARAMETERS = ["timezone", "format"]


@pytest.fixture
def make_memory_app(make_app: Callable[..., Flask], memory: Database) -> Callable[..., Flask]:
    """Apps over a mongomock database: the document needs no backend."""
    return functools.partial(make_app, database=memory)


@pytest.fixture
def document(make_memory_app) -> dict:
    response = make_memory_app().test_client().get(DOCUMENT)
    assert response.status_code == 200
    return response.get_json()


def resolve(document: dict, node: dict) -> dict:
    """Follow a local ``$ref``."""
    while "$ref" in node:
        target: dict = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def test_the_document_is_public_json(make_memory_app):
    response = make_memory_app().test_client().get(DOCUMENT)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json()["openapi"] == "3.1.0"


def test_the_document_needs_no_database(make_app):
    # Nothing listens on port 9: a request that touched the database would wait, then answer 503.
    app = make_app(
        database=None, MONGO_URI="mongodb://127.0.0.1:9/rocketchat", SERVER_SELECTION_TIMEOUT_MS=100
    )
    assert app.test_client().get(DOCUMENT).status_code == 200


def test_the_document_is_valid_openapi_3_1(document):
    errors = [error.message for error in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []


#: The department metrics that take ``businessHours``.
TIMED = ("average-service-time", "total-service-time", "average-chat-duration-time", "average-waiting-time")


def test_every_endpoint_is_documented(document):
    assert set(document["paths"]) == {"/" + path for path in ENDPOINTS}
    departments = {path for path in document["paths"] if path.startswith("/departments/")}
    assert departments == {"/departments/" + path for path in DEPARTMENT_FIELDS}
    for path, fields in DEPARTMENT_FIELDS.items():
        operation = document["paths"]["/departments/" + path]["get"]
        parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
        answered = ["answered"] if path == "amount-of-chats" else []
        timed = ["businessHours"] if path in TIMED else []
        expected = [*COMMON_PARAMETERS, "names", *answered, *timed, *SHARED_PARAMETERS]
        assert list(parameters) == expected
        assert all(parameter["in"] == "query" for parameter in parameters.values())
        assert [name for name, parameter in parameters.items() if parameter["required"]] == ["start", "end"]
        assert set(operation["responses"]) == {"200"} | ERRORS
        envelope = resolve(document, operation["responses"]["200"]["content"]["application/json"]["schema"])
        assert set(envelope["required"]) == {"departments", "count", "offset", "total", "success"}
        row = resolve(document, envelope["properties"]["departments"]["items"])
        assert row["required"] == ["_id", *fields]
        assert all(row["properties"][name]["type"] == "integer" for name in fields)
        assert row["properties"]["_id"]["type"] == ["string", "null"]


def test_the_sort_description_names_the_endpoints_own_fields(document):
    every_field = {name for fields in DEPARTMENT_FIELDS.values() for name in fields}
    for path, fields in DEPARTMENT_FIELDS.items():
        operation = document["paths"]["/departments/" + path]["get"]
        sort = next(parameter for parameter in operation["parameters"] if parameter["name"] == "sort")
        named = {name for name in every_field if f"`{name}`" in sort["description"]}
        assert named == set(fields)
        assert "`_id`" in sort["description"]
        # A JSON string: the schema of the decoded object, under its media type.
        assert "schema" not in sort
        decoded = sort["content"]["application/json"]["schema"]
        assert decoded["type"] == "object"
        assert decoded["propertyNames"]["enum"] == ["_id", *fields]
        assert decoded["additionalProperties"]["enum"] == [1, -1]
        assert decoded["default"] == {"_id": 1}


def test_custom_fields_have_openapi_types(document):
    parameters = {
        parameter["name"]: parameter.get("schema")
        for parameter in document["paths"]["/departments/amount-of-chats"]["get"]["parameters"]
    }
    for bound in ("start", "end"):
        assert parameters[bound]["type"] == "string"
        assert {branch["format"] for branch in parameters[bound]["anyOf"]} == {"date", "date-time"}
    assert parameters["departmentId"] == {"type": "string"}
    assert parameters["answered"] == {"type": "boolean"}
    assert parameters["offset"] == {"type": "integer", "default": 0, "minimum": 0, "maximum": 2**31 - 1}
    assert parameters["count"]["default"] == 50


def test_both_headers_are_required_api_keys(document):
    schemes = document["components"]["securitySchemes"]
    assert {scheme["name"]: (scheme["type"], scheme["in"]) for scheme in schemes.values()} == {
        "X-User-Id": ("apiKey", "header"),
        "X-Auth-Token": ("apiKey", "header"),
    }
    # One requirement naming both: the headers go together.
    assert document["security"] == [{name: [] for name in schemes}]


class ApiKey(Authenticator):
    """A host's own authentication, which may declare its scheme or not."""

    def __init__(self, declared: bool) -> None:
        if declared:
            self.security_schemes = {"apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}}
            self.security = [{"apiKey": []}]

    def authenticate(self, request):
        return None

    def authorize(self, user, permission):
        return False


def test_a_hosts_authenticator_declares_its_own_security(make_memory_app):
    app = make_memory_app(authenticator=ApiKey(declared=True))
    document = app.test_client().get(DOCUMENT).get_json()
    assert document["components"]["securitySchemes"] == {
        "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}
    }
    assert document["security"] == [{"apiKey": []}]
    assert "X-User-Id" not in json.dumps(document)


def test_an_authenticator_that_declares_nothing_gets_no_rocket_chat_headers(make_memory_app):
    app = make_memory_app(authenticator=ApiKey(declared=False))
    document = app.test_client().get(DOCUMENT).get_json()
    assert "security" not in document
    assert "securitySchemes" not in document.get("components", {})
    assert "X-Auth-Token" not in json.dumps(document)
    assert OpenAPIV31SpecValidator(document).is_valid()


def test_every_field_of_every_answer_is_described(document):
    described = 0
    for name, schema in document["components"]["schemas"].items():
        for field, node in schema["properties"].items():
            assert node.get("description"), f"{name}.{field}"
            described += 1
    assert described > 40


def test_every_endpoint_has_a_200_example_that_fits_its_schema(document):
    for path, item in document["paths"].items():
        content = item["get"]["responses"]["200"]["content"]["application/json"]
        assert "example" in content, path
        schema = resolve(document, content["schema"])
        OAS31Validator({**schema, "components": document["components"]}).validate(content["example"])
        if isinstance(content["example"], dict) and "additionalProperties" not in schema:
            assert set(content["example"]) == set(schema["required"]), path


def test_error_answers_are_documented_with_their_shape(document):
    operation = document["paths"]["/departments/amount-of-chats"]["get"]
    shapes = {
        status: resolve(document, resolve(document, response)["content"]["application/json"]["schema"])
        for status, response in operation["responses"].items()
        if status != "200"
    }
    assert set(shapes) == ERRORS
    for shape in shapes.values():
        assert {"success", "error"} <= set(shape["required"])
        assert shape["properties"]["success"]["enum"] == [False]
    assert set(shapes["400"]["required"]) == {"success", "error", "errorType", "details"}
    assert shapes["400"]["properties"]["errorType"]["enum"] == ["invalid-params"]
    assert set(shapes["401"]["required"]) == {"success", "status", "message", "error"}
    assert shapes["503"]["properties"]["errorType"]["enum"] == ["database-unavailable"]
    assert shapes["504"]["properties"]["errorType"]["enum"] == ["query-timeout"]
    allow = resolve(document, operation["responses"]["405"])["headers"]
    assert "Allow" in allow


def test_the_examples_match_their_schemas(document):
    examples = 0
    for response in document["components"]["responses"].values():
        content = response["content"]["application/json"]
        if "example" in content:
            OAS31Validator(resolve(document, content["schema"])).validate(content["example"])
            examples += 1
    assert examples == 3


def test_the_document_follows_the_url_prefix(make_memory_app):
    app = make_memory_app(URL_PREFIX="/reports")
    client = app.test_client()
    assert client.get(DOCUMENT).status_code == 404
    document = client.get("/reports/openapi.json").get_json()
    assert document["servers"] == [{"url": "/reports"}]
    assert "/departments/amount-of-chats" in document["paths"]
    # Where the document was before the families came: it still answers, the same document.
    assert client.get("/reports/departments/openapi.json").get_json() == document


def test_the_server_url_includes_the_script_root(make_memory_app):
    client = make_memory_app().test_client()
    document = client.get(DOCUMENT, base_url="http://localhost/chat-tools/").get_json()
    assert document["servers"] == [{"url": "/chat-tools" + ROOT}]


def test_the_document_follows_the_apps_settings(make_memory_app):
    document = make_memory_app(DEFAULT_COUNT=10, MAX_COUNT=20, ALLOW_COUNT_ZERO=False, DEPARTMENT_NAMES=True)
    document = document.test_client().get(DOCUMENT).get_json()
    operation = document["paths"]["/departments/amount-of-chats"]["get"]
    count = next(parameter for parameter in operation["parameters"] if parameter["name"] == "count")
    assert count["schema"]["default"] == 10
    assert count["schema"]["minimum"] == 1
    assert "20" in count["description"]
    assert "every row" not in count["description"]
    assert document["components"]["schemas"]["AmountOfChats"]["required"] == ["_id", "rooms", "name"]


def test_the_document_is_built_once_per_app(make_memory_app, monkeypatch):
    calls = []
    build = openapi.build
    monkeypatch.setattr(openapi, "build", lambda app: calls.append(app) or build(app))
    first, second = make_memory_app(), make_memory_app(MAX_COUNT=7)
    for app in (first, first, second, first, second):
        app.test_client().get(DOCUMENT)
    assert calls == [first, second]
    assert "lowered to 7" in str(second.extensions[openapi.CACHE_KEY])
    assert "lowered to 7" not in str(first.extensions[openapi.CACHE_KEY])


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_other_methods_on_the_document_answer_json_405(make_memory_app, method):
    response = make_memory_app().test_client().open(DOCUMENT, method=method)
    assert response.status_code == 405
    assert response.get_json()["success"] is False
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"


def test_head_of_the_document(make_memory_app):
    response = make_memory_app().test_client().head(DOCUMENT)
    assert response.status_code == 200
    assert response.mimetype == "application/json"


# The answers, checked against the document by schemathesis: every endpoint, valid headers.

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def fill(database) -> None:
    """Rooms of every kind in March 2024 (the documented example window) and around 2000."""
    rooms = []
    for year in (2000, 2024):
        ts = dt.datetime(year, 3, 5, 10, tzinfo=UTC)
        for n, department in enumerate(["sales", "sales", "billing", None, "missing"]):
            room = {
                "_id": f"{year}-{n}",
                "t": "l",
                "ts": ts,
                "closedAt": ts + dt.timedelta(minutes=30),
                "waitingResponse": n % 2 == 0,
                "servedBy": {"_id": "agent", "username": "agent", "ts": ts + dt.timedelta(seconds=40)},
                "responseBy": {"_id": "agent", "lastMessageTs": ts + dt.timedelta(minutes=20)},
                "metrics": {
                    "chatDuration": 1800.5,
                    "serviceTimeDuration": 1760,
                    "visitorInactivity": 4000 * n,
                    "response": {"ft": 12.25},
                },
            }
            if department != "missing":
                room["departmentId"] = department
            rooms.append(room)
        database["rocketchat_message"].insert_many(
            [
                {"_id": f"t{year}-{k}", "t": "livechat_transfer_history", "rid": f"{year}-{n}", "ts": ts}
                for k, n in enumerate((0, 0, 2, 3, 9))
            ]
        )
    database["rocketchat_room"].insert_many(rooms)


@pytest.fixture
def api_schema(app, database):
    fill(database)
    return schemathesis.openapi.from_wsgi(DOCUMENT, app)


@pytest.mark.parametrize("path", DEPARTMENT_FIELDS)
def test_every_answer_conforms_to_the_document(api_schema, database, path):
    manager = add_user(database)
    operation = api_schema["/departments/" + path]["GET"]

    agent = add_user(database, "agent", token="agent-token", roles=("livechat-agent",))
    # The documented example window holds rows: the row schema is checked on real rows.
    window = {"start": "2024-03-01", "end": "2024-03-31"}
    for headers, status in [(manager, 200), ({}, 401), (agent, 403)]:
        response = operation.Case(query=window, headers=headers).call_and_validate(checks=CHECKS)
        assert response.status_code == status
    assert operation.Case(query=window, headers=manager).call().json()["departments"]
    conforms_when_fuzzed(operation, manager, examples=25)


def conforms_when_fuzzed(operation, headers: dict[str, str], *, examples: int) -> None:
    """Valid and invalid generated queries of ``operation`` all answer as the document says."""

    @settings(max_examples=examples, deadline=None, database=None)
    @given(
        case=st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE, headers=headers),
            operation.as_strategy(GenerationMode.NEGATIVE, headers=headers),
        )
    )
    def conforms(case):
        case.call_and_validate(checks=CHECKS)

    conforms()


#: The agent and report endpoints, and the chart series (the Analytics page's, which agents may not see).
AGENT_AND_REPORT_PATHS = [
    *(path for path, family in FAMILY_OF.items() if family in ("agents", "reports")),
    "dashboards/charts-data",
]


def fill_more(database) -> None:
    """Beside the rooms of :func:`fill`: agents, tags, sources and activity in March 2024."""
    database["rocketchat_room"].update_many({}, {"$set": {"tags": ["bug"], "source": {"type": "widget"}}})
    database["users"].insert_one({"_id": "agent", "username": "agent", "name": "Agent", "active": True})
    database["rocketchat_livechat_agent_activity"].insert_one(
        {
            "agentId": "agent",
            "date": 20240305,
            "availableTime": 3600,
            "serviceHistory": [{"startedAt": dt.datetime(2024, 3, 5, 9, tzinfo=UTC), "stoppedAt": None}],
        }
    )


@pytest.mark.parametrize("path", AGENT_AND_REPORT_PATHS)
def test_every_agent_and_report_answer_conforms_to_the_document(app, database, path):
    fill(database)
    fill_more(database)
    operation = schemathesis.openapi.from_wsgi(DOCUMENT, app)["/" + path]["GET"]
    manager = add_user(database)
    agent = add_user(database, "agent-user", token="agent-token", roles=("livechat-agent",))
    window = {"start": "2024-03-01", "end": "2024-03-31"}
    if path.endswith("charts-data"):
        window["chartName"] = "Avg_chat_duration"
    if path.endswith("history"):
        window["fullReport"] = "true"
    for headers, status in [(manager, 200), ({}, 401), (agent, 403)]:
        response = operation.Case(query=window, headers=headers).call_and_validate(checks=CHECKS)
        assert response.status_code == status
    answer = operation.Case(query=window, headers=manager).call().json()
    assert answer.get("agents", answer.get("data", answer.get("dataPoints")))
    conforms_when_fuzzed(operation, manager, examples=10)


DASHBOARD_AND_OVERVIEW_PATHS = [
    path for path, family in FAMILY_OF.items() if family in ("dashboards", "overview")
]
#: The ``name`` each overview is asked for.
LAST_NAMES = {"overview": "Productivity", "agent-overview": "Avg_reaction_time"}


def test_every_dashboard_and_overview_answer_and_example_conforms_to_the_document(client, demo_data):
    document = client.get(DOCUMENT).get_json()
    for path in DASHBOARD_AND_OVERVIEW_PATHS:
        content = document["paths"]["/" + path]["get"]["responses"]["200"]["content"]["application/json"]
        validator = OAS31Validator({**content["schema"], "components": document["components"]})
        validator.validate(content["example"])
        if path == "dashboards/charts/agents-status":
            params = {}
        elif path in LAST_NAMES:
            params = {"name": LAST_NAMES[path], **DAYS}
        elif path == "dashboards/charts-data":
            params = {**WINDOW, "chartName": "Avg_chat_duration"}
        else:
            params = WINDOW
        validator.validate(get_answer(client, path, MANAGER, **params))
