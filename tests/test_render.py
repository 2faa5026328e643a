"""Rendering as CSV: every shape of answer byte for byte (a page of rows, totalizers, a report,
parallel lists, a body keyed by names, a flat body, a bare array, the agent overview, a trend series,
the heatmap); asked by format or Accept; streamed from the cursor past one batch; formula-safe
cells; errors still JSON."""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import logging

import pytest
from pymongo.errors import NetworkTimeout
from support import NOW_ENDPOINTS, ROOT, UTC

from livechat_analytics import repository
from livechat_analytics.endpoints import ENDPOINTS

ROOMS = "rocketchat_room"
WINDOW = {"start": "2024-03-01", "end": "2024-03-31"}
#: Three days: 4 March (no room), 5 March (rooms a and b), 6 March (room c).
DAYS = {"start": "2024-03-04", "end": "2024-03-06"}

#: The parameters each endpoint needs besides the window.
NEEDS: dict[str, dict[str, str]] = {
    "dashboards/charts-data": {"chartName": "Total_conversations"},
    "overview": {"name": "Conversations", "from": "2024-03-01", "to": "2024-03-31"},
    "agent-overview": {"name": "Total_conversations", "from": "2024-03-01", "to": "2024-03-31"},
}
#: Endpoints without ``start`` and ``end`` (the overviews have ``from`` and ``to``).
NO_WINDOW = {"overview", "agent-overview", *NOW_ENDPOINTS}


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, 3, day, hour, minute, tzinfo=UTC)


