"""A property over every endpoint near the calendar's ends: random windows (dates, date-times with
and without offsets), timezones of every extreme offset, buckets and comparisons, over rooms stored
on the calendar's first and last milliseconds. Each answer is a 200, or a 400 in the contract's shape
naming the endpoint's parameters; never a 500."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from support import ROOT, UTC, property_settings

from livechat_analytics.endpoints import ENDPOINTS

ROOMS = "rocketchat_room"
#: The widest offsets (+14:00, -12:00), a quarter-hour one, local mean time before 1900 (New York's
#: -4:56:02, Berlin's +0:53:28) and daylight saving.
ZONES = (
    "UTC",
    "Pacific/Kiritimati",
    "Etc/GMT+12",
    "Asia/Kathmandu",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
)
EXTRA = {
    "overview": {"name": st.sampled_from(["Conversations", "Productivity"])},
    "agent-overview": {"name": st.sampled_from(["Total_conversations", "Best_first_response_time"])},
    "dashboards/charts-data": {"chartName": st.sampled_from(["Total_conversations", "Avg_chat_duration"])},
}
TREND = {
    "groupBy": st.sampled_from(["hour", "day", "week", "month"]),
    "compare": st.sampled_from(["previous"]),
    "byDepartment": st.sampled_from(["true", "false"]),
}
#: The endpoints that take a window (the agents' status and the live state are of the moment).
PATHS = sorted(
    path for path in ENDPOINTS if path != "dashboards/charts/agents-status" and not path.startswith("live/")
)
FIRST = dt.datetime(1, 1, 1)
LAST = dt.datetime(9999, 12, 31, 23, 59, 59, 999000)


def _near_an_end() -> st.SearchStrategy[dt.datetime]:
    days = dt.timedelta(days=40)
    return st.one_of(
        st.datetimes(min_value=FIRST, max_value=FIRST + days),
        st.datetimes(min_value=LAST - days, max_value=LAST),
        st.sampled_from([FIRST, LAST, dt.datetime(1, 1, 1, 14), dt.datetime(9999, 12, 31, 10)]),
    )


@st.composite
def bounds(draw: st.DrawFn) -> str:
    """A window bound as a client writes it: a date, a local date-time, or one with an offset."""
    moment = draw(_near_an_end())
    form = draw(st.sampled_from(["date", "local", "Z", "offset"]))
    if form == "date":
        return moment.date().isoformat()
    if form == "local":
        return moment.isoformat(timespec="milliseconds")
    if form == "Z":
        return moment.isoformat(timespec="milliseconds") + "Z"
    hours = draw(st.integers(min_value=-14, max_value=14))
    return moment.isoformat(timespec="seconds") + f"{'+' if hours >= 0 else '-'}{abs(hours):02d}:00"


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    """An endpoint and its query string: a window near the calendar's ends, maybe a timezone, and
    the endpoint's own parameters."""
    path = draw(st.sampled_from(PATHS))
    first, second = draw(bounds()), draw(bounds())
    names = ("from", "to") if path in ("overview", "agent-overview") else ("start", "end")
    if names[0] == "from":
        first, second = first[:10], second[:10]
    params = {names[0]: first, names[1]: second}
    if draw(st.booleans()):
        params["timezone"] = draw(st.sampled_from(ZONES))
    own = TREND if path.startswith("trends/") and path != "trends/heatmap" else EXTRA.get(path, {})
    for name, values in own.items():
        if name in EXTRA.get(path, {}) or draw(st.booleans()):
            params[name] = draw(values)
    return path, params


@pytest.fixture
def edge_rooms(database) -> None:
    """Rooms on the calendar's first and last milliseconds and near them, served, closed and
    open, with metrics, in two departments."""
    moments = [
        dt.datetime(1, 1, 1, tzinfo=UTC),
        dt.datetime(1, 1, 1, 0, 14, tzinfo=UTC),
        dt.datetime(1, 1, 1, 4, 56, 2, tzinfo=UTC),  # New York's first moment (-4:56:02)
        dt.datetime(1, 1, 2, 13, tzinfo=UTC),
        dt.datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
        dt.datetime(9999, 12, 31, 23, 50, tzinfo=UTC),
        dt.datetime(9999, 12, 30, 2, tzinfo=UTC),
    ]
    database[ROOMS].insert_many(
        [
            {
                "_id": f"r{n}",
                "t": "l",
                "ts": moment,
                "departmentId": "d1" if n % 2 else "d2",
                "servedBy": {"_id": "a1", "username": "ana", "ts": moment},
                "responseBy": {"_id": "a1", "lastMessageTs": moment},
                "open": n % 3 == 0,
                "closedAt": moment,
                "source": {"type": "widget"},
                "metrics": {"chatDuration": 60, "response": {"ft": 5, "avg": 7}, "reaction": {"ft": 2}},
            }
            for n, moment in enumerate(moments)
        ]
    )


@given(request=requests())
@property_settings(150)
def test_near_the_calendars_ends_every_answer_is_a_200_or_a_400_naming_a_parameter(
    client, headers, edge_rooms, request
):
    path, params = request
    note(f"{path} {params}")
    response = client.get(f"{ROOT}/{path}", query_string=params, headers=headers)
    body = response.get_json()
    note(repr(body)[:500])
    assert response.status_code in (200, 400), body
    if response.status_code == 400:
        assert set(body) == {"success", "error", "errorType", "details"}
        assert (body["success"], body["errorType"]) == (False, "invalid-params")
        # A parameter sent, or the endpoint's own left to its default (``groupBy=day``).
        declared = ENDPOINTS[path].args._declared_fields.items()
        assert body["details"] and set(body["details"]) <= {
            field.data_key or name for name, field in declared
        }
        for name, messages in body["details"].items():
            assert f'The "{name}" query parameter' in body["error"] and messages
