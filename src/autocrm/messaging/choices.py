from django.db import models
from django.utils.translation import gettext_lazy as _


class Purpose(models.TextChoices):
    """Why a message is sent; consent is asked per purpose (customers.choices.ConsentPurpose)
    and the rules differ: marketing has the window, the caps and the unsubscribe text; a
    service notice carries neither offers nor the unsubscribe text and is exempt from caps."""

    SERVICE = "service", _("Service notice")
    MARKETING = "marketing", _("Marketing")
    SURVEY = "survey", _("Survey")
    LOGIN_CODE = "login_code", _("Login code")
    STAFF = "staff", _("Staff notification")


class MessageChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat official account")
    MINIPROGRAM = "miniprogram", _("WeChat mini program")
    EMAIL = "email", _("Email")
    WECOM = "wecom", _("WeCom")
    INBOX = "inbox", _("In-app inbox")
    CONSOLE = "console", _("Console (no provider)")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    HELD = "held", _("Held for the sending window")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    SUPPRESSED = "suppressed", _("Suppressed")
    UNCERTAIN = "uncertain", _("Outcome unknown (not resent)")


class SuppressionReason(models.TextChoices):
    NO_CONSENT = "no_consent", _("No consent for this purpose and channel")
    UNSUBSCRIBED = "unsubscribed", _("Customer unsubscribed")
    BLACKLIST = "blacklist", _("Number refuses messages (provider blacklist)")
    CAP = "cap", _("Frequency cap reached")
    NO_ADDRESS = "no_address", _("No address for this channel")
    NO_GRANT = "no_grant", _("No mini-program subscription left")
    PERSONALISATION = "personalisation", _("Opted out of personalised marketing")
    NO_ACCOUNT = "no_account", _("No provider configured for this channel")
    MANUAL = "manual", _("Suppressed by staff")


class AttemptOutcome(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    RETRY = "retry", _("Error, will retry")
    FAILED = "failed", _("Failed")
    RECONCILED = "reconciled", _("Found at the provider after a crash")
    RECEIPT = "receipt", _("Receipt")
