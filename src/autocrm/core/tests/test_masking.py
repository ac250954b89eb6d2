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
    [("11010519491231002X", "110105********002X"), ("110105491231002", "110105*****1002"), ("", "")],
)
def test_mask_id_number(raw, masked):
    assert mask_id_number(raw) == masked


def test_masked_values_hide_the_middle():
    assert "12345678" not in mask_mobile("13812345678")
    assert "19491231" not in mask_id_number("11010519491231002X")
    assert mask_address("上海市浦东新区张杨路1200号").endswith("****")
    assert "张杨路" not in mask_address("上海市浦东新区张杨路1200号")
    assert mask_name("张伟") == "张*"
