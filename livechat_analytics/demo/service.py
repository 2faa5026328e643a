"""The service levels of the data set: its business-hours schedules, SLA policies and priorities, as
Rocket.Chat stores them, and the ones each livechat room is given.

Every livechat room carries ``priorityWeight`` and ``estimatedWaitingTimeQueue``, as Rocket.Chat
gives them to every new room (99 and 9,999,999 when the room has no priority or policy); some rooms
also name a priority (``priorityId``) or an SLA policy (``slaId``), whose ``sortItem`` and
``dueTimeInMinutes`` those two fields then copy.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from .document import UTC, Document

#: The ``type`` of the schedule of the departments that name none, and of the others'.
DEFAULT_SCHEDULE = "default"
CUSTOM_SCHEDULE = "custom"
#: The department that names the custom schedule in its ``businessHourId``.
NIGHT_DESK = "Technical"
#: Rocket.Chat's ``priorityWeight`` of a room without a priority (``LivechatPriorityWeight``).
NO_PRIORITY_WEIGHT = 99
#: Rocket.Chat's ``estimatedWaitingTimeQueue`` of a room without a policy (``DEFAULT_SLA_CONFIG``).
NO_POLICY_WAIT = 9_999_999

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WORKDAYS = _WEEKDAYS[:5]

# Name, type, zone, start, finish: open those times on workdays, closed at the weekend. The custom
# one is a night desk whose shift runs past midnight into the next day.
_SCHEDULES = (
    ("", DEFAULT_SCHEDULE, "Europe/Berlin", "08:00", "18:00"),
    ("Technical night desk", CUSTOM_SCHEDULE, "America/New_York", "22:00", "06:00"),
)

# Name, description, dueTimeInMinutes, share of the rooms with a policy. First responses take
# about a minute and a quarter: most miss the tight target, few the loose one.
_POLICIES = (
    ("Express", "Answer within a minute", 1, 25),
    ("Standard", "Answer within two minutes", 2, 50),
    ("Extended", "Answer within five minutes", 5, 25),
)
_WITH_POLICY = 0.55

# Rocket.Chat's default priorities: i18n key and sortItem, weighted by how often rooms get them.
_PRIORITIES = (("Lowest", 5, 10), ("Low", 4, 25), ("Medium", 3, 35), ("High", 2, 20), ("Highest", 1, 10))
_WITH_PRIORITY = 0.4


def object_id(rng: random.Random) -> str:
    """A new id as Rocket.Chat gives these documents: an ObjectId's 24 hexadecimal digits."""
    return f"{rng.getrandbits(96):024x}"


def business_hours(rng: random.Random, created: dt.datetime) -> list[Document]:
    """The business-hours schedules (``rocketchat_livechat_business_hours``), saved at ``created``:
    the default one first, then the custom one of :data:`NIGHT_DESK`."""
    return [
        _schedule(rng, name, kind, zone, (start, finish), created)
        for name, kind, zone, start, finish in _SCHEDULES
    ]


def _schedule(
    rng: random.Random, name: str, kind: str, zone: str, hours: tuple[str, str], created: dt.datetime
) -> Document:
    """A schedule open ``hours`` on workdays in ``zone``; its ``utc`` fields are worked out at
    ``created``, as Rocket.Chat works them out when a schedule is saved."""
    local = created.astimezone(ZoneInfo(zone))
    monday = local.date() - dt.timedelta(days=local.weekday())
    return {
        "_id": object_id(rng),
        "name": name,
        "active": True,
        "type": kind,
        "timezone": {"name": zone, "utc": _offset(local)},
        "workHours": [
            {
                "day": day,
                "start": _time(hours[0], monday + dt.timedelta(days=index), local.tzinfo),
                "finish": _time(hours[1], monday + dt.timedelta(days=index), local.tzinfo),
                "code": index + 1,
                "open": day in _WORKDAYS,
            }
            for index, day in enumerate(_WEEKDAYS)
        ],
        "ts": created,
        "_updatedAt": created,
    }


def _time(time: str, day: dt.date, zone: dt.tzinfo | None) -> Document:
    """One end of a work hour: its local ``time``, that time in UTC on ``day``, and the weekday and
    time of the server's job that opens or closes it."""
    hour, minute = map(int, time.split(":"))
    utc = dt.datetime.combine(day, dt.time(hour, minute), zone).astimezone(UTC)
    return {
        "time": time,
        "utc": {"dayOfWeek": _WEEKDAYS[utc.weekday()], "time": utc.strftime("%H:%M")},
        "cron": {"dayOfWeek": _WEEKDAYS[day.weekday()], "time": time},
    }


def _offset(moment: dt.datetime) -> str:
    """The UTC offset of an aware ``moment``, as ``"+01:00"``."""
    minutes = (moment.utcoffset() or dt.timedelta(0)) // dt.timedelta(minutes=1)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def policies(rng: random.Random, created: dt.datetime) -> list[Document]:
    """The SLA policies (``rocketchat_omnichannel_service_level_agreements``)."""
    return [
        {
            "_id": object_id(rng),
            "name": name,
            "description": description,
            "dueTimeInMinutes": minutes,
            "_updatedAt": created,
        }
        for name, description, minutes, _ in _POLICIES
    ]


def priorities(rng: random.Random, created: dt.datetime) -> list[Document]:
    """Rocket.Chat's default priorities (``rocketchat_livechat_priority``), none renamed."""
    return [
        {"_id": object_id(rng), "i18n": key, "sortItem": weight, "dirty": False, "_updatedAt": created}
        for key, weight, _ in _PRIORITIES
    ]


def service_fields(rng: random.Random, policies: list[Document], priorities: list[Document]) -> Document:
    """The service-level fields of a new livechat room: a policy and a priority now and then, and
    the weights Rocket.Chat sorts its queue by."""
    fields: Document = {"priorityWeight": NO_PRIORITY_WEIGHT, "estimatedWaitingTimeQueue": NO_POLICY_WAIT}
    if rng.random() < _WITH_POLICY:
        policy = rng.choices(policies, weights=[share for *_, share in _POLICIES])[0]
        fields |= {"slaId": policy["_id"], "estimatedWaitingTimeQueue": policy["dueTimeInMinutes"]}
    if rng.random() < _WITH_PRIORITY:
        priority = rng.choices(priorities, weights=[share for *_, share in _PRIORITIES])[0]
        fields |= {"priorityId": priority["_id"], "priorityWeight": priority["sortItem"]}
    return fields
