"""Care moments: the store's triggers, the nightly run (who is due, once per occasion, purpose by
kind and gift), gifts through the ``care.gifts`` registry, and who may change the settings."""

import datetime as dt

import pytest

from autocrm.core.errors import PermissionDenied, ValidationError
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.maintenance.tests.factories import make_vehicle
from autocrm.messaging.models import Message
from autocrm.moments import services
from autocrm.moments.models import MomentSend, MomentTrigger

TODAY = dt.date(2026, 12, 2)


def _on(actor, kind, **data):
    return services.trigger_save(actor=actor, kind=kind, data={
        "is_active": True, "days_before": data.pop("days_before", 0), "template_code": f"moment_{kind}", **data,
    })  # fmt: skip


def test_birthday_greeting_once_per_year_as_marketing(world):
    manager = actor_for("manager_a", "a")
    _on(manager, "birthday")
    today_born = make_customer(manager, name="寿星甲", birthday=dt.date(1990, 12, 2))
    make_customer(manager, name="不是今天", birthday=dt.date(1990, 12, 3))
    minor = make_customer(manager, name="小朋友", birthday=dt.date(2015, 12, 2))
    minor.is_minor = True
    minor.save(update_fields=["is_minor"])
    before = set(MomentSend.objects.values_list("customer_id", flat=True))
    assert services.moments_run(store_id=world["a"].pk, today=TODAY)["birthday"] >= 1
    sent = MomentSend.objects.filter(kind="birthday").exclude(customer_id__in=before)
    assert [s.customer_id for s in sent] == [today_born.pk]  # not tomorrow's, not the child
    row = sent.get()
    assert row.occasion == "2026" and row.purpose == "marketing"
    message = Message.objects.get(pk=row.message_id)
    assert message.idempotency_key == f"moment:birthday:{today_born.pk}:2026"
    assert message.purpose == "marketing" and message.customer_id == today_born.pk
    assert "寿星甲" in message.text  # the default words when the store has no template of its own
    assert services.moments_run(store_id=world["a"].pk, today=TODAY)["birthday"] == 0  # again: nothing new
    assert MomentSend.objects.filter(customer=today_born).count() == 1


def test_a_window_catches_up_and_29_february_is_greeted_on_the_28th(world):
    manager = actor_for("manager_a", "a")
    _on(manager, "birthday", days_before=3)
    leap = make_customer(manager, name="闰日生", birthday=dt.date(2000, 2, 29))
    services.moments_run(store_id=world["a"].pk, today=dt.date(2027, 2, 26))
    row = MomentSend.objects.get(customer=leap)
    assert row.due_on == dt.date(2027, 2, 28) and row.occasion == "2027"


def test_due_dates_are_service_notices_until_a_gift_rides_along(world, fake_gifts):
    manager = actor_for("manager_a", "a")
    owner = make_customer(manager, name="车主乙", licence_expiry=TODAY + dt.timedelta(days=20))
    car = make_vehicle(world["a"], customer=owner, insurance_expiry=TODAY + dt.timedelta(days=10),
                       delivered=dt.date(2019, 12, 20))  # fmt: skip
    _on(manager, "licence", days_before=30)
    _on(manager, "insurance", days_before=30, gift="coupon:birthday")
    _on(manager, "inspection", days_before=30)
    services.moments_run(store_id=world["a"].pk, today=TODAY)
    licence = MomentSend.objects.get(customer=owner, kind="licence")
    assert licence.purpose == "service" and licence.occasion == (TODAY + dt.timedelta(days=20)).isoformat()
    insurance = MomentSend.objects.get(customer=owner, kind="insurance")
    assert insurance.purpose == "marketing" and insurance.gift_result == "生日券 BD0001"
    assert insurance.vehicle_id == car.pk
    assert fake_gifts == [(owner.pk, world["a"].pk, "coupon:birthday")]
    # 2019-12-20: 6 years old on 2025-12-20 (passed), due again at 8 → not within 30 days
    assert not MomentSend.objects.filter(customer=owner, kind="inspection").exists()
    services.moments_run(store_id=world["a"].pk, today=TODAY)
    assert len(fake_gifts) == 1  # a gift once, however often the night runs


def test_inspection_due_by_rule_and_by_recorded_date(world):
    manager = actor_for("manager_a", "a")
    six = make_customer(manager, name="六年车主")
    recorded = make_customer(manager, name="登记日车主")
    make_vehicle(world["a"], customer=six, delivered=dt.date(2020, 12, 20))
    v = make_vehicle(world["a"], customer=recorded, delivered=dt.date(2025, 1, 1))
    v.inspection_due = TODAY + dt.timedelta(days=5)
    v.save(update_fields=["inspection_due"])
    _on(manager, "inspection", days_before=30)
    services.moments_run(store_id=world["a"].pk, today=TODAY)
    assert MomentSend.objects.get(customer=six, kind="inspection").due_on == dt.date(2026, 12, 20)
    assert MomentSend.objects.get(customer=recorded, kind="inspection").due_on == TODAY + dt.timedelta(days=5)


