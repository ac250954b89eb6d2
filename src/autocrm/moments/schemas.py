"""API schemas of the car club (``/api/v1/events``). Names carry the ``Club`` prefix: schema
names are unique across the project."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, TypeAlias

from ninja import Schema

from autocrm.core.api import choice

from .choices import EventStatus, RegistrationSource, RegistrationStatus

if TYPE_CHECKING:
    EventStatusChoice: TypeAlias = str
    RegStatusChoice: TypeAlias = str
    RegSourceChoice: TypeAlias = str
else:
    EventStatusChoice = choice(EventStatus)
    RegStatusChoice = choice(RegistrationStatus)
    RegSourceChoice = choice(RegistrationSource)


class ClubEventIn(Schema):
    title: str
    starts_at: dt.datetime | str
    ends_at: dt.datetime | str | None = None
    place: str
    capacity: int | str
    points: int | str | None = None
    description: str = ""


class ClubEventOut(Schema):
    id: int
    store: int
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    place: str
    description: str
    capacity: int
    seats_taken: int
    seats_left: int
    attend_gift: str
    status: EventStatusChoice


class ClubEventPage(Schema):
    items: list[ClubEventOut]
    next_cursor: str | None


class ClubRegistrationIn(Schema):
    customer: int | str


class ClubRegistrationOut(Schema):
    id: int
    event: int
    customer: int
    customer_name: str
    status: RegStatusChoice
    source: RegSourceChoice
    attended_at: dt.datetime | None
    gift_result: str
    created_at: dt.datetime


class ClubInviteOut(Schema):
    message: str
    status: str
