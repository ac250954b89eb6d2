"""What a customer's words say (客户之声): sentiment and aspect phrases of one Chinese text —
a survey comment, a complaint, a call note (ADR 0035).

A lexicon with rules, over jieba with a domain dictionary, chosen over SnowNLP and a small
scikit-learn model by the held-out half of ``tests/data/labelled.jsonl`` (the ADR has the figures):

* the text is normalised (``core.chinese``: traditional → simplified, full-width → half-width,
  lower case), cut into clauses at punctuation, and each clause segmented;
* every sentiment word carries a weight (好 +1, 专业 +2, 坑 −2.5 …); a degree word before it scales
  it (非常 ×1.8, 有点 ×0.6), a negator up to three words before it in the clause flips it
  (不贵, 没有乱收费, 一点都不快; two negators cancel: 没什么不满意的);
* a clause after 但是 / 不过 / 就是 weighs more than one after 虽然 (the customer's point comes last);
* waiting spelled out (等了三个小时, 换了半天) is a complaint, and praise in the same text is then read
  as sarcasm (真是太快了，等了三个小时) — so is praise in quotation marks ("专业");
* emoji and a few English words count like words;
* a text with both clear praise and clear complaint is ``neutral`` (mixed), as is a text with neither.

Aspect phrases: each clause that names an aspect (等待时间, 服务态度, 价格, 收费透明, 配件, 洗车, 返修,
技术, 服务顾问, 环境, 推销, 沟通, 车辆损伤, 救援/代步) gives the aspect with the clause's sign
(``wait-`` = 等待时间长, ``transparency+`` = 价格透明); codes are stored, labels are translated at display.

Everything is pure and runs on one process's memory: jieba's table is loaded on first use (≈ 1 s)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from autocrm.core import chinese

POSITIVE, NEGATIVE, NEUTRAL = "positive", "negative", "neutral"

# --- the lexicon ---------------------------------------------------------------------------------

_POS = {
    "好": 1.0, "好好": 1.2, "满意": 2.0, "不错": 2.0, "挺好": 1.5, "很好": 1.5, "蛮好": 1.5, "专业": 2.0,
    "耐心": 2.0, "热情": 2.0, "细致": 2.0, "细心": 2.0, "仔细": 1.5, "贴心": 2.0, "及时": 1.5, "快": 1.5,
    "快捷": 1.5, "高效": 2.0, "效率高": 2.0, "很快": 1.8, "迅速": 1.5, "便宜": 1.5, "实惠": 2.0, "划算": 2.0,
    "公道": 2.0, "合理": 1.5, "透明": 2.0, "价格透明": 2.0, "明码标价": 2.0, "干净": 1.5, "整洁": 1.0, "放心": 2.0, "靠谱": 2.0,
    "感谢": 2.0, "谢谢": 1.5, "表扬": 2.0, "点赞": 2.0, "赞": 2.0, "很赞": 2.0, "棒": 2.0, "棒棒哒": 2.0,
    "给力": 2.0, "推荐": 2.0, "强烈推荐": 3.0, "良心": 2.0, "厚道": 2.0, "诚恳": 1.5, "诚意": 1.5, "方便": 1.5,
    "省心": 2.0, "准时": 1.5, "认真": 1.5, "负责": 1.5, "认真负责": 2.0, "惊喜": 2.0, "感动": 2.0, "周到": 1.5,
    "到位": 1.5, "客气": 1.0, "好评": 2.5, "一流": 2.0, "值得": 2.0, "物超所值": 3.0, "性价比高": 2.5,
    "顺利": 1.0, "舒服": 1.0, "优惠": 1.0, "完美": 2.0, "超值": 2.0, "彻底": 1.0, "实在": 1.5, "放心把车": 2.0,
    "顺": 1.0, "正规": 1.5, "进步": 1.5, "改观": 1.5, "越来越好": 2.0, "辛苦": 1.0, "细心周到": 2.0,
    "满义": 2.0, "可以": 0.4, "还行": 0.4, "还可以": 0.4, "挺": 0.0, "心情愉快": 2.0, "愉快": 1.5, "舒心": 1.5,
    "没得说": 2.0, "解决": 1.0, "修好": 1.0, "搞定": 1.0, "弄好": 1.0, "一次修好": 2.0, "一次就": 1.0,
    "童叟无欺": 2.5, "五星": 2.5, "5星": 2.5, "10分": 2.5, "9分": 2.0, "省": 0.5, "厉害": 1.5,
    "技术好": 2.0, "手艺好": 2.0, "态度好": 2.0, "服务好": 2.0, "非常好": 2.0, "太好了": 2.0, "特别好": 2.0,
    "认准": 2.0, "认可": 1.5, "杠杠的": 2.0, "一分不多": 2.0, "一模一样": 1.5, "看不出": 1.0, "还来": 2.0, "还会再来": 2.5,
    "行": 0.6, "负责任": 1.5, "也好": 1.0,
    "ok": 0.6, "nice": 2.0, "good": 2.0, "great": 2.0, "满分": 2.5, "不坑人": 2.0,
}  # fmt: skip
_NEG = {
    "差": 2.0, "很差": 2.0, "太差": 2.5, "差劲": 2.5, "慢": 2.0, "太慢": 2.5, "慢死": 3.0, "贵": 1.5, "太贵": 2.0,
    "坑": 2.5, "很坑": 2.5, "坑人": 2.5, "坑爹": 3.0, "乱收费": 3.0, "脏": 2.0, "吵": 1.5, "敷衍": 2.5,
    "敷衍了事": 3.0, "推销": 1.5, "失望": 2.5, "投诉": 0.8, "垃圾": 3.0, "骗": 3.0, "骗子": 3.0, "被骗": 3.0,
    "烂": 2.5, "拖": 1.5, "拖延": 2.0, "排队": 1.0, "缺货": 2.0, "没到": 1.5, "异响": 1.5, "漏": 1.5, "划伤": 2.0,
    "刮痕": 2.0, "划": 1.0, "返修": 2.0, "返厂": 2.0, "又坏": 2.5, "修不好": 2.5, "没修好": 2.5, "态度恶劣": 3.0,
    "恶劣": 3.0, "傲慢": 2.5, "阴阳怪气": 2.5, "踢皮球": 2.5, "离谱": 2.5, "不合理": 2.0, "虚高": 2.5,
    "抢钱": 3.0, "欺客": 3.0, "骚扰": 2.5, "烦": 2.0, "烦死": 3.0, "生气": 2.0, "受够": 3.0, "无语": 2.0,
    "占线": 1.5, "不理": 2.0, "爱答不理": 3.0, "过度维修": 3.0, "小病大修": 3.0, "冤枉钱": 3.0, "白花": 2.5,
    "白花钱": 2.5, "粗糙": 2.0, "色差": 2.0, "气泡": 1.5, "起泡": 2.0, "抖动": 1.5, "故障": 1.0, "着急": 1.0,
    "急死": 2.0, "麻烦": 1.5, "难吃": 2.0, "不见": 2.0, "丢": 2.0, "弄丢": 2.5, "争执": 2.0, "发脾气": 2.5,
    "不满": 2.0, "差评": 3.0, "三流": 2.5, "歪": 1.5, "久": 1.5, "太久": 2.0, "老问题": 2.0, "老样子": 2.0,
    "弄脏": 2.0, "油污": 1.5, "刮": 1.0, "野": 1.5, "烟味": 1.5, "难": 1.0, "坏了": 1.0, "坏": 1.0, "怪": 1.0,
    "意见": 1.0, "意见很大": 2.5, "有意见": 2.0, "不怎么样": 2.0, "肥务": 0.0, "收废": 1.5, "不满义": 2.5,
    "呵呵": 2.0, "嗬嗬": 2.0, "好家伙": 2.0, "真行": 1.5, "厉害了": 2.0, "服了": 1.0, "就这": 2.0,
    "破": 1.5, "凑合": 0.5, "勉强": 0.5, "一星": 2.5, "0分": 3.0, "3分": 1.5, "越来越差": 2.5, "一次比一次差": 3.0,
    "不敢": 2.0, "不放心": 2.5, "抢": 1.0, "多收": 2.5, "加钱": 1.5, "错": 1.5,
    "拿错": 2.0, "开错": 2.0, "记错": 2.0, "多收了": 2.5, "失误": 1.5, "延误": 2.0, "耽误": 1.5, "赶出来": 2.5, "一问三不知": 2.5,
    "不知道": 0.5, "过分": 2.5, "欺骗": 3.0, "忽悠": 2.5, "狠": 1.0, "宰": 2.5, "宰客": 3.0, "气死": 3.0,
    "不会再来": 3.0, "不来": 2.0, "再也不": 2.5, "没人": 2.0, "拒绝": 2.0, "挂断": 1.5, "情绪激动": 2.0, "改进": 1.5,
    "有待提高": 1.5, "偏高": 1.5, "偏低": 1.0, "偏贵": 1.5, "高于": 1.5, "掏钱": 1.0, "顾不过来": 1.0, "忙": 0.5,
    "不算话": 2.0, "说好的": 1.0, "少了": 1.5, "没了": 1.5, "晚": 1.0,
    "bad": 2.0, "slow": 2.0, "poor": 2.0, "terrible": 3.0, "too slow": 2.5, "高": 0.0,
}  # fmt: skip
# Degree words scale the next sentiment word within two words (非常 满意, 有点 贵).
_DEGREE = {
    "很": 1.3, "非常": 1.8, "太": 1.5, "特别": 1.6, "超": 1.5, "超级": 1.8, "极": 1.8, "极其": 1.8, "真": 1.2,
    "真是": 1.2, "真的": 1.2, "最": 1.5, "挺": 1.1, "蛮": 1.1, "有点": 0.6, "有些": 0.6, "稍微": 0.5,
    "稍": 0.5, "比较": 0.9, "一点": 0.6, "略": 0.6, "十分": 1.6, "相当": 1.5, "巨": 1.8, "贼": 1.6, "老": 1.2,
    "不是一般的": 2.0, "越来越": 1.3, "更": 1.2, "还挺": 1.1, "特": 1.5, "好多": 1.0, "一倍": 1.5,
}  # fmt: skip
NEGATORS = frozenset((
    "不", "没", "没有", "别", "未", "无", "不算", "不太", "并不", "从不", "从来不", "绝不", "毫不", "不够", "不是很",
    "不怎么", "没什么", "不用", "不要", "不必", "无需", "从来没", "从没", "不会", "不能", "不是", "没能",
))  # fmt: skip
# Words that start with a negator but are not negations, kept whole by the dictionary.
_NOT_NEGATIONS = (
    "没两天",
    "没几天",
    "没多久",
    "好几次",
    "好几",
    "有好有坏",
    "一般般",
    "没想到",
    "不仅",
    "不但",
    "不只",
    "不好说",
    "没意见",
    "不管",
    "没关系",
    "没问题",
    "不错",
    "不少",
)
_NEUTRAL_WORDS = {"没意见": 0.0, "不好说": 0.0, "没问题": 1.0, "没关系": 0.0}
# Words that only carry an opinion when negated: 不通知, 没有提前告知, 不能接受, 没做到, 没擦干.
_EXPECTED = {"通知": 1.5, "告知": 1.5, "提前告知": 1.5, "提醒": 1.0, "联系": 1.0, "做到": 1.5, "接受": 1.5,
             "兑现": 1.5, "擦干": 1.5, "解决": 1.5, "回复": 1.0, "回消息": 1.0, "管": 1.5}  # fmt: skip
# Adjectives whose sign depends on what they describe: 效率高 +, 价格高 −, 时间长 −, 技术一般 −.
_GOOD_WHEN_HIGH = ("效率", "性价比", "技术", "水平", "满意度", "速度")
_BAD_WHEN_HIGH = ("价格", "收费", "费", "工时费", "费用", "价钱", "报价", "钱")
_RELATIVE = ("高", "低", "长", "短", "一般")
# Repeat repairs spelled out: 修了三次, 第四次来, 又坏了, 又亮了.
_REPEATED = re.compile(
    r"修了?[两三四五六七八九几]次|第[二三四五六七八九几]次|又(?:坏|亮|出现|响|漏|是老|要返)|老问题|老样子"
)
_IRONY = ("真是", "可真", "真行", "好服务", "你们这么")
_IRONIC_PRAISE = ("快", "很快", "高效", "效率高", "及时", "迅速", "谢谢", "感谢", "快捷", "专业", "好")
# The customer's point comes after the turn: 虽然… 但是…
_TURNS = ("但是", "但", "不过", "可是", "就是", "只是", "然而", "却")
_CONCESSIONS = ("虽然", "尽管", "虽说", "以前", "之前", "原来")
_EMOJI = {
    "👍": 2.0, "😊": 2.0, "😄": 2.0, "😀": 2.0, "🙏": 1.5, "✨": 1.0, "👌": 2.0, "❤": 2.0, "🥰": 2.0, "😁": 2.0,
    "💯": 2.0, "🌹": 1.5, "😃": 2.0, "🤝": 1.0,
    "😡": -2.5, "🤬": -3.0, "😤": -2.0, "👎": -2.5, "🙄": -2.0, "😓": -1.5, "😭": -2.0, "😠": -2.5, "💢": -2.0,
    "😒": -2.0, "😞": -2.0, "😩": -2.0, "🤮": -3.0, "😑": -1.0,
}  # fmt: skip
# Waiting spelled out: 等了三个小时, 排了一个小时, 换了半天, 放了一个礼拜 (not "一个小时就弄好了").
_NUM = r"(?:\d+|[一二两三四五六七八九十几半n]+)"
_WAITED = re.compile(
    rf"(?:等|排|拖|搞|弄|换|修|放|坐|耗|花)了?(?:快|将近|足足|整整|差不多)?(?:{_NUM}个?多?(?:半)?(?:小时|钟头|天|周|星期|礼拜|个月|月)"
    rf"|半天|一下午|一上午|一整天|一天|n久|好久|很久)(?!就|内|之内|左右就)"
    rf"|{_NUM}个?多?(?:小时|点|天|分钟|钟头)才"
)
_QUOTED = re.compile(r"[\"“”「」『』'‘’]([^\"“”「」『』'‘’]{1,6})[\"“”「」『』'‘’]")
_CLAUSE = re.compile(r"[，,。.!！?？;；~、\n…]+|\s{2,}")
_WINDOW = 3


@dataclass(frozen=True)
class Aspect:
    code: str
    words: tuple[str, ...]
    positive: Any  # lazy label of the praise: 价格透明
    negative: Any  # lazy label of the complaint: 收费不透明
    inherent: int = 0  # the sign of a clause that names it without a sentiment word (推销 −)


ASPECTS: tuple[Aspect, ...] = (
    Aspect("wait", ("等待时间", "等待", "等", "排队", "效率", "速度", "时间", "久", "慢", "快", "拖", "交车", "进度快"),
           _("short wait"), _("long waiting time")),
    Aspect("attitude", ("态度", "服务态度", "热情", "耐心", "爱答不理", "傲慢", "客气", "敷衍", "阴阳怪气", "不理",
                        "贴心", "踢皮球", "诚恳", "态度恶劣"),
           _("friendly attitude"), _("poor attitude")),
    Aspect("price", ("价格", "价钱", "贵", "便宜", "工时费", "性价比", "实惠", "划算", "花钱", "钱", "费用", "报价",
                     "收费", "抢钱", "优惠", "折扣", "打折", "虚高", "公道"),
           _("fair price"), _("high price")),
    Aspect("transparency", ("透明", "明码标价", "乱收费", "多收", "加钱", "提前告知", "没说", "解释收费", "收费标准",
                            "价格透明", "不透明", "结算", "结账", "清清楚楚", "一分不多", "差了"),
           _("transparent pricing"), _("opaque charges")),
    Aspect("parts", ("配件", "缺货", "到货", "零件", "原厂"), _("parts on time"), _("parts delay")),
    Aspect("wash", ("洗车", "打蜡", "水渍"), _("clean car wash"), _("poor car wash")),
    Aspect("repeat", ("返修", "返厂", "修了三次", "第四次", "老问题", "老样子", "修不好", "没修好", "又坏", "一次修好",
                      "又亮", "第几次", "三次", "几次", "多次", "又要"),
           _("fixed first time"), _("repeat repairs"), -1),
    Aspect("skill", ("技术", "手艺", "技师", "师傅", "专业", "修得", "修好", "故障", "异响", "钣金", "喷漆", "漆", "定位",
                     "贴膜", "镀晶", "师父"),
           _("skilled work"), _("poor workmanship")),
    Aspect("advisor", ("服务顾问", "顾问", "接待", "前台", "经理", "客服"), _("helpful advisor"), _("unhelpful advisor")),
    Aspect("environment", ("环境", "休息区", "卫生间", "停车", "停车位", "车位", "咖啡", "午饭", "按摩椅", "wifi",
                           "卫生"),
           _("pleasant lounge"), _("poor facilities")),
    Aspect("upsell", ("推销", "强制", "过度维修", "小病大修", "推了", "非要", "推荐的"),
           _("no hard selling"), _("hard selling"), -1),
    Aspect("communication", ("电话", "通知", "沟通", "进度", "解释", "讲解", "说明", "回访", "回消息", "微信", "讲",
                             "告知", "提醒", "联系", "回音", "短信"),
           _("kept informed"), _("poor communication")),
    Aspect("damage", ("划伤", "刮痕", "弄脏", "油污", "不见", "弄丢", "划", "少了", "色差", "气泡", "起泡"),
           pgettext_lazy("voc", "car well cared for"), _("car damaged or dirty"), -1),
    Aspect("roadside", ("救援", "代步车", "取送车", "拖车", "送车"), _("helpful roadside and loaner"),
           _("poor roadside and loaner")),
)  # fmt: skip
ASPECT_BY_CODE = {a.code: a for a in ASPECTS}


def phrase_label(code: str) -> str:
    """The reader's label of a phrase code (``wait-`` → 等待时间长)."""
    aspect = ASPECT_BY_CODE.get(code[:-1])
    if aspect is None:
        return code
    return str(aspect.positive if code.endswith("+") else aspect.negative)


