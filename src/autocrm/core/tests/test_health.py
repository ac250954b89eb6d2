"""``/api/v1/health`` against a real Redis queue and a database that goes away, and the
OpenAPI document."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time

import huey
import huey.contrib.djhuey
import pytest
from django.db import connection

URL = "/api/v1/health"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
        return True
    return False


def _wait_port(port: int, *, open_: bool, within: float = 10.0) -> None:
    """Poll (bounded) until the port is accepting connections, or refusing them."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if _port_open(port) == open_:
            return
    raise AssertionError(f"port {port} did not become {'open' if open_ else 'closed'} within {within}s")


@pytest.fixture(autouse=True)
def _no_heartbeat():
    """The in-memory test queue outlives a test: start each without a worker stamp."""
    from huey.contrib.djhuey import HUEY

    from autocrm.core.tasks import HEARTBEAT_KEY

    HUEY.get(HEARTBEAT_KEY)  # get() without peek removes the key
    yield
    HUEY.get(HEARTBEAT_KEY)


def test_health_ok(db, client):
    resp = client.get(URL)

    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "database": "ok", "queue": "ok", "worker": "unknown"}


def test_health_reports_the_worker_heartbeat(db, client, monkeypatch):
    from autocrm.core import tasks

    tasks.worker_heartbeat()  # what a running worker does every minute
    assert client.get(URL).json()["worker"] == "ok"
    monkeypatch.setattr(tasks.time, "time", lambda: 10**10)  # long after the last stamp
    body = client.get(URL).json()
    assert body["worker"] == "stale" and body["status"] == "ok"


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_health_reports_a_stopped_queue(db, client, monkeypatch):
    port = _free_port()
    proc = subprocess.Popen(  # noqa: S603
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],  # noqa: S607
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port, open_=True)
        monkeypatch.setattr(huey.contrib.djhuey, "HUEY", huey.RedisHuey("autocrm-health-test", port=port))

        up = client.get(URL)
        proc.terminate()
        proc.wait(timeout=10)
        _wait_port(port, open_=False)
        down = client.get(URL)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

    assert up.status_code == 200
    assert up.json() == {"status": "ok", "database": "ok", "queue": "ok", "worker": "unknown"}
    assert down.status_code == 503
    assert down.json() == {"status": "down", "database": "ok", "queue": "down", "worker": "unknown"}


@pytest.mark.django_db(transaction=True)
def test_health_reports_an_unreachable_database(client, tmp_path):
    saved = dict(connection.settings_dict)
    raw = None
    if connection.vendor == "sqlite":
        # The test database lives in memory: keep its connection aside rather than close it.
        connection.ensure_connection()
        raw, connection.connection = connection.connection, None
        connection.settings_dict["NAME"] = str(tmp_path / "no-such-dir" / "db.sqlite3")
    else:
        connection.close()
        connection.settings_dict.update({"HOST": "127.0.0.1", "PORT": 1})
    try:
        down = client.get(URL)
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
        if raw is not None:
            connection.connection = raw
        else:
            connection.close()

    assert down.status_code == 503
    assert down.json() == {"status": "down", "database": "down", "queue": "ok", "worker": "unknown"}
    assert client.get(URL).status_code == 200


def test_openapi_lists_the_platform_endpoints(db, client):
    resp = client.get("/api/v1/openapi.json")

    assert resp.status_code == 200
    doc = resp.json()
    assert doc["openapi"].startswith("3.")
    for path in ("/api/v1/auth/token", "/api/v1/me", "/api/v1/health", "/api/v1/api-tokens", "/api/v1/audit-events"):
        assert path in doc["paths"], path
    assert "post" in doc["paths"]["/api/v1/auth/token"]
    assert client.get("/api/v1/docs").status_code == 200
