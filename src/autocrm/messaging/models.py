"""The outbox and what it needs: provider accounts per store, templates, messages with their
attempts, the suppression list, mini-program grants, short links, and the staff inbox.

A message is written in the same transaction as its cause (``messaging.services.message_queue``
with an idempotency key: the same key twice is one message); Huey tasks deliver it; consent,
the sending window and the caps are checked again at send time. See docs/adr for the
exactly-once argument."""

from __future__ import annotations

import secrets
import time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core.fields import BlindIndexField, EncryptedTextField, EqualityIndex
from autocrm.core.models import TenantModel, TrackedModel

from .choices import AttemptOutcome, MessageChannel, MessageStatus, Purpose, SuppressionReason


def normalize_address(value: str | None) -> str:
    """The blind index's view of an address: a Chinese mobile as ``customers`` indexes it (11
    digits, so an SMS message's ``to_index`` equals the customer's ``mobile_index`` and a reply
    from ``+8613812345678`` or ``13812345678`` finds the same suppression), anything else
    trimmed and lower-cased (emails, openids are case-sensitive but never differ only in case)."""
    from autocrm.core.normalize import normalize_mobile

    text = (value or "").strip()
    if not text:
        return ""
    mobile = normalize_mobile(text)
    if len(mobile) == 11 and mobile.startswith("1") and len(text) <= 20 and not any(c.isalpha() for c in text):
        return mobile
    return text.lower()


