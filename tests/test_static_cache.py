"""Static files under production settings: pages name the hashed copies that collectstatic wrote
(whitenoise's manifest storage), and a hashed file is served with a far-future, immutable
Cache-Control, so a browser asks for the CSS and scripts once per release, not on every page."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import autocrm

SRC = str(Path(autocrm.__file__).resolve().parents[1])

# In the served process, under AUTOCRM_ENV=production: the 404 page (the shell, as an anonymous
# visitor sees it) and the static files it names, through the whole middleware stack.
PROBE = r"""
import json, re, django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="crm.example.com")
page = client.get("/no-such-page/", secure=True)
names = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.content.decode())
out = {"status": page.status_code, "names": names, "files": {}}
for name in names + ["/static/vendor/htmx/htmx.min.js"]:
    response = client.get(name, secure=True)
    out["files"][name] = {"status": response.status_code, "cache": response.get("Cache-Control", "")}
    if hasattr(response, "close"):
        response.close()
print(json.dumps(out))
"""


def test_pages_name_hashed_static_files_served_immutable(tmp_path: Path):
    (tmp_path / "data").mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": SRC,
        "DJANGO_SETTINGS_MODULE": "autocrm.config.settings",
        "AUTOCRM_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "AUTOCRM_DATA_KEY": "k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "ALLOWED_HOSTS": "crm.example.com",
        "AUTOCRM_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'db.sqlite3'}",
        "LOG_LEVEL": "ERROR",
    }

    def run(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    run("-m", "autocrm", "collectstatic", "--no-input", "-v0")
    probe = json.loads(run("-c", PROBE).strip().splitlines()[-1])

    assert probe["status"] == 404
    scripts = [n for n in probe["names"] if n.endswith(".js")]
    assert scripts and probe["names"]
    for name in probe["names"]:
        # htmx.min.js → htmx.min.<12 hex>.js: the manifest's name, not the source's
        assert len(Path(name).suffixes) >= 2 and len(Path(name).suffixes[-2]) == 13, name
        served = probe["files"][name]
        assert served["status"] == 200, name
        directives = {d.strip() for d in served["cache"].split(",")}
        assert "immutable" in directives and "public" in directives, served
        max_age = next(int(d.split("=")[1]) for d in directives if d.startswith("max-age="))
        assert max_age >= 31_536_000, served  # a year or more (whitenoise sends ten)
    # The unhashed name still answers (old links), but is not cached as if it never changed.
    plain = probe["files"]["/static/vendor/htmx/htmx.min.js"]
    assert plain["status"] == 200 and "immutable" not in plain["cache"]
