"""``autocrm worker``: run task workers alone (production: on as many machines as needed)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the Huey task consumer (RedisHuey when REDIS_URL is set, SqliteHuey otherwise)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("-w", "--workers", type=int, default=None, help="worker threads")

    def handle(self, *args: Any, **options: Any) -> None:
        extra = ["--workers", str(options["workers"])] if options["workers"] else []
        # The settings keep huey quiet in web processes; the worker shows what it does (task
        # started, executed, retried) at the configured level, through the one console handler.
        logging.getLogger("huey").setLevel(settings.LOGGING["root"]["level"])
        call_command("run_huey", *extra)
