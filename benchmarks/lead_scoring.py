"""Lead scoring: how well the text signal reads intent, and what scoring costs (docs/adr/0015).

    .venv/bin/python benchmarks/lead_scoring.py
    # with the database part (intake with and without a message; batches of 500 browsing events):
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/autocrm_bench_scoring AUTOCRM_DATA_DIR=/tmp/acrm_bench
    .venv/bin/python benchmarks/lead_scoring.py --db

On the hand-labelled customer questions and notes of
``src/autocrm/leads/tests/data/intent_labelled.jsonl`` (high / low intent), the text signal
(``leads.scoring.text_points`` ≥ ``HIGH_INTENT_TEXT`` → high) is scored for precision, recall and
accuracy: on the whole set, and on each half (even lines / odd lines) so that the hand weights,
tuned while writing, can be judged on the half not looked at. A logistic regression over the
same signals (pure Python, no numpy: gradient descent) is fitted on one half and tested on the
other, as a check of the hand weights. Then the CPU time of jieba's first load, of one text
signal and of one ``compute`` (the score from the lead's counters), with the load average.
"""

from __future__ import annotations

import json
import math
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autocrm.config.settings")
DATA = ROOT / "src/autocrm/leads/tests/data/intent_labelled.jsonl"


def load() -> list[tuple[str, bool]]:
    rows = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            rows.append((item["text"], item["label"] == "high"))
    return rows


def metrics(pairs: list[tuple[bool, bool]]) -> dict[str, float]:
    tp = sum(1 for p, y in pairs if p and y)
    fp = sum(1 for p, y in pairs if p and not y)
    fn = sum(1 for p, y in pairs if not p and y)
    tn = sum(1 for p, y in pairs if not p and not y)
    return {
        "n": len(pairs),
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "accuracy": (tp + tn) / len(pairs) if pairs else 0.0,
        "tp": tp, "fp": fp, "fn": fn, "tn": tn,
    }  # fmt: skip


def evaluate(rows: list[tuple[str, bool]]) -> dict[str, float]:
    from autocrm.leads.scoring import HIGH_INTENT_TEXT, text_points

    return metrics([(text_points(t) >= HIGH_INTENT_TEXT, y) for t, y in rows])


def _features(text: str, codes: list[str]) -> list[float]:
    from autocrm.leads.scoring import text_signals

    found = text_signals(text)
    return [1.0] + [1.0 if c in found else 0.0 for c in codes]


def fit_logistic(x: list[list[float]], y: list[bool], *, steps: int = 3000, rate: float = 0.5) -> list[float]:
    w = [0.0] * len(x[0])
    for _ in range(steps):
        grad = [0.0] * len(w)
        for xi, yi in zip(x, y, strict=True):
            z = sum(a * b for a, b in zip(w, xi, strict=True))
            p = 1 / (1 + math.exp(-max(-30, min(30, z))))
            for j, v in enumerate(xi):
                grad[j] += (p - (1.0 if yi else 0.0)) * v
        w = [wj - rate * (g / len(x) + 0.001 * wj * (j > 0)) for j, (wj, g) in enumerate(zip(w, grad, strict=True))]
    return w


def _db_part() -> None:
    """Intake CPU and queries per lead with and without a customer's message (the text signal's
    cost; the same number of queries), then batches of 500 browsing events."""
    import datetime as dt

    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    call_command("migrate", verbosity=0, interactive=False)
    from autocrm.accounts.models import User
    from autocrm.accounts.selectors import actor_build
    from autocrm.demo.services import demo_create
    from autocrm.leads.browsing import lead_events_record
    from autocrm.leads.services import duty_set, lead_create

    if not User.objects.filter(username="sales_manager_a").exists():
        demo_create()
    manager = actor_build(user=User.objects.get(username="sales_manager_a"))
    for name in ("sales_a1", "sales_a2"):
        duty_set(actor=manager, user_id=User.objects.get(username=name).pk, status="on_duty", daily_capacity=1000)
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    seed = int(time.time()) % 100_000
    messages = [t for t, _y in load()]
    mobiles: list[str] = []
    for label, with_text in (("without a message", False), ("with a customer's message", True)):
        queries = []
        t0, w0 = time.process_time(), time.perf_counter()
        for i in range(300):
            mobile = f"135{seed % 1000:03d}{int(with_text)}{i:04d}"
            data = {"name": "评分基准", "mobile": mobile, "message": messages[i % len(messages)] if with_text else ""}
            reset_queries()
            with CaptureQueriesContext(connection) as q:
                lead_create(actor=manager, data=data, source="autohome")
            queries.append(len(q))
            mobiles.append(mobile)
        cpu, wall = (time.process_time() - t0) / 300 * 1000, (time.perf_counter() - w0) / 300 * 1000
        print(
            f"lead_create {label}: {cpu:.2f} ms CPU, {wall:.2f} ms wall per lead, queries {min(queries)}–{max(queries)}"
        )
    web = actor_build(user=User.objects.get(username="sales_manager_a"))
    now = timezone.now()
    pages = ["config", "price", "gallery", "compare"]
    cpu_ms, wall_ms, counts = [], [], []
    for b in range(6):
        items = [{"mobile": mobiles[(b * 500 + i) % len(mobiles)], "model": ["汉EV", "海豹", "宋L"][i % 3],
                  "page": pages[i % 4], "occurred_at": (now - dt.timedelta(hours=i % 72)).isoformat(),
                  "event_id": f"bench-{seed}-{b}-{i}"} for i in range(500)]  # fmt: skip
        reset_queries()
        t0, w0 = time.process_time(), time.perf_counter()
        with CaptureQueriesContext(connection) as q:
            lead_events_record(actor=web, items=items, now=now)
        cpu_ms.append((time.process_time() - t0) * 1000)
        wall_ms.append((time.perf_counter() - w0) * 1000)
        counts.append(len(q))
    print(f"lead events, batches of 500: {statistics.median(cpu_ms):.0f} ms CPU, {statistics.median(wall_ms):.0f} ms "
          f"wall per batch (median of 6), queries {min(counts)}–{max(counts)} per batch "
          f"(≈ {statistics.median(cpu_ms) / 500 * 1000:.0f} µs CPU per event)")  # fmt: skip