def test_anniversary_per_car_and_holiday_per_year(world):
    manager = actor_for("manager_a", "a")
    owner = make_customer(manager, name="纪念日车主")
    car = make_vehicle(world["a"], customer=owner, delivered=dt.date(2023, 9, 25))
    _on(manager, "anniversary")
    _on(manager, "holiday")
    services.moments_run(store_id=world["a"].pk, today=dt.date(2026, 9, 25))
    anniversary = MomentSend.objects.get(customer=owner, kind="anniversary")
    assert anniversary.occasion == f"2026:v{car.pk}"
    assert "3" in Message.objects.get(pk=anniversary.message_id).text
    holiday = MomentSend.objects.get(customer=owner, kind="holiday")
    assert holiday.occasion == "2026-mid_autumn" and "中秋" in Message.objects.get(pk=holiday.message_id).text
    # the other store's customers are not this store's job
    other = make_customer(actor_for("manager_b", "b"), name="乙店客户")
    assert not MomentSend.objects.filter(customer=other).exists()


def test_off_triggers_send_nothing(world):
    manager = actor_for("manager_a", "a")
    make_customer(manager, name="寿星丙", birthday=dt.date(1980, 12, 2))
    services.trigger_save(actor=manager, kind="birthday", data={"is_active": False, "days_before": 0,
                                                                "template_code": "moment_birthday"})  # fmt: skip
    assert services.moments_run(store_id=world["a"].pk, today=TODAY) == {}


def test_trigger_save_refuses_bad_input_and_other_roles(world):
    manager = actor_for("manager_a", "a")
    with pytest.raises(ValidationError) as err:
        services.trigger_save(actor=manager, kind="birthday", data={
            "is_active": True, "days_before": "999", "template_code": "", "gift": "coupon:nope"})  # fmt: skip
    assert set(err.value.fields) == {"days_before", "template_code", "gift"}
    with pytest.raises(ValidationError) as err:
        services.trigger_save(actor=manager, kind="weather", data={"is_active": True, "days_before": 0,
                                                                   "template_code": "moment_weather",
                                                                   "location": "north"})  # fmt: skip
    assert set(err.value.fields) == {"location"}
    assert not MomentTrigger.objects.exists()
    for username in ("agent_a1", "marketing_a1", "sales_a1"):
        with pytest.raises(PermissionDenied):
            services.trigger_save(actor=actor_for(username, "a"), kind="birthday",
                                  data={"is_active": True, "days_before": 0, "template_code": "x"})  # fmt: skip


@pytest.mark.parametrize(
    "gift",
    [
        "voucher:5",  # a family nobody gives
        "points:abc",
        "points:0",
        "points:007",
        "points:1000000",
        "points:5:fixed-key",
        "points:-3",  # malformed, out of range
        "coupon:",
        "coupon:NOPE",  # no type named, no such active type in the store
    ],
)
def test_each_gift_family_judges_its_own_spec(world, gift):
    """Moments knows no family by name: loyalty's validators (care.gift_validators) refuse what
    its coupon and points families cannot give, with an error on ``gift`` and nothing saved."""
    manager = actor_for("manager_a", "a")
    with pytest.raises(ValidationError) as err:
        _on(manager, "birthday", gift=gift)
    assert set(err.value.fields) == {"gift"} and err.value.fields["gift"][0]
    assert not MomentTrigger.objects.filter(kind="birthday").exists()


def test_a_family_validator_accepts_an_amount_not_in_the_select(world):
    manager = actor_for("manager_a", "a")
    trigger = _on(manager, "birthday", gift="points:300")  # the select offers 50…1000; any 1–100000 is fine
    assert trigger.gift == "points:300"


def test_a_failing_gift_sends_nothing_and_is_tried_again(world):
    from autocrm.core.extensions import registry

    def broken(customer_id, store_id, spec):
        raise RuntimeError("loyalty is down")

    registry("care.gifts").register(broken, key="coupon:broken")
    try:
        manager = actor_for("manager_a", "a")
        born = make_customer(manager, name="寿星丁", birthday=dt.date(1985, 12, 2))
        _on(manager, "birthday", gift="coupon:broken")
        services.moments_run(store_id=world["a"].pk, today=TODAY)
        assert not MomentSend.objects.filter(customer=born).exists()
        assert not Message.objects.filter(customer=born, idempotency_key__startswith="moment:").exists()
    finally:
        registry("care.gifts").unregister("coupon:broken")


def test_nightly_task_is_on_the_store_schedule():
    from autocrm.moments import tasks

    assert tasks.care_moments_daily.module == "care"
    assert tasks.care_weather_alerts.module == "care"
