"""The REST API at /api/v1/: one NinjaAPI that mounts each app's router (API.md)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI, Status

from autocrm.accounts.auth import BearerAuth
from autocrm.core.api import install_handlers, mount_routers
from autocrm.core.health import check_database, check_queue
from autocrm.core.tasks import worker_last_seen

api = NinjaAPI(
    title="autocrm API",
    version="1",
    description="REST API of autocrm. Errors: {code, message, fields}. Lists: keyset pages {items, next_cursor}.",
    auth=BearerAuth(),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_handlers(api)


@api.get("/health", auth=None, tags=["system"], response={200: dict, 503: dict})
def health(request: HttpRequest) -> Status[dict[str, str]]:
    """No auth. 200 when the database and the queue answer; 503 naming what is down.

    ``worker`` says whether a worker stamped the queue in the last 3 minutes ("ok"), earlier
    ("stale") or never ("unknown"); it informs, it does not fail the check, because web nodes
    and workers may be deployed apart."""
    db_ok, queue_ok = check_database(), check_queue()
    seen = worker_last_seen() if queue_ok else None
    body = {
        "status": "ok" if db_ok and queue_ok else "down",
        "database": "ok" if db_ok else "down",
        "queue": "ok" if queue_ok else "down",
        "worker": "unknown" if seen is None else "ok" if seen < 180 else "stale",
    }
    return Status(200 if db_ok and queue_ok else 503, body)


mount_routers(api)
