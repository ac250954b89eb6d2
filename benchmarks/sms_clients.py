"""Sends per second through the SMS provider clients against their local fake servers (issue 12:
the outbox must reach 1,000 messages/s with 2 workers, so one client must not be the limit).

    .venv/bin/python benchmarks/sms_clients.py [--seconds 5] [--threads 1]

For each provider: one client object (one pooled, kept-alive ``httpx.Client``), ``--threads``
threads calling ``send`` in a loop for ``--seconds``; every request is signed and the fake
verifies the signature (its own implementation) before it accepts. Prints sends/s, the mean and
p99 latency, and the TCP connections the fake saw. The fake runs in this process (its own
threads), so the figure is the client and the fake together on the same cores: a lower bound.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testsettings")


class _ProcessFake:
    """The fake in a process of its own (``python -m autocrm.channels.testing.servers``), so that
    the client's thread does not share the interpreter lock with the server's."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self) -> _ProcessFake:
        import json
        import subprocess

        self.process = subprocess.Popen(
            [sys.executable, "-m", "autocrm.channels.testing.servers", self.name, "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )
        assert self.process.stdout is not None
        _ready, self.url, config = self.process.stdout.readline().split(" ", 2)
        self.config = json.loads(config)
        return self

    def client_config(self) -> dict[str, str]:
        return dict(self.config)

    @property
    def connections(self) -> str:
        return "?"

    def cpu_seconds(self) -> float:
        """utime + stime of the fake's process (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def run(provider: str, seconds: float, threads: int, *, separate: bool = False) -> dict[str, float]:
    from autocrm.channels.aliyun_sms import AliyunSmsClient
    from autocrm.channels.base import Outgoing
    from autocrm.channels.tencent_sms import TencentSmsClient
    from autocrm.channels.testing.servers import FakeAliyunSms, FakeTencentSms

    fake_class, client_class = {
        "tencent_sms": (FakeTencentSms, TencentSmsClient),
        "aliyun_sms": (FakeAliyunSms, AliyunSmsClient),
    }[provider]
    latencies: list[float] = []
    lock = threading.Lock()
    with _ProcessFake(fake_class.name) if separate else fake_class() as fake:
        client = client_class(fake.client_config(), endpoint=fake.url)
        for _ in range(50):  # warm up: the connection, the first imports
            client.send(Outgoing(message_id=uuid.uuid4().hex, to="+8613812345678", template_code="1110", params=("1",)))
        deadline = time.perf_counter() + seconds

        def loop() -> None:
            mine: list[float] = []
            while time.perf_counter() < deadline:
                message = Outgoing(
                    message_id=uuid.uuid4().hex,
                    to="+8613812345678",
                    template_code="1110",
                    params=("4370",),
                    data={"code": "4370"},
                )
                start = time.perf_counter()
                client.send(message)
                mine.append(time.perf_counter() - start)
            with lock:
                latencies.extend(mine)

        workers = [threading.Thread(target=loop) for _ in range(threads)]
        started = time.perf_counter()
        cpu_started = time.process_time()
        fake_cpu_started = fake.cpu_seconds() if separate else 0.0
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        fake_cpu = fake.cpu_seconds() - fake_cpu_started if separate else 0.0
        client.close()
        connections = fake.connections
    latencies.sort()
    return {
        "sends": len(latencies),
        "per_second": len(latencies) / elapsed,
        "mean_ms": statistics.fmean(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "connections": connections,
        "cpu_ms": cpu / len(latencies) * 1000,  # this process's CPU per send (client, and fake if in-process)
        "fake_cpu_ms": fake_cpu / len(latencies) * 1000,  # the fake's CPU per request (--fake-process)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--fake-process", action="store_true", help="run the fake in a process of its own")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    import django

    django.setup()
    for provider in ("tencent_sms", "aliyun_sms"):
        figures = run(provider, args.seconds, args.threads, separate=args.fake_process)
        print(
            f"{provider}: {figures['per_second']:,.0f} sends/s from {args.threads} thread(s) "
            f"({figures['sends']:,} in {args.seconds:g} s; mean {figures['mean_ms']:.2f} ms, "
            f"p99 {figures['p99_ms']:.2f} ms; {figures['cpu_ms']:.3f} ms CPU a send in this process; "
            f"{figures['connections']} TCP connection(s)"
            + (
                f"; fake in its own process, {figures['fake_cpu_ms']:.3f} ms CPU a request there"
                if args.fake_process
                else ""
            )
            + ")"
        )


if __name__ == "__main__":
    main()
