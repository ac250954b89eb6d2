"""A real worker process for the exactly-once tests: ``python worker_proc.py <mode> <message id>``
against the database in ``DATABASE_URL`` (the test database, or a file copy of it on SQLite).

``deliver``: the worker's delivery of one message (the test kills it while the fake provider holds
its answer). ``reconcile``: another worker's sweep finding the stale claim. ``state``: the
message's status and attempts as JSON (how the test reads a SQLite copy). ``kick-stuck``: the
production kick (``message_kick_task``: the batch loop) with every answer read and written, the
batch's transaction not committed yet — it says so and waits there to be killed. ``sweep``: a
later minute's sweep, then the delivery loop (any resend would happen there)."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testsettings")

import django

django.setup()

from django.utils import timezone  # noqa: E402

from autocrm.messaging import outbox  # noqa: E402
from autocrm.messaging.models import Message, MessageAttempt  # noqa: E402
from autocrm.messaging.tests import fakes  # noqa: E402, F401  (registers the fake clients)

mode, message_id = sys.argv[1], int(sys.argv[2])
if mode == "deliver":
    print(json.dumps({"outcome": outbox.deliver(message_id, worker="doomed-worker").kind}), flush=True)
elif mode == "reconcile":
    # The sweep of a later minute: the claim is older than STALE_AFTER by then.
    later = timezone.now() + outbox.STALE_AFTER + dt.timedelta(seconds=1)
    first = outbox.sweep(now=later)
    second = outbox.deliver(message_id, worker="second-worker")  # a resend, if the sweep queued one
    print(json.dumps({"sweep": first, "deliver": second.kind}), flush=True)
elif mode == "kick-stuck":
    from django.db import transaction

    from autocrm.messaging import tasks

    real = outbox._record_sent_many

    def stuck(sent, worker):
        with transaction.atomic():
            n = real(sent, worker)  # the batch's UPDATE and attempts written …
            print(json.dumps({"recording": n}), flush=True)
            time.sleep(600)  # … and the commit never comes: SIGKILL here
        return n

    outbox._record_sent_many = stuck
    tasks.message_kick_task.call_local()
elif mode == "sweep":
    later = timezone.now() + outbox.STALE_AFTER + dt.timedelta(seconds=1)
    first = outbox.sweep(now=later)
    drained = outbox.drain(worker="second-worker").counts
    print(json.dumps({"sweep": first, "drain": drained}), flush=True)
elif mode == "state":
    m = Message.objects.get(pk=message_id)
    outcomes = list(MessageAttempt.objects.filter(message=m).order_by("id").values_list("outcome", "code"))
    print(json.dumps({"status": m.status, "provider_id": m.provider_id, "claimed_by": m.claimed_by,
                      "attempts": [list(o) for o in outcomes]}), flush=True)  # fmt: skip