def main() -> None:
    import django

    django.setup()
    from autocrm.leads import scoring

    t0 = time.process_time()
    scoring.segment("预热")
    load_cpu = time.process_time() - t0
    rows = load()
    even, odd = rows[0::2], rows[1::2]
    print(f"labelled examples: {len(rows)} ({sum(y for _t, y in rows)} high, {sum(not y for _t, y in rows)} low)")
    for name, part in (("all", rows), ("even half", even), ("odd half (held out)", odd)):
        m = evaluate(part)
        print(f"text signal, {name:20s} n={m['n']:3d}  precision {m['precision']:.3f}  recall {m['recall']:.3f}  "
              f"accuracy {m['accuracy']:.3f}  (tp {m['tp']} fp {m['fp']} fn {m['fn']} tn {m['tn']})")  # fmt: skip

    codes = [s.code for s in (*scoring.SIGNALS, *scoring._DAMPERS)]
    xe = [_features(t, codes) for t, _y in even]
    xo = [_features(t, codes) for t, _y in odd]
    w = fit_logistic(xe, [y for _t, y in even])
    pred = [sum(a * b for a, b in zip(w, xi, strict=True)) > 0 for xi in xo]
    m = metrics(list(zip(pred, [y for _t, y in odd], strict=True)))
    print(f"logistic regression fitted on the even half, tested on the odd: precision {m['precision']:.3f}  "
          f"recall {m['recall']:.3f}  accuracy {m['accuracy']:.3f}")  # fmt: skip
    hand = {s.code: s.points for s in (*scoring.SIGNALS, *scoring._DAMPERS)}
    print(
        "weights   "
        + "  ".join(f"{c}: hand {hand[c]:+d} / fitted {wj:+.2f}" for c, wj in zip(codes, w[1:], strict=True))
    )
    print(f"          fitted intercept {w[0]:+.2f}")

    texts = [t for t, _y in rows]
    random.Random(1).shuffle(texts)
    t0 = time.process_time()
    w0 = time.perf_counter()
    for _ in range(5):
        for t in texts:
            scoring.text_signals(t)
    n = 5 * len(texts)
    per = (time.process_time() - t0) / n * 1e6
    wall = (time.perf_counter() - w0) / n * 1e6
    print(f"text signal: {per:.0f} µs CPU per text ({wall:.0f} µs wall), jieba first load {load_cpu:.2f} s CPU")

    class FakeLead:
        customer_id = 1
        grade = "A"
        source_channel = "autohome"
        enquiries = 2
        mobile_flag = ""
        score_signals = {"visits": 1, "views": 7, "price_views": 2, "models": {"汉": 4, "海豹": 1},
                         "text": ["price", "loan"], "customer": {"owner": True, "income": "gt50k"}}  # fmt: skip

    lead = FakeLead()
    t0 = time.process_time()
    for _ in range(20000):
        scoring.compute(lead)
    print(f"compute (score from the lead's counters, no query): {(time.process_time() - t0) / 20000 * 1e6:.1f} µs CPU")
    if "--db" in sys.argv:
        _db_part()
    print("load average:", os.getloadavg())


if __name__ == "__main__":
    main()
