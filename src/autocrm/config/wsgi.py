"""WSGI entry point (gunicorn autocrm.config.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autocrm.config.settings")
application = get_wsgi_application()
