"""CSV from every endpoint: asked by format or Accept, read back with the csv module equal to the JSON
answer, streamed from the cursor past one batch, formula-safe, errors still JSON."""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging

import pytest
from flask import Flask
from pymongo.errors import NetworkTimeout
from support import ROOT, UTC, add_user

from livechat_analytics import LivechatAnalytics, export, repository
from livechat_analytics.endpoints import ENDPOINTS

ROOMS = "rocketchat_room"
WINDOW = {"start": "2024-03-01", "end": "2024-03-31"}

#: The parameters each endpoint needs besides the window.
NEEDS: dict[str, dict[str, str]] = {
    "dashboards/charts-data": {"chartName": "Total_conversations"},
    "overview": {"name": "Conversations", "from": "2024-03-01", "to": "2024-03-31"},
    "agent-overview": {"name": "Total_conversations", "from": "2024-03-01", "to": "2024-03-31"},
}
NO_WINDOW = {"overview", "agent-overview", "dashboards/charts/agents-status"}


def params_of(path: str) -> dict[str, str]:
    return {**({} if path in NO_WINDOW else WINDOW), **NEEDS.get(path, {})}


def read(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def text(value) -> str:
    """A JSON value as the CSV writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    value = str(value)
    return "'" + value if value.startswith(export.FORMULA_STARTS) else value


@pytest.fixture
def rooms(database):
    at = dt.datetime(2024, 3, 5, 10, tzinfo=UTC)
    database[ROOMS].insert_many(
        [
            {
                "_id": f"r{n}",
                "t": "l",
                "ts": at + dt.timedelta(hours=n),
                "departmentId": ["d1", "=HYPERLINK(1)", None][n % 3],
                "open": n % 2 == 0,
                "closedAt": at + dt.timedelta(hours=n, minutes=30),
                "servedBy": {"_id": "u1", "username": "-ana", "ts": at},
                "metrics": {"chatDuration": 100 + n, "serviceTimeDuration": 50 + n, "response": {"ft": n}},
                "source": {"type": "widget"},
            }
            for n in range(9)
        ]
    )


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
def test_every_endpoint_answers_csv_equal_to_its_json(client, headers, rooms, path):
    params = params_of(path)
    as_json = client.get(f"{ROOT}/{path}", query_string=params, headers=headers)
    assert as_json.status_code == 200, as_json.get_json()
    as_csv = client.get(f"{ROOT}/{path}", query_string={**params, "format": "csv"}, headers=headers)
    lines = read(as_csv)
    body = as_json.get_json()
    render = ENDPOINTS[path].csv
    expected = render(body) if render is not None else export.rows_of(body)
    assert [dict(line) for line in lines] == [
        {key: text(row.get(key)) for key in lines[0]} for row in expected
    ]
    assert as_csv.headers["Content-Disposition"].startswith(f'attachment; filename="{path.replace("/", "-")}')


def test_accept_header_asks_for_csv_and_format_json_wins(client, headers, rooms):
    path = f"{ROOT}/departments/amount-of-chats"
    answer = client.get(path, query_string=WINDOW, headers={**headers, "Accept": "text/csv"})
    assert answer.mimetype == "text/csv"
    assert (
        answer.headers["Content-Disposition"]
        == 'attachment; filename="departments-amount-of-chats_2024-03-01_2024-03-31.csv"'
    )
    wants_csv = {**headers, "Accept": "text/csv"}
    answer = client.get(path, query_string={**WINDOW, "format": "json"}, headers=wants_csv)
    assert answer.mimetype == "application/json"
    answer = client.get(path, query_string=WINDOW, headers={**headers, "Accept": "*/*"})
    assert answer.mimetype == "application/json"


def test_a_formula_like_name_comes_back_as_text(database, rooms):
    app = Flask("host")
    app.config.update(TESTING=True, LIVECHAT_ANALYTICS_DEPARTMENT_NAMES=True)
    LivechatAnalytics(app, database=database)
    database["rocketchat_livechat_department"].insert_many(
        [{"_id": "d1", "name": "+1 sales"}, {"_id": "=HYPERLINK(1)", "name": "@SUM(A1)"}]
    )
    answer = app.test_client().get(
        f"{ROOT}/departments/amount-of-chats",
        query_string={**WINDOW, "format": "csv", "sort": '{"name": 1}'},
        headers=add_user(database),
    )
    lines = read(answer)
    assert [(line["_id"], line["name"]) for line in lines] == [
        ("", ""),
        ("d1", "'+1 sales"),
        ("'=HYPERLINK(1)", "'@SUM(A1)"),
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [({}, "r"), ({"count": "5"}, 5), ({"count": "5", "offset": "40"}, 5), ({"count": "0"}, "r")],
)
def test_csv_streams_every_row_past_one_batch_unless_count_is_given(
    client, headers, database, monkeypatch, params, expected
):
    monkeypatch.setattr(repository, "STREAM_BATCH_SIZE", 7)
    at = dt.datetime(2024, 3, 5, tzinfo=UTC)
    departments = [f"d{n:03d}" for n in range(60)]
    database[ROOMS].insert_many(
        [{"_id": f"r{n}", "t": "l", "ts": at, "departmentId": name} for n, name in enumerate(departments)]
    )
    answer = client.get(
        f"{ROOT}/departments/amount-of-chats",
        query_string={**WINDOW, **params, "format": "csv"},
        headers=headers,
    )
    assert answer.is_streamed
    lines = read(answer)
    offset = int(params.get("offset", 0)) if "count" in params and params["count"] != "0" else 0
    wanted = departments[offset:] if expected == "r" else departments[offset : offset + expected]
    assert [line["_id"] for line in lines] == wanted
    assert all(line["rooms"] == "1" for line in lines)


def test_agents_csv_streams_with_their_periods_as_json(client, headers, database):
    database["rocketchat_livechat_agent_activity"].insert_one(
        {
            "_id": "x",
            "agentId": "manager",
            "date": 20240305,
            "availableTime": 3600,
            "serviceHistory": [{"startedAt": dt.datetime(2024, 3, 5, 8, tzinfo=UTC)}],
        }
    )
    answer = client.get(
        f"{ROOT}/agents/available-for-service-history",
        query_string={**WINDOW, "fullReport": "true", "format": "csv"},
        headers=headers,
    )
    [line] = read(answer)
    assert line["_id"] == "manager"
    assert line["availableTimeInSeconds"] == "3600"
    assert line["serviceHistory"] == '[{"startedAt": "2024-03-05T08:00:00.000Z"}]'


def test_errors_stay_json(client, headers):
    path = f"{ROOT}/departments/amount-of-chats"
    answer = client.get(path, query_string={**WINDOW, "format": "csv"})
    assert (answer.status_code, answer.mimetype) == (401, "application/json")
    answer = client.get(path, query_string={"start": "x", "end": "y", "format": "csv"}, headers=headers)
    assert (answer.status_code, answer.mimetype) == (400, "application/json")
    answer = client.get(path, query_string={**WINDOW, "format": "xml"}, headers=headers)
    assert answer.status_code == 400
    assert answer.get_json()["details"] == {"format": ["Must be json or csv."]}


def test_a_database_error_mid_stream_ends_the_file_and_is_logged(database, caplog):
    closed = []

    class Cursor:
        def __iter__(self):
            yield {"a": 1}
            raise NetworkTimeout("timed out")

        def close(self):
            closed.append(True)

    app = Flask("host")
    LivechatAnalytics(app, database=database)
    with app.test_request_context(), caplog.at_level(logging.WARNING, "livechat_analytics"):
        assert list(export.guarded(Cursor(), 1.0)) == [{"a": 1}]
    assert closed == [True]
    assert "over its time limit" in caplog.text


@pytest.mark.parametrize(
    ("value", "cell"),
    [("=1+2", "'=1+2"), ("+1", "'+1"), ("-x", "'-x"), ("@a", "'@a"), ("\tx", "'\tx"), ("\rx", "'\rx"),
     ("a=b", "a=b"), (-5, -5), (None, ""), (True, "true"), ([1], "[1]")],
)
def test_cells(value, cell):
    assert export.cell(value) == cell
