"""The bulk planner: a million messages of one template to a store's customers, with consent,
suppressions, the PIPL opt-out, the weekly cap and the window decided for each — in seconds.

``outbox.plan_bulk`` (this :func:`plan_bulk`) is what a campaign calls. Per batch of customers it
reads their facts with one SQL query (the mobile's ciphertext and blind index are copied as they
are: nothing is decrypted or encrypted again, the message's ``to`` is the customer's ``mobile``
under the same key), the consents, suppressions and sent-marketing counts with three more
(:class:`policy.PolicyContext`), decides each message with :func:`policy.decide`, and writes the
messages (and a timeline entry for each suppressed one) with COPY on PostgreSQL
(``executemany`` elsewhere). Idempotency keys are ``<key_prefix>:<customer id>``: planning the
same campaign twice plans nothing new.

The decision is recorded (``queued``, ``held`` with ``not_before``, ``suppressed`` with the
reason) and is **not final**: the worker checks again right before each provider call.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from autocrm.core.bulk import RawRows
from autocrm.customers.models import Customer, TimelineEvent

from . import policy
from .choices import MessageChannel, MessageStatus, Purpose, SuppressionReason
from .models import Message, MessageTemplate

BATCH = 20_000


def _defaults(model: Any, now: dt.datetime) -> dict[str, Any]:
    """Every concrete column of ``model`` (but the pk) at its default, as the database stores it."""
    out: dict[str, Any] = {}
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value: Any = now
        elif f.has_default():
            value = f.get_default()
        elif f.null:
            value = None
        else:
            value = ""
        if isinstance(value, dict | list):
            value = json.dumps(value)
        out[f.column] = value
    return out


def _customer_batches(store_id: int, customer_ids: Sequence[int] | None, batch: int) -> Iterable[list[tuple[Any, ...]]]:
    """Facts of the customers, ``batch`` at a time: id, name, raw mobile ciphertext, mobile index,
    last four digits, quiet hours, PIPL opt-out. Raw SQL: the ORM would decrypt every mobile."""
    table = connection.ops.quote_name(Customer._meta.db_table)
    cols = "id, name, mobile, mobile_index, mobile_last4, quiet_hours_start, quiet_hours_end, personalised_marketing_opt_out"
    if customer_ids is not None:
        ids = sorted({int(i) for i in customer_ids})
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            marks = ", ".join(["%s"] * len(chunk))
            with connection.cursor() as cursor:
                # the ids are bound parameters; the table and columns are ours
                cursor.execute(
                    f"SELECT {cols} FROM {table} WHERE store_id = %s AND id IN ({marks})", [store_id, *chunk]
                )
                yield list(cursor.fetchall())
        return
    last = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {cols} FROM {table} WHERE store_id = %s AND id > %s ORDER BY id LIMIT %s",
                [store_id, last, batch],
            )
            rows = list(cursor.fetchall())
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _time(value: Any) -> dt.time | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, dt.time) else dt.time.fromisoformat(str(value))


def plan_bulk(
    *,
    store_id: int,
    purpose: str,
    template: MessageTemplate,
    key_prefix: str,
    customer_ids: Sequence[int] | None = None,
    values: Mapping[str, Any] | None = None,
    personalised: bool = False,
    now: dt.datetime | None = None,
    batch: int = BATCH,
) -> dict[str, Any]:
    """Plan one message of ``template`` to each customer (``customer_ids``, or every customer of
    the store). Returns counts by status and by suppression reason, and the seconds taken.

    SMS only for now (the address is the customer's mobile, copied without decrypting)."""
    if template.store_id != store_id:
        raise ValueError("template of another store")
    if template.channel not in (MessageChannel.SMS, MessageChannel.CONSOLE):
        raise ValueError("the bulk planner sends SMS")
    if purpose not in Purpose.values or template.purpose != purpose:
        raise ValueError("purpose")
    from .services import account_for

    started = time.perf_counter()
    now = now or timezone.now()
    channel = template.channel
    account = account_for(store_id=store_id, channel=channel)
    base = _defaults(Message, now)
    base.update(
        {
            "store_id": store_id,
            "template_id": template.pk,
            "account_id": account.pk if account else None,
            "purpose": purpose,
            "channel": channel,
            "provider": account.provider if account else "",
            "personalised": bool(personalised),
            "subject": template.subject,
            "not_before": now,
        }
    )
    columns = tuple(base)
    timeline_base = _defaults(TimelineEvent, now)
    timeline_base.update(
        {"store_id": store_id, "kind": "message.suppressed", "at": now, "object_type": "messaging.message"}
    )
    timeline_columns = tuple(timeline_base)
    reason_text = {r: str(SuppressionReason(r).label) for r in SuppressionReason.values}
    extra = {k: str(v)[:500] for k, v in (values or {}).items()}
    counts: dict[str, Any] = {"planned": 0, "skipped": 0, "queued": 0, "held": 0, "suppressed": 0, "reasons": {}}
    consent_purpose = policy.CONSENT_PURPOSE.get(purpose)  # type: ignore[call-overload]
    suppressions = policy.PolicyContext()
    suppressions.load_suppressions(store_id=store_id, channel=channel)

    def prepare(rows: list[tuple[Any, ...]]) -> tuple[RawRows, list[tuple[str, int, str]], dict[str, Any]]:
        """Read the batch's facts and decide each message: the rows to COPY (no write yet)."""
        ctx = policy.PolicyContext(suppressed=suppressions.suppressed, rules=suppressions.rules)
        ids = [r[0] for r in rows]
        lo, hi = min(ids), max(ids)
        ctx.load_range(store_id=store_id, lo=lo, hi=hi, now=now, purposes=[consent_purpose] if consent_purpose else [])
        taken = set(
            Message.objects.filter(
                store_id=store_id,
                customer_id__gte=lo,
                customer_id__lte=hi,
                idempotency_key__startswith=f"{key_prefix}:",
            ).values_list("idempotency_key", flat=True)
        )
        out = RawRows(Message, columns)
        suppressed_uids: list[tuple[str, int, str]] = []
        tally: dict[str, Any] = {"skipped": 0, "queued": 0, "held": 0, "suppressed": 0, "reasons": {}}
        decide = policy.decide
        i_uid, i_key, i_cid = columns.index("uid"), columns.index("idempotency_key"), columns.index("customer_id")
        i_to, i_index, i_display = columns.index("to"), columns.index("to_index"), columns.index("to_display")
        i_vars, i_status, i_not_before = (
            columns.index("variables"),
            columns.index("status"),
            columns.index("not_before"),
        )
        i_reason, i_reason_text = columns.index("reason"), columns.index("reason_text")
        template_row = list(base.values())
        # the values as JSON text, the name spliced in (one dumps of a short string a row)
        extra_json = json.dumps(extra, ensure_ascii=False)[1:-1] if extra and "customer_name" not in extra else ""
        # Message.uid as models.new_uid makes it (time first, then 80 random bits), the random
        # part of the whole batch drawn at once.
        uid_time = f"{time.time_ns() // 1_000_000:012x}"
        uid_random = secrets.token_hex(10 * len(rows))
        for n, (cid, name, mobile_raw, mobile_index, last4, q_start, q_end, opt_out) in enumerate(rows):
            key = f"{key_prefix}:{cid}"
            if key in taken:
                tally["skipped"] += 1
                continue
            quiet = None
            if q_start and q_end:
                qs, qe = _time(q_start), _time(q_end)
                quiet = (qs, qe) if qs and qe else None
            if not mobile_raw:
                decision = policy.Decision.suppress(SuppressionReason.NO_ADDRESS)
            else:
                decision = decide(
                    ctx=ctx, now=now, store_id=store_id, purpose=purpose, channel=channel, customer_id=cid,
                    address_index=mobile_index or "", personalised=personalised, opt_out=bool(opt_out), quiet=quiet,
                )  # fmt: skip
            row = template_row.copy()
            uid = uid_time + uid_random[20 * n : 20 * n + 20]
            row[i_uid] = uid
            row[i_key] = key
            row[i_cid] = cid
            row[i_to] = mobile_raw or ""
            row[i_index] = mobile_index or ""
            row[i_display] = f"*******{last4}" if last4 else ""
            if extra and not extra_json:
                row[i_vars] = json.dumps({"customer_name": name, **extra}, ensure_ascii=False)
            else:
                name_json = json.dumps(name, ensure_ascii=False)
                row[i_vars] = f'{{"customer_name": {name_json}{", " + extra_json if extra_json else ""}}}'
            kind = decision.kind
            if kind == "suppress":
                row[i_status] = MessageStatus.SUPPRESSED
                row[i_reason] = decision.reason
                row[i_reason_text] = (
                    str(decision.text)[:300] if decision.reason == "cap" else reason_text.get(decision.reason, "")
                )
                suppressed_uids.append((uid, cid, decision.reason))
                tally["reasons"][decision.reason] = tally["reasons"].get(decision.reason, 0) + 1
                tally["suppressed"] += 1
            elif kind == "hold":
                row[i_status] = MessageStatus.HELD
                row[i_not_before] = decision.hold_until
                tally["held"] += 1
            else:
                tally[row[i_status]] += 1
            out.rows.append(tuple(row))
        return out, suppressed_uids, tally

    def write(out: RawRows, suppressed_uids: list[tuple[str, int, str]], tally: dict[str, Any]) -> None:
        for k in ("skipped", "queued", "held", "suppressed"):
            counts[k] += tally[k]
        for reason, n in tally["reasons"].items():
            counts["reasons"][reason] = counts["reasons"].get(reason, 0) + n
        timeline = RawRows(TimelineEvent, timeline_columns)
        with transaction.atomic():
            counts["planned"] += out.flush()
            if suppressed_uids:
                by_uid = dict(
                    Message.objects.filter(uid__in=[u for u, _c, _r in suppressed_uids]).values_list("uid", "pk")
                )
                for uid, cid, reason in suppressed_uids:
                    row = dict(timeline_base)
                    row.update({"customer_id": cid, "summary": f"{template.name} · {reason_text.get(reason, reason)}"[:300],
                                "object_id": str(by_uid.get(uid, ""))})  # fmt: skip
                    timeline.add(*row.values())
                timeline.flush()

    batches = _customer_batches(store_id, customer_ids, batch)
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Read and decide batch n + 1 in a thread (its own connection: reads only) while this
        # thread's COPY of batch n runs in the database: the Python work and the database's
        # insert overlap on two cores instead of taking turns.
        from concurrent.futures import ThreadPoolExecutor

        iterator = iter(batches)

        def read_next() -> Any:
            try:
                rows = next(iterator, None)
                return None if rows is None else prepare(rows)
            except BaseException:
                connection.close()
                raise

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="planner-read") as pool:
            try:
                future = pool.submit(read_next)
                while True:
                    prepared = future.result()
                    if prepared is None:
                        break
                    future = pool.submit(read_next)
                    write(*prepared)
            finally:
                pool.submit(lambda: connection.close()).result()  # the reader thread's connection
    else:
        for rows in batches:
            write(*prepare(rows))
    counts["seconds"] = round(time.perf_counter() - started, 2)
    if counts["queued"]:
        from .tasks import kick

        transaction.on_commit(kick)  # the delivery loop takes them (now, if not in a transaction)
    return counts
