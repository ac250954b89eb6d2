"""Identifier rules: published valid examples pass, one-character mutations fail with a field error."""

import datetime

import pytest
from django.utils import translation

from autocrm.core.errors import ValidationError
from autocrm.core.identifiers import (
    PLATE_NEW_ENERGY,
    PLATE_REGULAR,
    VIN_WARNING_NO_CHECK_DIGIT,
    clean_plate,
    id_age_on,
    id_birth_date,
    id_gender,
    id_is_under_14,
    mobile_national,
    normalize_id_number,
    normalize_mobile,
    normalize_phone,
    normalize_plate,
    normalize_uscc,
    normalize_vin,
    plate_kind,
    vin_check_digit,
    vin_decode,
    vin_validate,
    vin_with_check_digit,
)

ID = "11010519491231002X"
USCC = "91110000600037341L"
VIN_CN = "LSJA24U62JG269225"
VIN_US = "1M8GDM9AXKP042788"
DIGITS = "0123456789"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VIN_VALUE = dict(zip("0123456789", range(10), strict=True)) | dict(
    zip("ABCDEFGHJKLMNPRSTUVWXYZ", (1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9), strict=True)
)


@pytest.fixture(autouse=True)
def _english():
    """These tests read the rule named in the English message; the zh-Hans text is checked
    by the catalogue check."""
    with translation.override("en"):
        yield


def field_error(exc_info, field):
    """The error names the field and carries a readable rule."""
    messages = exc_info.value.fields[field]
    assert messages and str(messages[0])
    return str(messages[0])


def substitutions(value, alphabet):
    for i, ch in enumerate(value):
        for other in alphabet:
            if other != ch:
                yield value[:i] + other + value[i + 1 :]


# ---------------------------------------------------------------- mobile / phone


@pytest.mark.parametrize(
    "typed",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "008613812345678",
        "8613812345678",
        " 13812345678 ",
        "１３８１２３４５６７８",  # full-width digits from a Chinese IME
    ],
)
def test_mobile_accepts_common_formats_and_normalises_to_e164(typed):
    assert normalize_mobile(typed) == "+8613812345678"
    assert mobile_national(normalize_mobile(typed)) == "13812345678"


@pytest.mark.parametrize(
    "typed",
    [
        "23812345678",  # first digit mutated
        "12812345678",  # 12x is not a mobile prefix
        "11812345678",
        "10812345678",
        "1381234567",  # one digit dropped
        "138123456789",  # one digit added
        "1381234567a",
        "021-58881234",  # a landline is not a mobile
        "",
        None,
    ],
)
def test_mobile_rejects_mutations_and_landlines_naming_the_field(typed):
    with pytest.raises(ValidationError) as exc_info:
        normalize_mobile(typed)
    assert "mobile" in field_error(exc_info, "mobile")


def test_mobile_error_uses_the_callers_field_name():
    with pytest.raises(ValidationError) as exc_info:
        normalize_mobile("123", field="contact_mobile")
    assert list(exc_info.value.fields) == ["contact_mobile"]


def test_other_phones_accept_landlines_and_mobiles():
    assert normalize_phone("021-58881234") == "+862158881234"
    assert normalize_phone("(0571) 8888 1234") == "+8657188881234"
    assert normalize_phone("13812345678") == "+8613812345678"
    with pytest.raises(ValidationError) as exc_info:
        normalize_phone("12345")
    field_error(exc_info, "phone")


# ---------------------------------------------------------------- resident ID


def test_published_id_number_is_valid_and_decoded():
    assert normalize_id_number(ID) == ID
    assert normalize_id_number("110105 19491231 002x") == ID
    assert id_birth_date(ID) == datetime.date(1949, 12, 31)
    assert id_gender(ID) == "female"
    assert id_age_on(ID, datetime.date(2019, 12, 30)) == 69
    assert id_age_on(ID, datetime.date(2019, 12, 31)) == 70
    assert not id_is_under_14(ID, datetime.date(2026, 1, 1))


def test_every_one_character_change_of_the_id_number_fails():
    mutations = list(substitutions(ID, DIGITS + "X"))
    assert len(mutations) == 18 * 10
    for bad in mutations:
        with pytest.raises(ValidationError) as exc_info:
            normalize_id_number(bad)
        assert "resident ID" in field_error(exc_info, "id_number")
    for bad in (ID[:-1], ID + "1", "11010519491231002"):
        with pytest.raises(ValidationError):
            normalize_id_number(bad)


def _with_check(body):
    from stdnum.cn import ric

    return body + ric.calc_check_digit(body + "0")


