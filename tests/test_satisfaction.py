"""The satisfaction family over HTTP on every backend: the contract's example worked out by hand,
each grouping, the other questions, the rated rooms and their order, the trend's buckets, CSV
(comments written formula-safe), the 400s and a monitor's scope."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import units
from support import NOT_LOGGED_IN, ROOT, UNAUTHORIZED, UTC, add_user, get_answer

ROOMS = "rocketchat_room"
WINDOW = {"start": "2024-03-01", "end": "2024-03-10"}
#: When the example's rooms closed: Monday 4 March 2024, 10:00 UTC, a minute apart.
CLOSED = dt.datetime(2024, 3, 4, 10, tzinfo=UTC)
M = dt.timedelta(minutes=1)


def room(_id: str, n: int, survey: dict | None = None, **fields) -> dict:
    """A served livechat room made on 1 March and closed ``n`` minutes after :data:`CLOSED`, with
    ``survey`` as its ``surveyFeedback`` when given."""
    document = {
        "_id": _id,
        "t": "l",
        "ts": dt.datetime(2024, 3, 1, 9, tzinfo=UTC),
        "closedAt": CLOSED + n * M,
        "servedBy": {"_id": "ana", "username": "ana.s"},
        **fields,
    }
    if survey is not None:
        document["surveyFeedback"] = survey
    return document


def example_rooms() -> list[dict]:
    """The contract's example: rated 5, 5, 4, 3, 1, one rated "6", one without ``satisfaction``,
    three without ``surveyFeedback``; and, outside it, rooms that do not count."""
    return [
        room("r5a", 0, {"satisfaction": "5", "additionalFeedback": "Great"}, departmentId="d1"),
        room("r5b", 1, {"satisfaction": "5", "agentKnowledge": "4"}, departmentId="d1"),
        room("r4", 2, {"satisfaction": "4", "additionalFeedback": "=SUM(A1)"}, departmentId="d2"),
        room("r3", 3, {"satisfaction": "3", "additionalFeedback": ""}, departmentId="d2"),
        room("r1", 4, {"satisfaction": "1", "agentFriendliness": "2"}),
        room("r6", 5, {"satisfaction": "6", "additionalFeedback": "not counted"}),
        room("knowledge", 6, {"agentKnowledge": "5"}, departmentId="d1"),
        room("n1", 7, departmentId="d1"),
        room("n2", 8),
        room("n3", 9, departmentId="d2"),
        # Not counted: unserved, still open, closed after the window, not livechat.
        {**room("unserved", 10, {"satisfaction": "5"}), "servedBy": None},
        {k: v for k, v in room("open", 11, {"satisfaction": "5"}).items() if k != "closedAt"}
        | {"open": True},
        room("late", 60 * 24 * 10, {"satisfaction": "1"}),
        {**room("channel", 12, {"satisfaction": "1"}), "t": "c"},
    ]


def groups(client, headers, **params) -> list[dict]:
    return get_answer(client, "satisfaction", headers, **{**WINDOW, **params})["groups"]


def test_the_contracts_example(client, headers, database):
    database[ROOMS].insert_many(example_rooms())
    assert get_answer(client, "satisfaction", headers, **WINDOW) == {
        "groups": [
            {
                "_id": None,
                "closedChats": 10,
                "responses": 5,
                "responseRate": 50,
                "csat": 60,
                "average": 3.6,
                "distribution": {"1": 1, "2": 0, "3": 1, "4": 1, "5": 2},
                "comments": 2,
            }
        ],
        "count": 1,
        "offset": 0,
        "total": 1,
        "success": True,
    }


def test_each_grouping(client, headers, database):
    tagged = [
        room("t1", 0, {"satisfaction": "5"}, tags=["billing", "billing", "vip"], source={"type": "widget"}),
        room(
            "t2",
            1,
            {"satisfaction": "2", "additionalFeedback": "slow"},
            tags=["billing"],
            source={"type": "email", "alias": "mail"},
        ),
        room("t3", 2, servedBy={"_id": "bo", "username": "bo"}, tags=[], source={"type": "widget"}),
    ]
    database[ROOMS].insert_many(tagged)

    def row(_id, closed, ratings, comments=0):
        # Worked out by hand: ratings of the group, as a list.
        responses = len(ratings)
        satisfied = sum(1 for r in ratings if r >= 4)
        return {
            "_id": _id,
            "closedChats": closed,
            "responses": responses,
            "responseRate": round(100 * responses / closed, 2) if closed else None,
            "csat": round(100 * satisfied / responses, 2) if responses else None,
            "average": round(sum(ratings) / responses, 2) if responses else None,
            "distribution": {str(n): ratings.count(n) for n in range(1, 6)},
            "comments": comments,
        }

    assert groups(client, headers, groupBy="tag") == [
        row(None, 1, []),
        row("billing", 2, [5, 2], 1),
        row("vip", 1, [5]),
    ]
    assert groups(client, headers, groupBy="source") == [row("mail", 1, [2], 1), row("widget", 2, [5])]
    assert groups(client, headers, groupBy="agent") == [row("ana", 2, [5, 2], 1), row("bo", 1, [])]
    assert groups(client, headers, groupBy="agent", sort='{"responses": 1}') == [
        row("bo", 1, []),
        row("ana", 2, [5, 2], 1),
    ]


def test_departments_agents_and_the_other_questions(client, headers, database):
    database[ROOMS].insert_many(example_rooms())
    assert [
        (g["_id"], g["closedChats"], g["responses"], g["distribution"]["5"])
        for g in groups(client, headers, groupBy="department")
    ] == [(None, 3, 1, 0), ("d1", 4, 2, 2), ("d2", 3, 2, 0)]
    # agentKnowledge: r5b rated "4", knowledge "5".
    [knowledge] = groups(client, headers, question="agentKnowledge")
    assert (knowledge["responses"], knowledge["csat"], knowledge["average"], knowledge["comments"]) == (
        2,
        100,
        4.5,
        0,
    )
    [friendliness] = groups(client, headers, question="agentFriendliness")
    assert (friendliness["responses"], friendliness["csat"], friendliness["average"]) == (1, 0, 2)
    assert groups(client, headers, departmentId="d2")[0]["closedChats"] == 3
    assert groups(client, headers, agentId="nobody")[0] == {
        "_id": None,
        "closedChats": 0,
        "responses": 0,
        "responseRate": None,
        "csat": None,
        "average": None,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
        "comments": 0,
    }


def test_the_responses_newest_first(client, headers, database):
    database[ROOMS].insert_many(example_rooms())
    body = get_answer(client, "satisfaction/responses", headers, **WINDOW, count="2")
    assert body == {
        "responses": [
            {
                "_id": "r1",
                "closedAt": "2024-03-04T10:04:00.000Z",
                "departmentId": None,
                "agentId": "ana",
                "agentUsername": "ana.s",
                "satisfaction": 1,
                "agentKnowledge": None,
                "agentResposiveness": None,
                "agentFriendliness": 2,
                "comment": None,
            },
            {
                "_id": "r3",
                "closedAt": "2024-03-04T10:03:00.000Z",
                "departmentId": "d2",
                "agentId": "ana",
                "agentUsername": "ana.s",
                "satisfaction": 3,
                "agentKnowledge": None,
                "agentResposiveness": None,
                "agentFriendliness": None,
                "comment": None,
            },
        ],
        "count": 2,
        "offset": 0,
        "total": 5,
        "success": True,
    }
    ids = [
        r["_id"]
        for r in get_answer(client, "satisfaction/responses", headers, **WINDOW, sort='{"satisfaction": -1}')[
            "responses"
        ]
    ]
    assert ids == ["r5a", "r5b", "r4", "r3", "r1"]
    knowledge = get_answer(client, "satisfaction/responses", headers, **WINDOW, question="agentKnowledge")
    assert [r["_id"] for r in knowledge["responses"]] == ["knowledge", "r5b"]


def test_the_responses_as_csv_write_comments_as_text(client, headers, database):
    database[ROOMS].insert_many(example_rooms())
    answer = client.get(
        f"{ROOT}/satisfaction/responses",
        query_string={**WINDOW, "format": "csv", "sort": '{"_id": 1}'},
        headers=headers,
    )
    assert answer.get_data(as_text=True) == (
        "_id,closedAt,departmentId,agentId,agentUsername,satisfaction,agentKnowledge,"
        "agentResposiveness,agentFriendliness,comment\r\n"
        "r1,2024-03-04T10:04:00.000Z,,ana,ana.s,1,,,2,\r\n"
        "r3,2024-03-04T10:03:00.000Z,d2,ana,ana.s,3,,,,\r\n"
        "r4,2024-03-04T10:02:00.000Z,d2,ana,ana.s,4,,,,'=SUM(A1)\r\n"
        "r5a,2024-03-04T10:00:00.000Z,d1,ana,ana.s,5,,,,Great\r\n"
        "r5b,2024-03-04T10:01:00.000Z,d1,ana,ana.s,5,4,,,\r\n"
    )


def test_the_groups_as_csv_have_a_column_per_rating(client, headers, database):
    database[ROOMS].insert_many(example_rooms())
    answer = client.get(f"{ROOT}/satisfaction", query_string={**WINDOW, "format": "csv"}, headers=headers)
    assert list(csv.reader(io.StringIO(answer.get_data(as_text=True)))) == [
        [
            "_id",
            "closedChats",
            "responses",
            "responseRate",
            "csat",
            "average",
            "distribution.1",
            "distribution.2",
            "distribution.3",
            "distribution.4",
            "distribution.5",
            "comments",
        ],
        ["", "10", "5", "50", "60", "3.6", "1", "0", "1", "1", "2", "2"],
    ]


def test_the_trend_buckets_the_close_and_adds_up(client, headers, database):
    database[ROOMS].insert_many(
        [
            *example_rooms(),
            # Closed on 5 March at 23:30 UTC: 6 March in Berlin.
            room("late-night", 60 * 37 + 30, {"satisfaction": "4"}),
            # Closed in the previous window (20 to 29 February).
            {**room("before", 0, {"satisfaction": "2"}), "closedAt": dt.datetime(2024, 2, 25, tzinfo=UTC)},
        ]
    )
    body = get_answer(
        client,
        "trends/satisfaction",
        headers,
        start="2024-03-04",
        end="2024-03-06",
        timezone="Europe/Berlin",
        compare="previous",
    )
    assert body["metric"] == "satisfaction"
    assert body["question"] == "satisfaction"
    assert body["series"] == [
        {
            "_id": None,
            "buckets": [
                {"start": "2024-03-04T00:00:00+01:00", "responses": 5, "csat": 60, "average": 3.6},
                {"start": "2024-03-05T00:00:00+01:00", "responses": 0, "csat": None, "average": None},
                {"start": "2024-03-06T00:00:00+01:00", "responses": 1, "csat": 100, "average": 4},
            ],
        }
    ]
    previous = body["previous"][0]["buckets"]
    assert [bucket["responses"] for bucket in previous] == [0, 0, 0]
    # The trend's responses add up to the endpoint's over the window.
    total = groups(client, headers, start="2024-03-04", end="2024-03-06", timezone="Europe/Berlin")[0]
    assert total["responses"] == 6


@pytest.mark.parametrize("path", ["satisfaction", "satisfaction/responses", "trends/satisfaction"])
def test_an_agent_is_refused_and_a_stranger_asked_to_log_in(client, database, path):
    agent = add_user(database, "agent", token="agent-token", roles=("livechat-agent",))
    response = client.get(f"{ROOT}/{path}", query_string=WINDOW, headers=agent)
    assert (response.status_code, response.get_json()) == (403, UNAUTHORIZED)
    response = client.get(f"{ROOT}/{path}", query_string=WINDOW)
    assert (response.status_code, response.get_json()) == (401, NOT_LOGGED_IN)


QUESTION = "Must be one of satisfaction, agentKnowledge, agentResposiveness, agentFriendliness."
SORT = (
    'Must be a JSON object such as {"_id": 1} whose keys are among _id, closedChats, responses, '
    "responseRate, csat, average, comments and whose values are 1 or -1."
)


@pytest.mark.parametrize(
    ("path", "params", "name", "message"),
    [
        ("satisfaction", {"question": "speed"}, "question", QUESTION),
        (
            "satisfaction",
            {"groupBy": "priority"},
            "groupBy",
            "Must be one of none, department, agent, tag, source.",
        ),
        ("satisfaction", {"sort": '{"distribution": 1}'}, "sort", SORT),
        ("satisfaction/responses", {"agentId": ""}, "agentId", "Must not be empty."),
        ("trends/satisfaction", {"question": "5"}, "question", QUESTION),
        ("trends/satisfaction", {"groupBy": "agent"}, "groupBy", "Must be one of hour, day, week, month."),
    ],
)
def test_bad_parameters_are_400s(client, headers, path, params, name, message):
    response = client.get(f"{ROOT}/{path}", query_string={**WINDOW, **params}, headers=headers)
    assert response.status_code == 400
    assert response.get_json() == {
        "success": False,
        "error": f'The "{name}" query parameter m{message[1:]}',
        "errorType": "invalid-params",
        "details": {name: [message]},
    }


def test_a_monitor_sees_the_ratings_of_their_units(make_app, database):
    documents = units.world()
    for n, stored in enumerate(documents[units.ROOMS]):
        stored["surveyFeedback"] = {"satisfaction": str(n % 6)}  # "0" is no rating
    units.store(database, documents)
    client = make_app().test_client()
    for caller in (units.MONITOR1, units.AGENT_MONITOR, units.LONE_MONITOR, units.MANAGER):
        seen = [
            stored
            for stored in units.visible(documents, caller)
            if stored.get("t") == "l"
            and stored.get("servedBy")
            and isinstance(stored.get("closedAt"), dt.datetime)
            and units.START <= stored["closedAt"] <= units.END
        ]
        ratings = [int(stored["surveyFeedback"]["satisfaction"]) for stored in seen]
        ratings = [rating for rating in ratings if rating]
        response = client.get(
            f"{ROOT}/satisfaction", query_string=units.WINDOW, headers=units.headers(caller)
        )
        [row] = response.get_json()["groups"]
        assert (row["closedChats"], row["responses"]) == (len(seen), len(ratings)), caller
        assert row["distribution"] == {str(n): ratings.count(n) for n in range(1, 6)}, caller
