"""Which sentiment method for voice of customer (ADR 0035): each candidate on the labelled set
(src/autocrm/voc/tests/data/labelled.jsonl), tuned or trained on the even lines, measured on the
odd lines (held out). Prints accuracy and macro-F1 per method and part, and CPU per text.

    python benchmarks/voc_methods.py            # the lexicon (a) and, when installed, SnowNLP (b)
                                                # and scikit-learn (c)
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testsettings")

DATA = Path(__file__).resolve().parents[1] / "src/autocrm/voc/tests/data/labelled.jsonl"
LABELS = ("positive", "negative", "neutral")


def load() -> list[dict[str, str]]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def scores(gold: list[str], pred: list[str]) -> tuple[float, float]:
    accuracy = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)
    f1s = []
    for label in LABELS:
        tp = sum(g == p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(p == label != g for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label != p for g, p in zip(gold, pred, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return accuracy, sum(f1s) / len(f1s)


def report(name: str, rows: list[dict[str, str]], predict, cpu: float | None = None) -> None:
    for part, subset in (("even (tune)", rows[0::2]), ("odd (held out)", rows[1::2]), ("all", rows)):
        pred = [predict(r["text"]) for r in subset]
        acc, f1 = scores([r["label"] for r in subset], pred)
        print(f"{name:<28} {part:<16} n={len(subset):<4} accuracy {acc:.3f}  macro-F1 {f1:.3f}")
    if cpu is not None:
        print(f"{name:<28} CPU {cpu * 1e6:.0f} µs a text")


def lexicon(rows):
    from autocrm.voc import analysis

    analysis.warm_up()
    start = time.process_time()
    for r in rows:
        analysis.analyse(r["text"])
    cpu = (time.process_time() - start) / len(rows)
    report("(a) lexicon + rules", rows, lambda t: analysis.analyse(t).sentiment, cpu)


def snownlp(rows):
    try:
        from snownlp import SnowNLP
    except ImportError:
        print("(b) SnowNLP: not installed")
        return
    from autocrm.core import chinese

    def predict_with(low: float, high: float):
        def predict(text: str) -> str:
            s = SnowNLP(chinese.normalise(text)).sentiments
            return "positive" if s >= high else "negative" if s <= low else "neutral"

        return predict

    tune = rows[0::2]
    best = max(
        ((lo / 20, hi / 20) for lo in range(1, 10) for hi in range(10, 20)),
        key=lambda c: scores([r["label"] for r in tune], [predict_with(*c)(r["text"]) for r in tune])[1],
    )
    start = time.process_time()
    for r in rows:
        _ = SnowNLP(r["text"]).sentiments
    cpu = (time.process_time() - start) / len(rows)
    report(f"(b) SnowNLP {best[0]:.2f}/{best[1]:.2f}", rows, predict_with(*best), cpu)


def sklearn_model(rows):
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.svm import LinearSVC
    except ImportError:
        print("(c) scikit-learn: not installed")
        return
    from autocrm.core import chinese
    from autocrm.voc import analysis

    tune = rows[0::2]
    for name, analyzer, clf in (
        ("(c) char 1-3 TF-IDF + LR", "char", LogisticRegression(C=10, max_iter=2000)),
        ("(c) char 1-3 TF-IDF + SVM", "char", LinearSVC(C=1)),
        ("(c) jieba words TF-IDF + LR", "word", LogisticRegression(C=10, max_iter=2000)),
    ):
        if analyzer == "char":
            vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), preprocessor=chinese.normalise)
        else:
            vec = TfidfVectorizer(
                analyzer=lambda t: [w for w in analysis._segmenter().cut(chinese.normalise(t)) if w.strip()],
                ngram_range=(1, 1),
            )
        model = make_pipeline(vec, clf).fit([r["text"] for r in tune], [r["label"] for r in tune])
        start = time.process_time()
        model.predict([r["text"] for r in rows])
        cpu = (time.process_time() - start) / len(rows)
        report(name, rows, lambda t, m=model: m.predict([t])[0], cpu)


if __name__ == "__main__":
    import django

    django.setup()
    data = load()
    counts = {label: sum(r["label"] == label for r in data) for label in LABELS}
    print(f"{len(data)} labelled texts: {counts}")
    lexicon(data)
    snownlp(data)
    sklearn_model(data)
