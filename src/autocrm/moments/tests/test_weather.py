"""The QWeather alerts client against a local server that checks what QWeather checks (the path
with latitude and longitude, the EdDSA JWT signed by the project's key, its kid/sub/iat/exp), and
the weather moment: rain, snow, heat and typhoon alerts → driving tips, once per alert id."""

import base64
import gzip
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.maintenance.tests.factories import make_vehicle
from autocrm.moments import qweather, services
from autocrm.moments.models import MomentSend, WeatherWarning

ALERTS = {
    "metadata": {"tag": "x", "zeroResult": False, "attributions": []},
    "alerts": [
        {"id": "202612021030001", "senderName": "上海中心气象台", "issuedTime": "2026-12-02T10:30+08:00",
         "messageType": {"code": "new"}, "eventType": {"name": "暴雨", "code": "1003"}, "severity": "moderate",
         "color": {"code": "orange"}, "headline": "上海中心气象台发布暴雨橙色预警", "description": "预计未来6小时…"},
        {"id": "202612021030002", "messageType": {"code": "new"}, "eventType": {"name": "大风", "code": "1006"},
         "severity": "minor", "color": {"code": "blue"}, "headline": "大风蓝色预警", "description": ""},
        {"id": "202612021030003", "messageType": {"code": "cancel"}, "eventType": {"name": "高温", "code": "1009"},
         "headline": "高温预警解除"},
    ],
}  # fmt: skip


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FakeQWeather:
    """Answers /weatheralert/v1/current/{lat}/{lon} only with a valid JWT; records each request."""

    def __init__(self, public_key, *, kid, project):
        self.public_key, self.kid, self.project = public_key, kid, project
        self.requests, self.body = [], ALERTS
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake.requests.append(self.path)
                status, payload = fake.check(self.path, self.headers.get("Authorization", ""))
                body = gzip.compress(json.dumps(payload).encode())
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def check(self, path, auth):
        route, _, query = path.partition("?")
        parts = route.strip("/").split("/")
        if parts[:3] != ["weatheralert", "v1", "current"] or len(parts) != 5:
            return 404, {"error": {"status": 404}}
        float(parts[3]), float(parts[4])
        if "localTime=true" not in query or not auth.startswith("Bearer "):
            return 400, {"error": {"status": 400}}
        try:
            header_b64, payload_b64, sig_b64 = auth[7:].split(".")
            self.public_key.verify(_unb64(sig_b64), f"{header_b64}.{payload_b64}".encode())
            header, payload = json.loads(_unb64(header_b64)), json.loads(_unb64(payload_b64))
        except Exception:
            return 401, {"error": {"status": 401, "title": "Unauthorized"}}
        now = time.time()
        ok = (header == {"alg": "EdDSA", "kid": self.kid} and payload["sub"] == self.project
              and payload["iat"] <= now and payload["exp"] > now and payload["exp"] - payload["iat"] <= 86400)  # fmt: skip
        return (200, self.body) if ok else (401, {"error": {"status": 401}})

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def qweather_server(settings):
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()  # fmt: skip
    server = FakeQWeather(key.public_key(), kid="KID123", project="PRJ456")
    settings.QWEATHER_API_HOST, settings.QWEATHER_PROJECT_ID = server.url, "PRJ456"
    settings.QWEATHER_KEY_ID, settings.QWEATHER_PRIVATE_KEY = "KID123", pem
    yield server
    server.stop()


def test_client_signs_and_reads_alerts(qweather_server):
    creds = qweather.credentials()
    alerts = qweather.alerts(creds, ("31.23", "121.47"))
    assert qweather_server.requests == ["/weatheralert/v1/current/31.23/121.47?localTime=true&lang=zh"]
    assert [a.id for a in alerts] == ["202612021030001", "202612021030002", "202612021030003"]
    assert [qweather.hazard_of(a) for a in alerts] == ["rain", "", "heat"]
    assert alerts[0].issued_at.isoformat() == "2026-12-02T10:30:00+08:00"


def test_a_wrong_key_is_refused_by_the_server(qweather_server, settings):
    other = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()  # fmt: skip
    settings.QWEATHER_PRIVATE_KEY = other
    with pytest.raises(qweather.WeatherError, match="401"):
        qweather.alerts(qweather.credentials(), ("31.23", "121.47"))


def test_location_parsing():
    assert qweather.parse_location("31.2304,121.4737") == ("31.23", "121.47")
    for bad in ("", "31.2", "north,south", "91,0", "nan,1", "1e999,2"):
        assert qweather.parse_location(bad) is None


def test_rain_alert_tells_drivers_once(world, qweather_server):
    manager = actor_for("manager_a", "a")
    driver = make_customer(manager, name="司机甲")
    make_vehicle(world["a"], customer=driver)
    walker = make_customer(manager, name="无车客户")
    services.trigger_save(actor=manager, kind="weather", data={
        "is_active": True, "days_before": 0, "template_code": "moment_weather", "location": "31.23,121.47"})  # fmt: skip
    new = services.weather_check(store_id=world["a"].pk)
    assert {w.warning_id for w in new} == {"202612021030001", "202612021030002"}  # a cancel is not a warning
    rain = WeatherWarning.objects.get(warning_id="202612021030001")
    assert rain.hazard == "rain" and rain.recipients >= 1
    sent = MomentSend.objects.get(customer=driver, kind="weather")
    assert sent.purpose == "service" and sent.occasion == "w:202612021030001"
    assert not MomentSend.objects.filter(customer=walker).exists()
    assert services.weather_check(store_id=world["a"].pk) == []  # the same alerts again: nothing
    assert MomentSend.objects.filter(customer=driver, kind="weather").count() == 1


def test_no_credentials_or_trigger_off_asks_nobody(world, qweather_server, settings):
    assert services.weather_check(store_id=world["a"].pk) == []  # no weather trigger in the store
    settings.QWEATHER_PRIVATE_KEY = ""
    services.trigger_save(actor=actor_for("manager_a", "a"), kind="weather", data={
        "is_active": True, "days_before": 0, "template_code": "moment_weather", "location": "31.23,121.47"})  # fmt: skip
    assert services.weather_check(store_id=world["a"].pk) == []
    assert qweather_server.requests == []
