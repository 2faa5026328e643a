"""The calendar's ends, the bounds on an answer's size and the timezone names, over HTTP on every
backend: each case is a 200 whose numbers are worked out here from the stored rooms, or a 400 in the
contract's shape naming the parameter."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from support import ROOT, UTC, get_answer

from livechat_analytics.endpoints.common import Context
from livechat_analytics.endpoints.dashboards.totalizers import agents_productivity_rooms
from livechat_analytics.endpoints.overview.board import OverviewQuery, conversations
from livechat_analytics.schemas import Query

ROOMS = "rocketchat_room"
MS = dt.timedelta(milliseconds=1)
LAST = dt.datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
FIRST = dt.datetime(1, 1, 1, tzinfo=UTC)
CALENDAR = "Must lie within years 1 to 9999 in the request's timezone as well as in UTC."
PREVIOUS = (
    "Gives a previous window that begins before year 1 (in UTC or in the request's timezone): "
    'choose a later "start" or a shorter window.'
)


def invalid(details: dict[str, list[str]]) -> dict:
    """The 400 body naming each parameter, as the contract words it."""
    sentences = [
        f'The "{name}" query parameter {message[0].lower()}{message[1:]}'
        for name, messages in details.items()
        for message in messages
    ]
    return {"success": False, "error": " ".join(sentences), "errorType": "invalid-params", "details": details}


def ask(client, headers, path: str, **params) -> tuple[int, dict]:
    """The status and JSON body of ``GET <ROOT>/<path>``."""
    response = client.get(f"{ROOT}/{path}", query_string=params, headers=headers)
    return response.status_code, response.get_json()


def store(database, *moments: dt.datetime, **fields) -> None:
    """A closed livechat room created at each moment (``open`` and others from ``fields``)."""
    start = database[ROOMS].count_documents({})
    database[ROOMS].insert_many(
        [{"_id": f"r{start + n}", "t": "l", "ts": moment, **fields} for n, moment in enumerate(moments)]
    )


# -- The reports' year ------------------------------------------------------------------------------


REPORTS = ("source", "status", "department", "tags", "agent")


@pytest.mark.parametrize("report", REPORTS)
def test_a_report_over_the_whole_calendar_is_the_400_for_over_a_year(client, headers, report):
    assert ask(
        client, headers, f"dashboards/conversations-by-{report}", start="0001-01-01", end="9999-12-31"
    ) == (400, invalid({"end": ['Must be less than 1 year after "start".']}))


def test_a_report_of_december_9999_counts_its_rooms(client, headers, database):
    store(database, dt.datetime(9999, 12, 1, tzinfo=UTC), LAST, open=True, servedBy={"_id": "a1"})
    store(database, dt.datetime(9999, 12, 24, 8, tzinfo=UTC))
    store(database, dt.datetime(9999, 11, 30, 23, 59, 59, 999000, tzinfo=UTC))  # before the window
    body = get_answer(
        client, "dashboards/conversations-by-status", headers, start="9999-12-01", end="9999-12-31"
    )
    assert {item["label"]: item["value"] for item in body["data"]} == {
        "Open": 2,
        "Closed": 1,
        "Queued": 0,
        "On_Hold": 0,
    }
    assert body["total"] == 3


@pytest.mark.parametrize(
    ("start", "end", "allowed"),
    [
        # 12 whole months: 1 year, allowed (up to 1.01 years).
        ("9998-12-31", "9999-12-31", True),
        ("9998-12-01", "9999-12-31", False),
        # The months after December 9999 are counted 400 years earlier: the same as 9598-9599.
        ("9998-12-28", "9999-12-31", True),
        ("9998-12-20", "9999-12-31", False),
    ],
)
def test_a_report_near_the_calendars_end_counts_months_as_400_years_earlier(
    client, headers, start, end, allowed
):
    for first, last in (
        (start, end),
        (f"{int(start[:4]) - 400}{start[4:]}", f"{int(end[:4]) - 400}{end[4:]}"),
    ):
        status, body = ask(client, headers, "dashboards/conversations-by-source", start=first, end=last)
        if allowed:
            assert (status, body) == (200, {"data": [], "total": 0, "success": True})
        else:
            assert (status, body) == (400, invalid({"end": ['Must be less than 1 year after "start".']}))


# -- Bounds that leave the calendar in the request's timezone -------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "details"),
    [
        (
            "departments/amount-of-chats",
            {"start": "0001-01-01", "end": "0001-01-02", "timezone": "Asia/Tokyo"},
            "start",
        ),
        (
            "dashboards/chats-totalizers",
            {"start": "9999-12-30", "end": "9999-12-31", "timezone": "America/Sao_Paulo"},
            "end",
        ),
        (
            "trends/heatmap",
            {
                "start": "9999-12-31T20:00:00Z",
                "end": "9999-12-31T21:00:00Z",
                "timezone": "Pacific/Kiritimati",
            },
            "start+end",
        ),
        (
            "overview",
            {"name": "Conversations", "from": "0001-01-01", "to": "0001-01-01", "timezone": "Asia/Tokyo"},
            "from",
        ),
        (
            "agent-overview",
            {"name": "Total_messages", "from": "9999-12-31", "to": "9999-12-31", "timezone": "Etc/GMT+12"},
            "to",
        ),
        (
            "dashboards/conversations-by-agent",
            {"start": "0001-01-01T00:00:00+01:00", "end": "0001-01-02"},
            "start",
        ),
    ],
)
def test_a_bound_outside_the_calendar_in_the_timezone_is_a_400(client, headers, path, params, details):
    names = details.split("+")
    expected = {name: [CALENDAR] for name in names}
    assert ask(client, headers, path, **params) == (400, invalid(expected))


def test_the_calendars_last_millisecond_in_utc_is_answered(client, headers, database):
    store(database, LAST, FIRST)
    for start, end, rooms in (("9999-12-31", "9999-12-31T23:59:59.999Z", 1), ("0001-01-01", "0001-01-01", 1)):
        body = get_answer(client, "departments/amount-of-chats", headers, start=start, end=end)
        assert body["departments"] == [{"_id": None, "rooms": rooms}]


# -- Trends at the calendar's ends ------------------------------------------------------------------


def buckets(body: dict) -> list[tuple[str, int]]:
    [series] = body["series"]
    return [(bucket["start"], bucket["rooms"]) for bucket in series["buckets"]]


def test_a_trend_of_december_9999_ends_with_the_calendar(client, headers, database):
    december = [dt.datetime(9999, 12, day, 12, tzinfo=UTC) for day in (1, 5, 27, 31)]
    store(database, *december, LAST)
    window = {"start": "9999-12-01", "end": "9999-12-31"}
    assert buckets(get_answer(client, "trends/amount-of-chats", headers, **window, groupBy="month")) == [
        ("9999-12-01T00:00:00+00:00", 5)
    ]
    # 9999-12-01 is a Wednesday: the weeks begin on the Mondays after it, the last ends at "end".
    mondays = [day for day in range(2, 32) if dt.date(9999, 12, day).weekday() == 0]
    assert mondays == [6, 13, 20, 27]
    assert buckets(get_answer(client, "trends/amount-of-chats", headers, **window, groupBy="week")) == [
        ("9999-12-01T00:00:00+00:00", 2),
        ("9999-12-06T00:00:00+00:00", 0),
        ("9999-12-13T00:00:00+00:00", 0),
        ("9999-12-20T00:00:00+00:00", 0),
        ("9999-12-27T00:00:00+00:00", 3),
    ]
    days = buckets(get_answer(client, "trends/amount-of-chats", headers, **window, groupBy="day"))
    assert days == [
        (f"9999-12-{day:02d}T00:00:00+00:00", {1: 1, 5: 1, 27: 1, 31: 2}.get(day, 0)) for day in range(1, 32)
    ]
    hours = get_answer(
        client, "trends/amount-of-chats", headers, start="9999-12-31", end="9999-12-31", groupBy="hour"
    )
    assert buckets(hours) == [
        (f"9999-12-31T{hour:02d}:00:00+00:00", {12: 1, 23: 1}.get(hour, 0)) for hour in range(24)
    ]


def test_a_trend_of_the_last_local_day_in_tokyo(client, headers, database):
    # 9999-12-31 in Tokyo is 9999-12-30T15:00Z to 9999-12-31T14:59:59.999Z.
    store(
        database,
        dt.datetime(9999, 12, 30, 15, tzinfo=UTC),
        dt.datetime(9999, 12, 31, 14, 59, 59, 999000, tzinfo=UTC),
    )
    store(database, dt.datetime(9999, 12, 31, 15, tzinfo=UTC))  # 1 January 10000 there: outside
    body = get_answer(
        client,
        "trends/amount-of-chats",
        headers,
        start="9999-12-31",
        end="9999-12-31",
        groupBy="hour",
        timezone="Asia/Tokyo",
    )
    assert buckets(body) == [
        (f"9999-12-31T{hour:02d}:00:00+09:00", {0: 1, 23: 1}.get(hour, 0)) for hour in range(24)
    ]
    by_month = get_answer(
        client,
        "trends/amount-of-chats",
        headers,
        start="9999-12-31",
        end="9999-12-31",
        groupBy="month",
        timezone="Asia/Tokyo",
    )
    assert buckets(by_month) == [("9999-12-31T00:00:00+09:00", 2)]


@pytest.mark.parametrize(
    ("params"),
    [
        {"start": "0001-01-01", "end": "0001-01-02"},
        {"start": "0001-01-02", "end": "0001-01-03"},
        # Year 1 in UTC, but 0000-12-31T23:03:57 in New York (local mean time, -4:56:02).
        {"start": "0001-01-01T06:00:00Z", "end": "0001-01-01T08:00:00Z", "timezone": "America/New_York"},
    ],
)
def test_a_previous_window_before_year_1_is_a_400_naming_compare(client, headers, params):
    status, body = ask(client, headers, "trends/total-transferred-chats", compare="previous", **params)
    assert (status, body) == (400, invalid({"compare": [PREVIOUS]}))


def test_a_previous_window_on_the_calendars_first_day_is_answered(client, headers, database):
    store(
        database,
        FIRST,
        dt.datetime(1, 1, 1, 23, 59, 59, 999000, tzinfo=UTC),
        dt.datetime(1, 1, 2, 6, tzinfo=UTC),
    )
    body = get_answer(
        client, "trends/amount-of-chats", headers, start="0001-01-02", end="0001-01-02", compare="previous"
    )
    assert buckets(body) == [("0001-01-02T00:00:00+00:00", 1)]
    [previous] = body["previous"]
    assert [(bucket["start"], bucket["rooms"]) for bucket in previous["buckets"]] == [
        ("0001-01-01T00:00:00+00:00", 2)
    ]
    # The first millisecond: the previous window is that millisecond alone.
    first = get_answer(
        client,
        "trends/amount-of-chats",
        headers,
        start="0001-01-01T00:00:00.001Z",
        end="0001-01-01T00:00:00.001Z",
        compare="previous",
        groupBy="hour",
    )
    assert [(b["start"], b["rooms"]) for b in first["previous"][0]["buckets"]] == [
        ("0001-01-01T00:00:00+00:00", 1)
    ]


# -- Bounded work ---------------------------------------------------------------------------------


def test_charts_data_refuses_more_than_1000_days_before_building_a_label(client, headers):
    days = (dt.date(9999, 12, 31) - dt.date(1000, 1, 1)).days + 1
    assert days == 3_287_182
    assert ask(
        client,
        headers,
        "dashboards/charts-data",
        start="1000-01-01",
        end="9999-12-31",
        chartName="Total_conversations",
    ) == (400, invalid({"end": [f"Gives {days} days, more than 1000: choose a shorter window."]}))


def test_charts_data_answers_1000_days_and_refuses_1001(client, headers, database):
    # 2024-01-01 + 999 days is 2026-09-26; the local days of Kiritimati (+14:00) are counted.
    store(database, dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2026, 9, 26, 9, 59, tzinfo=UTC))
    params = {"start": "2024-01-01", "chartName": "Total_conversations", "timezone": "Pacific/Kiritimati"}
    body = get_answer(client, "dashboards/charts-data", headers, end="2026-09-26", **params)
    assert len(body["dataLabels"]) == 1000
    assert (body["dataLabels"][0], body["dataLabels"][-1]) == ("1/1", "9/26")
    assert body["dataPoints"][0] == 1 and body["dataPoints"][-1] == 1 and sum(body["dataPoints"]) == 2
    assert ask(client, headers, "dashboards/charts-data", end="2026-09-27", **params) == (
        400,
        invalid({"end": ["Gives 1001 days, more than 1000: choose a shorter window."]}),
    )


def test_the_trend_bucket_limit_holds_in_the_previous_window_too(client, headers):
    # 1000 days; the previous window is 2021-04-06 to 2023-12-31, 1000 days too.
    ok = {"start": "2024-01-01", "end": "2026-09-26", "compare": "previous"}
    status, body = ask(client, headers, "trends/amount-of-chats", **ok)
    assert status == 200 and len(body["previous"][0]["buckets"]) == 1000
    message = "Gives more than 1000 buckets for this window: choose a longer bucket or a shorter window."
    # 1000 months, March 2000 to June 2083; the previous window is as long (30,437 days) and begins
    # on 1916-10-31, so it touches October 1916 to February 2000: 1001 months.
    months = {"start": "2000-03-01", "end": "2083-06-30", "groupBy": "month"}
    status, body = ask(client, headers, "trends/amount-of-chats", **months)
    assert status == 200 and len(body["series"][0]["buckets"]) == 1000
    assert ask(client, headers, "trends/amount-of-chats", **months, compare="previous") == (
        400,
        invalid({"groupBy": [message]}),
    )


# -- Timezone names -------------------------------------------------------------------------------


UNKNOWN_ZONE = {"timezone": ["Must be a known IANA timezone name such as Europe/Berlin."]}


@pytest.mark.parametrize(
    "name", ["posixrules", "right/UTC", "posix/Europe/Berlin", "localtime", "europe/berlin"]
)
@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("overview", {"name": "Conversations", "from": "2024-03-01", "to": "2024-03-02"}),
        ("dashboards/agents-productivity-totalizers", {"start": "2024-03-01", "end": "2024-03-02"}),
        ("trends/heatmap", {"start": "2024-03-01", "end": "2024-03-02"}),
    ],
)
def test_names_outside_the_iana_list_are_a_400_naming_timezone(client, headers, name, path, params):
    assert ask(client, headers, path, timezone=name, **params) == (400, invalid(UNKNOWN_ZONE))


def python_hours(moments: list[dt.datetime], zone: str) -> tuple[dict[dt.date, int], dict[int, int]]:
    """Rooms per local day and per local hour, by Python's zoneinfo alone."""
    days: dict[dt.date, int] = {}
    hours: dict[int, int] = {}
    for moment in moments:
        local = moment.astimezone(ZoneInfo(zone))
        days[local.date()] = days.get(local.date(), 0) + 1
        hours[local.hour] = hours.get(local.hour, 0) + 1
    return days, hours


