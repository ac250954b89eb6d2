"""``autocrm worker`` prints each of huey's log lines once (it printed every line twice: once
through the handler huey's run_huey adds, once through the root logger's)."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading


def _worker_output_until(marker: str, env: dict[str, str], timeout: float = 60.0) -> list[str]:
    """Start the worker, collect its output lines until one contains ``marker`` (huey's last
    start-up line), then stop it. A lost or missing line fails on the timeout, never hangs."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "autocrm", "worker", "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    try:
        while True:
            line = lines.get(timeout=timeout)
            if line is None:
                break
            seen.append(line)
            if marker in line:
                break
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    # Lines written before the stop (a duplicate of the marker line would already be here).
    while True:
        try:
            line = lines.get(timeout=5)
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
    return seen


def test_worker_prints_each_huey_line_once(tmp_path):
    env = {
        **os.environ,
        "AUTOCRM_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "autocrm.config.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "LOG_LEVEL": "INFO",
        "REDIS_URL": "",
    }
    output = _worker_output_until("commands are available", env)

    started = [line for line in output if "Huey consumer started" in line]
    assert len(started) == 1, output
    available = [line for line in output if "commands are available" in line]
    assert len(available) == 1, output
    # Through our formatter (time, level, logger), not huey's own one.
    assert " INFO huey" in started[0], started[0]
