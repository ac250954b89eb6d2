"""Realistic customer texts from a phrase bank (ADR 0035): what the demo records per store and
what the benchmark analyses by the hundred thousand. Clauses of praise and complaint per aspect,
joined as customers write them (one clause, two, a turn with 但是/就是, an emoji, a call note's
"回访：客户表示…"), drawn by a seeded generator so a run is reproducible."""

from __future__ import annotations

import random

PRAISE = {
    "wait": ("一个小时就弄好了", "效率很高", "到了就安排上了，不用等", "速度很快"),
    "attitude": ("顾问态度很好", "接待很热情", "师傅很耐心", "说话很客气"),
    "price": ("价格公道", "比外面还便宜", "保养不算贵", "性价比高"),
    "transparency": ("价格透明，没有乱收费", "开工前都确认了价格", "每一项都列得清清楚楚"),
    "parts": ("配件很快就到了", "配件都是原厂的"),
    "wash": ("洗车很干净", "还免费洗了车，很干净"),
    "skill": ("技术很专业", "一次就修好了", "师傅手艺好"),
    "environment": ("休息区环境不错", "休息区很干净，有咖啡"),
    "communication": ("进度随时通知我", "讲解得很清楚", "回访很及时"),
}
COMPLAINT = {
    "wait": ("等了三个小时", "等太久了", "预约了还要排队", "说好五点交车，拖到八点"),
    "attitude": ("顾问态度很差", "爱答不理的", "说话阴阳怪气的"),
    "price": ("价格太贵了", "工时费太离谱", "保养一次两千多，太贵"),
    "transparency": ("结账时多了好几项没说过的", "收费不透明", "没有提前告知费用就开工了"),
    "parts": ("配件等了两个星期", "配件一直缺货", "配件又没到"),
    "wash": ("洗车没洗干净", "洗车还要排一个小时"),
    "repeat": ("同一个问题修了三次", "刚修好没两天又坏了", "又是老问题"),
    "upsell": ("推销太多了", "一直推销延保，烦"),
    "environment": ("停车位太少", "休息区太吵"),
    "communication": ("电话打了好几次都没人接", "配件到了也不通知我"),
}
NEUTRAL = ("还行", "一般般吧", "下次再说", "客户表示已收到车辆，无其他意见", "客户电话未接通，稍后再联系",
           "客户询问保险到期时间，已告知", "常规保养，无特殊情况", "嗯")  # fmt: skip
SARCASM = ("真是太快了，等了三个小时", "你们效率可真高，一个灯泡换了半天", "谢谢你们让我等了四个小时")
HAPPY, ANGRY = ("👍", "😊", "🙏", ""), ("😡", "😤", "🙄", "")
CALL_PREFIX = ("回访：客户表示", "客户来电称", "")


def comment(rng: random.Random, *, mood: float = 0.55, trouble: str | None = None) -> str:
    """One text: ``mood`` the chance of a happy one; ``trouble`` an aspect this store (or staff
    member) is often criticised for, drawn more often."""
    roll = rng.random()
    if roll < 0.08:
        return rng.choice(NEUTRAL)
    if roll < 0.11:
        return rng.choice(SARCASM)
    happy = rng.random() < mood
    bank = PRAISE if happy else COMPLAINT
    aspect = trouble if (not happy and trouble and rng.random() < 0.5) else rng.choice(list(bank))
    parts = [rng.choice(bank[aspect])]
    shape = rng.random()
    if shape < 0.35:
        other = rng.choice(list(bank))
        parts.append(rng.choice(bank[other]))
        text = "，".join(parts)
    elif shape < 0.5:
        turn = COMPLAINT if happy else PRAISE
        text = parts[0] + "，" + rng.choice(("但是", "就是", "不过")) + rng.choice(turn[rng.choice(list(turn))])
    else:
        text = parts[0]
    if rng.random() < 0.2:
        text += rng.choice(HAPPY if happy else ANGRY)
    if rng.random() < 0.1:
        text = rng.choice(CALL_PREFIX) + text
    return text
