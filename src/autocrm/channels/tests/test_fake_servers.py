"""The fake providers as other tests use them: in a process of their own on a port, reached over
HTTP (accepted messages, fault injection), remembering messages across client objects."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from autocrm.channels.aliyun_sms import AliyunSmsClient
from autocrm.channels.base import ChannelError, Outgoing
from autocrm.channels.tencent_sms import TencentSmsClient

SRC = Path(__file__).resolve().parents[3]


@pytest.fixture(params=["tencent", "aliyun"])
def fake_process(request):
    process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "autocrm.channels.testing.servers", request.param, "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
    )
    try:
        assert process.stdout is not None
        ready, url, config = process.stdout.readline().split(" ", 2)
        assert ready == "READY"
        yield request.param, url, json.loads(config)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_fake_in_its_own_process_accepts_remembers_and_takes_orders_over_http(fake_process):
    name, url, config = fake_process
    client_class = TencentSmsClient if name == "tencent" else AliyunSmsClient
    first = client_class(config, endpoint=url)
    message = Outgoing(message_id=uuid.uuid4().hex, to="+8613812345678", template_code="SMS_1", params=("1",))
    sent_at = dt.datetime.now(dt.UTC)
    result = first.send(message)
    first.close()

    listed = httpx.get(f"{url}/_fake/messages", trust_env=False).json()
    assert [(m["message_id"], m["provider_id"]) for m in listed] == [(message.message_id, result.provider_id)]

    # A client created later (another worker after a crash) finds it by our id.
    second = client_class(config, endpoint=url)
    report = second.query(message.message_id, to=message.to, sent_at=sent_at)
    assert report is not None and report.message_id == message.message_id

    code = "FailedOperation.PhoneNumberInBlacklist" if name == "tencent" else "isv.CUSTOMER_REFUSED"
    answer = httpx.post(f"{url}/_fake/control", json={"action": "fail_next", "code": code}, trust_env=False)
    assert answer.json() == {"ok": True}
    with pytest.raises(ChannelError) as caught:
        second.send(Outgoing(message_id=uuid.uuid4().hex, to="+8613812345678", template_code="SMS_1"))
    assert caught.value.kind == "blacklist"
    second.close()
