"""The request path, fuzzed: raw query strings and headers each get one of the answers the API
documents, in its JSON shape, and nothing reaches the database but reads."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import DEPARTMENT_FIELDS, PREFIX, UTC, add_user, property_settings

FUZZ = property_settings(80)

NAMES = ["start", "end", "departmentId", "offset", "count", "sort", "answered"]
# Keys that other frameworks turn into objects or operators (qs, PHP, Rails), and MongoDB operators.
OPERATOR_KEYS = [
    "departmentId[$ne]",
    "departmentId[$gt]",
    "departmentId[]",
    "departmentId.$ne",
    "$where",
    "$ne",
    "sort[$gt]",
    "sort[_id]",
    "start[$gte]",
    "end[$lte]",
    "count[0]",
    "offset[$gt]",
    "__proto__",
    "constructor[prototype]",
]
OPERATOR_VALUES = [
    '{"$gt": ""}',
    '{"$ne": null}',
    '{"$where": "sleep(100)"}',
    '{"$regex": ".*"}',
    '{"_id": {"$gt": 1}}',
    '{"$natural": 1}',
    '{"_id": 1, "$where": 1}',
    "[1]",
    "null",
    "undefined",
    "true",
    "NaN",
    "Infinity",
]
NUMBERS = [
    "9" * 5000,
    "-" + "9" * 400,
    "1e309",
    "-0",
    "0x10",
    "1_000",
    "\uff11\uff12",  # fullwidth digits, which int() reads
    " 7 ",
    "2147483648",
    "2147483647",
    '{"_id": ' + "9" * 5000 + "}",
    '{"_id": 1e999}',
]
LONG = ["x" * 20_000, "[" * 5000, '{"_id":' * 3000, "2024-03-01" * 1000]

EDGE_DATES = [
    "2024-03-01",
    "2024-03-31",
    "2024-03-01T00:00:00Z",
    "2024-W10-1",
    "2024-061",
    "20240301",
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "9999-12-31T23:59:59.999Z",
    "2024-02-30",
    "2024-03-01T24:00:00",
    "+2024-03-01",
]
dates = st.one_of(
    st.dates().map(dt.date.isoformat),
    st.datetimes(timezones=st.none() | st.timezones()).map(dt.datetime.isoformat),
    st.sampled_from(EDGE_DATES),
)
values = st.one_of(
    dates,
    st.sampled_from(["", "sales", "billing", '{"_id": -1}', '{"rooms": 1}', "false", "0", "1", "100"]),
    st.sampled_from(OPERATOR_VALUES + NUMBERS + LONG),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(max_size=30),
)
keys = st.one_of(st.sampled_from(NAMES), st.sampled_from(OPERATOR_KEYS), st.text(max_size=12))
pairs = st.one_of(
    st.lists(st.tuples(keys, values), max_size=8),
    # The same name twice.
    st.tuples(st.sampled_from(NAMES), values, values).map(lambda t: [(t[0], t[1]), (t[0], t[2])]),
)
WINDOW = [("start", "2024-03-01"), ("end", "2024-03-31")]


def _encode(pairs: list[tuple[str, str]], how: str) -> bytes:
    if how == "percent":
        return "&".join(f"{quote(key, safe='')}={quote(value, safe='')}" for key, value in pairs).encode()
    if how == "plus":
        return "&".join(f"{quote_plus(key)}={quote_plus(value)}" for key, value in pairs).encode()
    text = "&".join(f"{key}={value}" for key, value in pairs)
    if how == "latin-1":
        return text.encode("latin-1", "replace")
    return text.encode("utf-8", "surrogatepass")


#: A QUERY_STRING as a WSGI server hands it over: the raw bytes, read as latin-1 (PEP 3333).
query_strings = st.one_of(
    st.builds(
        lambda window, extra, how: _encode(window + extra, how),
        st.sampled_from([WINDOW, []]),
        pairs,
        st.sampled_from(["percent", "plus", "utf-8", "latin-1"]),
    ),
    st.binary(max_size=300),
).map(lambda raw: raw.decode("latin-1"))


def fill(database) -> None:
    ts = dt.datetime(2024, 3, 5, tzinfo=UTC)
    database["rocketchat_room"].insert_many(
        [
            {"_id": "a", "t": "l", "ts": ts, "departmentId": "sales", "closedAt": ts, "metrics": {}},
            {"_id": "b", "t": "l", "ts": ts, "departmentId": "billing", "waitingResponse": True},
            {"_id": "c", "t": "l", "ts": ts},
        ]
    )
    database["rocketchat_message"].insert_one(
        {"_id": "m", "t": "livechat_transfer_history", "rid": "a", "ts": ts}
    )


MANAGER = ("manager", "manager-token")
AGENT = ("agent", "agent-token")


@pytest.fixture
def stored(database) -> None:
    """A manager, an agent without the permission, and a few rooms (once per test, not per example)."""
    add_user(database, MANAGER[0], token=MANAGER[1])
    add_user(database, AGENT[0], token=AGENT[1], roles=("livechat-agent",))
    fill(database)


def snapshot(database) -> dict:
    return {
        name: sorted(map(repr, database[name].find())) for name in sorted(database.list_collection_names())
    }


def check_answer(response, path: str) -> int:
    """The answer is one of the contract's, in its exact JSON shape; returns its status."""
    assert response.status_code in (200, 400, 401, 403), response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    if response.status_code == 200:
        assert list(body) == ["departments", "count", "offset", "total", "success"]
        assert body["success"] is True
        assert body["count"] == len(body["departments"]) <= body["total"]
        for row in body["departments"]:
            assert set(row) == {"_id", *DEPARTMENT_FIELDS[path]}
            assert row["_id"] is None or isinstance(row["_id"], str)
            assert all(type(row[name]) is int for name in DEPARTMENT_FIELDS[path])
        return 200
    assert body["success"] is False
    assert isinstance(body["error"], str) and body["error"]
    if response.status_code == 400:
        assert set(body) == {"success", "error", "errorType", "details"}
        assert body["errorType"] == "invalid-params"
        assert body["details"] and all(
            isinstance(name, str) and messages and all(isinstance(message, str) for message in messages)
            for name, messages in body["details"].items()
        )
    elif response.status_code == 401:
        assert body == {"success": False, "status": "error", "message": body["error"], "error": body["error"]}
    else:
        assert set(body) == {"success", "error"}
    return response.status_code