def clock(hour: int) -> str:
    """``3PM`` for 15, ``12AM`` for 0 or 24."""
    return f"{(hour % 12) or 12}{'AM' if hour % 24 < 12 else 'PM'}"


@pytest.mark.parametrize(
    ("zone", "moments"),
    [
        # Berlin's clocks go forward on 2024-03-31 at 01:00Z: 10:30Z is 11:30 before, 12:30 after.
        (
            "Europe/Berlin",
            [
                dt.datetime(2024, 3, 30, 10, 30, tzinfo=UTC),
                dt.datetime(2024, 3, 31, 10, 30, tzinfo=UTC),
                dt.datetime(2024, 3, 31, 10, 40, tzinfo=UTC),
                dt.datetime(2024, 3, 29, 23, 30, tzinfo=UTC),  # 00:30 on the 30th in Berlin
            ],
        ),
        # Kathmandu is +05:45: 10:14Z is 15:59 there, 10:15Z 16:00.
        (
            "Asia/Kathmandu",
            [
                dt.datetime(2024, 3, 30, 10, 14, 59, 999000, tzinfo=UTC),
                dt.datetime(2024, 3, 31, 10, 15, tzinfo=UTC),
                dt.datetime(2024, 3, 31, 10, 20, tzinfo=UTC),
                dt.datetime(2024, 3, 30, 18, 15, tzinfo=UTC),  # midnight on the 31st there
            ],
        ),
        # New York's clocks go back on 2024-11-03: 01:30 happens twice.
        (
            "America/New_York",
            [
                dt.datetime(2024, 11, 3, 5, 30, tzinfo=UTC),
                dt.datetime(2024, 11, 3, 6, 30, tzinfo=UTC),
                dt.datetime(2024, 11, 2, 12, tzinfo=UTC),
            ],
        ),
    ],
)
def test_busiest_day_and_hour_follow_python_in_the_zone(client, headers, database, zone, moments):
    store(database, *moments, open=False)
    local = sorted({moment.astimezone(ZoneInfo(zone)).date() for moment in moments})
    first, last = local[0].isoformat(), local[-1].isoformat()
    days, hours = python_hours(moments, zone)
    busiest_day = min(days, key=lambda day: (-days[day], day))
    busiest_hour = min(hours, key=lambda hour: (-hours[hour], hour))
    board = get_answer(
        client, "overview", headers, name="Conversations", timezone=zone, **{"from": first, "to": last}
    )
    values = {item["title"]: item["value"] for item in board}
    assert values["Total_conversations"] == len(moments)
    assert values["Busiest_day"] == busiest_day.strftime("%A")
    assert values["Busiest_time"] == f"{clock(busiest_hour)} - {clock(busiest_hour + 1)}"
    assert values["Conversations_per_day"] == f"{len(moments) / ((local[-1] - local[0]).days + 1):.2f}"
    totalizers = get_answer(
        client, "dashboards/agents-productivity-totalizers", headers, start=first, end=last, timezone=zone
    )
    assert totalizers["totalizers"][0] == {
        "title": "Busiest_time",
        "value": f"{clock(busiest_hour)} - {clock(busiest_hour + 1)}",
    }


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Kathmandu", "UTC"])
def test_no_pipeline_hands_a_timezone_to_the_database(zone):
    context = Context(names={"room": ROOMS, "message": "rocketchat_message"})
    window = {"start": dt.datetime(2024, 3, 1, tzinfo=UTC), "end": dt.datetime(2024, 3, 2, tzinfo=UTC)}
    for pipeline in (
        conversations(OverviewQuery(**window, timezone=ZoneInfo(zone), name="Conversations"), context),
        agents_productivity_rooms(Query(**window, timezone=ZoneInfo(zone)), context),
    ):
        text = json.dumps(pipeline, default=str)
        assert "timezone" not in text
        assert zone not in text