PHRASE_CODES: tuple[str, ...] = tuple(f"{a.code}{s}" for a in ASPECTS for s in "+-")

_word_aspects: dict[str, list[str]] = {}
for _a in ASPECTS:
    for _w in _a.words:
        _word_aspects.setdefault(_w, []).append(_a.code)


def _dictionary() -> list[tuple[str, int]]:
    words = {*_POS, *_NEG, *_DEGREE, *NEGATORS, *_NOT_NEGATIONS, *_TURNS, *_CONCESSIONS, *_word_aspects}
    return [(w, 300000 if len(w) > 1 else 100000) for w in sorted(words) if re.search(r"[\u4e00-\u9fff]", w)]


_tokenizer: Any = None


def _segmenter() -> Any:
    global _tokenizer
    if _tokenizer is None:
        _tokenizer = chinese.tokenizer("voc", _dictionary())
    return _tokenizer


def warm_up() -> None:
    """Load jieba's table now (≈ 1 s) rather than on the first text."""
    _segmenter()


@dataclass
class Result:
    sentiment: str
    score: float  # −1 … 1
    phrases: list[str] = field(default_factory=list)  # aspect codes with their sign: ["wait-", "price+"]
    positive: float = 0.0
    negative: float = 0.0


_KEEP = frozenset((*_NOT_NEGATIONS, *NEGATORS, *_DEGREE, *_TURNS))
_PREFIXES = ("不", "没", "挺", "蛮", "太", "很", "也", "真", "超", "好")


