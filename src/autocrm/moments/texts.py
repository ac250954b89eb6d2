"""The words a moment says when the store has no template of its own for the channel (the
outbox then sends this text; a store's template with the trigger's code always wins), and the
driving tips per weather hazard. Rendered in Chinese, the customers' language."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .choices import MomentKind

DEFAULT_TEXT = {
    MomentKind.BIRTHDAY: _("Happy birthday, %(name)s! Best wishes from everyone at %(store)s.%(gift)s"),
    MomentKind.ANNIVERSARY: _(
        "%(name)s, your %(plate)s has been with you for %(years)s year(s) today. Thank you for driving with "
        "%(store)s.%(gift)s"
    ),
    MomentKind.HOLIDAY: _("%(name)s, %(store)s wishes you a happy %(holiday)s!%(gift)s"),
    MomentKind.LICENCE: _(
        "%(name)s, your driving licence is due on %(date)s. Remember to renew it in time. — %(store)s%(gift)s"
    ),
    MomentKind.INSPECTION: _(
        "%(name)s, the annual inspection of %(plate)s is due on %(date)s. We can help you book it. — %(store)s%(gift)s"
    ),
    MomentKind.INSURANCE: _(
        "%(name)s, the insurance of %(plate)s expires on %(date)s. Renew it in time to stay covered. — %(store)s%(gift)s"
    ),
    MomentKind.WEATHER: _("%(name)s, %(warning)s. %(tips)s — %(store)s"),
}

GIFT_LINE = _(" A gift for you: %(gift)s.")

TIPS = {
    "rain": _("Heavy rain: slow down, keep your distance, turn on your lights, and never drive into standing water."),
    "snow": _("Snow and ice: brake gently, keep well back, avoid sudden steering, and check your tyres."),
    "heat": _(
        "Heat: never leave children, pets or lighters in the car, check coolant and tyre pressure, and park in shade."
    ),
    "typhoon": _("Typhoon: avoid driving if you can, park away from trees and billboards, and keep off flooded roads."),
}

CLUB_INVITE_TEXT = _("%(name)s, you are invited to %(event)s on %(time)s at %(place)s. Sign up here: %(link)s")

SEAT_TEXT = _("%(name)s, a seat at %(event)s on %(time)s at %(place)s is now yours. See you there!")