def test_id_with_impossible_or_future_birth_date_fails():
    with pytest.raises(ValidationError):
        normalize_id_number(_with_check("11010519490230002"))  # 30 February
    with pytest.raises(ValidationError):
        normalize_id_number(_with_check("11010520300101002"), today=datetime.date(2026, 1, 1))


def test_children_under_14_are_flagged():
    child = _with_check("31010420150601001")
    assert normalize_id_number(child) == child
    assert id_gender(child) == "male"
    assert id_is_under_14(child, datetime.date(2029, 5, 31))
    assert not id_is_under_14(child, datetime.date(2029, 6, 1))


# ---------------------------------------------------------------- USCC


def test_published_uscc_is_valid_and_every_mutation_fails():
    assert normalize_uscc(USCC) == USCC
    assert normalize_uscc("9111 0000 6000 3734 1l") == USCC
    for bad in substitutions(USCC, USCC_ALPHABET):
        with pytest.raises(ValidationError) as exc_info:
            normalize_uscc(bad)
        field_error(exc_info, "uscc")
    with pytest.raises(ValidationError):
        normalize_uscc(USCC[:-1])


# ---------------------------------------------------------------- VIN


@pytest.mark.parametrize("vin", [VIN_CN, VIN_US])
def test_published_vins_are_valid_without_warnings(vin):
    assert vin_validate(vin) == (vin, [])
    assert vin_validate(vin.lower()[:5] + " " + vin[5:]) == (vin, [])
    assert vin_check_digit(vin) == vin[8]
    assert vin_with_check_digit(vin[:8] + vin[9:]) == vin


def _value_changing_substitutions(vin):
    """Substitutions the check digit can see (A and J share a value, so A→J is invisible by design)."""
    for i, ch in enumerate(vin):
        for other in VIN_VALUE:
            if VIN_VALUE[other] != VIN_VALUE[ch] or (i == 8 and other != ch):
                yield vin[:i] + other + vin[i + 1 :]


def test_chinese_vin_with_any_detectable_mutation_is_a_hard_error():
    mutations = list(_value_changing_substitutions(VIN_CN))
    assert len(mutations) > 400
    for bad in mutations:
        if bad[0] != "L":
            continue  # no longer a Chinese VIN: covered below
        with pytest.raises(ValidationError) as exc_info:
            vin_validate(bad)
        assert "check digit" in field_error(exc_info, "vin")


def test_imported_vin_with_a_bad_check_digit_is_accepted_with_a_warning():
    for bad in _value_changing_substitutions(VIN_US):
        if bad[0] == "L":
            continue
        vin, warnings = vin_validate(bad)
        assert vin == bad
        assert warnings == [VIN_WARNING_NO_CHECK_DIGIT]


@pytest.mark.parametrize(
    "bad",
    [
        VIN_CN[:-1],  # 16 characters
        VIN_CN + "1",  # 18 characters
        "LSJA24U62JG26922O",  # letter O
        "LSJA24U62JG26922I",
        "LSJA24U62JG26922Q",
        "LSJA24U62JG26922*",
        "",
        None,
    ],
)
def test_vin_format_errors_name_the_rule(bad):
    with pytest.raises(ValidationError) as exc_info:
        vin_validate(bad)
    assert "I, O or Q" in field_error(exc_info, "vin")
    with pytest.raises(ValidationError):
        normalize_vin(bad)


def test_vin_decode_known_and_unknown_makers():
    info = vin_decode(VIN_CN)
    assert (info.wmi, info.maker, info.country) == ("LSJ", "SAIC MG", "China")
    assert 2018 in info.model_years
    assert info.check_digit_valid
    us = vin_decode(VIN_US)
    assert us.country == "United States" and us.maker
    unknown = vin_decode(vin_with_check_digit("9ZZ12345" + "JG269225"))
    assert unknown.maker is None
    assert unknown.check_digit_valid


def test_vin_with_check_digit_makes_valid_chinese_vins():
    for body in ("LGXCE4CB" + "N0000001", "LRW3E7EK" + "PC123456", "LFV2A215" + "L3000001"):
        vin = vin_with_check_digit(body)
        assert vin_validate(vin) == (vin, [])


# ---------------------------------------------------------------- plates