def test_a_room_on_new_yorks_first_moment_of_year_1(client, headers, database):
    # New York's offset was -4:56:02 (local mean time): year 1 begins there at 04:56:02Z, inside
    # the UTC quarter hour of 04:45Z. 0001-01-01 is a Monday.
    assert dt.date(1, 1, 1).weekday() == 0
    store(database, dt.datetime(1, 1, 1, 4, 56, 2, tzinfo=UTC))
    window = {"start": "0001-01-01", "end": "0001-01-02", "timezone": "America/New_York"}
    heatmap = get_answer(client, "trends/heatmap", headers, **window)
    assert heatmap["weekdays"][0]["hours"] == [1] + [0] * 23
    assert sum(sum(day["hours"]) for day in heatmap["weekdays"]) == 1
    assert heatmap["busiest"] == {"weekday": "Monday", "hour": 0}
    chart = get_answer(client, "dashboards/charts-data", headers, **window, chartName="Total_conversations")
    assert (chart["dataLabels"], chart["dataPoints"]) == (["1/1", "1/2"], [1, 0])
    board = get_answer(
        client,
        "overview",
        headers,
        name="Conversations",
        timezone="America/New_York",
        **{"from": "0001-01-01", "to": "0001-01-02"},
    )
    values = {item["title"]: item["value"] for item in board}
    assert (values["Busiest_day"], values["Busiest_time"]) == ("Monday", "12AM - 1AM")
    totalizers = get_answer(client, "dashboards/agents-productivity-totalizers", headers, **window)
    assert totalizers["totalizers"][0] == {"title": "Busiest_time", "value": "12AM - 1AM"}
