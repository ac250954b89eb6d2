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
import re
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from autocrm.core.bulk import _COPY_SPECIAL, IdPool, RawRows, copy_payload, copy_supported, copy_text
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
    # The columns each message gives, then those all messages of the campaign share: on
    # PostgreSQL a message is one line of COPY text, its own values and the outcome's tail
    # (status … not_before, then the shared columns) formatted once per outcome.
    own = ("uid", "idempotency_key", "customer_id", "to", "to_index", "to_display", "variables")
    outcome_columns = ("status", "reason", "reason_text", "not_before")
    shared = tuple(c for c in base if c not in own and c not in outcome_columns)
    columns = (*own, *outcome_columns, *shared)
    shared_values = tuple(base[c] for c in shared)
    shared_text = "\t".join(copy_text(v) for v in shared_values)
    timeline_base = _defaults(TimelineEvent, now)
    timeline_base.update(
        {"store_id": store_id, "kind": "message.suppressed", "at": now, "object_type": "messaging.message"}
    )
    timeline_own = ("customer_id", "summary", "object_id")
    timeline_shared = tuple(c for c in timeline_base if c not in timeline_own)
    timeline_columns = (*timeline_own, *timeline_shared)
    timeline_shared_values = tuple(timeline_base[c] for c in timeline_shared)
    timeline_shared_text = "\t".join(copy_text(timeline_base[c]) for c in timeline_shared)
    reason_text = {r: str(SuppressionReason(r).label) for r in SuppressionReason.values}
    summaries = {r: f"{template.name} · {reason_text.get(r, r)}"[:300] for r in (*SuppressionReason.values, "")}
    summary_texts = {r: copy_text(t) for r, t in summaries.items()}
    extra = {k: str(v)[:500] for k, v in (values or {}).items()}
    counts: dict[str, Any] = {"planned": 0, "skipped": 0, "queued": 0, "held": 0, "suppressed": 0, "reasons": {}}
    consent_purpose = policy.CONSENT_PURPOSE.get(purpose)  # type: ignore[call-overload]
    suppressions = policy.PolicyContext()
    suppressions.load_suppressions(store_id=store_id, channel=channel)
    copy = copy_supported()
    ids = IdPool(Message) if copy else None
    # the values as JSON text, the name spliced in (the name's own JSON only when it needs escapes)
    extra_json = json.dumps(extra, ensure_ascii=False)[1:-1] if extra and "customer_name" not in extra else ""
    vars_tail = (", " + extra_json if extra_json else "") + "}"
    quiet_of: dict[tuple[Any, Any], tuple[dt.time, dt.time] | None] = {}
    # (kind, reason, text, hold_until) → (status, reason, reason text, not_before) and its COPY tail
    outcomes: dict[tuple[Any, ...], tuple[tuple[Any, ...], str]] = {}

    def outcome(decision: policy.Decision) -> tuple[tuple[Any, ...], str]:
        kind, reason = decision.kind, decision.reason
        key = (kind, reason, decision.text if reason == "cap" else "", decision.hold_until)
        found = outcomes.get(key)
        if found is None:
            if kind == "suppress":
                text = str(decision.text)[:300] if reason == "cap" else reason_text.get(reason, "")
                values_: tuple[Any, ...] = (MessageStatus.SUPPRESSED.value, reason, text, now)
            elif kind == "hold":
                values_ = (MessageStatus.HELD.value, "", "", decision.hold_until)
            else:
                values_ = (base["status"], base["reason"], base["reason_text"], now)
            tail = "\t".join(copy_text(v) for v in values_) + "\t" + shared_text + "\n"
            found = outcomes[key] = (values_, tail)
        return found

    def prepare(rows: list[tuple[Any, ...]]) -> tuple[Any, Any, dict[str, Any]]:
        """Read the batch's facts and decide each message: what to write (no write yet)."""
        ctx = policy.PolicyContext(suppressed=suppressions.suppressed, rules=suppressions.rules)
        lo, hi = rows[0][0], rows[-1][0]
        for r in rows:
            lo, hi = min(lo, r[0]), max(hi, r[0])
        ctx.load_range(store_id=store_id, lo=lo, hi=hi, now=now, purposes=[consent_purpose] if consent_purpose else [])
        prefix = f"{key_prefix}:"
        prefix_text = copy_text(prefix)
        taken = set(
            Message.objects.filter(
                store_id=store_id, customer_id__gte=lo, customer_id__lte=hi, idempotency_key__startswith=prefix
            ).values_list("idempotency_key", flat=True)
        )
        # Stored values are copied as they are: escape them only in a batch where one needs it
        # (ciphertext is base64, the index hex: never in practice).
        raw_escape = bool(_COPY_SPECIAL.search("".join(f"{r[2] or ''}{r[3] or ''}{r[4] or ''}" for r in rows)))
        lines: list[str] = []
        tuples: list[tuple[Any, ...]] = []
        suppressed: list[tuple[Any, int, str]] = []  # (message id or uid, customer, reason)
        tally: dict[str, Any] = {"skipped": 0, "queued": 0, "held": 0, "suppressed": 0, "reasons": {}}
        reasons = tally["reasons"]
        decide, plain_name, no_address = (
            policy.decide,
            _JSON_PLAIN.search,
            policy.Decision.suppress(SuppressionReason.NO_ADDRESS),
        )
        allow_values, allow_tail = outcome(policy.Decision.allow())
        queued_status = allow_values[0]
        pks = ids.take(len(rows)) if ids is not None else []
        # Message.uid as models.new_uid makes it (time first, then 80 random bits), the random
        # part of the whole batch drawn at once.
        uid_time = f"{time.time_ns() // 1_000_000:012x}"
        uid_random = secrets.token_hex(10 * len(rows))
        for n, (cid, name, mobile_raw, mobile_index, last4, q_start, q_end, opt_out) in enumerate(rows):
            key = f"{prefix}{cid}"
            if key in taken:
                tally["skipped"] += 1
                continue
            quiet = None
            if q_start and q_end:
                qk = (q_start, q_end)
                if qk in quiet_of:
                    quiet = quiet_of[qk]
                else:
                    qs, qe = _time(q_start), _time(q_end)
                    quiet = quiet_of[qk] = (qs, qe) if qs and qe else None
            if not mobile_raw:
                decision = no_address
            else:
                decision = decide(
                    ctx=ctx, now=now, store_id=store_id, purpose=purpose, channel=channel, customer_id=cid,
                    address_index=mobile_index or "", personalised=personalised, opt_out=bool(opt_out), quiet=quiet,
                )  # fmt: skip
            if decision.kind == "ok":
                values_, tail = allow_values, allow_tail
            else:
                values_, tail = outcome(decision)
            status = values_[0]
            if status == queued_status:
                tally["queued"] += 1
            elif status == MessageStatus.HELD:
                tally["held"] += 1
            else:
                tally["suppressed"] += 1
                reasons[values_[1]] = reasons.get(values_[1], 0) + 1
            uid = uid_time + uid_random[20 * n : 20 * n + 20]
            if extra and not extra_json:
                variables = json.dumps({"customer_name": name, **extra}, ensure_ascii=False)
            else:
                plain = type(name) is str and not plain_name(name)
                name_json = f'"{name}"' if plain else json.dumps(name, ensure_ascii=False)
                variables = f'{{"customer_name": {name_json}{vars_tail}'
            to, index = mobile_raw or "", mobile_index or ""
            display = f"*******{last4}" if last4 else ""
            if copy:
                pk = pks[n]
                if status == MessageStatus.SUPPRESSED:
                    suppressed.append((pk, cid, values_[1]))
                if "\\" in variables:
                    variables = variables.replace("\\", "\\\\")  # JSON's escapes, as COPY text
                if raw_escape:
                    to, index, display = copy_text(to), copy_text(index), copy_text(display)
                lines.append(f"{pk}\t{uid}\t{prefix_text}{cid}\t{cid}\t{to}\t{index}\t{display}\t{variables}\t{tail}")
            else:
                if status == MessageStatus.SUPPRESSED:
                    suppressed.append((uid, cid, values_[1]))
                tuples.append((uid, key, cid, to, index, display, variables, *values_, *shared_values))
        if not copy:
            return tuples, suppressed, tally
        timeline = "".join(
            f"{cid}\t{summary_texts.get(reason, summary_texts[''])}\t{pk}\t{timeline_shared_text}\n"
            for pk, cid, reason in suppressed
        )
        return "".join(lines).encode(), timeline.encode(), tally

    def write(messages: Any, suppressed: Any, tally: dict[str, Any]) -> None:
        for k in ("skipped", "queued", "held", "suppressed"):
            counts[k] += tally[k]
        for reason, n in tally["reasons"].items():
            counts["reasons"][reason] = counts["reasons"].get(reason, 0) + n
        with transaction.atomic():
            if copy:
                # Two writes of text prepared by the reader: this thread only ships bytes.
                planned = messages.count(b"\n")
                copy_payload(Message._meta.db_table, ("id", *columns), messages)
                copy_payload(TimelineEvent._meta.db_table, timeline_columns, suppressed)
                counts["planned"] += planned
                return
            out = RawRows(Message, columns)
            out.rows = messages
            counts["planned"] += out.flush()
            if suppressed:
                by_uid = dict(Message.objects.filter(uid__in=[u for u, _c, _r in suppressed]).values_list("uid", "pk"))
                timeline = RawRows(TimelineEvent, timeline_columns)
                for uid, cid, reason in suppressed:
                    timeline.add(cid, summaries.get(reason, summaries[""]), str(by_uid.get(uid, "")),
                                 *timeline_shared_values)  # fmt: skip
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


# A name JSON needs to escape (a quote, a backslash, a control character) goes through json.dumps.
_JSON_PLAIN = re.compile(r'["\\\x00-\x1f]')