def _known(word: str) -> bool:
    return word in _POS or word in _NEG or word in _EXPECTED or word in _RELATIVE


def _clause_words(clause: str) -> list[str]:
    """The words of a clause; a word jieba glued to its negator or degree (不透明, 挺差, 太低)
    when the rest is a sentiment word is cut in two."""
    out: list[str] = []
    for t in _segmenter().cut(clause, HMM=True):
        if not t.strip():
            continue
        if (
            len(t) > 1
            and not _known(t)
            and t not in _KEEP
            and t[0] in _PREFIXES
            and (_known(t[1:]) or (len(t) == 2 and t[0] in "不没"))
        ):
            out += [t[0], t[1:]]
        else:
            out.append(t)
    return out


def _parts(words: list[str]) -> list[list[str]]:
    """A clause cut again at a turn inside it (顾问很热情 | 但是 一个问题修三次都没好)."""
    parts: list[list[str]] = [[]]
    for w in words:
        if w in _TURNS and parts[-1]:
            parts.append([])
        parts[-1].append(w)
    return parts


def _relative(words: list[str], i: int) -> tuple[float, float]:
    """(weight, sign) of 高 / 低 / 长 / 短 / 一般 by the noun before it in the clause."""
    word, before = words[i], words[:i]
    if word == "一般":
        turned = bool(before) and before[0] in _TURNS
        return (1.0, -1.0) if turned and any(w in _word_aspects for w in before) else (0.5, -1.0)
    if word in ("长", "短"):
        return 1.2, (-1.0 if word == "长" else 1.0)
    if any(w in _GOOD_WHEN_HIGH for w in before):
        return 1.5, (1.0 if word == "高" else -1.0)
    if any(w in _BAD_WHEN_HIGH for w in before):
        return 1.5, (-1.0 if word == "高" else 1.0)
    return 0.0, 0.0