class MessagingSettings(TenantModel):
    """A store's sending rules (one row per store; defaults when missing)."""

    window_start = models.TimeField(_("marketing window opens"), default="08:00")
    window_end = models.TimeField(_("marketing window closes"), default="20:00")
    marketing_weekly_cap = models.PositiveSmallIntegerField(_("marketing messages a week at most"), default=2)
    unsubscribe_text = models.CharField(_("unsubscribe text"), max_length=30, default="拒收请回复R")
    sms_signature = models.CharField(_("approved SMS signature"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("messaging settings")
        verbose_name_plural = _("messaging settings")
        constraints = [models.UniqueConstraint(fields=["store"], name="messaging_settings_one_per_store")]


class ChannelAccount(TenantModel):
    """A store's account with one provider (``autocrm.channels`` provider name). Public settings
    are shown; secrets are encrypted and never shown again after saving. The callback secret is
    part of the callback URL given to the provider (or its signing token)."""

    provider = models.CharField(_("provider"), max_length=20)
    channel = models.CharField(_("channel"), max_length=12, choices=MessageChannel.choices)
    name = models.CharField(_("name"), max_length=60, blank=True)
    public_config = models.JSONField(_("settings"), default=dict, blank=True)
    secret_config = EncryptedTextField(_("secrets"), blank=True)  # JSON object, encrypted
    callback_secret = EncryptedTextField(_("callback secret"), blank=True)
    endpoint = models.URLField(_("endpoint override"), blank=True)  # a private gateway or a test server
    is_default = models.BooleanField(_("default for its channel"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("channel account")
        verbose_name_plural = _("channel accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["store", "channel"],
                condition=Q(is_default=True, is_active=True),
                name="channel_account_one_default",
            )
        ]

    def __str__(self) -> str:
        return self.name or self.provider


class MessageTemplate(TenantModel):
    """What a message says, per store, purpose, channel and language. ``code`` is the key the
    modules send by (``appointment_reminder``); ``body`` uses ``{variable}`` placeholders
    (a fixed vocabulary, no template code); SMS/WeChat templates carry the provider's
    template id and the order of its parameters."""

    code = models.SlugField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=100)
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices)
    channel = models.CharField(_("channel"), max_length=12, choices=MessageChannel.choices)
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"))
    html = models.TextField(_("HTML"), blank=True)
    provider_template_id = models.CharField(_("provider template id"), max_length=80, blank=True)
    param_order = models.JSONField(_("parameter order"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        constraints = [
            models.UniqueConstraint(fields=["store", "code", "channel", "language"], name="message_template_unique")
        ]

    def __str__(self) -> str:
        return self.name


def new_uid() -> str:
    """A message's own id (``Message.uid``, sent to the provider): 48 bits of milliseconds since
    the epoch, then 80 random bits, as 32 hex characters. As unique and unguessable as needed
    (80 random bits within one millisecond), and in creation order: the unique index on ``uid``
    takes each new message at its end instead of at a random page — a random id made the
    index the costliest part of planning a million messages (docs/adr/0022-batch-delivery.md)."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


class Message(TenantModel):
    """One message in the outbox, to a customer or to a staff member.

    ``uid`` is our id sent to the provider (SessionContext/OutId) for reconciliation;
    ``idempotency_key`` is unique per store. The recipient address is encrypted; ``to_index``
    is its blind index (suppression list, receipts)."""

    # A campaign writes a million rows: each index and each database key check is paid per row
    # (docs/adr/0029-message-write-path.md). The store's key is not checked by the database (the
    # store is PROTECTed and never deleted; the writers take it from rows they hold) and has no
    # index of its own (``message_idempotency`` and ``message_store_recent`` lead with it); the
    # customer is indexed by ``message_customer_cap``; user and author only where set.
    store = models.ForeignKey(
        "tenancy.Store", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    uid = models.CharField(max_length=32, unique=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200)
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    template = models.ForeignKey(MessageTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    account = models.ForeignKey(ChannelAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices)
    channel = models.CharField(_("channel"), max_length=12, choices=MessageChannel.choices)
    provider = models.CharField(_("provider"), max_length=20, blank=True)
    to = EncryptedTextField(_("recipient"), blank=True)
    to_index = BlindIndexField(source="to", normalizer="autocrm.messaging.models.normalize_address")
    to_display = models.CharField(_("recipient"), max_length=80, blank=True)  # masked
    variables = models.JSONField(default=dict, blank=True)
    # Chosen for this customer by a segment or a score (PIPL Art. 24): not sent to a customer
    # who opted out of personalised marketing.
    personalised = models.BooleanField(_("personalised"), default=False)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    text = models.TextField(_("text"), blank=True)
    html = models.TextField(blank=True)
    status = models.CharField(_("status"), max_length=12, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    reason = models.CharField(_("reason"), max_length=20, blank=True)  # SuppressionReason or provider code
    reason_text = models.CharField(_("reason"), max_length=300, blank=True)
    not_before = models.DateTimeField(_("not before"), default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    provider_id = models.CharField(_("provider id"), max_length=100, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    cause_type = models.CharField(max_length=100, blank=True)
    cause_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    scope_owner_field = "customer__consultant"
    audit_enabled = False  # the outbox and its attempts are themselves the record

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [models.UniqueConstraint(fields=["store", "idempotency_key"], name="message_idempotency")]
        indexes = [
            models.Index(fields=["status", "not_before"], name="message_due"),
            models.Index(fields=["store", "-id"], name="message_store_recent"),
            models.Index(fields=["customer", "purpose", "sent_at"], name="message_customer_cap"),
            models.Index(fields=["provider", "provider_id"], name="message_provider_id"),
            EqualityIndex(fields=["to_index"], name="message_to_index"),
            models.Index(fields=["user"], name="message_user", condition=Q(user__isnull=False)),
            models.Index(fields=["created_by"], name="message_created_by", condition=Q(created_by__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.to_display} {self.status}"


class MessageAttempt(TenantModel):
    """One try to deliver a message, a reconciliation or a receipt: what the provider said."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attempt_set")
    at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=12, choices=AttemptOutcome.choices)
    code = models.CharField(max_length=80, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    provider_id = models.CharField(max_length=100, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    audit_enabled = False

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        indexes = [models.Index(fields=["message", "at"], name="attempt_message_at")]


class Suppression(TenantModel):
    """An address that must not get marketing (or anything) on a channel: an unsubscribe reply,
    a provider blacklist, a bounce, or staff. Lifted by a new consent."""

    channel = models.CharField(_("channel"), max_length=12, choices=MessageChannel.choices)
    address = EncryptedTextField(_("address"))
    address_index = BlindIndexField(source="address", normalizer="autocrm.messaging.models.normalize_address")
    address_display = models.CharField(_("address"), max_length=80, blank=True)
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=20, choices=SuppressionReason.choices)
    all_purposes = models.BooleanField(_("everything, not only marketing"), default=False)
    source = models.CharField(_("source"), max_length=100, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("suppression")
        verbose_name_plural = _("suppressions")
        indexes = [EqualityIndex(fields=["address_index"], name="suppression_address")]


class WeChatBinding(TenantModel):
    """A customer's openid at one of the store's WeChat accounts (official account or mini program)."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(ChannelAccount, on_delete=models.CASCADE, related_name="+")
    openid = models.CharField(max_length=64)
    unionid = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("WeChat binding")
        verbose_name_plural = _("WeChat bindings")
        constraints = [models.UniqueConstraint(fields=["account", "openid"], name="wechat_binding_unique")]
        indexes = [models.Index(fields=["customer"], name="wechat_binding_customer")]


class SubscribeGrant(TenantModel):
    """Mini-program subscribe messages need the user's grant per message: how many sends one
    openid has left for one template (each accept adds one; each send uses one)."""

    openid = models.CharField(max_length=64)
    template_id = models.CharField(max_length=80)
    remaining = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("subscription grant")
        verbose_name_plural = _("subscription grants")
        constraints = [
            models.UniqueConstraint(fields=["store", "openid", "template_id"], name="subscribe_grant_unique")
        ]


class ShortLink(TenantModel):
    """A tracked short link in a message: ``/s/<code>`` redirects and counts the click."""

    code = models.CharField(max_length=16, unique=True)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    url = models.URLField(max_length=500)
    clicks = models.PositiveIntegerField(default=0)
    first_clicked_at = models.DateTimeField(null=True, blank=True)

    audit_enabled = False

    class Meta:
        verbose_name = _("short link")
        verbose_name_plural = _("short links")


class StaffNotification(TenantModel):
    """One notification in a staff member's in-app inbox (the bell). ``kind`` is the module's
    key (``leads.assigned``, ``sla.breach``…); several of one kind may fold into a digest."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=60)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    link = models.CharField(max_length=300, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    digest_count = models.PositiveIntegerField(default=1)
    dedup_key = models.CharField(max_length=200, blank=True)

    scope_owner_field = "user"  # one person's inbox (h/msgui)
    audit_enabled = False

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["user", "read_at", "-id"], name="notification_unread"),
        ]


class NotificationPreference(TrackedModel):
    """A staff member's choice per notification kind (``*`` = every kind): in the inbox, on
    WeCom, or folded into a digest. ``wecom_userid`` links the user to the store's WeCom."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=60, default="*")
    inbox = models.BooleanField(_("in the inbox"), default=True)
    wecom = models.BooleanField(_("on WeCom"), default=True)
    digest = models.BooleanField(_("as a digest"), default=False)
    wecom_userid = models.CharField(_("WeCom user id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_unique")]


__all__ = [
    "AttemptOutcome",
    "ChannelAccount",
    "Message",
    "MessageAttempt",
    "MessageStatus",
    "MessageTemplate",
    "MessagingSettings",
    "NotificationPreference",
    "Purpose",
    "ShortLink",
    "StaffNotification",
    "SubscribeGrant",
    "Suppression",
    "SuppressionReason",
    "WeChatBinding",
]