def read(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def stored(database) -> None:
    """Four rooms in March 2024 (a closed, b on hold, c queued on 6 March, p closed on 2 March),
    two departments, two messages people wrote, three agents and two agents' activity; a came from
    the widget, and is tagged."""
    database[ROOMS].insert_many(
        [
            {
                "_id": "a",
                "t": "l",
                "ts": at(5, 10),
                "departmentId": "d1",
                "closedAt": at(5, 10, 30),
                "servedBy": {"_id": "u1", "username": "ana", "ts": at(5, 10, 1)},
                "v": {"_id": "v1"},
                "source": {"type": "widget"},
                "tags": ["bug"],
                "metrics": {
                    "chatDuration": 1800,
                    "serviceTimeDuration": 1740,
                    "response": {"avg": 10, "ft": 20},
                    "reaction": {"ft": 5},
                },
            },
            {
                "_id": "b",
                "t": "l",
                "ts": at(5, 15),
                "departmentId": "d2",
                "open": True,
                "onHold": True,
                "servedBy": {"_id": "u2", "username": "bo", "ts": at(5, 15, 2)},
                "v": {"_id": "v2"},
                "metrics": {"response": {"avg": 30, "ft": 40}},
            },
            {"_id": "c", "t": "l", "ts": at(6, 9), "open": True, "waitingResponse": True, "v": {"_id": "v1"}},
            {
                "_id": "p",
                "t": "l",
                "ts": at(2, 12),
                "departmentId": "d1",
                "closedAt": at(2, 13),
                "servedBy": {"_id": "u2", "username": "bo", "ts": at(2, 12, 1)},
                "v": {"_id": "v3"},
                "metrics": {"serviceTimeDuration": 120},
            },
        ]
    )
    database["rocketchat_message"].insert_many(
        [
            {"_id": "m1", "rid": "a", "msg": "hi", "token": "visitor"},
            {"_id": "m2", "rid": "a", "msg": "hello", "u": {"_id": "u1", "username": "ana"}},
        ]
    )
    database["rocketchat_livechat_department"].insert_many(
        [{"_id": "d1", "name": "Sales"}, {"_id": "d2", "name": "Help"}]
    )

    def agent(status: str, livechat: str) -> dict:
        return {"roles": ["livechat-agent"], "status": status, "statusLivechat": livechat}

    database["users"].insert_many(
        [
            {"_id": "u1", "username": "ana", "name": "Ana", "active": True, **agent("online", "available")},
            {"_id": "u2", "username": "bo", "active": False, **agent("away", "available")},
            {"_id": "u3", "username": "cy", **agent("online", "not-available")},
        ]
    )
    database["rocketchat_livechat_agent_activity"].insert_many(
        [
            {
                "agentId": "u1",
                "date": 20240305,
                "availableTime": 3600,
                "serviceHistory": [
                    {"startedAt": at(5, 9), "stoppedAt": at(5, 10)},
                    {"startedAt": at(5, 14), "stoppedAt": None},
                ],
            },
            {"agentId": "u2", "date": 20240306, "availableTime": 60.5, "serviceHistory": []},
        ]
    )


SHAPES = [
    # A page of rows: one line per row; no department is an empty cell.
    pytest.param("departments/amount-of-chats", WINDOW, "_id,rooms\r\n,1\r\nd1,2\r\nd2,1\r\n", id="rows"),
    # The periods of a day as JSON text; 60.5 seconds rounded up.
    pytest.param(
        "agents/available-for-service-history",
        {**WINDOW, "fullReport": "true"},
        "_id,username,availableTimeInSeconds,serviceHistory\r\n"
        'u1,ana,3600,"[{""startedAt"": ""2024-03-05T09:00:00.000Z"",'
        ' ""stoppedAt"": ""2024-03-05T10:00:00.000Z""},'
        ' {""startedAt"": ""2024-03-05T14:00:00.000Z"", ""stoppedAt"": null}]"\r\n'
        "u2,bo,61,[]\r\n",
        id="rows-with-lists",
    ),
    # Booleans as true and false; a null name empty.
    pytest.param(
        "agents/average-service-time",
        WINDOW,
        "_id,username,name,active,averageServiceTimeInSeconds\r\nu1,ana,Ana,true,1740\r\nu2,bo,,false,120\r\n",
        id="rows-with-booleans",
    ),
    # Totalizers: title and value. 4 rooms; open and queued: c; on hold: b; m1 and m2; v1, v2, v3.
    pytest.param(
        "dashboards/conversation-totalizers",
        WINDOW,
        "title,value\r\nTotal_conversations,4\r\nOpen_conversations,1\r\nOn_Hold_conversations,1\r\n"
        "Total_messages,2\r\nTotal_visitors,3\r\n",
        id="totalizers",
    ),
    # A report: its data's labels and values (c, without a department, is unspecified).
    pytest.param(
        "dashboards/conversations-by-department", WINDOW, "label,value\r\nHelp,1\r\nSales,2\r\n", id="report"
    ),
    # Parallel lists: a line per point, the label repeated.
    pytest.param(
        "dashboards/charts-data",
        {**DAYS, "chartName": "Total_conversations"},
        "chartLabel,dataLabels,dataPoints\r\nTotal_conversations,3/4,0\r\nTotal_conversations,3/5,2\r\n"
        "Total_conversations,3/6,1\r\n",
        id="parallel-lists",
    ),
    # Keyed bodies: a line per key, the key in "name". ana closed a; bo holds b and closed p.
    pytest.param(
        "dashboards/charts/chats-per-agent",
        WINDOW,
        "name,open,closed,onhold\r\nana,0,1,0\r\nbo,0,1,1\r\n",
        id="keyed-by-agent",
    ),
    # Response: mean of 10 and 30, longest first response 40; reaction 5; chat duration a's 1800.
    pytest.param(
        "dashboards/charts/timings",
        WINDOW,
        "name,avg,longest\r\nresponse,20,40\r\nreaction,5,5\r\nchatDuration,1800,1800\r\n",
        id="keyed-by-timing",
    ),
    # Flat bodies: one line. a and p closed, c queued, b on hold.
    pytest.param("dashboards/charts/chats", WINDOW, "open,closed,queued,onhold\r\n0,2,1,1\r\n", id="flat"),
    # cy is not available for livechat, bo away, ana online.
    pytest.param(
        "dashboards/charts/agents-status",
        {},
        "offline,away,busy,available\r\n1,1,0,1\r\n",
        id="flat-no-window",
    ),
    # A bare array: a, b, c over three days, 5 March (a Tuesday) the busiest; the hours tie, 9 AM first.
    pytest.param(
        "overview",
        {"name": "Conversations", "from": "2024-03-04", "to": "2024-03-06"},
        "title,value\r\nTotal_conversations,3\r\nOpen_conversations,1\r\nOn_Hold_conversations,1\r\n"
        "Total_messages,2\r\nBusiest_day,Tuesday\r\nConversations_per_day,1.00\r\n"
        "Busiest_time,9AM - 10AM\r\n",
        id="bare-array",
    ),
    # The agent overview's data: ana served a, bo b.
    pytest.param(
        "agent-overview",
        {"name": "Total_conversations", "from": "2024-03-04", "to": "2024-03-06"},
        "name,value\r\nana,50.00%\r\nbo,50.00%\r\n",
        id="agent-overview",
    ),
    # A trend: a line per bucket of each series, the previous window's (1 to 3 March: p) after.
    pytest.param(
        "trends/amount-of-chats",
        {**DAYS, "groupBy": "day", "compare": "previous"},
        "period,_id,start,rooms\r\n"
        "current,,2024-03-04T00:00:00+00:00,0\r\n"
        "current,,2024-03-05T00:00:00+00:00,2\r\n"
        "current,,2024-03-06T00:00:00+00:00,1\r\n"
        "previous,,2024-03-01T00:00:00+00:00,0\r\n"
        "previous,,2024-03-02T00:00:00+00:00,1\r\n"
        "previous,,2024-03-03T00:00:00+00:00,0\r\n",
        id="trend",
    ),
]


@pytest.mark.parametrize(("path", "params", "expected"), SHAPES)
def test_each_shape_of_answer_as_csv(client, headers, stored, path, params, expected):
    answer = client.get(f"{ROOT}/{path}", query_string={**params, "format": "csv"}, headers=headers)
    assert (answer.status_code, answer.mimetype) == (200, "text/csv")
    assert answer.get_data(as_text=True) == expected


#: Bodies with nothing to list: the header their schema declares, and no line.
EMPTY = [
    ("dashboards/conversations-by-source", WINDOW, "label,value\r\n"),
    ("dashboards/conversations-by-department", WINDOW, "label,value\r\n"),
    ("dashboards/charts/chats-per-agent", WINDOW, "name,open,closed,onhold\r\n"),
    ("dashboards/charts/chats-per-department", WINDOW, "name,open,closed\r\n"),
    (
        "agent-overview",
        {"name": "Total_conversations", "from": "2024-03-01", "to": "2024-03-31"},
        "name,value\r\n",
    ),
    ("trends/amount-of-chats", {**WINDOW, "byDepartment": "true"}, "period,_id,start,rooms\r\n"),
]


@pytest.mark.parametrize(("path", "params", "expected"), EMPTY)
def test_a_body_with_nothing_to_list_is_its_header_alone(client, headers, path, params, expected):
    response = client.get(f"{ROOT}/{path}", query_string={**params, "format": "csv"}, headers=headers)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == expected


def test_the_heatmap_as_csv_is_a_line_per_weekday_and_hour(client, headers, stored):
    answer = client.get(f"{ROOT}/trends/heatmap", query_string={**WINDOW, "format": "csv"}, headers=headers)
    # a and b on Tuesday 5 March at 10 and 15, c on Wednesday 6 March at 9, p on Saturday 2 March at 12.
    rooms = {("Tuesday", 10): 1, ("Tuesday", 15): 1, ("Wednesday", 9): 1, ("Saturday", 12): 1}
    lines = [
        f"{weekday},{hour},{rooms.get((weekday, hour), 0)}\r\n"
        for weekday in calendar.day_name
        for hour in range(24)
    ]
    assert lines[:2] == ["Monday,0,0\r\n", "Monday,1,0\r\n"]
    assert answer.get_data(as_text=True) == "weekday,hour,rooms\r\n" + "".join(lines)


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
def test_every_endpoint_answers_csv_named_after_it_and_its_days(client, headers, stored, path):
    params = {**({} if path in NO_WINDOW else WINDOW), **NEEDS.get(path, {})}
    answer = client.get(f"{ROOT}/{path}", query_string={**params, "format": "csv"}, headers=headers)
    assert (answer.status_code, answer.mimetype) == (200, "text/csv")
    header = answer.get_data(as_text=True).split("\r\n")[0]
    assert header and "" not in header.split(",")
    days = "" if path in NOW_ENDPOINTS else "_2024-03-01_2024-03-31"
    assert (
        answer.headers["Content-Disposition"] == f'attachment; filename="{path.replace("/", "-")}{days}.csv"'
    )


def test_accept_header_asks_for_csv_and_format_json_wins(client, headers, stored):
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


# Formula-safe cells


def test_text_a_spreadsheet_would_run_is_written_as_text(make_app, database, headers):
    names = ["=1+2", "+1", "-x", "@a", "\tx", "\rx", "a=b"]
    database["rocketchat_livechat_department"].insert_many(
        [{"_id": f"d{n}", "name": name} for n, name in enumerate(names)]
        + [{"_id": "=HYPERLINK(1)", "name": "@SUM(A1)"}]
    )
    department_ids = [*(f"d{n}" for n in range(len(names))), "=HYPERLINK(1)", None]
    database[ROOMS].insert_many(
        [
            {"_id": f"r{n}", "t": "l", "ts": at(5, 10), "departmentId": ids}
            for n, ids in enumerate(department_ids)
        ]
    )
    answer = (
        make_app(DEPARTMENT_NAMES=True)
        .test_client()
        .get(f"{ROOT}/departments/amount-of-chats", query_string={**WINDOW, "format": "csv"}, headers=headers)
    )
    # Each cell that starts like a formula gets a ' before it; one holding a line break is quoted.
    assert answer.get_data(as_text=True) == (
        "_id,name,rooms\r\n"
        ",,1\r\n"
        "'=HYPERLINK(1),'@SUM(A1),1\r\n"
        "d0,'=1+2,1\r\n"
        "d1,'+1,1\r\n"
        "d2,'-x,1\r\n"
        "d3,'@a,1\r\n"
        "d4,'\tx,1\r\n"
        'd5,"\'\rx",1\r\n'
        "d6,a=b,1\r\n"
    )


def test_a_formula_like_name_sorts_as_the_name_it_is(make_app, database, headers):
    database["rocketchat_livechat_department"].insert_many(
        [{"_id": "d1", "name": "+1 sales"}, {"_id": "=HYPERLINK(1)", "name": "@SUM(A1)"}]
    )
    database[ROOMS].insert_many(
        [
            {"_id": f"r{n}", "t": "l", "ts": at(5, 10), "departmentId": department}
            for n, department in enumerate(["d1", "=HYPERLINK(1)", None])
        ]
    )
    answer = (
        make_app(DEPARTMENT_NAMES=True)
        .test_client()
        .get(
            f"{ROOT}/departments/amount-of-chats",
            query_string={**WINDOW, "format": "csv", "sort": '{"name": 1}'},
            headers=headers,
        )
    )
    lines = read(answer)
    assert [(line["_id"], line["name"]) for line in lines] == [
        ("", ""),
        ("d1", "'+1 sales"),
        ("'=HYPERLINK(1)", "'@SUM(A1)"),
    ]


# Streaming


@pytest.mark.parametrize(
    ("params", "expected"),
    [({}, "r"), ({"count": "5"}, 5), ({"count": "5", "offset": "40"}, 5), ({"count": "0"}, "r")],
)
def test_csv_streams_every_row_past_one_batch_unless_count_is_given(
    client, headers, database, monkeypatch, params, expected
):
    monkeypatch.setattr(repository, "STREAM_BATCH_SIZE", 7)
    ts = dt.datetime(2024, 3, 5, tzinfo=UTC)
    departments = [f"d{n:03d}" for n in range(60)]
    database[ROOMS].insert_many(
        [{"_id": f"r{n}", "t": "l", "ts": ts, "departmentId": name} for n, name in enumerate(departments)]
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


def test_a_database_error_mid_stream_ends_the_file_with_a_line_saying_so(
    client, headers, monkeypatch, caplog
):
    closed = []

    class Cursor:
        """A cursor whose second batch never comes."""

        def __iter__(self):
            yield {"_id": "d1", "rooms": 1}
            raise NetworkTimeout("timed out")

        def close(self):
            closed.append(True)

    monkeypatch.setattr(repository.Repository, "stream", lambda *args, **kwargs: Cursor())
    with caplog.at_level(logging.WARNING, "livechat_analytics"):
        answer = client.get(
            f"{ROOT}/departments/amount-of-chats", query_string={**WINDOW, "format": "csv"}, headers=headers
        )
        text = answer.get_data(as_text=True)
    ended = "#incomplete: The query took too long.\r\n"
    assert (answer.status_code, text) == (200, "_id,rooms\r\nd1,1\r\n" + ended)
    assert closed == [True]
    assert "over its time limit" in caplog.text


# Errors


def test_errors_stay_json(client, headers):
    path = f"{ROOT}/departments/amount-of-chats"
    answer = client.get(path, query_string={**WINDOW, "format": "csv"})
    assert (answer.status_code, answer.mimetype) == (401, "application/json")
    answer = client.get(path, query_string={"start": "x", "end": "y", "format": "csv"}, headers=headers)
    assert (answer.status_code, answer.mimetype) == (400, "application/json")
    answer = client.get(path, query_string={**WINDOW, "format": "xml"}, headers=headers)
    assert answer.status_code == 400
    assert answer.get_json()["details"] == {"format": ["Must be json or csv."]}
