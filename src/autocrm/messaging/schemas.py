from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, TypeAlias

from ninja import Field, Schema

from autocrm.core.api import choice

from .choices import MessageChannel, Purpose

if TYPE_CHECKING:
    PurposeChoice: TypeAlias = str
    ChannelChoice: TypeAlias = str
else:
    PurposeChoice = choice(Purpose)
    ChannelChoice = choice(MessageChannel)


class AttemptOut(Schema):
    at: dt.datetime
    outcome: str
    code: str
    detail: str
    provider_id: str
    duration_ms: int


class MessageOut(Schema):
    uid: str
    store: int
    customer: int | None
    purpose: str
    channel: str
    provider: str
    to: str = Field(description="The recipient, masked (138****5678).")
    template: str | None
    status: str
    reason: str
    reason_text: str
    personalised: bool
    not_before: dt.datetime
    attempts: int
    provider_id: str
    sent_at: dt.datetime | None
    delivered_at: dt.datetime | None
    created_at: dt.datetime | None


class MessageDetailOut(MessageOut):
    text: str
    attempt_list: list[AttemptOut]


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: str | None = None


class MessageIn(Schema):
    """One templated message to one customer. The idempotency key comes from the
    ``Idempotency-Key`` header or this body field (one of them is required)."""

    customer: int
    template_code: str
    purpose: PurposeChoice
    channel: ChannelChoice | None = None
    values: dict[str, str] = {}
    idempotency_key: str | None = None
    personalised: bool = False
