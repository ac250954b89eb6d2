"""The dates care moments fall on: Chinese holidays (a table, no network), yearly dates such as a
birthday or the car's delivery, and the annual inspection (年检) due by Chinese rules.

The inspection rule (公安部、国家市场监督管理总局, in force since 2022-10-01, for non-commercial
small and mini passenger cars other than vans, 非营运小微型载客汽车(面包车除外)): no on-site
inspection within the first 6 years (the owner applies online for the inspection mark in years
2 and 4), on-site every 2 years from year 6 to year 10, every year after 10 years. Before the
reform cars over 15 years were inspected every 6 months; the 2022 rules dropped that for these
cars. An inspection falls due on the anniversary of the first registration; a vehicle whose
``inspection_due`` is recorded (from its 行驶证) uses that date instead."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Holiday:
    code: str
    name: object  # a lazy translation
    dates: dict[int, dt.date]


#: Chinese holidays and festivals of 2026–2027 (lunar ones looked up for each year).
HOLIDAYS: tuple[Holiday, ...] = (
    Holiday("new_year", _("New Year's Day"), {2026: dt.date(2026, 1, 1), 2027: dt.date(2027, 1, 1)}),
    Holiday("spring_festival", _("Spring Festival"), {2026: dt.date(2026, 2, 17), 2027: dt.date(2027, 2, 6)}),
    Holiday("lantern", _("Lantern Festival"), {2026: dt.date(2026, 3, 3), 2027: dt.date(2027, 2, 20)}),
    Holiday("qingming", _("Qingming Festival"), {2026: dt.date(2026, 4, 5), 2027: dt.date(2027, 4, 5)}),
    Holiday("labour_day", _("Labour Day"), {2026: dt.date(2026, 5, 1), 2027: dt.date(2027, 5, 1)}),
    Holiday("dragon_boat", _("Dragon Boat Festival"), {2026: dt.date(2026, 6, 19), 2027: dt.date(2027, 6, 9)}),
    Holiday("mid_autumn", _("Mid-Autumn Festival"), {2026: dt.date(2026, 9, 25), 2027: dt.date(2027, 9, 15)}),
    Holiday("national_day", _("National Day"), {2026: dt.date(2026, 10, 1), 2027: dt.date(2027, 10, 1)}),
)

#: Holidays whose greeting is not a cheerful one (扫墓): no greeting is sent on them.
NO_GREETING = frozenset({"qingming"})


def holidays_on(day: dt.date) -> list[Holiday]:
    """The holidays falling on ``day`` (from the table; a year outside it has none)."""
    return [h for h in HOLIDAYS if h.dates.get(day.year) == day and h.code not in NO_GREETING]


def anniversary(of: dt.date, year: int) -> dt.date:
    """``of``'s anniversary in ``year``; 29 February falls on 28 February in a common year."""
    try:
        return of.replace(year=year)
    except ValueError:
        return dt.date(year, 2, 28)


def years_between(start: dt.date, day: dt.date) -> int:
    """Whole years from ``start`` to ``day``."""
    years = day.year - start.year
    return years - 1 if anniversary(start, day.year) > day else years


#: (up to this age in years, inspect every N years); after the last bound, every year.
INSPECTION_RULE: tuple[tuple[int, int], ...] = ((6, 6), (10, 2))


def inspection_ages() -> list[int]:
    """The ages (years since first registration) at which an on-site inspection falls due up to
    the last bound of :data:`INSPECTION_RULE`: 6, 8, 10."""
    ages, age = [], 0
    for bound, every in INSPECTION_RULE:
        while age + every <= bound:
            age += every
            ages.append(age)
    return ages


def inspection_due(registered_on: dt.date, today: dt.date) -> dt.date:
    """The next on-site inspection due on or after ``today`` for a car first registered on
    ``registered_on`` (see the module's docstring for the rule)."""
    fixed = inspection_ages()
    for age in fixed:
        due = anniversary(registered_on, registered_on.year + age)
        if due >= today:
            return due
    last = fixed[-1] if fixed else 0
    age = max(last + 1, years_between(registered_on, today))
    due = anniversary(registered_on, registered_on.year + age)
    return due if due >= today else anniversary(registered_on, registered_on.year + age + 1)
