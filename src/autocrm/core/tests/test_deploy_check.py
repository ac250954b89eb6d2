"""Production settings: Django's deploy checks pass, and missing secrets stop the process."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

import autocrm

SRC = str(Path(autocrm.__file__).resolve().parents[1])


@pytest.fixture
def production_env(tmp_path: Path) -> dict[str, str]:
    # Production creates nothing on its own: the operator provides the data directory.
    (tmp_path / "data").mkdir()
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": SRC,
        "DJANGO_SETTINGS_MODULE": "autocrm.config.settings",
        "AUTOCRM_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "AUTOCRM_DATA_KEY": "k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "ALLOWED_HOSTS": "crm.example.com",
        "AUTOCRM_DATA_DIR": str(tmp_path / "data"),
    }


def _autocrm(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "-m", "autocrm", *args],
        env=env,
        cwd=env["HOME"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_deploy_checks_pass_with_production_settings(production_env):
    result = _autocrm(production_env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    # Nothing was generated into the data dir: production secrets come only from the environment.
    assert not (Path(production_env["AUTOCRM_DATA_DIR"]) / "secret_key").exists()
    assert not (Path(production_env["AUTOCRM_DATA_DIR"]) / "data_key").exists()


def test_production_security_settings_and_debug_ignored(production_env):
    env = {**production_env, "DEBUG": "true"}
    assert _autocrm(env, "check", "--deploy", "--fail-level", "WARNING").returncode == 0
    code = (
        "import json; from django.conf import settings as s; print(json.dumps({k: getattr(s, k) for k in "
        "('DEBUG', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS')}))"
    )
    result = _autocrm(env, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000


@pytest.mark.parametrize("missing", ["SECRET_KEY", "AUTOCRM_DATA_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_a_required_variable(production_env, missing):
    env = {k: v for k, v in production_env.items() if k != missing}
    result = _autocrm(env, "check", "--deploy")
    assert result.returncode != 0
    assert f"{missing} is required" in result.stderr
