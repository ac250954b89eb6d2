"""Alibaba Cloud SMS (dysmsapi 2017-05-25) codes → what the outbox does next.

From the product's "国内消息 API 错误码" list and the gateway's common codes. Note
``isv.BLACK_KEY_CONTROL_LIMIT`` is a *keyword* blacklist ("模板变量中存在黑名单关键字": the template
variables contain blocked words), not a blacklisted number: it is ``permanent`` and does not touch
consent. The number-refuses code is ``isv.CUSTOMER_REFUSED`` (the customer unsubscribed from
marketing SMS)."""

from __future__ import annotations

import datetime as dt

from autocrm.channels.base import ChannelError, ErrorKind
from autocrm.channels.sms_shared import SHANGHAI

EXACT: dict[str, ErrorKind] = {
    "isv.CUSTOMER_REFUSED": "blacklist",
    # Rate limits: per number per minute/hour/day (业务限流), daily and monthly totals set in the
    # console, API call throttling.
    "isv.BUSINESS_LIMIT_CONTROL": "rate_limited",
    "isv.DAY_LIMIT_CONTROL": "rate_limited",
    "isv.MONTH_LIMIT_CONTROL": "rate_limited",
    "Throttling": "rate_limited",
    "Throttling.User": "rate_limited",
    "Throttling.Api": "rate_limited",
    "isv.QPS_LIMIT_CONTROL": "rate_limited",
    # Credentials and the account: the store manager must act; every message would fail.
    "InvalidAccessKeyId.NotFound": "auth",
    "InvalidAccessKeyId.Inactive": "auth",
    "InvalidAccessKeyId": "auth",
    "SignatureDoesNotMatch": "auth",
    "IncompleteSignature": "auth",
    "InvalidTimeStamp.Expired": "auth",  # our clock is off by more than 15 minutes
    "Forbidden.RAM": "auth",
    "isp.RAM_PERMISSION_DENY": "auth",
    "isv.OUT_OF_SERVICE": "auth",  # account in arrears (业务停机)
    "isv.AMOUNT_NOT_ENOUGH": "auth",
    "isv.PRODUCT_UN_SUBSCRIPT": "auth",
    "isv.PRODUCT_UNSUBSCRIBE": "auth",
    "isv.ACCOUNT_NOT_EXISTS": "auth",
    "isv.ACCOUNT_ABNORMAL": "auth",
    "isv.DENY_IP_RANGE": "auth",
    # The request (number, template, sign, parameters, content): fails the same way every time.
    "isv.MOBILE_NUMBER_ILLEGAL": "permanent",
    "isv.MOBILE_COUNT_OVER_LIMIT": "permanent",
    "isv.BLACK_KEY_CONTROL_LIMIT": "permanent",
    "isv.SMS_TEMPLATE_ILLEGAL": "permanent",
    "isv.SMS_SIGNATURE_ILLEGAL": "permanent",
    "isv.SMS_SIGN_ILLEGAL": "permanent",
    "isv.SIGN_STATE_ILLEGAL": "permanent",
    "isv.SMS_SIGNATURE_SCENE_ILLEGAL": "permanent",
    "isv.TEMPLATE_MISSING_PARAMETERS": "permanent",
    "isv.TEMPLATE_PARAMS_ILLEGAL": "permanent",
    "isv.INVALID_PARAMETERS": "permanent",
    "isv.INVALID_JSON_PARAM": "permanent",
    "isv.PARAM_LENGTH_LIMIT": "permanent",
    "isv.PARAM_NOT_SUPPORT_URL": "permanent",
    "isv.SMS_CONTENT_ILLEGAL": "permanent",
    "isv.EXTEND_CODE_ERROR": "permanent",
    "isv.DOMESTIC_NUMBER_NOT_SUPPORTED": "permanent",
    "isv.SMS_TEST_NUMBER_LIMIT": "permanent",
    "isv.SMS_TEST_SIGN_TEMPLATE_LIMIT": "permanent",
    "SignatureNonceUsed": "retry",  # a fresh nonce on the next attempt
    "isp.SYSTEM_ERROR": "retry",
    "isp.GATEWAY_ERROR": "retry",
    "ServiceUnavailable": "retry",
    "InternalError": "retry",
}

PREFIXES: tuple[tuple[str, ErrorKind], ...] = (
    ("Throttling", "rate_limited"),
    ("InvalidAccessKeyId", "auth"),
    ("Forbidden", "auth"),
    ("isp.", "retry"),
    ("MissingParameter", "permanent"),
    ("InvalidParameter", "permanent"),
    ("isv.", "permanent"),
)


def kind_of(code: str) -> ErrorKind:
    if code in EXACT:
        return EXACT[code]
    for prefix, kind in PREFIXES:
        if code.startswith(prefix):
            return kind
    return "permanent"


def to_error(code: str, message: str, *, now: dt.datetime | None = None) -> ChannelError:
    kind = kind_of(code)
    retry_after: float | None = None
    if kind == "rate_limited":
        if code in ("isv.DAY_LIMIT_CONTROL", "isv.MONTH_LIMIT_CONTROL"):
            local = (now or dt.datetime.now(dt.UTC)).astimezone(SHANGHAI)
            midnight = (local + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
            retry_after = (midnight - local).total_seconds()
        elif code == "isv.BUSINESS_LIMIT_CONTROL":
            retry_after = 60.0  # the tightest default: one verification code a minute per number
        else:
            retry_after = 1.0
    return ChannelError(kind, code, message, retry_after=retry_after)
