"""Test settings: the real settings plus a small tenant-owned model (testapp) that exercises
the platform mechanisms (scope, encryption, audit) before domain modules exist."""

from autocrm.config.settings import *  # noqa: F403
from autocrm.config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "testapp"]
ROOT_URLCONF = "testapp.urls"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; argon2 tested explicitly
HUEY = {**HUEY, "immediate": True}  # noqa: F405
# One process runs the tests, and rolled-back tests would leave committed counters in a table:
# the shared cache is in memory here; core/tests/test_shared_cache.py tests the database one.
CACHES = {**CACHES, "shared": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "shared"}}  # noqa: F405
