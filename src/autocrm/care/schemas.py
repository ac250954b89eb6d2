"""Schemas of the care API (names prefixed by the domain: unique across the project)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, TypeAlias

from ninja import Schema

from autocrm.core.api import choice

from .choices import (
    Category,
    Channel,
    ComplaintStatus,
    Department,
    FollowUpKind,
    FollowUpStatus,
    Outcome,
    RootCause,
    Severity,
)

if TYPE_CHECKING:
    KindChoice: TypeAlias = str
    FuStatusChoice: TypeAlias = str
    OutcomeChoice: TypeAlias = str
    ChannelChoice: TypeAlias = str
    CategoryChoice: TypeAlias = str
    SeverityChoice: TypeAlias = str
    DepartmentChoice: TypeAlias = str
    CStatusChoice: TypeAlias = str
    RootCauseChoice: TypeAlias = str
else:
    KindChoice = choice(FollowUpKind)
    FuStatusChoice = choice(FollowUpStatus)
    OutcomeChoice = choice(Outcome, blank=True)
    ChannelChoice = choice(Channel)
    CategoryChoice = choice(Category)
    SeverityChoice = choice(Severity)
    DepartmentChoice = choice(Department)
    CStatusChoice = choice(ComplaintStatus)
    RootCauseChoice = choice(RootCause, blank=True)


class FollowUpOut(Schema):
    id: int
    store: int
    kind: KindChoice
    status: FuStatusChoice
    outcome: OutcomeChoice
    source_id: int
    customer: int
    customer_name: str
    customer_mobile: str | None
    vehicle: int | None
    plate: str
    agent: int | None
    staff: int | None
    due_at: dt.datetime
    next_attempt_at: dt.datetime | None
    attempts: int
    note: str
    completed_at: dt.datetime | None
    escalated_at: dt.datetime | None
    complaint: int | None
    script: str


class FollowUpPage(Schema):
    items: list[FollowUpOut]
    next_cursor: str | None


class FollowUpOutcomeIn(Schema):
    """``outcome`` satisfied / issue / unreachable; with ``raise_complaint`` (an issue) a complaint
    opens from the call: ``category``, ``severity``, ``department`` as for a complaint."""

    outcome: str = ""
    note: str = ""
    raise_complaint: bool = False
    category: str = ""
    severity: str = ""
    department: str = ""


class ComplaintOut(Schema):
    id: int
    number: str
    store: int
    customer: int
    customer_name: str
    vehicle: int | None
    channel: ChannelChoice
    category: CategoryChoice
    severity: SeverityChoice
    department: DepartmentChoice
    description: str
    status: CStatusChoice
    assignee: int | None
    staff: int | None
    received_at: dt.datetime
    step_due_at: dt.datetime | None
    level: int
    escalated_at: dt.datetime | None
    root_cause: RootCauseChoice
    resolution: str
    confirmed_at: dt.datetime | None
    closed_at: dt.datetime | None
    reopened: int


class ComplaintPage(Schema):
    items: list[ComplaintOut]
    next_cursor: str | None


class ComplaintIn(Schema):
    customer: int | None = None
    vehicle: int | None = None
    channel: str = ""
    category: str = ""
    severity: str = ""
    department: str = ""
    description: str = ""
    staff: int | None = None
    assignee: int | None = None


class ComplaintAdvanceIn(Schema):
    """``to``: a later status (default the next) or ``reopen``."""

    to: str = ""
    assignee: int | None = None
    resolution: str = ""
    root_cause: str = ""
    customer_confirmed: bool = False
    note: str = ""


class ComplaintEscalateIn(Schema):
    note: str = ""


class ComplaintReportRow(Schema):
    key: str | int | None
    total: int
    closed: int
    escalated: int
    reopened: int
    overdue: int


class SurveyAnswerOut(Schema):
    id: int
    store: int
    kind: str
    moment: str
    customer: int
    customer_name: str
    staff: int | None
    scores: dict[str, int]
    csi: float | None
    nps: int | None
    comment: str
    answered_at: dt.datetime
    seconds: int | None
    flags: list[str]
    status: str


class SurveyAnswerPage(Schema):
    items: list[SurveyAnswerOut]
    next_cursor: str | None


class SurveyScoreOut(Schema):
    key: str | int | None
    csi: float | None
    csi_count: int
    nps: float | None
    nps_count: int


class SurveyReviewIn(Schema):
    accept: bool = False


class SurveyItemOut(Schema):
    code: str
    label: str


class SurveyPublicOut(Schema):
    name: str
    kind: str
    scale: int
    items: list[SurveyItemOut]
    answered: bool


class SurveyPublicIn(Schema):
    """CSI: each item's code → 1…scale; NPS: ``nps`` 0–10; ``comment`` (why)."""

    nps: int | str | None = None
    comment: str = ""
    scores: dict[str, int | str] = {}


class SurveyThanksOut(Schema):
    ok: bool


class WinBackOut(Schema):
    id: int
    store: int
    customer: int
    customer_name: str
    last_visit_at: dt.datetime
    flagged_at: dt.datetime
    sent_at: dt.datetime | None
    contacted_at: dt.datetime | None
    answered_at: dt.datetime | None
    reason: str
    comment: str
    flags: list[str]
    status: str
    offer: str
    offer_given: str
    follow_up: int | None
    returned_at: dt.datetime | None
    won_back: bool
    watch_left: int


class WinBackPage(Schema):
    items: list[WinBackOut]
    next_cursor: str | None


class WinBackReportRow(Schema):
    key: int | str | None
    flagged: int
    contacted: int
    answered: int
    returned: int
    rate: float | None


class WinBackReportOut(Schema):
    by: str
    start: dt.datetime
    end: dt.datetime
    rows: list[WinBackReportRow]


class WinBackReviewIn(Schema):
    accept: bool = False
