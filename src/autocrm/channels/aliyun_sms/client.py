"""Alibaba Cloud SMS (阿里云短信服务, dysmsapi), RPC API version 2017-05-25, HMAC-SHA1 RPC signature.

* ``send`` → ``SendSms`` with our message id as ``OutId``; answers ``BizId``.
* ``query`` → ``QuerySendDetails`` for the number on the Beijing date of ``sent_at`` (and the
  neighbouring date when ``sent_at`` is within minutes of midnight), every page, looking for our
  ``OutId``. Aliyun lists a message from its acceptance on (status 1 = waiting for the receipt).
* ``parse_callback`` → the HTTP pushes of ``SmsReport`` (receipts) and ``SmsUp`` (replies), both
  JSON arrays, authenticated by the store's secret in the callback URL (Aliyun signs neither).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from autocrm.channels.aliyun_sms import errors, signing
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
    SHANGHAI,
    PooledHttpClient,
    check_fresh,
    json_answer,
    looks_blacklisted,
    shanghai_time,
    split_mobile,
    text_field,
)

API_HOST = "dysmsapi.aliyuncs.com"
API_VERSION = "2017-05-25"
PAGE_SIZE = 50  # QuerySendDetails' largest page
MAX_PAGES = 200
MIDNIGHT_MARGIN = dt.timedelta(minutes=10)
SEND_STATUS = {"1": "accepted", "2": "failed", "3": "delivered"}  # 等待回执 / 发送失败 / 发送成功


def provider_number(country: str, national: str) -> str:
    """Mainland numbers as 11 digits (no +86); others with their country code, no ``+``."""
    return national if country == "86" else f"{country}{national}"


def e164_from_provider(number: str) -> str:
    digits = number.strip().lstrip("+")
    if len(digits) == 11 and digits.startswith("1"):
        return f"+86{digits}"
    return f"+{digits}"


@register
class AliyunSmsClient(PooledHttpClient):
    provider = "aliyun_sms"
    channel = "sms"
    label = _("Alibaba Cloud SMS")
    config_fields = (
        ConfigField("access_key_id", _("AccessKey ID")),
        ConfigField("access_key_secret", _("AccessKey secret"), secret=True),
        ConfigField("sign_name", _("Signature name"), help=_("The approved SMS signature, without 【】.")),
    )
    can_query = True
    # SendSms's own per-account QPS is not in the documentation we found (QuerySendDetails: 5,000/s);
    # 1,000/s is the outbox's target, and Aliyun answers Throttling.* (rate_limited) above its limit.
    rate_per_second = 1000.0
    # Aliyun lists a message as soon as it accepts it; a short margin covers its indexing delay.
    query_settle = dt.timedelta(seconds=60)

    @property
    def _url(self) -> str:
        return (self.endpoint or f"https://{API_HOST}").rstrip("/") + "/"

    def _call(self, action: str, params: Mapping[str, str]) -> dict[str, Any]:
        key_id = self.config.get("access_key_id", "")
        secret = self.config.get("access_key_secret", "")
        if not key_id or not secret:
            raise ChannelError("auth", "config.missing_credentials", "AccessKey not configured")
        signed = {
            "AccessKeyId": key_id,
            "Action": action,
            "Format": "JSON",
            "RegionId": self.config.get("region_id") or "cn-hangzhou",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION,
            **params,
        }
        signed["Signature"] = signing.signature(secret, "POST", signed)
        body = "&".join(f"{signing.percent_encode(k)}={signing.percent_encode(v)}" for k, v in signed.items())
        response = self._post(
            "/",
            content=body.encode("ascii"),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        )
        answer = json_answer(response)
        code = str(answer.get("Code", ""))
        if code != "OK":
            raise errors.to_error(code or f"http.{response.status_code}", str(answer.get("Message", "")))
        return answer

    # -- send -----------------------------------------------------------------------------------

    def send(self, message: Outgoing) -> SendResult:
        country, national = split_mobile(message.to)
        if not message.template_code:
            raise ChannelError("permanent", "missing_template", "TemplateCode is required")
        sign_name = message.sign_name or self.config.get("sign_name", "")
        if not sign_name:
            raise ChannelError("permanent", "missing_sign_name", "SignName is required")
        params = {
            "PhoneNumbers": provider_number(country, national),
            "SignName": sign_name,
            "TemplateCode": message.template_code,
            "OutId": message.message_id,
        }
        if message.data:
            params["TemplateParam"] = json.dumps(
                {k: str(v) for k, v in message.data.items()}, ensure_ascii=False, separators=(",", ":")
            )
        answer = self._call("SendSms", params)
        biz_id = str(answer.get("BizId") or "")
        if not biz_id:
            raise ChannelError("retry", "answer.no_biz_id", "BizId missing", in_doubt=True)
        raw = {"BizId": biz_id, "Code": "OK", "RequestId": answer.get("RequestId", "")}
        return SendResult(provider_id=biz_id, status="accepted", raw=raw)

    # -- query ----------------------------------------------------------------------------------

    def query(self, message_id: str, *, to: str, sent_at: dt.datetime) -> StatusReport | None:
        country, national = split_mobile(to)
        number = provider_number(country, national)
        now = dt.datetime.now(dt.UTC)
        local = sent_at.astimezone(SHANGHAI)
        dates = [local.date()]
        if (local - MIDNIGHT_MARGIN).date() != local.date():
            dates.insert(0, (local - MIDNIGHT_MARGIN).date())
        if (local + MIDNIGHT_MARGIN).date() != local.date() and local + MIDNIGHT_MARGIN <= now + MIDNIGHT_MARGIN:
            dates.append((local + MIDNIGHT_MARGIN).date())
        for day in dates:
            found = self._find_on(number, day, message_id)
            if found is not None:
                return found
        self._not_found(now=now, sent_at=sent_at, code="query.not_listed_yet", text="sent moments ago")
        return None

    def _find_on(self, number: str, day: dt.date, message_id: str) -> StatusReport | None:
        for page in range(1, MAX_PAGES + 1):
            answer = self._call(
                "QuerySendDetails",
                {
                    "PhoneNumber": number,
                    "SendDate": day.strftime("%Y%m%d"),
                    "PageSize": str(PAGE_SIZE),
                    "CurrentPage": str(page),
                },
            )
            holder = answer.get("SmsSendDetailDTOs") or {}
            details = holder.get("SmsSendDetailDTO") if isinstance(holder, dict) else holder
            if not isinstance(details, list):
                raise ChannelError("retry", "answer.malformed", "SmsSendDetailDTOs is not a list")
            for detail in details:
                if isinstance(detail, dict) and detail.get("OutId") == message_id:
                    return self._detail_report(detail, message_id)
            try:
                total = int(answer.get("TotalCount") or 0)
            except (TypeError, ValueError):
                total = 0
            if not details or page * PAGE_SIZE >= total:
                return None
        return None

    @staticmethod
    def _detail_report(detail: Mapping[str, Any], message_id: str) -> StatusReport:
        status = SEND_STATUS.get(str(detail.get("SendStatus", "")), "accepted")
        code = str(detail.get("ErrCode", "") or "")
        at = None
        if detail.get("ReceiveDate"):
            try:
                at = shanghai_time(str(detail["ReceiveDate"]))
            except CallbackRejected:
                at = None
        return StatusReport(
            provider_id=str(detail.get("BizId", "") or ""),  # not in the documented answer; matched on OutId
            status=status,  # type: ignore[arg-type]
            message_id=message_id,
            to=e164_from_provider(str(detail.get("PhoneNum", ""))),
            code=code,
            at=at,
            blacklisted=status == "failed" and looks_blacklisted(code),
        )

    # -- callbacks ------------------------------------------------------------------------------

    push_kinds = (("success", "_report"), ("content", "_sms_up"))
    push_neither = "neither SmsReport nor SmsUp"

    @staticmethod
    def _report(item: Mapping[str, Any], now: dt.datetime) -> StatusReport:
        success = item.get("success")
        if isinstance(success, str) and success.lower() in ("true", "false"):
            success = success.lower() == "true"
        if not isinstance(success, bool):
            raise CallbackRejected("success malformed")
        at = shanghai_time(text_field(item, "report_time"))
        check_fresh(at, now)
        err_code = text_field(item, "err_code", required=False, max_len=64)
        err_msg = text_field(item, "err_msg", required=False, max_len=500)
        status = "delivered" if success else "failed"
        return StatusReport(
            provider_id=text_field(item, "biz_id", max_len=128),
            status=status,  # type: ignore[arg-type]
            message_id=text_field(item, "out_id", required=False, max_len=256),
            to=e164_from_provider(text_field(item, "phone_number", max_len=32)),
            code=err_code,
            description=err_msg,
            at=at,
            blacklisted=not success and looks_blacklisted(err_code, err_msg),
        )

    @staticmethod
    def _sms_up(item: Mapping[str, Any], now: dt.datetime) -> InboundReply:
        at = shanghai_time(text_field(item, "send_time"))
        check_fresh(at, now)
        return InboundReply(
            sender=e164_from_provider(text_field(item, "phone_number", max_len=32)),
            text=text_field(item, "content", max_len=1000),
            at=at,
            extension=text_field(item, "dest_code", required=False, max_len=32),
            data={
                "sign_name": text_field(item, "sign_name", required=False, max_len=64),
                "sequence_id": text_field(item, "sequence_id", required=False, max_len=32),
            },
        )

    def callback_answer(self, *, query: Mapping[str, str] | None = None) -> CallbackAnswer:
        return CallbackAnswer(body='{"code":0,"msg":"成功"}'.encode())
