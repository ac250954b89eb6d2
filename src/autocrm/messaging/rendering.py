"""Templates rendered safely: ``{variable}`` placeholders from a fixed vocabulary, nothing else.

No template language runs on text a user wrote: the body is split on ``{name}`` placeholders and
each is replaced by the variable's value as plain text (HTML-escaped in the HTML part). A brace
that is not a known placeholder is an error at save time, so a template that saves renders.

The provider rules are checked at save (:func:`template_problems`) and applied at render:

* SMS bodies carry no 【】 (the provider adds the store's approved signature around it);
* marketing SMS end with the store's unsubscribe text (default ``拒收请回复R``), added when missing;
* service notices and login codes carry neither offers nor the unsubscribe text;
* SMS, WeChat and mini-program templates name the provider's template id and the order of its
  parameters (``param_order``: ``variable`` or ``provider_key:variable``, e.g. ``thing1:customer_name``).

Modules add the variables they fill with :func:`register_variable` (in ``AppConfig.ready``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from .choices import MessageChannel, Purpose


@dataclass(frozen=True)
class Variable:
    name: str
    label: Any
    sample: str


_VARIABLES: dict[str, Variable] = {}


def register_variable(name: str, label: Any, sample: str) -> None:
    """Make ``{name}`` usable in templates (``sample`` fills previews without a customer)."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", name):
        raise ValueError(f"bad variable name {name!r}")
    _VARIABLES[name] = Variable(name, label, sample)


def variables() -> dict[str, Variable]:
    return dict(_VARIABLES)


for _name, _label, _sample in (
    ("customer_name", _("customer's name"), "刘萍平"),
    ("customer_title", _("customer's name with 先生/女士"), "刘女士"),
    ("plate", _("plate number"), "川A·B724E"),
    ("vin_tail", _("last six characters of the VIN"), "123456"),
    ("model", _("vehicle model"), "途观L"),
    ("due_date", _("due date"), "2026-12-08"),
    ("appointment_time", _("appointment time"), "12月8日 09:30"),
    ("store_name", _("store name"), "成都锦江4S店"),
    ("store_phone", _("store phone"), "028-88886666"),
    ("advisor_name", _("service advisor's name"), "王强"),
    ("consultant_name", _("sales consultant's name"), "李娜"),
    ("link", _("link"), "https://crm.example.cn/s/a1B2c3"),
    ("code", _("code"), "482913"),
    ("amount", _("amount (yuan)"), "1,280.00"),
):
    register_variable(_name, _label, _sample)


_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_BRACE = re.compile(r"[{}]")
# Words that make a text an offer: a service notice may not carry them (they would need
# marketing consent and the unsubscribe text).
OFFER_WORDS = (
    "优惠",
    "折扣",
    "特价",
    "促销",
    "限时",
    "抽奖",
    "赠送",
    "免费领",
    "秒杀",
    "团购",
    "红包",
    "返现",
    "代金券",
)
SIGNATURE_BRACKETS = ("【", "】", "[", "]")
PROVIDER_TEMPLATE_CHANNELS = (MessageChannel.SMS, MessageChannel.WECHAT, MessageChannel.MINIPROGRAM)
SMS_MAX_LENGTH = 500  # characters of body; providers split long SMS at 67 a part


def placeholders(text: str) -> list[str]:
    """The variable names ``text`` uses, in order of first use."""
    seen: dict[str, None] = {}
    for m in _PLACEHOLDER.finditer(text or ""):
        seen.setdefault(m.group(1), None)
    return list(seen)


def _stray_braces(text: str) -> bool:
    return bool(_BRACE.search(_PLACEHOLDER.sub("", text or "")))


def parse_param_order(entries: list[str]) -> list[tuple[str, str]]:
    """``["customer_name", "thing2:plate"]`` → ``[("customer_name", "customer_name"), ("thing2", "plate")]``."""
    out = []
    for entry in entries:
        key, _sep, var = str(entry).partition(":")
        out.append((key.strip(), (var or key).strip()))
    return out


