"""The sentiment lexicon on the labelled set (ADR 0035): floors on the whole set and on the
held-out odd half (never tuned on), and the rules one by one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autocrm.voc import analysis

DATA = Path(__file__).parent / "data" / "labelled.jsonl"
ROWS = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def _scores(rows):
    pred = [analysis.analyse(r["text"]).sentiment for r in rows]
    gold = [r["label"] for r in rows]
    accuracy = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(rows)
    f1s = []
    for label in ("positive", "negative", "neutral"):
        tp = sum(g == p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(p == label != g for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label != p for g, p in zip(gold, pred, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return accuracy, sum(f1s) / 3


def test_the_labelled_set_is_large_and_varied():
    assert len(ROWS) >= 400
    assert {r["label"] for r in ROWS} == {"positive", "negative", "neutral"}
    assert len({r["text"] for r in ROWS}) == len(ROWS)
    assert any("服務" in r["text"] for r in ROWS)  # traditional characters
    assert any(ord(c) > 0x1F000 for r in ROWS for c in r["text"])  # emoji


def test_floors_on_the_held_out_half_and_the_whole_set():
    held_acc, held_f1 = _scores(ROWS[1::2])
    all_acc, all_f1 = _scores(ROWS)
    assert held_acc >= 0.80 and held_f1 >= 0.76, (held_acc, held_f1)
    assert all_acc >= 0.86 and all_f1 >= 0.83, (all_acc, all_f1)


@pytest.mark.parametrize(
    ("text", "sentiment"),
    [
        ("真是太快了，等了三个小时", "negative"),  # sarcasm beside a long wait
        ("不算贵", "positive"),  # negation of a complaint
        ("一点都不透明", "negative"),  # negation of praise, glued by jieba
        ("没什么不满意的", "positive"),  # two negators cancel
        ("服務顧問很專業", "positive"),  # traditional characters
        ("态度好，但技术一般", "neutral"),  # mixed
        ("虽然等得有点久，但是修得很彻底，值得", "positive"),  # the point comes after the turn
        ("👍", "positive"),
        ("", "neutral"),
        ("   ", "neutral"),
        ("客户电话未接通，稍后再联系", "neutral"),
        ('太"专业"了，换个机油都能漏', "negative"),  # praise in quotes
    ],
)
def test_rules(text, sentiment):
    assert analysis.analyse(text).sentiment == sentiment


def test_aspect_phrases():
    assert "wait-" in analysis.analyse("等了三个多小时才修好，太慢了").phrases
    assert "transparency+" in analysis.analyse("价格透明，没有乱收费").phrases
    assert "attitude-" in analysis.analyse("服务顾问态度很差").phrases
    assert "parts-" in analysis.analyse("配件要等两个星期，说好的三天").phrases
    assert "repeat-" in analysis.analyse("同一个问题修了三次还没修好").phrases
    assert "wash+" in analysis.analyse("洗车洗得很干净").phrases
    assert str(analysis.phrase_label("wait-"))
    assert set(analysis.PHRASE_CODES) >= {"wait-", "price+", "upsell-"}


def test_hostile_text_is_read_without_error():
    for text in ("\x00坏", "a" * 100_000, "\ud800好", "😡" * 3000, "不" * 500):
        result = analysis.analyse(text)
        assert result.sentiment in ("positive", "negative", "neutral")
        assert -1.0 <= result.score <= 1.0
