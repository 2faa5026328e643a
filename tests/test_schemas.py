"""The query schemas: every rule of the query parameters, with the exact 400 bodies; the window's
bounds, the department filter, paging and sorting."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest
from support import PREFIX, UTC, add_user

WINDOW = {"start": "2024-03-01", "end": "2024-03-31"}
SORT_RULE = (
    'Must be a JSON object such as {"_id": 1} whose keys are among _id, rooms and whose values are 1 or -1.'
)


def get(client, headers, path="amount-of-chats", **params):
    return client.get(f"{PREFIX}/{path}?{urlencode(params)}", headers=headers)


def invalid(error: str, details: dict) -> dict:
    return {"success": False, "error": error, "errorType": "invalid-params", "details": details}


def room(room_id: str, ts: dt.datetime, department: str | None = "sales", **fields) -> dict:
    document = {"_id": room_id, "t": "l", "ts": ts}
    if department is not None:
        document["departmentId"] = department
    return {**document, **fields}


BAD_REQUESTS = [
    (
        {"start": "yesterday", "end": "2024-03-31"},
        invalid(
            'The "start" query parameter must be a valid date.',
            {"start": ["Must be a valid date."]},
        ),
    ),
    (
        {"start": "2024-03-01", "end": "2024-02-30"},
        invalid('The "end" query parameter must be a valid date.', {"end": ["Must be a valid date."]}),
    ),
    (
        {},
        invalid(
            'The "start" query parameter is required. The "end" query parameter is required.',
            {"start": ["Is required."], "end": ["Is required."]},
        ),
    ),
    (
        {"start": "2024-04-01", "end": "2024-03-31"},
        invalid(
            'The "start" query parameter must not be later than "end".',
            {"start": ['Must not be later than "end".']},
        ),
    ),
    (
        {"start": "2024-03", "end": "2024-03-31"},
        invalid('The "start" query parameter must be a valid date.', {"start": ["Must be a valid date."]}),
    ),
    (
        {**WINDOW, "departmentId[$ne]": "x"},
        invalid(
            'The "departmentId[$ne]" query parameter is not allowed.',
            {"departmentId[$ne]": ["Is not allowed."]},
        ),
    ),
    (
        {**WINDOW, "roomId": "abc"},
        invalid('The "roomId" query parameter is not allowed.', {"roomId": ["Is not allowed."]}),
    ),
    (
        {**WINDOW, "answered": "yes"},
        invalid(
            'The "answered" query parameter must be true or false.', {"answered": ["Must be true or false."]}
        ),
    ),
    (
        {**WINDOW, "offset": "-1"},
        invalid(
            'The "offset" query parameter must be a whole number from 0 to 2147483647.',
            {"offset": ["Must be a whole number from 0 to 2147483647."]},
        ),
    ),
    (
        {**WINDOW, "offset": "1.5"},
        invalid(
            'The "offset" query parameter must be a whole number.', {"offset": ["Must be a whole number."]}
        ),
    ),
    (
        {**WINDOW, "count": "ten"},
        invalid(
            'The "count" query parameter must be a whole number.', {"count": ["Must be a whole number."]}
        ),
    ),
    (
        {**WINDOW, "count": "99999999999999999999999"},
        invalid(
            'The "count" query parameter must be a whole number from 0 to 2147483647.',
            {"count": ["Must be a whole number from 0 to 2147483647."]},
        ),
    ),
]


@pytest.mark.parametrize(("params", "body"), BAD_REQUESTS)
def test_bad_parameters_get_an_exact_400(client, headers, params, body):
    response = get(client, headers, **params)
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    assert response.get_json() == body


@pytest.mark.parametrize(
    "sort",
    [
        "rooms",
        "[1]",
        "{}",
        '{"rooms": 2}',
        '{"rooms": true}',
        '{"rooms": "1"}',
        '{"name": 1}',
        '{"$ne": 1}',
        '{"rooms": 1.0}',
        "[" * 5000,
    ],
)
def test_a_bad_sort_gets_400(client, headers, sort):
    response = get(client, headers, **WINDOW, sort=sort)
    assert response.status_code == 400
    assert response.get_json() == invalid(
        f'The "sort" query parameter {SORT_RULE[0].lower()}{SORT_RULE[1:]}', {"sort": [SORT_RULE]}
    )


def test_sort_names_the_endpoints_own_fields(client, headers):
    rule = (
        'Must be a JSON object such as {"_id": 1} whose keys are among _id, numberOfTransferredRooms '
        "and whose values are 1 or -1."
    )
    response = get(client, headers, "total-transferred-chats", **WINDOW, sort='{"rooms": 1}')
    assert response.get_json()["details"] == {"sort": [rule]}
    ok = get(client, headers, "total-transferred-chats", **WINDOW, sort='{"numberOfTransferredRooms": -1}')
    assert ok.status_code == 200


def test_answered_belongs_to_amount_of_chats_only(client, headers):
    response = get(client, headers, "total-transferred-chats", **WINDOW, answered="true")
    assert response.get_json() == invalid(
        'The "answered" query parameter is not allowed.', {"answered": ["Is not allowed."]}
    )


def test_a_parameter_given_twice_is_refused(client, headers):
    response = client.get(
        PREFIX + "/amount-of-chats?start=2024-03-01&end=2024-03-02&end=2024-03-31", headers=headers
    )
    assert response.get_json() == invalid(
        'The "end" query parameter must be given once.', {"end": ["Must be given once."]}
    )


@pytest.mark.parametrize(
    ("start", "end", "counted"),
    [
        # A date alone for "end" covers that whole day, to its last millisecond.
        ("2024-03-01", "2024-03-01", ["first", "last"]),
        ("2024-03-01T00:00:00Z", "2024-03-01T23:59:59.999Z", ["first", "last"]),
        ("2024-03-01T00:00:00.001Z", "2024-03-01T23:59:59.998Z", []),
        # The same instants written with offsets.
        ("2024-03-01T02:00:00+02:00", "2024-03-01T18:59:59.999-05:00", ["first", "last"]),
        # Sub-millisecond bounds never widen the window.
        ("2024-02-29T23:59:59.9999Z", "2024-03-01T23:59:59.9989Z", ["first"]),
        ("2024-03-01T00:00:00.0001Z", "2024-03-02", ["last", "next"]),
        ("2024-03-02", "2024-03-02", ["next"]),
        # Naive date-times are UTC by default.
        ("2024-03-01T12:00", "2024-03-02T00:00", ["last", "next"]),
    ],
)
def test_window_bounds(client, headers, database, start, end, counted):
    database["rocketchat_room"].insert_many(
        [
            room("before", dt.datetime(2024, 2, 29, 23, 59, 59, 999000, tzinfo=UTC)),
            room("first", dt.datetime(2024, 3, 1, tzinfo=UTC)),
            room("last", dt.datetime(2024, 3, 1, 23, 59, 59, 999000, tzinfo=UTC)),
            room("next", dt.datetime(2024, 3, 2, tzinfo=UTC)),
        ]
    )
    body = get(client, headers, start=start, end=end).get_json()
    rows = [{"_id": "sales", "rooms": len(counted)}] if counted else []
    assert body == {"departments": rows, "count": len(rows), "offset": 0, "total": len(rows), "success": True}


def test_naive_times_are_read_in_the_reporting_timezone(make_app, database):
    app = make_app(TIMEZONE="America/Sao_Paulo")  # UTC-3, no DST since 2019
    headers = add_user(database)
    database["rocketchat_room"].insert_many(
        [
            room("late-evening", dt.datetime(2024, 3, 2, 2, 30, tzinfo=UTC)),  # 1 March, 23:30 local
            room("next-morning", dt.datetime(2024, 3, 2, 3, 0, tzinfo=UTC)),  # 2 March, 00:00 local
        ]
    )
    client = app.test_client()
    day = get(client, headers, start="2024-03-01", end="2024-03-01").get_json()
    assert day["departments"] == [{"_id": "sales", "rooms": 1}]
    explicit = get(client, headers, start="2024-03-02T03:00:00Z", end="2024-03-02T03:00:00Z").get_json()
    assert explicit["departments"] == [{"_id": "sales", "rooms": 1}]
    naive = get(client, headers, start="2024-03-02T00:00", end="2024-03-02T00:00").get_json()
    assert naive["departments"] == [{"_id": "sales", "rooms": 1}]


@pytest.mark.parametrize(
    ("department", "rows"),
    [
        ("", [{"_id": None, "rooms": 2}, {"_id": "billing", "rooms": 1}, {"_id": "sales", "rooms": 3}]),
        (
            "undefined",
            [{"_id": None, "rooms": 2}, {"_id": "billing", "rooms": 1}, {"_id": "sales", "rooms": 3}],
        ),
        ("sales", [{"_id": "sales", "rooms": 3}]),
        ("nowhere", []),
        # Operator-looking values are plain strings: they match no department.
        ('{"$gt": ""}', []),
        ("$ne", []),
    ],
)
def test_department_filter(client, headers, database, department, rows):
    ts = dt.datetime(2024, 3, 5, tzinfo=UTC)
    database["rocketchat_room"].insert_many(
        [
            room("a", ts),
            room("b", ts),
            room("c", ts),
            room("d", ts, "billing"),
            room("e", ts, None),
            room("f", ts, None, departmentId=None),
        ]
    )
    body = get(client, headers, **WINDOW, departmentId=department).get_json()
    assert body == {"departments": rows, "count": len(rows), "offset": 0, "total": len(rows), "success": True}


@pytest.mark.parametrize(
    ("answered", "rooms"),
    [(None, 4), ("true", 2), ("false", 2)],
)
def test_answered(client, headers, database, answered, rooms):
    ts = dt.datetime(2024, 3, 5, tzinfo=UTC)
    database["rocketchat_room"].insert_many(
        [
            room("waiting", ts, waitingResponse=True),
            room("waiting-again", ts, waitingResponse=True),
            room("answered", ts, waitingResponse=False),
            room("never-flagged", ts),
        ]
    )
    params = dict(WINDOW) if answered is None else {**WINDOW, "answered": answered}
    assert get(client, headers, **params).get_json()["departments"] == [{"_id": "sales", "rooms": rooms}]


@pytest.fixture
def many_departments(database):
    """120 departments: dep-000 with 1 room ... counts cycling 1..4, plus 2 rooms without one."""
    ts = dt.datetime(2024, 3, 5, tzinfo=UTC)
    rooms = [room(f"r{d}-{k}", ts, f"dep-{d:03}") for d in range(120) for k in range(d % 4 + 1)]
    rooms += [room("loose-1", ts, None), room("loose-2", ts, None, departmentId=None)]
    database["rocketchat_room"].insert_many(rooms)
    counts = {f"dep-{d:03}": d % 4 + 1 for d in range(120)}
    return [{"_id": None, "rooms": 2}] + [
        {"_id": key, "rooms": value} for key, value in sorted(counts.items())
    ]


@pytest.mark.parametrize(
    ("params", "page", "offset"),
    [
        ({}, slice(0, 50), 0),
        ({"count": "10", "offset": "5"}, slice(5, 15), 5),
        ({"count": "500"}, slice(0, 100), 0),
        ({"count": "0"}, slice(0, 121), 0),
        ({"count": "0", "offset": "120"}, slice(120, 121), 120),
        ({"offset": "1000"}, slice(0, 0), 1000),
    ],
)
def test_paging(client, headers, many_departments, params, page, offset):
    body = get(client, headers, **WINDOW, **params).get_json()
    rows = many_departments[page]
    assert body == {"departments": rows, "count": len(rows), "offset": offset, "total": 121, "success": True}


def test_sort_breaks_ties_by_id(client, headers, many_departments):
    body = get(client, headers, **WINDOW, sort='{"rooms": -1}', count="0").get_json()
    expected = sorted(many_departments, key=lambda row: (-row["rooms"], row["_id"] or ""))
    assert body["departments"] == expected
    assert body["departments"][:2] == [{"_id": "dep-003", "rooms": 4}, {"_id": "dep-007", "rooms": 4}]


def test_sort_by_id_descending_puts_null_last(client, headers, many_departments):
    body = get(client, headers, **WINDOW, sort='{"_id": -1}', count="0").get_json()
    assert body["departments"] == many_departments[::-1]


def test_count_limits_are_configurable(make_app, database):
    app = make_app(DEFAULT_COUNT=2, MAX_COUNT=3, ALLOW_COUNT_ZERO=False)
    headers = add_user(database)
    ts = dt.datetime(2024, 3, 5, tzinfo=UTC)
    database["rocketchat_room"].insert_many([room(f"r{n}", ts, f"dep-{n}") for n in range(5)])
    client = app.test_client()
    assert get(client, headers, **WINDOW).get_json()["count"] == 2
    assert get(client, headers, **WINDOW, count="50").get_json()["count"] == 3
    assert get(client, headers, **WINDOW, count="0").get_json() == invalid(
        'The "count" query parameter must be a whole number from 1 to 2147483647.',
        {"count": ["Must be a whole number from 1 to 2147483647."]},
    )


@pytest.mark.parametrize("name", ["offset", "count"])
@pytest.mark.parametrize("value", ["٢", "0_2", "+5", " 1 ", "1 ", "-0", "1\n", "0x1", "", "\u0661\u0660"])
def test_whole_numbers_are_ascii_digits_only(client, headers, name, value):
    response = get(client, headers, **WINDOW, **{name: value})
    assert response.status_code == 400
    assert response.get_json() == invalid(
        f'The "{name}" query parameter must be a whole number.', {name: ["Must be a whole number."]}
    )


@pytest.mark.parametrize(("value", "offset"), [("0", 0), ("007", 7), ("2147483647", 2147483647)])
def test_a_whole_number_may_have_leading_zeros(client, headers, value, offset):
    assert get(client, headers, **WINDOW, offset=value).get_json()["offset"] == offset
