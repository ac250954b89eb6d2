"""``autocrm run``: the embedded default — the web app and a task worker together.

Ctrl-C (or SIGTERM) stops both. Production runs them apart: gunicorn for the web,
``autocrm worker`` for tasks, on as many machines as needed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve the web app (gunicorn) and run a task worker together; Ctrl-C stops both."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("AUTOCRM_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("AUTOCRM_PORT", "8000")))
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--threads", type=int, default=4)

    def handle(self, *args: Any, **options: Any) -> None:
        env = dict(os.environ)
        web = [
            sys.executable, "-m", "gunicorn", "autocrm.config.wsgi:application",
            "--bind", f"{options['host']}:{options['port']}",
            "--workers", str(options["web_workers"]), "--threads", str(options["threads"]),
            "--access-logfile", "-", "--graceful-timeout", "5",
        ]  # fmt: skip
        worker = [sys.executable, "-m", "autocrm", "worker"]
        children = [subprocess.Popen(web, env=env), subprocess.Popen(worker, env=env)]  # noqa: S603
        self.stdout.write(f"autocrm is serving on http://{options['host']}:{options['port']}/ (Ctrl-C stops)")

        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping and all(child.poll() is None for child in children):
                time.sleep(0.5)
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
        failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM, -signal.SIGINT, None)]
        if failed and not stopping:
            sys.exit(1)