def template_problems(
    *,
    purpose: str,
    channel: str,
    body: str,
    subject: str = "",
    html: str = "",
    provider_template_id: str = "",
    param_order: list[str] | None = None,
    unsubscribe_text: str = "拒收请回复R",
) -> dict[str, list[Any]]:
    """Why a template would break a provider's or the house's rules, by field (empty: none)."""
    errors: dict[str, list[Any]] = {}

    def add(field_name: str, message: Any) -> None:
        errors.setdefault(field_name, []).append(message)

    known = _VARIABLES
    for field_name, text in (("body", body), ("subject", subject), ("html", html)):
        for name in placeholders(text):
            if name not in known:
                add(field_name, _("Unknown variable {%(name)s}.") % {"name": name})
        if _stray_braces(text):
            add(field_name, _("Braces are only for variables such as {customer_name}."))
    if not (body or "").strip():
        add("body", _("The text is empty."))
    if "\x00" in (body or "") + (subject or "") + (html or ""):
        add("body", _("The text contains a NUL character."))
    if channel == MessageChannel.SMS:
        if any(b in (body or "") for b in SIGNATURE_BRACKETS[:2]):
            add("body", _("Leave out 【】: the provider adds the store's approved signature."))
        if len(body or "") > SMS_MAX_LENGTH:
            add("body", _("An SMS is at most %(n)d characters.") % {"n": SMS_MAX_LENGTH})
    if channel == MessageChannel.EMAIL and not (subject or "").strip():
        add("subject", _("An email needs a subject."))
    if purpose in (Purpose.SERVICE, Purpose.LOGIN_CODE, Purpose.STAFF):
        text = f"{subject}{body}{html}"
        offers = [w for w in OFFER_WORDS if w in text]
        if offers:
            add("body", _("A service notice carries no offers (found: %(words)s).") % {"words": "、".join(offers)})
        if unsubscribe_text and unsubscribe_text in text:
            add("body", _("A service notice carries no unsubscribe text."))
    if channel in PROVIDER_TEMPLATE_CHANNELS and purpose != Purpose.STAFF:
        if not (provider_template_id or "").strip():
            add("provider_template_id", _("The provider's template id is required for this channel."))
        order = parse_param_order(param_order or [])
        used = set(placeholders(body))
        for key, var in order:
            if not key or var not in known:
                add("param_order", _("Unknown variable {%(name)s}.") % {"name": var or key})
            elif var not in used:
                add("param_order", _("{%(name)s} is not in the text.") % {"name": var})
        missing = [v for v in placeholders(body) if v not in {var for _k, var in order}]
        if missing:
            add("param_order", _("Give the provider's place of {%(name)s}.") % {"name": missing[0]})
    return errors


class RenderError(Exception):
    """A variable the template uses has no value."""

    def __init__(self, missing: list[str]):
        super().__init__(", ".join(missing))
        self.missing = missing


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    params: tuple[str, ...] = ()
    data: Mapping[str, str] = field(default_factory=dict)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_value(value: Any, *, limit: int = 200) -> str:
    """A variable's value as plain one-line text: control characters dropped, length bounded."""
    text = _CONTROL.sub("", "" if value is None else str(value)).replace("\r", " ").replace("\n", " ")
    return text.strip()[:limit]


def _fill(text: str, values: Mapping[str, str], *, html: bool = False) -> str:
    def repl(m: re.Match[str]) -> str:
        v = values[m.group(1)]
        return str(escape(v)) if html else v

    return _PLACEHOLDER.sub(repl, text or "")


def render(
    *,
    purpose: str,
    channel: str,
    body: str,
    subject: str = "",
    html: str = "",
    param_order: list[str] | None = None,
    values: Mapping[str, Any],
    unsubscribe_text: str = "拒收请回复R",
) -> Rendered:
    """Fill a checked template with ``values``. Raises :class:`RenderError` naming the variables
    without a value. Marketing SMS get the unsubscribe text appended when they lack it."""
    used = set(placeholders(body)) | set(placeholders(subject)) | set(placeholders(html))
    clean = {k: clean_value(v) for k, v in values.items() if k in used or k in _VARIABLES}
    missing = sorted(n for n in used if not clean.get(n))
    if missing:
        raise RenderError(missing)
    text = _fill(body, clean)
    marketing_sms = purpose == Purpose.MARKETING and channel == MessageChannel.SMS
    if marketing_sms and unsubscribe_text and not text.rstrip().endswith(unsubscribe_text):
        text = f"{text.rstrip()}{unsubscribe_text}"
    order = parse_param_order(param_order or [])
    return Rendered(
        subject=_fill(subject, clean),
        text=text,
        html=_fill(html, clean, html=True),
        params=tuple(clean.get(var, "") for _key, var in order),
        data={key: clean.get(var, "") for key, var in order},
    )


def sample_values() -> dict[str, str]:
    return {v.name: v.sample for v in _VARIABLES.values()}
