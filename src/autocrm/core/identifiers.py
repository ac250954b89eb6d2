"""Validators and normalisers for Chinese identifiers: mobiles, phones, ID numbers, USCC, VINs, plates.

Each ``normalize_*`` function returns the canonical form to store, or raises
:class:`autocrm.core.errors.ValidationError` whose ``fields`` name the field and the rule that
failed, so the UI and the API can show the same message. They are pure functions: no database.

Note: :func:`autocrm.core.normalize.normalize_mobile` is the forgiving blind-index key (digits
only, never raises); :func:`normalize_mobile` here is the strict validator used on write.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import phonenumbers
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError
from vininfo import Vin
from vininfo.exceptions import ValidationError as VinInfoError

from autocrm.core.errors import ValidationError

__all__ = [
    "PLATE_NEW_ENERGY",
    "PLATE_PROVINCES",
    "PLATE_REGULAR",
    "VinInfo",
    "clean_plate",
    "id_age_on",
    "id_birth_date",
    "id_gender",
    "id_is_under_14",
    "maker_label",
    "mobile_national",
    "normalize_id_number",
    "normalize_mobile",
    "normalize_phone",
    "normalize_plate",
    "normalize_uscc",
    "normalize_vin",
    "phone_display",
    "plate_kind",
    "vin_check_digit",
    "vin_decode",
    "vin_validate",
    "vin_with_check_digit",
]


def _fail(field: str, message: Any) -> ValidationError:
    return ValidationError(message, fields={field: [message]})


# --------------------------------------------------------------------------- phones

_PHONE_JUNK = re.compile(r"[\s\-().·]")


def _parse_cn(value: str | None, field: str, message: Any) -> phonenumbers.PhoneNumber:
    text = _PHONE_JUNK.sub("", value or "")
    if not text:
        raise _fail(field, message)
    if text.startswith("00"):
        text = "+" + text[2:]
    elif text.startswith("86") and len(text) == 13 and text.isdigit():
        text = "+" + text  # 86 typed without the plus in front of a mobile
    try:
        return phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise _fail(field, message) from None


_MOBILE_RULE = _("Enter a valid mainland China mobile number: 11 digits starting with 13 to 19, optionally with +86.")


# The CN mobile pattern from phonenumbers' own metadata: the fast path below accepts exactly the
# numbers phonenumbers calls mobile, without its parsing overhead (an import checks millions).
def _cn_mobile_pattern() -> str:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    pattern = metadata.mobile.national_number_pattern if metadata is not None and metadata.mobile else None
    if not pattern:  # phonenumbers always ships CN; fail at import rather than accept every number
        raise ImportError("phonenumbers has no CN mobile number pattern")
    return str(pattern)


_CN_MOBILE = re.compile(_cn_mobile_pattern())
_FAST_MOBILE = re.compile(r"^(?:\+86|0086|86)?(1\d{10})$")


def normalize_mobile(value: str | None, *, field: str = "mobile") -> str:
    """Mainland mobile number → E.164 (``+8613812345678``); spaces, dashes, +86 and 0086 accepted."""
    text = _PHONE_JUNK.sub("", value or "")
    fast = _FAST_MOBILE.match(text) if text.isascii() else None
    if fast and _CN_MOBILE.fullmatch(fast.group(1)):
        return "+86" + fast.group(1)
    number = _parse_cn(value, field, _MOBILE_RULE)
    if (
        number.country_code != 86
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number)
        not in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    ):
        raise _fail(field, _MOBILE_RULE)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_PHONE_RULE = _("Enter a valid phone number: a mobile, or a landline with its area code such as 021-58881234.")


def normalize_phone(value: str | None, *, field: str = "phone") -> str:
    """Any valid phone (mobile or landline with area code; foreign with +) → E.164."""
    number = _parse_cn(value, field, _PHONE_RULE)
    if not phonenumbers.is_valid_number(number):
        raise _fail(field, _PHONE_RULE)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_display(e164: str) -> str:
    """How people read a number: ``+8613812345678`` → ``138 1234 5678``; ``+862158881234`` →
    ``021 5888 1234``; anything else as stored. Several numbers (comma-separated) each."""
    if "," in e164:
        return ", ".join(phone_display(p.strip()) for p in e164.split(","))
    if not e164.startswith("+86"):
        return e164
    national = e164[3:]
    if len(national) == 11 and national.startswith("1"):
        return f"{national[:3]} {national[3:7]} {national[7:]}"
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def mobile_national(e164: str) -> str:
    """``+8613812345678`` → ``13812345678`` (the form people type and read)."""
    return e164[3:] if e164.startswith("+86") else e164.lstrip("+")


# --------------------------------------------------------------------------- resident ID

_ID_RULE = _(
    "Enter a valid resident ID number: 18 characters with a known region code, a real birth date "
    "and a correct check character."
)


_ID_FORMAT = re.compile(r"^\d{17}[\dX]$")


@lru_cache(maxsize=16384)
def _region_known(code: str, year: int) -> bool:
    """Was the 6-digit region code assigned in ``year``? (stdnum's table, looked up once per pair.)"""
    try:
        ric.get_birth_place(f"{code}{year:04d}01010000")
    except StdnumError:
        return False
    return True


def normalize_id_number(value: str | None, *, field: str = "id_number", today: datetime.date | None = None) -> str:
    """居民身份证: 18 characters, region known for the birth year, real past birth date, check digit.

    The same rules as ``stdnum.cn.ric.validate``, with the region lookup cached: imports check
    hundreds of thousands of numbers from a few thousand regions."""
    number = re.sub(r"[\s\-]", "", value or "").upper()
    if not _ID_FORMAT.match(number) or number[-1] != ric.calc_check_digit(number):
        raise _fail(field, _ID_RULE)
    try:
        born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise _fail(field, _ID_RULE) from None
    if not _region_known(number[:6], born.year) or born > (today or timezone.localdate()):
        raise _fail(field, _ID_RULE)
    return number


def id_birth_date(number: str) -> datetime.date:
    """The birth date in a normalised ID number (positions 7–14, YYYYMMDD)."""
    return datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def id_gender(number: str) -> str:
    """``"male"`` or ``"female"`` from the 17th digit (odd = male)."""
    return "male" if int(number[16]) % 2 else "female"


def id_age_on(number: str, on: datetime.date) -> int:
    born = id_birth_date(number)
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def id_is_under_14(number: str, on: datetime.date | None = None) -> bool:
    """Under-14s are flagged: their data needs a guardian's consent under PIPL art. 28/31."""
    return id_age_on(number, on or timezone.localdate()) < 14


# --------------------------------------------------------------------------- USCC

_USCC_RULE = _("Enter a valid unified social credit code: 18 characters with a correct check character.")


def normalize_uscc(value: str | None, *, field: str = "uscc") -> str:
    """统一社会信用代码 → upper-case 18 characters, check character verified."""
    text = re.sub(r"[\s\-]", "", value or "").upper()
    try:
        return uscc.validate(text)
    except StdnumError:
        raise _fail(field, _USCC_RULE) from None


# --------------------------------------------------------------------------- VIN

_VIN_CHARS = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_VIN_VALUES = {str(d): d for d in range(10)} | dict(
    zip("ABCDEFGHJKLMNPRSTUVWXYZ", (1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9), strict=True)
)
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_FORMAT_RULE = _("A VIN has 17 letters or digits and never contains I, O or Q.")
_VIN_CHECK_RULE = _("The VIN check digit (9th character) does not match: check each character.")
VIN_WARNING_NO_CHECK_DIGIT = _(
    "Imported VIN without a valid check digit: check it against the registration certificate."
)


def vin_check_digit(vin: str) -> str:
    """ISO 3779 / GB 16735 check character of a 17-character VIN (position 9 is ignored)."""
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    rest = total % 11
    return "X" if rest == 10 else str(rest)


def normalize_vin(value: str | None, *, field: str = "vin") -> str:
    """Upper-case, separators removed, 17 characters without I/O/Q (format only, see :func:`vin_validate`)."""
    text = re.sub(r"[\s\-.]", "", value or "").upper()
    if not _VIN_CHARS.match(text):
        raise _fail(field, _VIN_FORMAT_RULE)
    return text


def vin_validate(value: str | None, *, field: str = "vin") -> tuple[str, list[Any]]:
    """Return ``(vin, warnings)``.

    A wrong check digit is a hard error for VINs assigned in China (first character ``L``), where
    GB 16735 makes it mandatory; for imported VINs it is only a warning, because some makers' VINs
    for other markets do not carry one.
    """
    vin = normalize_vin(value, field=field)
    if vin_check_digit(vin) == vin[8]:
        return vin, []
    if vin[0] == "L":
        raise _fail(field, _VIN_CHECK_RULE)
    return vin, [VIN_WARNING_NO_CHECK_DIGIT]


def vin_with_check_digit(first16: str) -> str:
    """Insert the check digit into positions 1-8 + 10-17 of a VIN: ``LSJA24U6`` + ``JG269225`` → ``LSJA24U62JG269225``."""
    if len(first16) != 16:
        raise ValueError("expected 16 characters: positions 1-8 and 10-17")
    vin = first16[:8] + "0" + first16[8:]
    return vin[:8] + vin_check_digit(vin) + vin[9:]


@dataclass(frozen=True, slots=True)
class VinInfo:
    wmi: str
    maker: str | None
    country: str | None
    region: str | None
    model_years: tuple[int, ...]
    check_digit_valid: bool


def vin_decode(value: str) -> VinInfo:
    """What vininfo knows about a VIN; unknown WMIs give ``maker=None`` instead of failing."""
    vin = normalize_vin(value)
    try:
        info = Vin(vin)
        maker = info.manufacturer
        country = info.country
        region = info.region
        years = tuple(info.years)
    except (VinInfoError, KeyError, ValueError, AttributeError, IndexError):  # pragma: no cover - defensive
        maker = country = region = None
        years = ()
    if maker in ("", "UnsupportedBrand"):
        maker = None
    return VinInfo(
        wmi=vin[:3],
        maker=maker,
        country=country,
        region=region,
        model_years=years,
        check_digit_valid=vin_check_digit(vin) == vin[8],
    )


# Makers sold in China by their Chinese names, keyed by vininfo's manufacturer name (what
# ``vin_decode`` gives and ``Vehicle.maker`` stores): the stored value stays vininfo's, people
# read the name printed on the registration certificate when the UI is Chinese.
MAKERS_ZH: dict[str, str] = {
    "SAIC MG": "上汽名爵",
    "SAIC Volkswagen": "上汽大众",
    "SAIC General Motors": "上汽通用",
    "SAIC GM Wuling": "上汽通用五菱",
    "FAW-Volkswagen": "一汽-大众",
    "FAW Car": "一汽轿车",
    "FAW Toyota": "一汽丰田",
    "FAW Toyota (Tianjin)": "一汽丰田（天津）",
    "FAW Haima": "一汽海马",
    "GAC Toyota": "广汽丰田",
    "GAC Trumpchi": "广汽传祺",
    "GAC Fiat": "广汽菲亚特",
    "Guangzhou Honda": "广汽本田",
    "Dongfeng Honda": "东风本田",
    "Dongfeng Nissan": "东风日产",
    "Dongfeng Peugeot-Citroën": "东风标致雪铁龙",
    "Dongfeng Yueda Kia": "东风悦达起亚",
    "Dongfeng Fengshen": "东风风神",
    "Dong Feng (DFM), China": "东风汽车",
    "Changan Ford": "长安福特",
    "Changan Mazda": "长安马自达",
    "Changan Suzuki": "长安铃木",
    "Changan PSA (DS Automobiles)": "长安标致雪铁龙（DS）",
    "Beijing Hyundai": "北京现代",
    "Beijing Benz": "北京奔驰",
    "BMW Brilliance": "华晨宝马",
    "Brilliance Zhonghua": "华晨中华",
    "BYD Auto": "比亚迪",
    "BYD Bus": "比亚迪客车",
    "Geely": "吉利汽车",
    "Great Wall (Havel)": "长城汽车（哈弗）",
    "Chery": "奇瑞汽车",
    "JAC": "江淮汽车",
    "Lifan": "力帆汽车",
    "Tesla China": "特斯拉（上海）",
    "Tesla": "特斯拉",
    "Volvo China": "沃尔沃亚太",
    "Volvo": "沃尔沃",
    "Volvo Cars": "沃尔沃",
    "Buick China": "上汽通用别克",
    "Buick": "别克",
    "Isuzu Guangzhou": "广汽五十铃",
    "Shaanxi Automobile Group": "陕西汽车",
    "Suzhou King Long": "苏州金龙",
    "Zhongtong Coach": "中通客车",
    "Yutong": "宇通客车",
    "BMW": "宝马",
    "MINI": "MINI",
    "Mercedes-Benz": "梅赛德斯-奔驰",
    "Mercedes Benz": "梅赛德斯-奔驰",
    "Audi": "奥迪",
    "Volkswagen": "大众",
    "Porsche car": "保时捷",
    "Porsche SUV": "保时捷",
    "Toyota": "丰田",
    "Lexus": "雷克萨斯",
    "Honda": "本田",
    "Nissan (Nissan)": "日产",
    "Nissan (Infiniti)": "英菲尼迪",
    "Mazda": "马自达",
    "Subaru": "斯巴鲁",
    "Mitsubishi": "三菱",
    "Suzuki": "铃木",
    "Hyundai": "现代",
    "Kia": "起亚",
    "Genesis": "捷尼赛思",
    "Ford": "福特",
    "Lincoln": "林肯",
    "Chevrolet": "雪佛兰",
    "Cadillac": "凯迪拉克",
    "Jeep": "Jeep",
    "Land Rover": "路虎",
    "Jaguar": "捷豹",
    "JLR Jaguar Land Rover": "捷豹路虎",
    "Peugeot": "标致",
    "Citroën": "雪铁龙",
    "Citroen": "雪铁龙",
    "Renault (Renault)": "雷诺",
    "Skoda": "斯柯达",
    "Škoda": "斯柯达",
    "Ferrari": "法拉利",
    "Lamborghini": "兰博基尼",
    "Maserati": "玛莎拉蒂",
    "Bentley": "宾利",
    "Rolls Royce": "劳斯莱斯",
    "Aston Martin Lagonda Limited": "阿斯顿·马丁",
    "Mclaren": "迈凯伦",
    "Alfa Romeo": "阿尔法·罗密欧",
    "Fiat": "菲亚特",
    "Smart": "smart",
}


def maker_label(maker: str | None) -> str:
    """A maker as the reader's language names it: 上汽名爵 in Chinese, vininfo's "SAIC MG" in
    English; a maker not in the table as stored."""
    from django.utils import translation

    if not maker:
        return ""
    language = (translation.get_language() or "").lower()
    if language.startswith("zh"):
        return MAKERS_ZH.get(maker, maker)
    return maker


_VIN_FACTS: dict[tuple[str, str, int], tuple[str | None, tuple[int, ...]]] = {}
_VIN_YEAR_POSITION: dict[str, int] = {}  # per WMI: where the maker puts its year code (vininfo)


def vin_facts(vin: str) -> tuple[str | None, tuple[int, ...]]:
    """``(maker, possible model years)`` of a normalised VIN, as :func:`vin_decode` gives them,
    remembered per key: vininfo takes the maker from the WMI (positions 1–3) and the years from
    one year-code character (position 10 unless the maker says otherwise) and the current year.
    An import of 100,000 vehicles has a few hundred such keys."""
    wmi = vin[:3]
    position = _VIN_YEAR_POSITION.get(wmi)
    if position is None:
        try:
            position = int(getattr(Vin(vin).assembler, "year_position", 0) or 0)
        except (VinInfoError, KeyError, ValueError, AttributeError, IndexError):  # pragma: no cover - defensive
            position = 0
        _VIN_YEAR_POSITION[wmi] = position
    key = (wmi, vin[9 + position : 10 + position], datetime.datetime.now(datetime.UTC).year)  # vininfo's year
    facts = _VIN_FACTS.get(key)
    if facts is None:
        info = vin_decode(vin)
        facts = (info.maker, info.model_years)
        if len(_VIN_FACTS) >= 50_000:
            _VIN_FACTS.clear()  # bounded; a few hundred keys in practice
        _VIN_FACTS[key] = facts
    return facts


# --------------------------------------------------------------------------- plates

PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_REGULAR = "regular"
PLATE_NEW_ENERGY = "new_energy"

_P = f"[{PLATE_PROVINCES}]"
# Issuing-authority code: a letter, never I or O (GA 36). Serial characters: letters or digits, no I/O.
_CITY = "[A-HJ-NP-Z]"
_SER = "[A-HJ-NP-Z0-9]"
_PLATE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"^{_P}{_CITY}{_SER}{{5}}$"), PLATE_REGULAR),
    # Coach-car (学), trailer (挂) and police (警) plates: four serial characters then the suffix.
    (re.compile(rf"^{_P}{_CITY}{_SER}{{4}}[学挂警]$"), PLATE_REGULAR),
    # Cross-border Hong Kong / Macao plates are issued by Guangdong as 粤Z····港/澳.
    (re.compile(rf"^粤Z{_SER}{{4}}[港澳]$"), PLATE_REGULAR),
    # New energy, small vehicles: D (pure electric) or F (other) first, then a letter/digit, then 4 digits.
    (re.compile(rf"^{_P}{_CITY}[DF]{_SER}\d{{4}}$"), PLATE_NEW_ENERGY),
    # New energy, large vehicles: 5 digits then D or F.
    (re.compile(rf"^{_P}{_CITY}\d{{5}}[DF]$"), PLATE_NEW_ENERGY),
)
_PLATE_JUNK = re.compile(r"[\s.\-·•・]")
_PLATE_RULE = _(
    "Enter a valid licence plate: province character, issuing-authority letter and 5 characters "
    "(new-energy plates: 6 characters with D or F), without I or O."
)


def clean_plate(value: str | None) -> str:
    """Upper-case, spaces, dots, dashes and middle dots removed: ``沪a·12345`` → ``沪A12345``."""
    return _PLATE_JUNK.sub("", value or "").upper()


def plate_kind(value: str | None) -> str | None:
    """``"regular"``, ``"new_energy"``, or ``None`` when the plate is not valid."""
    plate = clean_plate(value)
    for pattern, kind in _PLATE_PATTERNS:
        if pattern.match(plate):
            return kind
    return None


def normalize_plate(value: str | None, *, field: str = "plate") -> str:
    plate = clean_plate(value)
    if plate_kind(plate) is None:
        raise _fail(field, _PLATE_RULE)
    return plate
