import base64
import os
import secrets
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from autocrm.accounts.models import User
from autocrm.demo.services import demo_create


def test_service_refuses_in_production(db, settings):
    settings.PRODUCTION = True
    with pytest.raises(ImproperlyConfigured):
        demo_create()
    assert not User.objects.filter(username="admin").exists()


def test_command_refuses_in_production(tmp_path):
    env = {
        **os.environ,
        "AUTOCRM_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "AUTOCRM_DATA_KEY": "k1:" + base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "ALLOWED_HOSTS": "crm.example.com",
        "AUTOCRM_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "autocrm.config.settings",
    }
    result = subprocess.run(
        [sys.executable, "-m", "autocrm", "demo"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "production" in (result.stderr + result.stdout)
