"""Worker tasks for big import files: they take ids, rebuild the actor (so a role changed since
the upload is re-checked), reload the job in that actor's scope and run one step."""

from __future__ import annotations

from django.utils.translation import gettext
from huey.contrib.djhuey import db_periodic_task, db_task

from autocrm.accounts.models import User
from autocrm.accounts.selectors import actor_build
from autocrm.core.errors import DomainError
from autocrm.core.schedule import local_crontab

from . import importing


def _run(job_id: int, user_id: int, store_id: int, step: str) -> None:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        importing.import_job_refuse_queued(
            job_id=job_id, reason=gettext("The user who started the import no longer exists.")
        )
        return
    actor = actor_build(user=user, store_id=store_id)
    try:
        job = importing.import_job_get(actor=actor, pk=job_id)
        importing.import_job_authorize(actor, job)
    except DomainError:
        importing.import_job_refuse_queued(job_id=job_id, reason=gettext("You do not have permission to do this."))
        return
    importing.run_step(job, actor, step)


@db_task()
def import_check_task(job_id: int, user_id: int, store_id: int) -> None:
    _run(job_id, user_id, store_id, "check")


@db_task()
def import_commit_task(job_id: int, user_id: int, store_id: int) -> None:
    _run(job_id, user_id, store_id, "commit")


@db_periodic_task(local_crontab(hour="3", minute="17"))
def import_files_purge_task() -> None:
    """Nightly: uploads of imports left unfinished for a week are deleted, and so are files in
    the uploads' directory that no import job holds (orphans)."""
    importing.import_files_purge()
    importing.import_orphans_purge()
