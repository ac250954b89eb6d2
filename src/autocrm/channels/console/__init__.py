"""The console channel — provider ``console``: every message becomes one JSON line in a file
and one INFO line in the log, so that ``make run`` shows what would have been sent without any
provider account.

The file is ``config["path"]``, else ``settings.AUTOCRM_CONSOLE_MESSAGES``, else
``<AUTOCRM_DATA_DIR>/messages.log``. Each line is written with a single ``write`` on a file
opened ``O_APPEND``, so lines of several workers never interleave. ``send`` answers
``delivered``; ``query`` finds a message by our id in the file, so the outbox's reconciliation
after a crash knows whether it was written: exactly once, like the real providers that can
answer a status query.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..base import ChannelClient, ChannelError, ConfigField, Outgoing, SendResult, StatusReport, register

log = logging.getLogger(__name__)


def default_path() -> Path:
    configured = getattr(settings, "AUTOCRM_CONSOLE_MESSAGES", "")
    if configured:
        return Path(configured)
    return Path(getattr(settings, "DATA_DIR", Path.cwd() / "var")) / "messages.log"


@register
class ConsoleClient(ChannelClient):
    provider = "console"
    channel = "console"
    label = _("Console (a file and the log; no provider)")
    config_fields = (
        ConfigField(
            "path",
            _("Messages file"),
            required=False,
            help=_("Default: messages.log in the data directory."),
        ),
    )
    can_query = True
    rate_per_second = 10_000.0

    @property
    def path(self) -> Path:
        configured = self.config.get("path")
        return Path(configured) if configured else default_path()

    def send(self, message: Outgoing) -> SendResult:
        at = timezone.now()
        record = {
            "at": at.isoformat(),
            "message_id": message.message_id,
            "to": message.to,
            "template_code": message.template_code,
            "params": list(message.params),
            "data": dict(message.data),
            "subject": message.subject,
            "text": message.text,
            "html": message.html,
            "sign_name": message.sign_name,
            "link": message.link,
            "extra": dict(message.extra),
        }
        line = (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode()
        path = self.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        except OSError as exc:
            raise ChannelError("retry", "io", str(exc)) from exc
        summary = (message.subject or message.text).replace("\n", " ")[:120]
        log.info("console message %s to %s: %s", message.message_id, message.to, summary)
        return SendResult(provider_id=f"console:{message.message_id}", status="delivered", raw={"file": str(path)})

    def query(self, message_id: str, *, to: str, sent_at: dt.datetime) -> StatusReport | None:
        needle = json.dumps(message_id)
        try:
            with self.path.open(encoding="utf-8", errors="replace") as lines:
                for line in lines:
                    if needle not in line:
                        continue
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue  # a line cut short by a crash
                    if isinstance(record, dict) and record.get("message_id") == message_id:
                        try:
                            at = dt.datetime.fromisoformat(str(record.get("at")))
                        except ValueError:
                            at = None
                        return StatusReport(
                            provider_id=f"console:{message_id}",
                            status="delivered",
                            message_id=message_id,
                            to=str(record.get("to", "")),
                            at=at,
                        )
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ChannelError("retry", "io", str(exc)) from exc
        return None
