"""Masking helpers: enough to recognise a customer, not enough to take their data away."""

import pytest

from autocrm.core.masking import mask_address, mask_id_number, mask_mobile, mask_name


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+86 138-1234-5678", "138****5678"),
        ("8613812345678", "138****5678"),
        ("", ""),
        (None, ""),
        ("12345", "*****"),
    ],
)
def test_mask_mobile(raw, masked):
    assert mask_mobile(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [("11010519491231002X", "*****************X"), ("110105491231002", "**************2"), ("", "")],
)
def test_mask_id_number(raw, masked):
    assert mask_id_number(raw) == masked


def test_masked_values_hide_the_middle():
    assert "12345678" not in mask_mobile("13812345678")
    assert "19491231" not in mask_id_number("11010519491231002X")
    assert mask_address("上海市浦东新区张杨路1200号").endswith("****")
    assert "张杨路" not in mask_address("上海市浦东新区张杨路1200号")
    assert mask_name("张伟") == "张*"


def test_masked_id_number_with_the_fields_beside_it_leaves_the_sequence_unknown():
    """Region (from the district), birth date (the birthday) and gender are shown unmasked beside
    the ID number: the mask must show none of the sequence, or the number is rebuilt without a
    reveal. Counted: every sequence consistent with what is visible is still a candidate."""
    from stdnum.cn import ric

    region, birth, number = "310104", "19900101", "31010419900101076X"
    masked = mask_id_number(number)
    assert len(masked) == 18
    visible = {i: ch for i, ch in enumerate(masked) if ch != "*"}
    assert all(i == 17 for i in visible)  # nothing of region, birth date or sequence
    candidates = [
        body
        for seq in range(0, 1000, 1)
        if seq % 2 == 1  # an odd sequence: a man, as the visible gender says
        for body in [f"{region}{birth}{seq:03d}"]
        if all((body + ric.calc_check_digit(body + "0"))[i] == ch for i, ch in visible.items())
    ]
    assert len(candidates) > 20


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("张杨路1200号阳光小区3栋1202室", "张杨路****"),
        ("世纪大道88号", "世纪****"),
        ("1号", "****"),
        ("上海市浦东新区张杨路1200号", "上海市浦东****"),
    ],
)
def test_mask_address_shows_no_number(raw, masked):
    assert mask_address(raw) == masked
    assert not any(ch.isdigit() for ch in mask_address(raw))
