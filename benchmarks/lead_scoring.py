"""Lead scoring: how well the text signal reads intent, and what scoring costs (docs/adr/0015).

    .venv/bin/python benchmarks/lead_scoring.py

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
    print("load average:", os.getloadavg())


if __name__ == "__main__":
    main()
