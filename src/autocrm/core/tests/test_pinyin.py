"""Pinyin keys: what a clerk types into the search box must match what was indexed."""

import pytest

from autocrm.core.pinyin import pinyin_full, pinyin_initials, pinyin_syllables, search_keys


@pytest.mark.parametrize(
    ("name", "full", "initials"),
    [
        ("张伟", "zhangwei", "zw"),
        ("王芳", "wangfang", "wf"),
        ("欧阳娜娜", "ouyangnana", "oynn"),
        ("诸葛亮", "zhugeliang", "zgl"),
        ("李娜", "lina", "ln"),
        # Surnames read as surnames, not with the character's most common reading.
        ("单田芳", "shantianfang", "stf"),
        ("曾志伟", "zengzhiwei", "zzw"),
        ("解晓东", "xiexiaodong", "xxd"),
        ("区志强", "ouzhiqiang", "ozq"),
        ("朴树", "piaoshu", "ps"),
        ("查良镛", "zhaliangyong", "zly"),
        ("仇英", "qiuying", "qy"),
        ("尉迟恭", "yuchigong", "ycg"),
        # ü is typed as v on Chinese keyboards.
        ("吕布", "lvbu", "lb"),
    ],
)
def test_chinese_names(name, full, initials):
    assert pinyin_full(name) == full
    assert pinyin_initials(name) == initials
    assert {full, initials} <= search_keys(name)


def test_surname_readings_apply_only_to_the_surname():
    # 曾 in a given name keeps its common reading; 单 as a company word is not a surname.
    assert pinyin_full("王曾") == "wangceng"
    assert pinyin_full("单位", person=False) == "danwei"
    assert pinyin_syllables("单田芳") == ["shan", "tian", "fang"]


def test_latin_and_mixed_names():
    assert pinyin_full("Tom Smith") == "tomsmith"
    assert pinyin_initials("Tom Smith") == "ts"
    assert pinyin_full("张Tom") == "zhangtom"
    assert pinyin_initials("张Tom") == "zt"
    assert pinyin_full("  李 明 ") == "liming"
    assert pinyin_full("上海4S店", person=False) == "shanghai4sdian"


def test_search_keys_add_the_u_spelling_of_v():
    assert search_keys("吕布") == {"lvbu", "lb", "lubu"}
    assert search_keys("Vivian") == {"vivian", "v"}


@pytest.mark.parametrize("empty", ["", None, "   ", "·-"])
def test_empty_names_give_no_keys(empty):
    assert pinyin_full(empty) == ""
    assert pinyin_initials(empty) == ""
    assert search_keys(empty) == set()
