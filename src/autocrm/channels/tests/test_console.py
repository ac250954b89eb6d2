"""The console channel: one JSON line per message in the data directory's file, one log line,
and a status query that finds the message by our id (so a crash never doubles it)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import multiprocessing
import uuid

import pytest

from autocrm.channels.base import ChannelError, Outgoing, client_class
from autocrm.channels.console import ConsoleClient

NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


def note(**kwargs) -> Outgoing:
    defaults = {
        "message_id": uuid.uuid4().hex,
        "to": "+8613812345678",
        "text": "王先生您好，您的爱车明天09:30保养，请准时到店。",
        "template_code": "1234567",
        "params": ("王先生", "09:30"),
        "data": {"name": "王先生"},
    }
    return Outgoing(**{**defaults, **kwargs})


def test_a_message_is_one_json_line_in_the_data_directory_and_one_log_line(settings, tmp_path, caplog):
    settings.DATA_DIR = tmp_path
    settings.AUTOCRM_CONSOLE_MESSAGES = ""
    msg = note()
    with caplog.at_level(logging.INFO, logger="autocrm.channels.console"):
        result = ConsoleClient({}).send(msg)

    assert result.status == "delivered"
    [line] = (tmp_path / "messages.log").read_text(encoding="utf-8").splitlines()
    record = json.loads(line)
    assert record["message_id"] == msg.message_id
    assert record["to"] == "+8613812345678"
    assert record["text"] == msg.text
    assert record["params"] == ["王先生", "09:30"]
    assert dt.datetime.fromisoformat(record["at"]).tzinfo is not None
    assert "王先生您好" in line  # readable, not \\u-escaped
    [logged] = [r for r in caplog.records if r.name == "autocrm.channels.console"]
    assert logged.levelno == logging.INFO
    assert msg.message_id in logged.getMessage()


def test_the_file_can_be_set(settings, tmp_path):
    settings.AUTOCRM_CONSOLE_MESSAGES = str(tmp_path / "elsewhere" / "out.jsonl")
    ConsoleClient({}).send(note())
    assert (tmp_path / "elsewhere" / "out.jsonl").exists()
    ConsoleClient({"path": str(tmp_path / "mine.log")}).send(note())
    assert (tmp_path / "mine.log").exists()


def test_query_finds_a_written_message_and_not_an_unwritten_one(tmp_path):
    client = ConsoleClient({"path": str(tmp_path / "m.log")})
    assert client_class("console") is ConsoleClient and client.can_query
    assert client.query("0" * 32, to="x", sent_at=NOW) is None  # no file yet
    msg = note()
    client.send(note())
    client.send(msg)
    client.send(note())
    report = client.query(msg.message_id, to=msg.to, sent_at=NOW)
    assert report is not None
    assert (report.status, report.message_id, report.to) == ("delivered", msg.message_id, msg.to)
    assert client.query(uuid.uuid4().hex, to=msg.to, sent_at=NOW) is None


def test_a_line_cut_short_by_a_crash_is_skipped(tmp_path):
    path = tmp_path / "m.log"
    msg = note()
    path.write_text('{"message_id": "' + msg.message_id + '", "to": "+86138\n', encoding="utf-8")
    client = ConsoleClient({"path": str(path)})
    assert client.query(msg.message_id, to=msg.to, sent_at=NOW) is None
    client.send(msg)
    assert client.query(msg.message_id, to=msg.to, sent_at=NOW) is not None


def test_an_unwritable_file_is_a_retry(tmp_path):
    (tmp_path / "dir").mkdir()
    with pytest.raises(ChannelError) as caught:
        ConsoleClient({"path": str(tmp_path / "dir")}).send(note())
    assert caught.value.kind == "retry"


def _write_many(path: str, worker: int) -> None:
    client = ConsoleClient({"path": path})
    for i in range(200):
        client.send(note(message_id=f"{worker:02d}{i:030d}", text="长" * 3000))


def test_lines_of_several_processes_never_interleave(tmp_path):
    path = str(tmp_path / "m.log")
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_write_many, args=(path, n)) for n in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    lines = (tmp_path / "m.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 600
    assert len({json.loads(line)["message_id"] for line in lines}) == 600
