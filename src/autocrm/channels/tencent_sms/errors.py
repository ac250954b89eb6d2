"""Tencent Cloud SMS error codes (API 3.0, version 2021-01-11) → what the outbox does next.

From the product's error-code list ("短信 API 3.0 发送错误码") and the common API 3.0 codes.
A code is looked up whole first, then by its prefix (``LimitExceeded.`` …); an unknown code is
``permanent`` (it failed and retrying the same request would fail the same way) unless it is an
``InternalError``/``RequestLimitExceeded`` family member."""

from __future__ import annotations

import datetime as dt

from autocrm.channels.base import ChannelError, ErrorKind
from autocrm.channels.sms_shared import SHANGHAI

EXACT: dict[str, ErrorKind] = {
    # The number refuses messages: unsubscribed (回复 R/退订) or on the operator's do-not-disturb list.
    "FailedOperation.PhoneNumberInBlacklist": "blacklist",
    "FailedOperation.PhoneNumberOnBlacklist": "blacklist",
    # Account-level problems a store manager must fix (credentials, app, balance, permissions):
    # every message would fail the same way until then.
    "FailedOperation.InsufficientBalanceInSmsPackage": "auth",
    "InvalidParameterValue.SdkAppIdNotExist": "auth",
    "InvalidParameter.AppidAndBizId": "auth",
    "UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny": "auth",
    "UnauthorizedOperation.RequestIpNotInWhitelist": "auth",
    "UnauthorizedOperation.RequestPermissionDeny": "auth",
    "UnauthorizedOperation.SdkAppIdIsDisabled": "auth",
    "UnauthorizedOperation.SerivceSuspendDueToArrears": "auth",  # (sic) Tencent's spelling
    "UnauthorizedOperation.SmsSdkAppIdVerifyFail": "auth",
    "IpInBlacklist": "auth",
    "IpNotInWhitelist": "auth",
    # Marketing outside 08:00–22:00 Beijing time: held until the morning, not failed.
    "FailedOperation.MarketingSendTimeConstraint": "rate_limited",
    # More numbers than one request may carry: our request is wrong, retrying does not help.
    "LimitExceeded.PhoneNumberCountLimit": "permanent",
    # Transient on Tencent's side.
    "InternalError.Timeout": "retry",
    "InternalError.SendAndRecvFail": "retry",
    "InternalError.OtherError": "retry",
    "InternalError.UnknownError": "retry",
    "InternalError": "retry",
    "ResourceUnavailable": "retry",
    "ServiceUnavailable": "retry",
}

PREFIXES: tuple[tuple[str, ErrorKind], ...] = (
    ("AuthFailure.", "auth"),  # signature, SecretId, expired signature (our clock), MFA, token
    ("LimitExceeded.", "rate_limited"),  # per number per 30 s / hour / day, per app per day
    ("RequestLimitExceeded", "rate_limited"),  # API call frequency
    ("InternalError.", "retry"),
    ("InvalidParameterValue.", "permanent"),  # number format, content length, template parameters
    ("InvalidParameter", "permanent"),
    ("MissingParameter", "permanent"),
    ("FailedOperation.", "permanent"),  # template/sign unapproved, sensitive words, bad packet
    ("UnsupportedOperation.", "permanent"),  # region not supported, mixed domestic/international
    ("UnauthorizedOperation.", "auth"),
)

# How long a rate limit lasts, where the code says it (the outbox may wait longer).
_WAIT_SECONDS = {
    "LimitExceeded.PhoneNumberThirtySecondLimit": 30.0,
    "LimitExceeded.PhoneNumberOneHourLimit": 3600.0,
    "LimitExceeded.DeliveryFrequencyLimit": 60.0,
    "RequestLimitExceeded": 1.0,
}
_UNTIL_TOMORROW = {
    "LimitExceeded.PhoneNumberDailyLimit",
    "LimitExceeded.PhoneNumberSameContentDailyLimit",
    "LimitExceeded.AppDailyLimit",
    "LimitExceeded.DailyLimit",
}


def kind_of(code: str) -> ErrorKind:
    if code in EXACT:
        return EXACT[code]
    for prefix, kind in PREFIXES:
        if code.startswith(prefix):
            return kind
    return "permanent"


def _seconds_until(now: dt.datetime, hour: int) -> float:
    local = now.astimezone(SHANGHAI)
    target = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if target <= local:
        target += dt.timedelta(days=1)
    return (target - local).total_seconds()


def to_error(code: str, message: str, *, now: dt.datetime | None = None) -> ChannelError:
    kind = kind_of(code)
    retry_after: float | None = None
    if kind == "rate_limited":
        now = now or dt.datetime.now(dt.UTC)
        if code == "FailedOperation.MarketingSendTimeConstraint":
            retry_after = _seconds_until(now, 8)
        elif code in _UNTIL_TOMORROW:
            retry_after = _seconds_until(now, 0)
        else:
            retry_after = _WAIT_SECONDS.get(code, _WAIT_SECONDS.get(code.split(".")[0]))
    return ChannelError(kind, code, message, retry_after=retry_after)
