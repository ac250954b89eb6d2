"""API schemas for customers (API.md): separate in and out shapes; personal data masked on read."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, TypeAlias

from ninja import Field, Schema

from autocrm.core.api import choice

from .choices import Channel, ConsentPurpose, CustomerKind, Gender, IncomeBand, LifecycleStage, SourceChannel
from .timeline import timeline_label

# Choice fields are enums in the OpenAPI document; the services check the values (translated 400).
if TYPE_CHECKING:
    # choice() builds Annotated[str, <the enum's JSON schema>] at run time; a type checker cannot
    # evaluate a call as a type, so it is given the str that those annotate.
    Kind: TypeAlias = str
    GenderChoice: TypeAlias = str
    IncomeBandChoice: TypeAlias = str
    PreferredChannel: TypeAlias = str
    SourceChannelChoice: TypeAlias = str
    Stage: TypeAlias = str
    Purpose: TypeAlias = str
    ConsentChannel: TypeAlias = str
else:
    Kind = choice(CustomerKind)
    GenderChoice = choice(Gender, blank=True)
    IncomeBandChoice = choice(IncomeBand, blank=True)
    PreferredChannel = choice(Channel, blank=True)
    SourceChannelChoice = choice(SourceChannel, blank=True)
    Stage = choice(LifecycleStage)
    Purpose = choice(ConsentPurpose)
    ConsentChannel = choice(Channel)


class CustomerFields(Schema):
    """Every writable field, all optional: a PATCH sends what changes."""

    name: str | None = None
    kind: Kind | None = None
    mobile: str | None = None
    other_phones: list[str] | None = None
    wechat_id: str | None = None
    email: str | None = None
    gender: GenderChoice | None = None
    birthday: str | None = None
    licence_expiry: str | None = None
    id_number: str | None = None
    uscc: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    address: str | None = None
    community: str | None = None
    occupation: str | None = None
    employer: str | None = None
    income_band: IncomeBandChoice | None = None
    preferred_channel: PreferredChannel | None = None
    quiet_hours_start: str | None = None
    quiet_hours_end: str | None = None
    source_channel: SourceChannelChoice | None = None
    external_id: str | None = None
    personalised_marketing_opt_out: bool | None = None


class CustomerIn(CustomerFields):
    name: str
    kind: Kind = "person"
    consultant: int | None = None
    advisor: int | None = None
    tags: list[str] = []
    confirm_new: bool = False


class CustomerPatch(CustomerFields):
    pass


class CustomerOut(Schema):
    id: int
    store: int
    kind: Kind
    name: str
    mobile: str | None = None
    other_phones: str | None = None
    wechat_id: str | None = None
    email: str | None = None
    gender: GenderChoice | None = None
    birthday: dt.date | None = None
    licence_expiry: dt.date | None = None
    id_number: str | None = None
    uscc: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    address: str | None = None
    community: str | None = None
    occupation: str | None = None
    employer: str | None = None
    income_band: IncomeBandChoice | None = None
    preferred_channel: PreferredChannel | None = None
    source_channel: SourceChannelChoice | None = None
    lifecycle_stage: Stage
    consultant: int | None = None
    advisor: int | None = None
    tags: list[str] = []
    external_id: str | None = None
    external_id_aliases: list[str] = []  # external IDs of records merged into this one
    is_minor: bool = False
    created_at: dt.datetime
    updated_at: dt.datetime
    # Of this write (create, update): doubts about the address the entry page shows — an unknown
    # district (火星区), one of another city, a plate typed as the address. Not stored.
    warnings: list[str] = []


class CustomerListItem(Schema):
    id: int
    store: int
    kind: Kind
    name: str
    mobile: str | None = None
    district: str | None = None
    lifecycle_stage: Stage
    consultant: int | None = None


class CustomerPage(Schema):
    items: list[CustomerListItem]
    next_cursor: str | None = None


class RevealOut(Schema):
    field: str
    value: str


class ConsentIn(Schema):
    purpose: Purpose
    channel: ConsentChannel
    granted: bool = True
    source: str = ""


class ConsentOut(Schema):
    purpose: Purpose
    channel: ConsentChannel
    granted: bool
    source: str
    at: dt.datetime
    withdrawn_at: dt.datetime | None = None


class AssignIn(Schema):
    consultant: int | None
    reason: str = ""


class TimelineItem(Schema):
    kind: str
    kind_label: str = Field("", description="The kind in the request's language (the badge on the 360 page).")
    at: dt.datetime
    summary: str
    link: str
    object_type: str
    object_id: str

    @staticmethod
    def resolve_kind_label(obj: Any) -> str:
        return str(timeline_label(obj.kind if not isinstance(obj, dict) else obj["kind"]))


class TimelinePage(Schema):
    items: list[TimelineItem]
    next_cursor: str | None = None
