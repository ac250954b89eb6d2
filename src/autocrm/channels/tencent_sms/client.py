"""Tencent Cloud SMS (腾讯云短信), API 3.0 version 2021-01-11, signed with TC3-HMAC-SHA256.

* ``send`` → ``SendSms`` with our message id as ``SessionContext`` (echoed in receipts and pulls).
* ``query`` → ``PullSmsSendStatusByPhoneNumber`` over a window around ``sent_at``. Tencent only
  lists a message there once the operator's receipt came back, so "not listed" is conclusive only
  after :attr:`TencentSmsClient.query_settle`; before that ``query`` raises an in-doubt
  ``retry`` error (the outbox asks again later instead of resending).
* ``parse_callback`` → the status-report push (JSON array) and the reply push (JSON object),
  authenticated by the store's secret in the callback URL (Tencent signs neither).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from autocrm.channels.base import (
    CallbackAnswer,
    CallbackRejected,
    ChannelError,
    ConfigField,
    InboundReply,
    Outgoing,
    SendResult,
    StatusReport,
    register,
)
from autocrm.channels.sms_shared import (
    PooledHttpClient,
    check_fresh,
    e164,
    json_answer,
    looks_blacklisted,
    shanghai_time,
    split_mobile,
    text_field,
    unix_time,
)
from autocrm.channels.tencent_sms import errors, signing

API_HOST = "sms.tencentcloudapi.com"
API_VERSION = "2021-01-11"
SERVICE = "sms"
CONTENT_TYPE = "application/json; charset=utf-8"
SIGNED_HEADERS = ("content-type", "host", "x-tc-action")
PULL_LIMIT = 100  # most entries one pull returns; Offset is fixed at 0 by the API, so we split the window
PULL_MAX_AGE = dt.timedelta(days=7)  # the pull reaches 7 days back


@register
class TencentSmsClient(PooledHttpClient):
    provider = "tencent_sms"
    channel = "sms"
    label = _("Tencent Cloud SMS")
    config_fields = (
        ConfigField("secret_id", _("SecretId")),
        ConfigField("secret_key", _("SecretKey"), secret=True),
        ConfigField("sdk_app_id", _("SMS SdkAppId"), help=_("The application id in the SMS console, e.g. 1400006666.")),
        ConfigField("sign_name", _("Signature name"), help=_("The approved SMS signature, without 【】.")),
        ConfigField("region", _("Region"), required=False, help=_("Default: ap-guangzhou.")),
    )
    can_query = True
    rate_per_second = 3000.0  # SendSms's documented default limit per account
    # How long after sending a missing entry in the status pull still means "no receipt yet".
    query_settle = dt.timedelta(minutes=10)

    # -- requests -------------------------------------------------------------------------------

    @property
    def _url(self) -> str:
        return (self.endpoint or f"https://{API_HOST}").rstrip("/") + "/"

    def _host(self) -> str:
        if not self.endpoint:
            return API_HOST
        return self.endpoint.split("://", 1)[-1].split("/", 1)[0]

    def _call(self, action: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """One signed API 3.0 request; returns ``Response`` or raises the mapped error."""
        secret_id = self.config.get("secret_id", "")
        secret_key = self.config.get("secret_key", "")
        if not secret_id or not secret_key:
            raise ChannelError("auth", "config.missing_credentials", "SecretId/SecretKey not configured")
        payload = json.dumps(params, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        timestamp = int(time.time())
        headers = {
            "Content-Type": CONTENT_TYPE,
            "Host": self._host(),
            "X-TC-Action": action,
            "X-TC-Version": API_VERSION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": self.config.get("region") or "ap-guangzhou",
        }
        headers["Authorization"] = signing.authorization(
            secret_id=secret_id,
            secret_key=secret_key,
            timestamp=timestamp,
            service=SERVICE,
            method="POST",
            headers=headers,
            signed_headers=SIGNED_HEADERS,
            payload=payload,
        )
        response = self._post("/", content=payload, headers=headers)
        answer = json_answer(response).get("Response")
        if not isinstance(answer, dict):
            raise ChannelError("retry", f"http.{response.status_code}", "no Response in the answer", in_doubt=True)
        error = answer.get("Error")
        if isinstance(error, dict):
            raise errors.to_error(str(error.get("Code", "")), str(error.get("Message", "")))
        return answer

    # -- send -----------------------------------------------------------------------------------

    def send(self, message: Outgoing) -> SendResult:
        country, national = split_mobile(message.to)
        if not message.template_code:
            raise ChannelError("permanent", "missing_template", "TemplateId is required")
        params: dict[str, Any] = {
            "PhoneNumberSet": [e164(country, national)],
            "SmsSdkAppId": self.config.get("sdk_app_id", ""),
            "TemplateId": message.template_code,
            "TemplateParamSet": [str(p) for p in message.params],
            "SessionContext": message.message_id,
        }
        sign_name = message.sign_name or self.config.get("sign_name", "")
        if sign_name:
            params["SignName"] = sign_name
        answer = self._call("SendSms", params)
        statuses = answer.get("SendStatusSet")
        if not isinstance(statuses, list) or not statuses or not isinstance(statuses[0], dict):
            raise ChannelError("retry", "answer.no_status", "SendStatusSet missing", in_doubt=True)
        status = statuses[0]
        code = str(status.get("Code", ""))
        raw = {
            "SerialNo": status.get("SerialNo", ""),
            "Code": code,
            "Message": status.get("Message", ""),
            "Fee": status.get("Fee"),
            "RequestId": answer.get("RequestId", ""),
        }
        if code.lower() != "ok":
            raise errors.to_error(code, str(status.get("Message", "")))
        return SendResult(provider_id=str(status.get("SerialNo", "")), status="accepted", raw=raw)

    # -- query ----------------------------------------------------------------------------------

    def query(self, message_id: str, *, to: str, sent_at: dt.datetime) -> StatusReport | None:
        country, national = split_mobile(to)
        now = dt.datetime.now(dt.UTC)
        begin = sent_at - dt.timedelta(minutes=5)
        if begin < now - PULL_MAX_AGE:
            if sent_at < now - PULL_MAX_AGE:
                raise ChannelError("permanent", "query.too_old", "the status pull reaches 7 days back", in_doubt=True)
            begin = now - PULL_MAX_AGE + dt.timedelta(minutes=1)
        found = self._pull(e164(country, national), message_id, int(begin.timestamp()), int(now.timestamp()) + 1, 0)
        if found is not None:
            return found
        self._not_found(
            now=now, sent_at=sent_at, code="query.no_receipt_yet", text="Tencent lists a message only after its receipt"
        )
        return None

    def _pull(self, phone: str, message_id: str, begin: int, end: int, depth: int) -> StatusReport | None:
        answer = self._call(
            "PullSmsSendStatusByPhoneNumber",
            {
                "BeginTime": begin,
                "EndTime": end,
                "Offset": 0,
                "Limit": PULL_LIMIT,
                "PhoneNumber": phone,
                "SmsSdkAppId": self.config.get("sdk_app_id", ""),
            },
        )
        entries = answer.get("PullSmsSendStatusSet") or []
        if not isinstance(entries, list):
            raise ChannelError("retry", "answer.malformed", "PullSmsSendStatusSet is not a list")
        for entry in entries:
            if isinstance(entry, dict) and entry.get("SessionContext") == message_id:
                return self._pulled_report(entry, message_id)
        if len(entries) >= PULL_LIMIT and end - begin > 1 and depth < 16:
            # A full page may hide ours: the pull has no offset, so halve the window instead.
            middle = (begin + end) // 2
            return self._pull(phone, message_id, begin, middle, depth + 1) or self._pull(
                phone, message_id, middle + 1, end, depth + 1
            )
        return None

    @staticmethod
    def _pulled_report(entry: Mapping[str, Any], message_id: str) -> StatusReport:
        report_status = str(entry.get("ReportStatus", "")).upper()
        status = {"SUCCESS": "delivered", "FAIL": "failed"}.get(report_status, "accepted")
        description = str(entry.get("Description", ""))
        at = None
        if entry.get("UserReceiveTime"):
            try:
                at = dt.datetime.fromtimestamp(int(entry["UserReceiveTime"]), tz=dt.UTC)
            except (TypeError, ValueError, OverflowError, OSError):
                at = None
        return StatusReport(
            provider_id=str(entry.get("SerialNo", "")),
            status=status,  # type: ignore[arg-type]
            message_id=message_id,
            to=str(entry.get("PhoneNumber", "")),
            code=report_status,
            description=description,
            at=at,
            blacklisted=status == "failed" and looks_blacklisted(description),
        )

    # -- callbacks ------------------------------------------------------------------------------

    push_kinds = (("report_status", "_receipt"), ("text", "_reply"))
    push_neither = "neither a status report nor a reply"

    @staticmethod
    def _receipt(item: Mapping[str, Any], now: dt.datetime) -> StatusReport:
        report_status = text_field(item, "report_status").upper()
        if report_status not in ("SUCCESS", "FAIL"):
            raise CallbackRejected("report_status malformed")
        at = shanghai_time(text_field(item, "user_receive_time"))
        check_fresh(at, now)
        mobile = text_field(item, "mobile", max_len=32)
        errmsg = text_field(item, "errmsg", required=False, max_len=200)
        description = text_field(item, "description", required=False, max_len=500)
        status = "delivered" if report_status == "SUCCESS" else "failed"
        return StatusReport(
            provider_id=text_field(item, "sid", max_len=128),
            status=status,  # type: ignore[arg-type]
            message_id=text_field(item, "ext", required=False, max_len=512),
            to=e164(text_field(item, "nationcode", required=False, max_len=8), mobile),
            code=errmsg,
            description=description,
            at=at,
            blacklisted=status == "failed" and looks_blacklisted(errmsg, description),
        )

    @staticmethod
    def _reply(item: Mapping[str, Any], now: dt.datetime) -> InboundReply:
        at = unix_time(item.get("time"))
        check_fresh(at, now)
        return InboundReply(
            sender=e164(
                text_field(item, "nationcode", required=False, max_len=8), text_field(item, "mobile", max_len=32)
            ),
            text=text_field(item, "text", max_len=1000),
            at=at,
            extension=text_field(item, "extend", required=False, max_len=32),
            data={"sign": text_field(item, "sign", required=False, max_len=64)},
        )

    def callback_answer(self, *, query: Mapping[str, str] | None = None) -> CallbackAnswer:
        return CallbackAnswer(body=b'{"result":0,"errmsg":"OK"}')
