"""Business time of the department family without a database: the rows from the rooms' durations
(:func:`~livechat_analytics.endpoints.departments.timed.timed_rows`) and their page, sorted and cut
as MongoDB's ``$sort``, ``$skip`` and ``$limit`` would (``page_of_rows``)."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from livechat_analytics.business_hours import Schedule
from livechat_analytics.endpoints.departments import METRICS
from livechat_analytics.endpoints.departments.query import DepartmentQuery
from livechat_analytics.endpoints.departments.timed import page_of_rows, timed_rows
from livechat_analytics.endpoints.hours import Schedules

UTC = dt.timezone.utc
MS = dt.timedelta(milliseconds=1)
#: Monday to Friday, 09:00 to 17:00 UTC, in minutes from Monday 00:00.
WEEKDAYS_NINE_TO_FIVE = Schedule("UTC", tuple((day * 1440 + 540, day * 1440 + 1020) for day in range(5)))


def monday(hour: int, minute: int = 0, second: int = 0, *, days: int = 0) -> dt.datetime:
    """A moment of the week of Monday 2024-03-04, in UTC."""
    return dt.datetime(2024, 3, 4 + days, hour, minute, second, tzinfo=UTC)


def test_each_department_is_summed_in_business_time_by_its_own_schedule_or_in_calendar_time():
    metric = METRICS["departments/average-chat-duration-time"]
    assert metric.timed is not None
    rooms = [
        # d1 by its schedule: 09:00 to 10:30 of Monday is 5400 s.
        {"departmentId": "d1", "ts": monday(8), "closedAt": monday(10, 30)},
        # 16:00 to 17:00 on Monday and 09:00 to 09:20 on Tuesday: 3600 + 1200 = 4800 s.
        {"departmentId": "d1", "ts": monday(16), "closedAt": monday(9, 20, days=1)},
        # d2 has no schedule and there is no default one: calendar time, 7 s.
        {"departmentId": "d2", "ts": monday(8), "closedAt": monday(8, 0, 7)},
        # Open, no department: no duration, so it adds 0 but counts.
        {"ts": monday(12)},
    ]
    schedules = Schedules(departments={"d1": WEEKDAYS_NINE_TO_FIVE})
    rows, without = timed_rows(metric.timed, metric.twin, rooms, schedules)
    assert rows == [
        {"_id": "d1", "averageChatDurationTimeInSeconds": 5100},  # (5400 + 4800) / 2
        {"_id": "d2", "averageChatDurationTimeInSeconds": 7},
        {"_id": None, "averageChatDurationTimeInSeconds": 0},
    ]
    assert without == 2


def test_the_service_time_is_added_up_in_seconds_and_its_count_is_the_rooms():
    metric = METRICS["departments/total-service-time"]
    assert metric.timed is not None
    rooms = [
        # Served at 08:30, closed at 09:00:00.400 on Monday: 0.4 s of business time.
        {"departmentId": "d1", "servedTs": monday(8, 30), "closedAt": monday(9) + 400 * MS},
        # Served Friday 16:59:59, closed Monday 09:00:01: 1 s on Friday and 1 s on Monday.
        {"departmentId": "d1", "servedTs": monday(16, 59, 59, days=4), "closedAt": monday(9, 0, 1, days=7)},
    ]
    rows, without = timed_rows(metric.timed, metric.twin, rooms, Schedules(default=WEEKDAYS_NINE_TO_FIVE))
    # 2.4 s rounded up is 3.
    assert (rows, without) == ([{"_id": "d1", "chats": 2, "serviceTimeDuration": 3}], 0)


def test_a_page_is_sorted_as_mongodb_sorts_nulls_and_cut_after_the_offset():
    rows = [
        {"_id": "b", "v": 2},
        {"_id": "a", "v": None},
        {"_id": "c", "v": 2},
        {"_id": None, "v": 5},
    ]
    query = DepartmentQuery(sort=(("v", -1), ("_id", 1)), offset=1, count=2)
    assert page_of_rows(rows, query, key="departments") == {
        "departments": [{"_id": "b", "v": 2}, {"_id": "c", "v": 2}],
        "count": 2,
        "offset": 1,
        "total": 4,
    }
    every = DepartmentQuery(sort=(("v", 1), ("_id", -1)), offset=2, count=None)
    assert page_of_rows(rows, every, key="rows") == {
        # a (null first), then c and b (ids descending), then the 5: from the third on.
        "rows": [{"_id": "b", "v": 2}, {"_id": None, "v": 5}],
        "count": 2,
        "offset": 2,
        "total": 4,
    }


def _compare(sort: tuple[tuple[str, int], ...], one: dict[str, Any], other: dict[str, Any]) -> int:
    """MongoDB's order of two rows: key by key, null before any value, reversed for -1."""
    for name, direction in sort:
        a, b = one.get(name), other.get(name)
        if a == b:
            continue
        if a is None or b is None:
            return direction * (-1 if a is None else 1)
        return direction * (-1 if a < b else 1)
    return 0


rows_strategy = st.lists(
    st.fixed_dictionaries({"v": st.none() | st.integers(-3, 3), "w": st.none() | st.integers(0, 2)}),
    max_size=12,
).map(lambda rows: [{"_id": f"d{index:02}", **row} for index, row in enumerate(rows)])
sort_strategy = st.lists(st.sampled_from(["v", "w"]), unique=True, max_size=2).flatmap(
    lambda names: st.tuples(*(st.tuples(st.just(name), st.sampled_from([1, -1])) for name in names))
)


@given(rows_strategy, sort_strategy, st.integers(0, 14), st.none() | st.integers(0, 14))
def test_a_page_is_the_rows_in_mongodb_order_from_the_offset_for_count_rows(rows, sort, offset, count):
    sort = (*sort, ("_id", 1))  # the id last, as the query schema adds it
    query = DepartmentQuery(sort=sort, offset=offset, count=count)
    expected = sorted(rows, key=functools.cmp_to_key(functools.partial(_compare, sort)))[offset:]
    expected = expected if count is None else expected[:count]
    body = page_of_rows(list(rows), query, key="departments")
    assert body == {"departments": expected, "count": len(expected), "offset": offset, "total": len(rows)}