@FUZZ
@given(path=st.sampled_from(list(DEPARTMENT_FIELDS)), query=query_strings)
def test_any_query_string_gets_a_contract_answer(client, database, stored, path, query):
    before = snapshot(database)
    response = client.get(
        f"{PREFIX}/{path}",
        environ_overrides={
            "QUERY_STRING": query,
            "HTTP_X_USER_ID": MANAGER[0],
            "HTTP_X_AUTH_TOKEN": MANAGER[1],
        },
    )
    assert check_answer(response, path) in (200, 400)
    assert snapshot(database) == before


header_values = st.one_of(
    st.sampled_from([*MANAGER, *AGENT, "", " ", "manager ", "MANAGER", "manager\x00", "manager-token\t"]),
    st.sampled_from(['{"$ne": null}', '{"$gt": ""}', "$where", "[object Object]", "x" * 20_000]),
    # Bytes a server passes on undecoded: WSGI gives them as latin-1 characters.
    st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=40),
    st.text(max_size=20).map(lambda text: text.encode("utf-8", "surrogatepass").decode("latin-1")),
)


@FUZZ
@given(
    path=st.sampled_from(list(DEPARTMENT_FIELDS)),
    user=st.none() | header_values,
    token=st.none() | header_values,
)
def test_any_headers_get_a_contract_answer(client, database, stored, path, user, token):
    environ = {"QUERY_STRING": "start=2024-03-01&end=2024-03-31"}
    if user is not None:
        environ["HTTP_X_USER_ID"] = user
    if token is not None:
        environ["HTTP_X_AUTH_TOKEN"] = token
    before = snapshot(database)
    response = client.get(f"{PREFIX}/{path}", environ_overrides=environ)
    expected = {MANAGER: 200, AGENT: 403}.get((user, token), 401)
    assert check_answer(response, path) == expected
    assert snapshot(database) == before


def test_a_start_past_the_last_millisecond_is_a_400(client, database, stored):
    # Rounded up to whole milliseconds, this start would fall in year 10000.
    response = client.get(
        f"{PREFIX}/amount-of-chats",
        query_string={"start": "9999-12-31T23:59:59.9995Z", "end": "9999-12-31"},
        headers={"X-User-Id": MANAGER[0], "X-Auth-Token": MANAGER[1]},
    )
    assert response.status_code == 400
    assert response.get_json() == {
        "success": False,
        "error": 'The "start" query parameter must be a valid date.',
        "errorType": "invalid-params",
        "details": {"start": ["Must be a valid date."]},
    }
