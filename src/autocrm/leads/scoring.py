"""Lead scoring (线索评分): 0–100 with the reasons, from the lead's profile, its behaviour and the
text of what the customer asked (docs/adr/0015).

Everything here is pure: :func:`compute` reads only the lead's own fields and the counters kept
on it (``score_signals``), so scoring costs no query. The writes call the ``note_*`` helpers to
update the counters and then :func:`apply`:

* at intake (``lead_create``: the message, the customer record already read for de-duplication);
* on each activity (a visit, a test drive, the note's text);
* on each browsing event (``leads.browsing``: views, price pages, repeated views of one model).

The text signal segments the customer's words with jieba and a small domain dictionary: asking
about delivery (提车), loans (贷款/首付/月供), the out-the-door price (落地价), stock (现车) or a
trade-in (置换) raises the score; "just looking" (随便看看, 明年再说) lowers it. A negation right
before a keyword (不需要贷款) cancels it. Traditional characters are converted first (OpenCC),
full-width forms folded (NFKC), and a few keywords are also matched by their pinyin, which
catches the commonest homophone typos (月共 → 月供, 落地加 → 落地价)."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from autocrm.core import chinese

# --- the text signal ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Signal:
    code: str
    points: int
    label: Any  # lazy translated text: "asked about the out-the-door price"
    words: tuple[str, ...]
    english: tuple[str, ...] = ()
    pinyin: tuple[str, ...] = ()  # keywords matched by sound too (homophone typos)


# Hand-set weights (docs/adr/0015): what a dealership's sales managers rank as the strongest
# buying signals — the price to pay and the date to drive away come first.
SIGNALS: tuple[Signal, ...] = (
    Signal("price", 15, _("asked for the out-the-door price"),
           ("落地价", "落地", "裸车价", "裸车", "优惠多少", "优惠", "最低价", "底价", "全款", "报价", "多少钱",
            "什么价", "价格", "便宜", "砍价", "让利", "折扣", "总价", "全包价", "能少", "团购价", "团购"),
           ("otd", "out the door", "out-the-door", "best price", "lowest price", "discount", "how much", "price",
            "quote"),
           ("luo di jia", "luo che jia", "you hui duo shao")),
    Signal("delivery", 12, _("asked when they can take delivery"),
           ("提车", "什么时候能提", "多久能提", "交车", "等车", "多久到", "几天到", "提车周期", "现在订", "下订",
            "订车", "定车", "交定金", "定金", "订金", "签合同", "合同", "上牌", "留车", "交钱", "拿到车", "拿车"),
           ("delivery", "pick up", "pickup", "deposit", "when can i get"),
           ("ti che", "jiao che", "ding jin")),
    Signal("loan", 10, _("asked about a loan or instalments"),
           ("贷款", "首付", "利率", "月供", "分期", "按揭", "金融方案", "免息", "零首付", "贴息", "还款", "车贷",
            "利息", "0息", "零息"),
           ("loan", "finance", "financing", "down payment", "interest rate", "monthly payment", "installment",
            "instalment", "apr"),
           ("dai kuan", "shou fu", "yue gong", "fen qi", "li lv")),
    Signal("stock", 10, _("asked whether the car is in stock"),
           ("现车", "有没有车", "有车吗", "库存", "有现货", "现货", "车源", "有货", "到店就能提"),
           ("in stock", "stock", "available now"),
           ("xian che", "ku cun")),
    Signal("trade_in", 10, _("asked about a trade-in"),
           ("置换", "以旧换新", "旧车", "老车", "换车", "二手车评估", "评估", "换购", "置换补贴", "收旧车"),
           ("trade in", "trade-in", "tradein", "part exchange"),
           ("zhi huan",)),
    Signal("visit", 8, _("wants to visit or test drive"),
           ("试驾", "试乘", "到店", "看车", "来店", "过来看", "预约", "周末去", "明天去", "今天去", "地址", "定位",
            "门口", "接待"),
           ("test drive", "visit", "showroom", "come by", "appointment"),
           ("shi jia",)),
)  # fmt: skip
NEGATIVE = Signal(
    "not_now", -15, _("says they are only looking or buying later"),
    ("随便看看", "随便问问", "还早", "明年再说", "不急", "以后再说", "先了解", "了解一下", "只是看看", "暂时不买",
     "暂时不考虑", "过段时间", "再看看", "没打算", "不考虑", "不买", "明年", "后年", "看看而已", "问问而已",
     "没预算", "太贵", "买不起", "不着急", "还没想好", "考虑考虑", "不需要", "别打了", "不要打", "别打电话", "打错"),
    ("just looking", "just browsing", "not now", "next year", "no rush", "not interested", "maybe later",
     "too expensive", "wrong number"),
)  # fmt: skip
# After-sales questions (保养, 维修) reach sales forms too: not a purchase, whatever they ask the price of.
SERVICE = Signal(
    "service", -15, _("asks about after-sales service, not a purchase"),
    ("保养", "维修", "售后", "投诉", "理赔", "年检", "异响", "修车"),
    ("maintenance", "repair", "service appointment"),
)  # fmt: skip
_DAMPERS = (NEGATIVE, SERVICE)
TEXT_SIGNALS: dict[str, Signal] = {s.code: s for s in (*SIGNALS, *_DAMPERS)}
NEGATORS = frozenset(("不", "不用", "不要", "不需要", "没", "没有", "无需", "不想", "不打算", "别", "不做", "不搞"))
_NEGATED_PHRASES = ("不贷款", "不分期", "不置换", "不用贷", "不要贷", "不需要贷款", "不考虑贷款", "不用置换")

_word_signal: dict[str, str] = {}
_tokenizer: Any = None


def _dictionary() -> list[tuple[str, int]]:
    words: list[tuple[str, int]] = []
    for signal in (*SIGNALS, *_DAMPERS):
        for word in signal.words:
            words.append((word, 200000))
            _word_signal[word] = signal.code
    words += [(word, 100000) for word in (*NEGATORS, *_NEGATED_PHRASES)]
    return words


def _segmenter() -> Any:
    """The jieba tokenizer with the domain dictionary, built once per process on first use
    (≈ 1 s: the dictionary is read from jieba's cache file), never at import time (core.chinese)."""
    global _tokenizer
    if _tokenizer is None:
        _tokenizer = chinese.tokenizer("leads", _dictionary())
    return _tokenizer


_MAX_TEXT = 2000


def normalise(text: str) -> str:
    """Simplified characters, half-width forms, lower case; spaces between Chinese characters
    dropped (落 地 价 → 落地价) — core.chinese.normalise."""
    _segmenter()
    return chinese.normalise(text, max_chars=_MAX_TEXT)


def segment(text: str, *, normalised: bool = False) -> list[str]:
    """The words of ``text`` (normalised first unless it is), by jieba with the domain dictionary."""
    return [t for t in _segmenter().cut(text if normalised else normalise(text), HMM=True) if t.strip()]


_NEGATION_WINDOW = 3  # a negator up to three words before a keyword cancels it (不用 给 我 报价)


def _negated(words: list[str], i: int) -> bool:
    if words[i].startswith("不"):
        return True
    for j in range(max(0, i - _NEGATION_WINDOW), i):
        if words[j] in NEGATORS and not any(w in "，,。.!！?？;；" for w in words[j + 1 : i]):
            return True
    return False


def text_signals(text: str) -> dict[str, int]:
    """The intent signals found in one text, ``{code: points}``: each signal once, a keyword
    right after a negator (不, 不用, 没有…) not counted, ``not_now`` for "just looking"."""
    if not text or not text.strip():
        return {}
    norm = normalise(text)
    words = segment(norm, normalised=True)
    found: dict[str, int] = {}
    for i, word in enumerate(words):
        code = _word_signal.get(word)
        if code is None:
            continue
        if code not in (NEGATIVE.code, SERVICE.code) and _negated(words, i):
            continue
        found.setdefault(code, TEXT_SIGNALS[code].points)
    for signal in (*SIGNALS, *_DAMPERS):
        if signal.code not in found and any(_english(term, norm) for term in signal.english):
            found[signal.code] = signal.points
    if not any(
        code not in (NEGATIVE.code, SERVICE.code) for code in found
    ):  # by sound only when nothing matched by sight
        sound = _pinyin(words)
        for signal in SIGNALS:
            if signal.code not in found and any(f" {p} " in sound for p in signal.pinyin):
                found[signal.code] = signal.points
    return found


def _english(term: str, text: str) -> bool:
    return re.search(rf"(?<![a-z]){re.escape(term)}(?![a-z])", text) is not None


def _pinyin(words: list[str]) -> str:
    """The pinyin of the words that are not negated, spaced (`` luo di jia ``)."""
    from pypinyin import Style, lazy_pinyin

    kept = [w for i, w in enumerate(words) if not _negated(words, i)]
    return " " + " ".join(lazy_pinyin("".join(kept), style=Style.NORMAL, errors="default")) + " "


def text_points(text: str) -> int:
    """The text signal alone: the sum of :func:`text_signals` (the benchmark's classifier)."""
    return sum(text_signals(text).values())


HIGH_INTENT_TEXT = 1  # a text scoring at least this is read as high intent (the benchmark's cut)


# --- the counters kept on the lead --------------------------------------------------------------

_MAX_MODELS = 20


def _signals(lead: Any) -> dict[str, Any]:
    data = lead.score_signals if isinstance(lead.score_signals, dict) else {}
    lead.score_signals = data
    return data


def note_text(lead: Any, text: str) -> None:
    """Fold the signals of one text (a message, a note) into the lead's counters: the codes
    found are kept; "just looking" is kept until a later text shows a buying signal without it."""
    found = text_signals(text)
    if not found:
        return
    data = _signals(lead)
    codes = set(data.get("text", []))
    positive = {c for c in found if c not in (NEGATIVE.code, SERVICE.code)}
    codes |= positive
    for damper in _DAMPERS:
        if damper.code in found:
            codes.add(damper.code)
        elif positive:
            codes.discard(damper.code)
    data["text"] = sorted(codes)


def note_activity(lead: Any, kind: str, note: str = "") -> None:
    """Count a store visit or a test drive, and read the note's text."""
    data = _signals(lead)
    if kind == "visit":
        data["visits"] = int(data.get("visits", 0)) + 1
    elif kind == "test_drive":
        data["test_drives"] = int(data.get("test_drives", 0)) + 1
    if note:
        note_text(lead, note)


def note_views(lead: Any, views: list[tuple[str, str]], *, streak_models: list[str] | tuple[str, ...] = ()) -> None:
    """Count browsing events ``(model, page kind)``; ``streak_models``: models whose configuration
    was viewed three days in a row."""
    data = _signals(lead)
    data["views"] = int(data.get("views", 0)) + len(views)
    data["price_views"] = int(data.get("price_views", 0)) + sum(1 for _m, kind in views if kind == "price")
    models: dict[str, int] = dict(data.get("models", {}))
    for model, _kind in views:
        if model and (model in models or len(models) < _MAX_MODELS):
            models[model] = models.get(model, 0) + 1
    data["models"] = models
    if streak_models:
        data["streak"] = sorted(set(data.get("streak", [])) | set(streak_models))


# --- the score ----------------------------------------------------------------------------------

GRADE_POINTS = {"H": 20, "A": 12, "B": 5, "C": -5}
SOURCE_POINTS = {
    "walk_in": 12, "referral": 10, "phone": 6, "event": 5, "wechat": 5, "oem": 4,
    "autohome": 3, "dongchedi": 3, "yiche": 3, "web_form": 3,
}  # fmt: skip
INCOME_POINTS = {"30k_50k": 5, "gt50k": 8}
BASE = 10

REASONS: dict[str, Any] = {
    "base": _("base"),
    "customer": _("already a customer of the store"),
    "owner": _("owns a car bought here"),
    "income": _("income band fits"),
    "grade": _("intent grade %(grade)s"),
    "source": _("came through %(source)s"),
    "enquiries": _("enquired %(n)s times"),
    "bad_mobile": _("doubtful mobile number"),
    "visits": _("visited the store %(n)s times"),
    "test_drives": _("took a test drive"),
    "views": _("viewed the website %(n)s times"),
    "price_views": _("looked at the price page"),
    "repeat_model": _("viewed %(model)s %(n)s times"),
    "streak": _("viewed %(model)s configuration three days in a row"),
    **{f"text_{s.code}": s.label for s in (*SIGNALS, *_DAMPERS)},
}


def compute(lead: Any, *, customer: Any = None) -> tuple[int, list[dict[str, Any]]]:
    """``(score 0–100, reasons)`` of ``lead`` from its own fields and counters only (no query).
    ``customer``: the customer record when the caller has it in hand (intake); else the fact
    that the lead has one, and what intake noted about it, is used. Each reason is
    ``{"code", "points", "args"}``, rendered by :func:`reason_text`."""
    data = lead.score_signals if isinstance(lead.score_signals, dict) else {}
    reasons: list[dict[str, Any]] = []

    def add(code: str, points: int, **args: Any) -> None:
        if points:
            reasons.append({"code": code, "points": points, "args": args})

    add("base", BASE)
    profile = data.get("customer") or {}
    if lead.customer_id:
        add("customer", 10)
        if profile.get("owner"):
            add("owner", 10)
        add("income", INCOME_POINTS.get(profile.get("income", ""), 0))
    if lead.grade:
        add("grade", GRADE_POINTS.get(lead.grade, 0), grade=lead.grade)
    add("source", SOURCE_POINTS.get(lead.source_channel, 0), source=lead.source_channel)
    if (lead.enquiries or 1) > 1:
        add("enquiries", min(10, 5 * (lead.enquiries - 1)), n=lead.enquiries)
    if lead.mobile_flag:
        add("bad_mobile", -20)
    visits = int(data.get("visits", 0))
    if visits:
        add("visits", min(25, 15 + 5 * (visits - 1)), n=visits)
    if data.get("test_drives"):
        add("test_drives", 15)
    views = int(data.get("views", 0))
    if views:
        add("views", 10 if views >= 10 else 5 if views >= 3 else 2, n=views)
    if data.get("price_views"):
        add("price_views", 5)
    models: dict[str, int] = data.get("models") or {}
    if models:
        model, n = max(models.items(), key=lambda kv: (kv[1], kv[0]))
        if n >= 3:
            add("repeat_model", 8, model=model, n=n)
    for model in (data.get("streak") or [])[:1]:
        add("streak", 12, model=model)
    for code in data.get("text", []):
        signal = TEXT_SIGNALS.get(code)
        if signal is not None:
            add(f"text_{code}", signal.points)
    total = max(0, min(100, sum(r["points"] for r in reasons)))
    reasons.sort(key=lambda r: (r["code"] == "base", -abs(r["points"])))
    return total, reasons


def note_customer(lead: Any, customer: Any) -> None:
    """Keep what the score needs of the customer record read at intake (no later query)."""
    if customer is None:
        return
    stage = getattr(customer, "lifecycle_stage", "")
    _signals(lead)["customer"] = {
        "owner": stage in ("new", "returning", "loyal"),
        "income": getattr(customer, "income_band", "") or "",
    }


def apply(lead: Any, *, now: dt.datetime | None = None) -> int:
    """Set ``score``, ``score_reasons`` and ``scored_at`` on ``lead`` (not saved)."""
    lead.score, lead.score_reasons = compute(lead)
    lead.scored_at = now or timezone.now()
    return int(lead.score)


# The text of a reason depends only on its code, points, arguments and the language: rendered
# once per process and kept (a page lists 50 leads whose reasons repeat), bounded by _MAX_TEXTS.
_texts: dict[tuple[Any, ...], str] = {}
_MAX_TEXTS = 4096


def reason_text(reason: dict[str, Any], *, language: str | None = None) -> str:
    """One reason for people: ``问了落地价 +15`` (in ``language``, the active one by default)."""
    args = reason.get("args") or {}
    try:
        key: tuple[Any, ...] | None = (
            language or get_language(),
            reason.get("code"),
            reason.get("points"),
            tuple(sorted(args.items())) if args else (),
        )
        hash(key)
    except (TypeError, AttributeError):  # arguments we did not write (a list, a dict): rendered, not kept
        key = None
    if key is not None:
        hit = _texts.get(key)
        if hit is not None:
            return hit
    text = _render_reason(reason, args)
    if key is not None:
        if len(_texts) >= _MAX_TEXTS:
            _texts.clear()
        _texts[key] = text
    return text


def _render_reason(reason: dict[str, Any], args: Any) -> str:
    label = REASONS.get(str(reason.get("code", "")))
    if label is None:
        return ""
    if not isinstance(args, dict):
        args = {}
    if "source" in args:
        from .choices import LeadSource

        with contextlib.suppress(ValueError, TypeError):
            args = {**args, "source": LeadSource(args["source"]).label}
    try:
        text = str(label) % args if args else str(label)
    except (KeyError, TypeError, ValueError):
        text = str(label)
    try:
        points = int(reason.get("points", 0))
    except (TypeError, ValueError, OverflowError):
        points = 0
    return f"{text} {'+' if points >= 0 else '−'}{abs(points)}"


def reasons_text(lead: Any, limit: int = 8, *, language: str | None = None) -> list[str]:
    """The first ``limit`` reasons of a lead (or of a row dict with ``score_reasons``) as text."""
    reasons = lead.get("score_reasons") if isinstance(lead, dict) else lead.score_reasons
    if not isinstance(reasons, list):
        return []
    language = language or get_language()
    return [t for t in (reason_text(r, language=language) for r in reasons[:limit] if isinstance(r, dict)) if t]


# --- the hooks the services call ----------------------------------------------------------------


def on_intake(lead: Any, *, customer: Any = None, now: dt.datetime | None = None) -> int:
    """A new lead (not saved yet): the customer record read for de-duplication, the message."""
    note_customer(lead, customer)
    if lead.message:
        note_text(lead, lead.message)
    return apply(lead, now=now)


def on_enquiry(lead: Any, *, text: str, now: dt.datetime | None = None) -> dict[str, Any]:
    """The same person enquired again: the fields to update (with the enquiry counted)."""
    lead.enquiries = (lead.enquiries or 1) + 1
    if text:
        note_text(lead, text)
    apply(lead, now=now)
    return {"score": lead.score, "score_reasons": lead.score_reasons, "score_signals": lead.score_signals,
            "scored_at": lead.scored_at}  # fmt: skip


def on_activity(lead: Any, *, kind: str, note: str = "", now: dt.datetime | None = None) -> int:
    """An activity logged on the lead (saved by the caller)."""
    note_activity(lead, kind, note)
    return apply(lead, now=now)
