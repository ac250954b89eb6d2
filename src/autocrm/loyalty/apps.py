from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "autocrm.loyalty"
    label = "loyalty"
    verbose_name = _("Loyalty")
    module_key = "loyalty"

    def ready(self) -> None:
        from autocrm.core.bill_hooks import (
            COUPON,
            POINTS,
            TIER,
            DealRule,
            DiscountRule,
            register_deal_apply,
            register_deal_cancel,
            register_deal_commit,
            register_deal_discount,
            register_discount,
            register_settle,
            register_void,
        )
        from autocrm.core.events import subscribe
        from autocrm.core.extensions import registry

        from . import events, handlers, labels, pages, permissions, services  # noqa: F401  (rule table, events)

        # The bill (ADR 0019, 0034): tier → coupon → points, then consumed in the payment's transaction.
        register_discount(DiscountRule("loyalty.tier", TIER, services.tier_discount))
        register_discount(DiscountRule("loyalty.coupon", COUPON, services.coupon_discount))
        register_discount(DiscountRule("loyalty.points", POINTS, services.points_discount))
        register_settle("loyalty", services.bill_settled)
        register_void("loyalty", services.bill_voided)
        # A new car's deal (ADR 0039): points toward the car, taken when the order is placed, back if cancelled.
        register_deal_discount(DealRule("loyalty.points", POINTS, services.deal_points_line))
        register_deal_apply("points", services.deal_points_set)
        register_deal_commit("loyalty", services.deal_committed)
        register_deal_cancel("loyalty", services.deal_cancelled)
        # Gifts other modules give (care moments, the car club): key → fn(customer_id, store_id, spec) → text.
        gifts = registry("care.gifts")
        gifts.register(services.gift_coupon, key="coupon")
        gifts.register(services.gift_points, key="points")
        choices = registry("care.gift_choices")  # what each family offers in a store, for the settings' select
        choices.register(services.gift_coupon_choices, key="coupon")
        choices.register(services.gift_points_choices, key="points")
        checks = registry("care.gift_validators")  # each family judges its own specs (moments knows none by name)
        checks.register(services.gift_coupon_problem, key="coupon")
        checks.register(services.gift_points_problem, key="points")
        registry("service.priority").register(services.is_priority, key="loyalty.tier")
        subscribe(events.TIER_CHANGED, handlers.on_tier_changed, worker=True)
        subscribe("leads.created", handlers.on_lead_created)
        subscribe("sales.deal_delivered", handlers.on_deal_delivered)
        subscribe("service.repair_order_closed", handlers.on_repair_order_closed)
        labels.register()
        pages.register()