@pytest.mark.parametrize(
    ("typed", "plate", "kind"),
    [
        ("沪A12345", "沪A12345", PLATE_REGULAR),
        ("沪a·12345", "沪A12345", PLATE_REGULAR),
        ("粤B 8K3D2", "粤B8K3D2", PLATE_REGULAR),
        ("京N-F0236", "京NF0236", PLATE_REGULAR),
        ("浙A1234学", "浙A1234学", PLATE_REGULAR),
        ("苏E1234挂", "苏E1234挂", PLATE_REGULAR),
        ("沪A1234警", "沪A1234警", PLATE_REGULAR),
        ("粤Z1234港", "粤Z1234港", PLATE_REGULAR),
        ("粤Z1234澳", "粤Z1234澳", PLATE_REGULAR),
        ("沪AD12345", "沪AD12345", PLATE_NEW_ENERGY),
        ("沪adk1234", "沪ADK1234", PLATE_NEW_ENERGY),
        ("浙AF12345", "浙AF12345", PLATE_NEW_ENERGY),
        ("粤B12345D", "粤B12345D", PLATE_NEW_ENERGY),
        ("川A 12345F", "川A12345F", PLATE_NEW_ENERGY),
    ],
)
def test_real_format_plates_are_normalised_with_their_kind(typed, plate, kind):
    assert normalize_plate(typed) == plate
    assert plate_kind(typed) == kind


@pytest.mark.parametrize(
    "bad",
    [
        "X A12345",  # not a province
        "港A12345",
        "沪112345",  # issuing-authority code must be a letter
        "沪I12345",  # ... never I
        "沪O12345",  # ... or O
        "沪AI2345",  # serial without I
        "沪A1234O",  # ... or O
        "沪A1234",  # one character short
        "沪A1234567",  # two too many
        "沪AA12345",  # 8 characters but no D/F marker
        "沪AD1234A",  # small new-energy plates end with four digits
        "沪A1234AD",  # large new-energy plates have five digits before D/F
        "沪A12345X",
        "沪A1234港",  # Hong Kong plates are 粤Z only
        "沪A123学4",
        "",
        None,
    ],
)
def test_plate_mutations_fail_naming_the_field(bad):
    assert plate_kind(bad) is None
    with pytest.raises(ValidationError) as exc_info:
        normalize_plate(bad)
    assert "plate" in field_error(exc_info, "plate")


def test_clean_plate_only_strips_and_upcases():
    assert clean_plate(" 沪a · d1 2345 ") == "沪AD12345"
    assert clean_plate(None) == ""


def test_fast_paths_agree_with_the_libraries():
    """The regex fast paths accept exactly what phonenumbers and stdnum accept."""
    import random

    import phonenumbers
    from stdnum.cn import ric

    from autocrm.core.errors import ValidationError as DomainValidationError

    rng = random.Random(7)
    for _ in range(20000):
        d = rng.choice(["", "+86", "0086", "86"]) + "1" + "".join(rng.choice("0123456789") for _ in range(10))
        try:
            n = phonenumbers.parse("+" + d[2:] if d.startswith("00") else d, "CN")
            slow = (
                n.country_code == 86
                and phonenumbers.is_valid_number(n)
                and phonenumbers.number_type(n)
                in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
            )
        except phonenumbers.NumberParseException:
            slow = False
        try:
            normalize_mobile(d)
            fast = True
        except DomainValidationError:
            fast = False
        assert slow == fast, d
    for _ in range(20000):
        code = rng.choice(["110105", "310115", "330106", "440106", "999999", "110100", "320102"])
        body = f"{code}{rng.randint(1930, 2020):04d}{rng.randint(1, 13):02d}{rng.randint(1, 31):02d}{rng.randint(0, 999):03d}"
        number = body + (ric.calc_check_digit(body + "0") if rng.random() < 0.9 else rng.choice("0123456789X"))
        try:
            normalize_id_number(number)
            fast = True
        except DomainValidationError:
            fast = False
        assert ric.is_valid(number) == fast, number
        if fast:
            assert id_birth_date(number) == ric.get_birth_date(number)


def test_vin_facts_remembered_per_key_match_a_full_decode():
    """The import looks the maker and model years up once per WMI and year code: the same answer
    as decoding every VIN (published examples and the demo's VINs of every brand)."""
    from autocrm.core import identifiers
    from autocrm.demo.generators import DemoGenerator

    generator = DemoGenerator(7)
    vins = ["LSJA24U62JG269225", "1M8GDM9AXKP042788"] + [generator.vehicle().vin for _ in range(2000)]
    identifiers._VIN_FACTS.clear()
    for vin in vins:
        info = identifiers.vin_decode(vin)
        assert identifiers.vin_facts(vin) == (info.maker, info.model_years), vin
    assert len(identifiers._VIN_FACTS) < len(vins) / 4  # remembered, not recomputed
