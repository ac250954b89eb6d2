"""Test settings: the real settings plus a small tenant-owned model (testapp) that exercises
the platform mechanisms (scope, encryption, audit) before domain modules exist."""

from autocrm.config.settings import *  # noqa: F403
from autocrm.config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "testapp"]
ROOT_URLCONF = "testapp.urls"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; argon2 tested explicitly
HUEY = {**HUEY, "immediate": True}  # noqa: F405
