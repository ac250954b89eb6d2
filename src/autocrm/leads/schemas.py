"""API schemas for leads (API.md): separate in and out shapes; the mobile masked on read."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema


class LeadIn(Schema):
    """A new lead from any system (汽车之家, 懂车帝, 易车, the OEM, a call centre): ``external_id``
    makes the call idempotent. Values are checked by the service (400 naming the field)."""

    name: Any = None
    mobile: Any = None
    source_channel: Any = None
    campaign: Any = None
    external_id: Any = None
    model_interest: Any = None
    brand_interest: Any = None
    message: Any = None
    grade: Any = None
    consultant: Any = None
    marketing_consent: Any = None
    visitor_id: Any = None
    referral_code: Any = None


class LeadOut(Schema):
    id: int
    store: int
    status: str
    grade: str
    name: str
    mobile: str | None
    mobile_flag: str
    source_channel: str
    campaign: str
    external_id: str
    model_interest: str
    brand_interest: str
    consultant: int | None
    customer: int | None
    version: int
    enquiries: int
    arrived_at: dt.datetime
    assigned_at: dt.datetime | None
    first_contact_due: dt.datetime | None
    first_contact_at: dt.datetime | None
    next_action_at: dt.datetime | None
    score: int = 0
    score_reasons: list[str] = []
    linked: bool = False


class LeadPage(Schema):
    items: list[LeadOut]
    next_cursor: str | None


class LeadAssignIn(Schema):
    consultant: Any = None
    reason: Any = ""
    version: Any = None


class ActivityIn(Schema):
    kind: Any = None
    outcome: Any = ""
    note: Any = ""
    next_action_at: Any = None
    grade: Any = None


class ActivityOut(Schema):
    id: int
    lead: int
    kind: str
    outcome: str
    note: str
    at: dt.datetime
    next_action_at: dt.datetime | None


class LostRequestIn(Schema):
    reason: Any = None
    note: Any = ""


class DecisionIn(Schema):
    note: Any = ""


class LostRequestOut(Schema):
    id: int
    lead: int
    reason: str
    note: str
    status: str
    decision_note: str
    lead_status: str


class LeadEventIn(Schema):
    """One browsing event: ``mobile`` or ``visitor_id``; ``model`` (or a catalogue ``series`` id);
    ``page`` (config, price, gallery, compare, finance, test_drive, dealer, other); ``occurred_at``
    (ISO 8601); an optional ``event_id`` makes a retry harmless."""

    mobile: Any = None
    visitor_id: Any = None
    series: Any = None
    model: Any = None
    page: Any = None
    occurred_at: Any = None
    event_id: Any = None


class LeadEventsIn(Schema):
    events: list[Any] = []


class LeadEventsOut(Schema):
    created: int
    duplicates: int
    linked: int
    pending: int
    invited: int


class ConversationOut(Schema):
    """A call recording or chat excerpt on an activity; ``url`` plays the recording on the lead's
    page (for whoever may see the lead)."""

    id: int
    lead: int
    activity: int
    kind: str
    content_type: str
    size: int
    sha256: str
    name: str
    duration_seconds: int | None
    text: str
    external_id: str
    created_at: dt.datetime
