"""``businessHours=true`` on the duration metrics and their trends, over HTTP on every backend: the
worked examples (Monday to Friday 09:00-18:00 in Berlin, an overnight shift), a department's own
schedule and the default, rooms without any, paging and names, CSV, and the 400s."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from support import ROOT, UTC, add_user

BERLIN = ZoneInfo("Europe/Berlin")
ROOMS = "rocketchat_room"
HOURS = "rocketchat_livechat_business_hours"
#: The window: March 2026, local days in Berlin (2 March is a Monday).
WINDOW = {"start": "2026-03-01", "end": "2026-03-31", "timezone": "Europe/Berlin"}
NO_SCHEDULE = (
    "Must not be true: no active business-hours schedule is stored"
    " (rocketchat_livechat_business_hours), so there is nothing to count business time by."
)


def berlin(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A wall-clock time of March 2026 in Berlin, in UTC."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


def entry(day: str, start: str, finish: str) -> dict[str, Any]:
    return {"day": day, "start": {"time": start}, "finish": {"time": finish}, "open": True}


def schedule(schedule_id: str, *entries: dict[str, Any], kind: str = "custom", active: bool = True) -> dict:
    return {
        "_id": schedule_id,
        "name": schedule_id,
        "active": active,
        "type": kind,
        "timezone": {"name": "Europe/Berlin", "utc": "+01:00"},
        "workHours": list(entries),
    }


OFFICE = schedule(
    "office",
    *(entry(day, "09:00", "18:00") for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")),
    kind="default",
)
NIGHT = schedule("night", entry("Monday", "22:00", "06:00"))


def answered(room_id: str, department: str | None, ts: dt.datetime, fd: dt.datetime, **fields: Any) -> dict:
    """A room answered at ``fd``: its ``ft`` the calendar seconds from ``ts``."""
    room = {
        "_id": room_id,
        "t": "l",
        "ts": ts,
        "metrics": {"response": {"ft": (fd - ts).total_seconds(), "fd": fd}},
    }
    if department is not None:
        room["departmentId"] = department
    return {**room, **fields}


def chat(room_id: str, department: str | None, ts: dt.datetime, closed: dt.datetime) -> dict:
    """A closed room, its stored duration the calendar seconds."""
    room = {
        "_id": room_id,
        "t": "l",
        "ts": ts,
        "closedAt": closed,
        "metrics": {"chatDuration": (closed - ts).total_seconds()},
    }
    if department is not None:
        room["departmentId"] = department
    return room


def get(client, headers, path: str, **params: Any):
    return client.get(f"{ROOT}/{path}", query_string={**WINDOW, **params}, headers=headers)


def body(client, headers, path: str, **params: Any) -> dict:
    response = get(client, headers, path, **params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def store_examples(database) -> None:
    """The contract's examples: "sales", "support" and "late" on the default office hours, "night"
    on its overnight shift; the chats have no first response, so add 0 to the waiting time."""
    database[HOURS].insert_many([OFFICE, NIGHT])
    database["rocketchat_livechat_department"].insert_many(
        [{"_id": "sales", "name": "Sales"}, {"_id": "night", "name": "Night", "businessHourId": "night"}]
    )
    database[ROOMS].insert_many(
        [
            # Friday 17:50 to Monday 09:05: ten minutes on Friday, five on Monday.
            answered("friday", "sales", berlin(6, 17, 50), berlin(9, 9, 5)),
            # Within a Saturday: none.
            answered("saturday", "support", berlin(7, 10), berlin(7, 10, 30)),
            # Monday 23:00 to Tuesday 07:00 on the night shift: 23:00 to 06:00.
            chat("overnight", "night", berlin(2, 23), berlin(3, 7)),
            # The same on office hours: none of it.
            chat("office-night", "late", berlin(2, 23), berlin(3, 7)),
        ]
    )


def test_waiting_time_counts_business_seconds(client, headers, database):
    store_examples(database)
    assert body(client, headers, "departments/average-waiting-time", businessHours="true") == {
        "departments": [
            {"_id": "late", "averageWaitingTimeInSeconds": 0},
            {"_id": "night", "averageWaitingTimeInSeconds": 0},
            {"_id": "sales", "averageWaitingTimeInSeconds": 900},
            {"_id": "support", "averageWaitingTimeInSeconds": 0},
        ],
        "count": 4,
        "offset": 0,
        "total": 4,
        "businessHours": True,
        "roomsWithoutSchedule": 0,
        "success": True,
    }
    # Calendar time: 63 h 15 min, and 30 min.
    assert body(client, headers, "departments/average-waiting-time")["departments"] == [
        {"_id": "late", "averageWaitingTimeInSeconds": 0},
        {"_id": "night", "averageWaitingTimeInSeconds": 0},
        {"_id": "sales", "averageWaitingTimeInSeconds": 227_700},
        {"_id": "support", "averageWaitingTimeInSeconds": 1800},
    ]


def test_chat_duration_by_the_departments_own_schedule_or_the_default(client, headers, database):
    store_examples(database)
    answer = body(client, headers, "departments/average-chat-duration-time", businessHours="true")
    assert answer["departments"] == [
        {"_id": "late", "averageChatDurationTimeInSeconds": 0},
        {"_id": "night", "averageChatDurationTimeInSeconds": 25_200},
    ]
    assert answer["roomsWithoutSchedule"] == 0


def test_rooms_without_a_schedule_are_measured_in_calendar_time(client, headers, database):
    # Only the night shift, named by "night": no default, so the others have none.
    database[HOURS].insert_many([NIGHT, {**OFFICE, "active": False}])
    database["rocketchat_livechat_department"].insert_one({"_id": "night", "businessHourId": "night"})
    database[ROOMS].insert_many(
        [
            chat("overnight", "night", berlin(2, 23), berlin(3, 7)),
            chat("a", "sales", berlin(2, 23), berlin(3, 7)),
            chat("b", "sales", berlin(4, 10), berlin(4, 10, 1)),
            chat("c", None, berlin(4, 10), berlin(4, 10, 2)),
        ]
    )
    answer = body(client, headers, "departments/average-chat-duration-time", businessHours="true")
    assert answer["departments"] == [
        {"_id": None, "averageChatDurationTimeInSeconds": 120},
        {"_id": "night", "averageChatDurationTimeInSeconds": 25_200},
        # (8 h + 1 min) / 2, in calendar time.
        {"_id": "sales", "averageChatDurationTimeInSeconds": 14_430},
    ]
    assert answer["roomsWithoutSchedule"] == 3


def test_service_times(client, headers, database):
    database[HOURS].insert_one(OFFICE)
    served = {"_id": "agent", "ts": berlin(6, 17, 30)}
    last = {"lastMessageTs": berlin(6, 17, 40)}
    database[ROOMS].insert_many(
        [
            # Served Friday 17:30, closed Monday 09:30: 30 min + 30 min.
            {**chat("a", "sales", berlin(6, 17), berlin(9, 9, 30)), "servedBy": served, "responseBy": last},
            # No servedBy.ts: closedAt - serviceTimeDuration (Monday 09:00) to closedAt (09:20).
            {
                **chat("b", "sales", berlin(6, 17), berlin(9, 9, 20)),
                "servedBy": {"_id": "agent"},
                "responseBy": last,
                "metrics": {"serviceTimeDuration": 1200},
            },
            # Still open: counted by average-service-time, adds 0.
            {
                "_id": "c",
                "t": "l",
                "ts": berlin(6, 17),
                "departmentId": "sales",
                "servedBy": served,
                "responseBy": last,
            },
        ]
    )
    database[ROOMS].update_one({"_id": "a"}, {"$set": {"metrics.serviceTimeDuration": 230_400}})
    average = body(client, headers, "departments/average-service-time", businessHours="true")
    # (3600 + 1200 + 0) / 3.
    assert average["departments"] == [{"_id": "sales", "averageServiceTimeInSeconds": 1600}]
    total = body(client, headers, "departments/total-service-time", businessHours="true")
    assert total["departments"] == [{"_id": "sales", "chats": 2, "serviceTimeDuration": 4800}]


def test_sort_paging_names_and_csv(client, headers, database, make_app):
    store_examples(database)
    database[ROOMS].insert_one(answered("sunday", "zeta", berlin(8, 10), berlin(8, 11)))
    params = {"businessHours": "true", "sort": '{"averageWaitingTimeInSeconds": 1}', "names": "true"}
    first = body(client, headers, "departments/average-waiting-time", count="3", **params)
    # The zeros by _id, then the 900.
    assert first["departments"] == [
        {"_id": "late", "name": None, "averageWaitingTimeInSeconds": 0},
        {"_id": "night", "name": "Night", "averageWaitingTimeInSeconds": 0},
        {"_id": "support", "name": None, "averageWaitingTimeInSeconds": 0},
    ]
    assert (first["count"], first["offset"], first["total"]) == (3, 0, 5)
    second = body(client, headers, "departments/average-waiting-time", count="3", offset="3", **params)
    assert second["departments"] == [
        {"_id": "zeta", "name": None, "averageWaitingTimeInSeconds": 0},
        {"_id": "sales", "name": "Sales", "averageWaitingTimeInSeconds": 900},
    ]
    # With names switched on, sort may name them: null ones last, descending, ties by _id.
    named = make_app(DEPARTMENT_NAMES=True).test_client()
    by_name = {"businessHours": "true", "sort": '{"name": -1}'}
    names = body(named, headers, "departments/average-waiting-time", **by_name)["departments"]
    assert [row["_id"] for row in names] == ["sales", "night", "late", "support", "zeta"]
    response = get(client, headers, "departments/average-waiting-time", format="csv", **params)
    assert response.status_code == 200
    assert response.get_data(as_text=True).splitlines() == [
        "_id,name,averageWaitingTimeInSeconds",
        "late,,0",
        "night,Night,0",
        "support,,0",
        "zeta,,0",
        "sales,Sales,900",
    ]


def test_false_or_omitted_answers_as_before(client, headers, database):
    store_examples(database)
    for path in ("departments/average-waiting-time", "trends/average-chat-duration-time"):
        plain = get(client, headers, path)
        assert get(client, headers, path, businessHours="false").data == plain.data
        assert b"businessHours" not in plain.data


def test_day_trend_with_the_previous_window(client, headers, database):
    store_examples(database)
    database[ROOMS].insert_one(
        answered("february", None, berlin(1, 12) - dt.timedelta(days=14), berlin(1, 13))
    )
    answer = body(
        client,
        headers,
        "trends/average-waiting-time",
        start="2026-03-06",
        end="2026-03-07",
        compare="previous",
        businessHours="true",
    )
    assert answer["series"] == [
        {
            "_id": None,
            "buckets": [
                {"start": "2026-03-06T00:00:00+01:00", "averageWaitingTimeInSeconds": 900},
                {"start": "2026-03-07T00:00:00+01:00", "averageWaitingTimeInSeconds": 0},
            ],
        }
    ]
    assert answer["previous"] == [
        {
            "_id": None,
            "buckets": [
                {"start": "2026-03-04T00:00:00+01:00", "averageWaitingTimeInSeconds": 0},
                {"start": "2026-03-05T00:00:00+01:00", "averageWaitingTimeInSeconds": 0},
            ],
        }
    ]
    assert (answer["businessHours"], answer["roomsWithoutSchedule"]) == (True, 0)
    # The chats of Monday 2 March closed on the 3rd: a window of both days.
    by_department = body(
        client,
        headers,
        "trends/average-chat-duration-time",
        start="2026-03-02",
        end="2026-03-03",
        byDepartment="true",
        businessHours="true",
    )
    monday, tuesday = "2026-03-02T00:00:00+01:00", "2026-03-03T00:00:00+01:00"
    assert by_department["series"] == [
        {
            "_id": "late",
            "buckets": [
                {"start": monday, "averageChatDurationTimeInSeconds": 0},
                {"start": tuesday, "averageChatDurationTimeInSeconds": 0},
            ],
        },
        {
            "_id": "night",
            "buckets": [
                {"start": monday, "averageChatDurationTimeInSeconds": 25_200},
                {"start": tuesday, "averageChatDurationTimeInSeconds": 0},
            ],
        },
    ]
    csv = get(
        client,
        headers,
        "trends/average-chat-duration-time",
        start="2026-03-02",
        end="2026-03-03",
        businessHours="true",
        format="csv",
    )
    # (25,200 + 0) / 2 on Monday; the CSV holds the buckets alone.
    assert csv.get_data(as_text=True).splitlines() == [
        "period,_id,start,averageChatDurationTimeInSeconds",
        f"current,,{monday},12600",
        f"current,,{tuesday},0",
    ]


def test_no_active_schedule_is_a_400(client, headers, database):
    database[HOURS].insert_one({**OFFICE, "active": False})
    database[ROOMS].insert_one(chat("a", "sales", berlin(2, 23), berlin(3, 7)))
    expected = {
        "success": False,
        "error": 'The "businessHours" query parameter must not be true: no active business-hours schedule is '
        "stored (rocketchat_livechat_business_hours), so there is nothing to count business time by.",
        "errorType": "invalid-params",
        "details": {"businessHours": [NO_SCHEDULE]},
    }
    for path in ("departments/total-service-time", "trends/average-waiting-time"):
        for output in ("json", "csv"):
            response = get(client, headers, path, businessHours="true", format=output)
            assert (response.status_code, response.get_json()) == (400, expected)


def test_other_endpoints_refuse_the_parameter(client, headers, database):
    database[HOURS].insert_one(OFFICE)
    refused = {
        "success": False,
        "error": 'The "businessHours" query parameter is not allowed.',
        "errorType": "invalid-params",
        "details": {"businessHours": ["Is not allowed."]},
    }
    for path in (
        "departments/amount-of-chats",
        "departments/total-abandoned-chats",
        "trends/amount-of-chats",
        "trends/heatmap",
        "agents/available-for-service-history",
    ):
        response = get(client, headers, path, businessHours="true")
        assert (response.status_code, response.get_json()) == (400, refused), path
    odd = get(client, headers, "departments/average-waiting-time", businessHours="yes")
    assert odd.status_code == 400
    assert odd.get_json()["details"] == {"businessHours": ["Must be true or false."]}


def test_a_monitor_sees_the_rooms_of_their_departments_only(make_app, database):
    store_examples(database)
    headers = add_user(database, "monitor", token="monitor-token", roles=("livechat-monitor",))
    database["rocketchat_livechat_unit_monitors"].insert_one({"monitorId": "monitor", "unitId": "unit"})
    database["rocketchat_livechat_department"].insert_one({"_id": "unit", "type": "u", "name": "Unit"})
    database[ROOMS].update_one({"_id": "friday"}, {"$set": {"departmentAncestors": ["unit"]}})
    client = make_app().test_client()
    answer = body(client, headers, "departments/average-waiting-time", businessHours="true")
    assert answer["departments"] == [{"_id": "sales", "averageWaitingTimeInSeconds": 900}]