def _post_negated(words: list[str], i: int) -> bool:
    """一点诚意都没有, 一个气泡都没有: the negation after the word."""
    rest = [w for w in words[i + 1 : i + 4] if w not in ("都", "也", "一点", "了")]
    return bool(rest) and rest[0] in ("没有", "没") and len(rest) <= 2


def analyse(text: str) -> Result:
    """The sentiment (positive / negative / neutral-or-mixed), a score −1…1 and the aspect
    phrases of one text."""
    norm = chinese.normalise(text or "").strip()
    if not norm:
        return Result(NEUTRAL, 0.0)
    quoted = {m.group(1) for m in _QUOTED.finditer(norm)}
    waited = _WAITED.search(norm) is not None
    pos_total = neg_total = 0.0
    phrase_sign: dict[str, float] = {}
    clauses = [c for c in _CLAUSE.split(norm) if c.strip()]
    pieces = [(clause, part) for clause in clauses for part in _parts(_clause_words(clause))]
    first = pieces[0][1] if pieces else []
    for index, (clause, words) in enumerate(pieces):
        weight = 1.0
        if words[0] in _TURNS or (index > 0 and first and first[0] in _CONCESSIONS):
            weight = 1.4
        if words[0] in _CONCESSIONS:
            weight = 0.4
        pos = neg = 0.0
        for i, word in enumerate(words):
            if word.isascii() and word.isalpha():
                continue  # English words: read once over the whole text below
            expected = _EXPECTED.get(word)
            if word in _RELATIVE:
                value, sign = _relative(words, i)
            elif _POS.get(word):
                value, sign = _POS[word], 1.0
            elif _NEG.get(word):
                value, sign = _NEG[word], -1.0
            elif expected is not None:
                value, sign = expected, 1.0
            else:
                e = _EMOJI.get(word)
                if e is not None:
                    pos, neg = (pos + e, neg) if e > 0 else (pos, neg - e)
                continue
            if not value:
                continue
            if word in quoted and sign > 0:  # "专业": praise in quotes is irony
                sign = -1.0
            degree, negations = 1.0, 0
            for j in range(max(0, i - _WINDOW), i):
                w = words[j]
                if w in NEGATORS:
                    negations += 1
                elif w in _DEGREE:
                    degree *= _DEGREE[w]
            if i + 1 < len(words) and words[i + 1] in ("点", "一点", "一些", "些", "点儿"):
                degree *= 0.5  # 少了点
            if _post_negated(words, i):
                negations += 1
            if expected is not None and word not in _POS and negations % 2 == 0:
                continue  # 通知了: no opinion
            if negations % 2:
                sign, degree = -sign, degree * (0.8 if sign < 0 else 1.0)
            if sign > 0:
                pos += value * degree
            else:
                neg += value * degree
        if index == 0 or pieces[index - 1][0] != clause:
            for ch in clause:
                e = _EMOJI.get(ch)
                if e is not None and ch not in words:
                    pos, neg = (pos + e, neg) if e > 0 else (pos, neg - e)
        delayed = _WAITED.search("".join(words)) is not None
        if delayed:
            neg += 2.5
        if _REPEATED.search("".join(words)):
            neg += 2.5
        pos, neg = pos * weight, neg * weight
        pos_total += pos
        neg_total += neg
        aspects = {code for w in words for code in _word_aspects.get(w, ())}
        if delayed:
            aspects.add("wait")
        if _REPEATED.search("".join(words)):
            aspects.add("repeat")
        for code in aspects:
            net = pos - neg
            if not net:
                net = float(ASPECT_BY_CODE[code].inherent)
            if net:
                phrase_sign[code] = phrase_sign.get(code, 0.0) + net
    for word in ("ok", "nice", "good", "great", "bad", "slow", "poor", "terrible"):
        m = re.search(rf"(?<![a-z])(不|not )?{word}(?![a-z])", norm)
        if m:
            good = (word in _POS) != bool(m.group(1))
            if good:
                pos_total += _POS.get(word, 1.0)
            else:
                neg_total += _NEG.get(word, _POS.get(word, 1.0) + 0.5)
    ironic = any(m in norm for m in _IRONY) or any(w in norm for w in _IRONIC_PRAISE[:-2])
    if waited and pos_total and neg_total and ironic:  # 真是太快了，等了三个小时: praise beside a long wait is irony
        neg_total += pos_total
        pos_total = 0.0
        phrase_sign = {code: -abs(v) for code, v in phrase_sign.items()}
    return _verdict(pos_total, neg_total, phrase_sign)


_MIXED = 0.45  # both sides at least this share of the larger: a mixed text
_CLEAR = 0.55  # the least net weight read as an opinion


def _verdict(pos: float, neg: float, phrase_sign: dict[str, float]) -> Result:
    net = pos - neg
    phrases = sorted(f"{code}{'+' if v > 0 else '-'}" for code, v in phrase_sign.items() if v)
    score = max(-1.0, min(1.0, net / 4.0))
    if pos >= 0.6 and neg >= 0.6 and min(pos, neg) / max(pos, neg) >= _MIXED:
        sentiment = NEUTRAL
    elif net >= _CLEAR:
        sentiment = POSITIVE
    elif net <= -_CLEAR:
        sentiment = NEGATIVE
    else:
        sentiment = NEUTRAL
    return Result(sentiment, round(score, 3), phrases, round(pos, 2), round(neg, 2))
