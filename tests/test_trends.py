"""The trends family on rooms placed on the buckets' boundaries: daylight-saving days of 23 and 25
hours, half- and quarter-hour zones, months of 28 to 31 days; the heatmap; the 400s."""

from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from support import DEPARTMENT_FIELDS, ROOT, UTC

ROOMS = "rocketchat_room"
MS = dt.timedelta(milliseconds=1)
QUARTER = dt.timedelta(minutes=15)


def reference_starts(start: dt.datetime, end: dt.datetime, zone: ZoneInfo, unit: str) -> list[dt.datetime]:
    """Bucket starts found the slow way: every UTC quarter hour where the local bucket changes."""

    def key(moment: dt.datetime):
        local = moment.astimezone(zone)
        return {
            "hour": (local.date(), local.hour, local.utcoffset()),
            "day": local.date(),
            "week": local.isocalendar()[:2],
            "month": (local.year, local.month),
        }[unit]

    starts = [start]
    moment = dt.datetime.fromtimestamp(start.timestamp() // 900 * 900, UTC) + QUARTER
    while moment <= end:
        if key(moment) != key(moment - MS):
            starts.append(moment)
        moment += QUARTER
    return starts


def trend(client, headers, path: str, **params) -> dict:
    response = client.get(f"{ROOT}/trends/{path}", query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


CASES = [
    # zone, groupBy, start, end (local days), the bucket starts it must have (None: the reference's)
    pytest.param(
        "Europe/Berlin",
        "hour",
        "2024-03-31",
        "2024-03-31",
        [
            "2024-03-31T00:00:00+01:00",
            "2024-03-31T01:00:00+01:00",
            "2024-03-31T03:00:00+02:00",
            *(f"2024-03-31T{hour:02d}:00:00+02:00" for hour in range(4, 24)),
        ],
        id="berlin-23-hour-day",
    ),
    pytest.param(
        "Europe/Berlin",
        "hour",
        "2024-10-27",
        "2024-10-27",
        [
            "2024-10-27T00:00:00+02:00",
            "2024-10-27T01:00:00+02:00",
            "2024-10-27T02:00:00+02:00",
            "2024-10-27T02:00:00+01:00",
            *(f"2024-10-27T{hour:02d}:00:00+01:00" for hour in range(3, 24)),
        ],
        id="berlin-25-hour-day",
    ),
    pytest.param(
        "America/New_York",
        "day",
        "2024-03-09",
        "2024-03-11",
        ["2024-03-09T00:00:00-05:00", "2024-03-10T00:00:00-05:00", "2024-03-11T00:00:00-04:00"],
        id="new-york-23-hour-day",
    ),
    pytest.param(
        "America/New_York",
        "day",
        "2024-11-02",
        "2024-11-04",
        ["2024-11-02T00:00:00-04:00", "2024-11-03T00:00:00-04:00", "2024-11-04T00:00:00-05:00"],
        id="new-york-25-hour-day",
    ),
    pytest.param("America/New_York", "hour", "2024-11-03", "2024-11-03", None, id="new-york-25-hours"),
    pytest.param("Europe/Berlin", "week", "2024-03-20", "2024-04-10", None, id="berlin-weeks"),
    pytest.param(
        "Asia/Kolkata",
        "hour",
        "2024-03-05",
        "2024-03-05",
        [f"2024-03-05T{hour:02d}:00:00+05:30" for hour in range(24)],
        id="kolkata-half-hour",
    ),
    pytest.param(
        "Asia/Kathmandu",
        "hour",
        "2024-03-05",
        "2024-03-05",
        [f"2024-03-05T{hour:02d}:00:00+05:45" for hour in range(24)],
        id="kathmandu-quarter-hour",
    ),
    pytest.param(
        "America/New_York",
        "month",
        "2023-01-01",
        "2024-12-31",
        [
            f"{year}-{month:02d}-01T00:00:00{'-04:00' if 3 < month < 12 else '-05:00'}"
            for year in (2023, 2024)
            for month in range(1, 13)
        ],
        id="months-of-28-to-31-days",
    ),
    pytest.param("Asia/Kathmandu", "month", "2024-01-15", "2024-04-10", None, id="kathmandu-months"),
]


@pytest.mark.parametrize(("zone", "group_by", "first", "last", "labels"), CASES)
def test_rooms_on_the_boundaries_fall_in_their_buckets(
    client, headers, database, zone, group_by, first, last, labels
):
    tz = ZoneInfo(zone)
    start = dt.datetime.fromisoformat(first).replace(tzinfo=tz).astimezone(UTC)
    end = (dt.datetime.fromisoformat(last).replace(tzinfo=tz) + dt.timedelta(days=1)).astimezone(UTC) - MS
    starts = reference_starts(start, end, tz, group_by)
    if labels is not None:
        assert [moment.astimezone(tz).isoformat() for moment in starts] == labels
    # Two rooms per bucket, on its first and its last millisecond; two outside the window.
    ends = [*(moment - MS for moment in starts[1:]), end]
    moments = [*starts, *ends, start - MS, end + MS]
    database[ROOMS].insert_many(
        [{"_id": f"r{n}", "t": "l", "ts": moment, "departmentId": "d1"} for n, moment in enumerate(moments)]
    )
    body = trend(client, headers, "amount-of-chats", start=first, end=last, timezone=zone, groupBy=group_by)
    assert body["timezone"] == zone
    [series] = body["series"]
    assert series["_id"] is None
    expected = [moment.astimezone(tz).isoformat() for moment in starts]
    assert [bucket["start"] for bucket in series["buckets"]] == expected
    assert [bucket["rooms"] for bucket in series["buckets"]] == [2] * len(starts)
    window = client.get(
        f"{ROOT}/departments/amount-of-chats",
        query_string={"start": first, "end": last, "timezone": zone},
        headers=headers,
    ).get_json()
    assert window["departments"] == [{"_id": "d1", "rooms": 2 * len(starts)}]


def test_every_bucket_is_present_and_empty_ones_are_zero(client, headers, database):
    database[ROOMS].insert_one(
        {
            "_id": "a",
            "t": "l",
            "ts": dt.datetime(2024, 3, 2, 12, tzinfo=UTC),
            "metrics": {"response": {"ft": 7}},
        }
    )
    for path, fields in DEPARTMENT_FIELDS.items():
        body = trend(client, headers, path, start="2024-03-01", end="2024-03-03")
        [series] = body["series"]
        assert len(series["buckets"]) == 3
        assert set(series["buckets"][0]) == {"start", *fields}
        assert all(series["buckets"][0][name] == 0 for name in fields)
    buckets = trend(client, headers, "average-waiting-time", start="2024-03-01", end="2024-03-03")["series"][
        0
    ]
    assert [bucket["averageWaitingTimeInSeconds"] for bucket in buckets["buckets"]] == [0, 7, 0]


def test_by_department_and_compare_previous(client, headers, database):
    at = dt.datetime(2024, 3, 10, 12, tzinfo=UTC)
    database[ROOMS].insert_many(
        [
            {"_id": "a", "t": "l", "ts": at, "departmentId": "d2"},
            {"_id": "b", "t": "l", "ts": at, "departmentId": "d1"},
            {"_id": "c", "t": "l", "ts": at},
            {"_id": "p", "t": "l", "ts": at - dt.timedelta(days=7), "departmentId": "d1"},
        ]
    )
    params = {"start": "2024-03-08", "end": "2024-03-14", "groupBy": "week", "byDepartment": "true"}
    body = trend(client, headers, "amount-of-chats", **params, compare="previous")
    assert [(one["_id"], [b["rooms"] for b in one["buckets"]]) for one in body["series"]] == [
        (None, [1, 0]),
        ("d1", [1, 0]),
        ("d2", [1, 0]),
    ]
    direct = trend(
        client, headers, "amount-of-chats", **{**params, "start": "2024-03-01", "end": "2024-03-07"}
    )
    assert body["previous"] == direct["series"]
    assert body["previous"] == [
        {
            "_id": "d1",
            "buckets": [
                {"start": "2024-03-01T00:00:00+00:00", "rooms": 1},
                {"start": "2024-03-04T00:00:00+00:00", "rooms": 0},
            ],
        }
    ]
    assert "previous" not in trend(client, headers, "amount-of-chats", **params)


def test_transfers_count_in_the_bucket_of_their_message(client, headers, database):
    database[ROOMS].insert_one(
        {"_id": "a", "t": "l", "ts": dt.datetime(2024, 3, 1, tzinfo=UTC), "departmentId": "d1"}
    )
    database["rocketchat_message"].insert_many(
        [
            {
                "_id": f"m{n}",
                "t": "livechat_transfer_history",
                "rid": "a",
                "ts": dt.datetime(2024, 3, day, tzinfo=UTC),
            }
            for n, day in enumerate((1, 3, 3))
        ]
    )
    body = trend(
        client, headers, "total-transferred-chats", start="2024-03-01", end="2024-03-03", departmentId="d1"
    )
    assert [b["numberOfTransferredRooms"] for b in body["series"][0]["buckets"]] == [1, 0, 2]


def test_the_heatmap(client, headers, database):
    zone = "America/New_York"
    database[ROOMS].insert_many(
        [
            # Monday 2024-03-04 09:00 local, twice; Sunday 23:59 local; one outside.
            {"_id": "a", "t": "l", "ts": dt.datetime(2024, 3, 4, 14, tzinfo=UTC)},
            {"_id": "b", "t": "l", "ts": dt.datetime(2024, 3, 4, 14, 59, tzinfo=UTC)},
            {"_id": "c", "t": "l", "ts": dt.datetime(2024, 3, 4, 4, 59, tzinfo=UTC)},
            {"_id": "d", "t": "l", "ts": dt.datetime(2024, 4, 4, 14, tzinfo=UTC)},
        ]
    )
    response = client.get(
        f"{ROOT}/trends/heatmap",
        query_string={"start": "2024-03-01", "end": "2024-03-31", "timezone": zone},
        headers=headers,
    )
    body = response.get_json()
    assert [day["weekday"] for day in body["weekdays"]] == list(calendar.day_name)
    cells = {
        (day["weekday"], hour): n for day in body["weekdays"] for hour, n in enumerate(day["hours"]) if n
    }
    assert cells == {("Monday", 9): 2, ("Sunday", 23): 1}
    assert body["busiest"] == {"weekday": "Monday", "hour": 9}
    assert body["timezone"] == zone
    empty = client.get(
        f"{ROOT}/trends/heatmap", query_string={"start": "2020-01-01", "end": "2020-01-02"}, headers=headers
    )
    assert empty.get_json()["busiest"] is None


@pytest.mark.parametrize(
    ("params", "details"),
    [
        ({"groupBy": "hour", "start": "2024-01-01", "end": "2024-03-01"}, "groupBy"),
        ({"groupBy": "day", "start": "2021-01-01", "end": "2024-03-01"}, "groupBy"),
        ({"groupBy": "hour", "start": "2024-01-01", "end": "2024-02-10", "compare": "previous"}, None),
        ({"groupBy": "year", "start": "2024-01-01", "end": "2024-01-02"}, "groupBy"),
        ({"compare": "next", "start": "2024-01-01", "end": "2024-01-02"}, "compare"),
        ({"byDepartment": "yes", "start": "2024-01-01", "end": "2024-01-02"}, "byDepartment"),
        ({"timezone": "Mars/Base", "start": "2024-01-01", "end": "2024-01-02"}, "timezone"),
        ({"timezone": "../../etc/passwd", "start": "2024-01-01", "end": "2024-01-02"}, "timezone"),
    ],
)
def test_bad_trend_parameters_get_400(client, headers, params, details):
    response = client.get(f"{ROOT}/trends/amount-of-chats", query_string=params, headers=headers)
    if details is None:
        assert response.status_code == 200
        return
    assert response.status_code == 400
    body = response.get_json()
    assert list(body["details"]) == [details]
    assert f'"{details}"' in body["error"]


def test_one_thousand_buckets_is_the_most(client, headers):
    # 2024-01-01 to 2026-09-26: 1000 days.
    ok = client.get(
        f"{ROOT}/trends/amount-of-chats",
        query_string={"start": "2024-01-01", "end": "2026-09-26"},
        headers=headers,
    )
    assert ok.status_code == 200
    assert len(ok.get_json()["series"][0]["buckets"]) == 1000
    over = client.get(
        f"{ROOT}/trends/amount-of-chats",
        query_string={"start": "2024-01-01", "end": "2026-09-27"},
        headers=headers,
    )
    assert over.status_code == 400
    assert "more than 1000 buckets" in over.get_json()["error"]


def test_the_timezone_parameter_reads_naive_bounds_in_every_family(client, headers, database):
    # 2024-03-05 00:30 in Kolkata is 2024-03-04T19:00Z: inside the Kolkata day, outside the UTC one.
    database[ROOMS].insert_one(
        {"_id": "a", "t": "l", "ts": dt.datetime(2024, 3, 4, 19, tzinfo=UTC), "departmentId": "d"}
    )
    for zone, rooms in (("Asia/Kolkata", 1), ("UTC", 0)):
        window = {"start": "2024-03-05", "end": "2024-03-05T23:59:59", "timezone": zone}
        departments = client.get(f"{ROOT}/departments/amount-of-chats", query_string=window, headers=headers)
        assert sum(row["rooms"] for row in departments.get_json()["departments"]) == rooms
        chart = client.get(
            f"{ROOT}/dashboards/charts-data",
            query_string={**window, "chartName": "Total_conversations"},
            headers=headers,
        ).get_json()
        assert sum(chart["dataPoints"]) == rooms
        overview = client.get(
            f"{ROOT}/overview",
            query_string={
                "name": "Conversations",
                "from": "2024-03-05",
                "to": "2024-03-05",
                "timezone": zone,
            },
            headers=headers,
        ).get_json()
        assert overview[0] == {"title": "Total_conversations", "value": rooms}
