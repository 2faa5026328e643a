"""Properties of the series against the department endpoints, on generated rooms around
daylight-saving changes and in half- and quarter-hour zones: a count series adds up to the
endpoint's count, a one-bucket series is the endpoint's row, ``compare=previous`` is the series of
the previous window asked for directly, and the CSV reads back as the JSON."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from strategies import DAY_MS, milliseconds_of, room_documents
from support import DEPARTMENT_FIELDS, ROOT, UTC, answered, iso, property_settings, store_rooms

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu")
#: Local days to start on: the clocks change on 2024-03-10 (New York) and 2024-03-31 (Berlin).
FIRST_DAYS = (dt.date(2024, 3, 9), dt.date(2024, 3, 10), dt.date(2024, 3, 30), dt.date(2024, 3, 31))
#: What a count series adds up to, per metric.
COUNTS = {
    "amount-of-chats": "rooms",
    "total-service-time": "chats",
    "total-abandoned-chats": "abandonedRooms",
}
TIMEOUT = 3600
ROOMS = "rocketchat_room"
SETTINGS_PROFILE = property_settings(30)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[str, dt.datetime, dt.datetime, list[dict]]:
    """A zone, a window of one to four local days (or one hour to a day of hours), and rooms."""
    zone = draw(st.sampled_from(ZONES))
    day = draw(st.sampled_from(FIRST_DAYS))
    start = dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    length = draw(
        st.sampled_from(
            [dt.timedelta(hours=1), dt.timedelta(hours=5), dt.timedelta(days=1), dt.timedelta(days=4)]
        )
    )
    end = start + length - dt.timedelta(milliseconds=1)
    first, last = milliseconds_of(start), milliseconds_of(end)
    rooms = draw(st.lists(room_documents(first - DAY_MS // 4, last, (TIMEOUT,)), max_size=25))
    return zone, start, end, [{**room, "_id": f"r{n}"} for n, room in enumerate(rooms)]


@SETTINGS_PROFILE
@given(scenario=scenarios(), group_by=st.sampled_from(["hour", "day", "week", "month"]))
def test_a_count_series_adds_up_to_the_endpoints_count(client, headers, database, scenario, group_by):
    zone, start, end, rooms = scenario
    store_rooms(database, rooms)
    window = {"start": iso(start), "end": iso(end), "timezone": zone}
    for path, field in COUNTS.items():
        rows = answered(client, headers, f"departments/{path}", {**window, "count": "0"})["departments"]
        body = answered(client, headers, f"trends/{path}", {**window, "groupBy": group_by})
        [series] = body["series"]
        assert sum(bucket[field] for bucket in series["buckets"]) == sum(row[field] for row in rows)


@SETTINGS_PROFILE
@given(scenario=scenarios())
def test_a_one_bucket_series_is_the_endpoints_row(client, headers, database, scenario):
    zone, start, end, rooms = scenario
    store_rooms(database, rooms)
    # Every window starts in March: ended by March's end, one month bucket holds it.
    end = min(
        end, dt.datetime(2024, 4, 1, tzinfo=ZoneInfo(zone)).astimezone(UTC) - dt.timedelta(milliseconds=1)
    )
    window = {"start": iso(start), "end": iso(end), "timezone": zone}
    for path, fields in DEPARTMENT_FIELDS.items():
        if path == "total-transferred-chats":
            continue
        rows = answered(client, headers, f"departments/{path}", {**window, "count": "0"})["departments"]
        params = {**window, "groupBy": "month", "byDepartment": "true"}
        body = answered(client, headers, f"trends/{path}", params)
        series = {one["_id"]: one["buckets"] for one in body["series"]}
        assert all(len(buckets) == 1 for buckets in series.values())
        assert {key: {name: buckets[0][name] for name in fields} for key, buckets in series.items()} == {
            row["_id"]: {name: row[name] for name in fields} for row in rows
        }


@SETTINGS_PROFILE
@given(scenario=scenarios(), group_by=st.sampled_from(["hour", "day"]))
def test_compare_previous_is_the_previous_window_asked_directly(
    client, headers, database, scenario, group_by
):
    zone, start, end, rooms = scenario
    store_rooms(database, rooms)
    params = {"timezone": zone, "groupBy": group_by, "byDepartment": "true"}
    body = answered(
        client,
        headers,
        "trends/average-chat-duration-time",
        {**params, "start": iso(start), "end": iso(end), "compare": "previous"},
    )
    # The window of the same length that ends one millisecond before this one starts.
    last = start - dt.timedelta(milliseconds=1)
    before = last - (end - start)
    direct = answered(
        client,
        headers,
        "trends/average-chat-duration-time",
        {**params, "start": iso(before), "end": iso(last)},
    )
    assert body["previous"] == direct["series"]


@SETTINGS_PROFILE
@given(scenario=scenarios(), group_by=st.sampled_from(["hour", "day"]))
def test_the_csv_reads_back_as_the_json(client, headers, database, scenario, group_by):
    zone, start, end, rooms = scenario
    store_rooms(database, rooms)
    params = {
        "start": iso(start),
        "end": iso(end),
        "timezone": zone,
        "groupBy": group_by,
        "byDepartment": "true",
        "compare": "previous",
    }
    body = answered(client, headers, "trends/average-waiting-time", params)
    response = client.get(
        f"{ROOT}/trends/average-waiting-time", query_string={**params, "format": "csv"}, headers=headers
    )
    lines = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    # A line per bucket of each series: the period, the department, the bucket's start and value.
    expected = [
        {
            "period": period,
            "_id": one["_id"] or "",
            "start": bucket["start"],
            "averageWaitingTimeInSeconds": str(bucket["averageWaitingTimeInSeconds"]),
        }
        for period, key in (("current", "series"), ("previous", "previous"))
        for one in body[key]
        for bucket in one["buckets"]
    ]
    assert lines == expected
