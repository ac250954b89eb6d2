"""Loyalty is the store's: desks that meet customers read memberships, points and coupons and
issue coupons; the advisor and the service manager apply them to bills and redeem coupons at the
till; managers adjust points by hand (they are the approver), give partner points and keep the
programme; marketing keeps coupon types; the group director reads every store's. Ledger rows,
spend and referrals follow their membership; tiers follow the programme."""

from autocrm.core.permissions import Scope, follow_parent, register
from autocrm.core.roles import Role

S, ORG = Scope.STORE, Scope.ORGANIZATION

register(
    "loyalty.membership",
    {
        Role.ADVISOR: ("view add apply", S),
        Role.AGENT: ("view add", S),
        Role.SALES: ("view add deal", Scope.OWN),  # the members among their own customers; points on deals
        Role.SALES_MANAGER: ("view add deal", S),
        Role.MARKETING: ("view", S),
        Role.SERVICE_MANAGER: ("view add apply adjust earn", S),
        Role.MANAGER: ("view add apply adjust earn change deal", S),
        Role.DIRECTOR: ("view", ORG),
    },
)
follow_parent("loyalty.pointsentry", "loyalty.membership")
follow_parent("loyalty.dealpoints", "loyalty.membership")
follow_parent("loyalty.giftredemption", "loyalty.membership")
follow_parent("loyalty.spendentry", "loyalty.membership")
follow_parent("loyalty.referral", "loyalty.membership")
follow_parent("loyalty.billloyalty", "loyalty.membership")

register(
    "loyalty.programme",
    {
        Role.ADVISOR: ("view", S),
        Role.AGENT: ("view", S),
        Role.MARKETING: ("view", S),
        Role.SERVICE_MANAGER: ("view", S),
        Role.MANAGER: ("view change", S),
        Role.DIRECTOR: ("view", ORG),
    },
)
follow_parent("loyalty.tier", "loyalty.programme")

register(
    "loyalty.coupontype",
    {
        Role.ADVISOR: ("view", S),
        Role.AGENT: ("view", S),
        Role.SALES: ("view", S),
        Role.SALES_MANAGER: ("view", S),
        Role.MARKETING: ("view add change", S),
        Role.SERVICE_MANAGER: ("view", S),
        Role.MANAGER: ("view add change", S),
        Role.DIRECTOR: ("view", ORG),
    },
)
register(
    "loyalty.coupon",
    {
        Role.ADVISOR: ("view add redeem", S),
        Role.AGENT: ("view add", S),
        Role.SALES: ("view add", Scope.OWN),
        Role.SALES_MANAGER: ("view add", S),
        Role.MARKETING: ("view add", S),
        Role.SERVICE_MANAGER: ("view add redeem", S),
        Role.MANAGER: ("view add redeem change", S),
        Role.DIRECTOR: ("view", ORG),
    },
)

# The gift catalogue (积分兑换礼品): the store manager keeps it; desks that meet customers read it
# and redeem gifts for members (a redemption follows its membership, ``redeem`` on the gift).
register(
    "loyalty.gift",
    {
        Role.ADVISOR: ("view redeem", S),
        Role.AGENT: ("view redeem", S),
        Role.SALES: ("view redeem", S),
        Role.SALES_MANAGER: ("view redeem", S),
        Role.SERVICE_MANAGER: ("view redeem", S),
        Role.MANAGER: ("view add change redeem", S),
        Role.DIRECTOR: ("view", ORG),
    },
)
