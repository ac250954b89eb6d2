import pytest


@pytest.fixture
def world(db):
    from autocrm.demo.services import demo_create
    from autocrm.moments.models import MomentTrigger
    from autocrm.tenancy.models import Store

    demo_create()
    MomentTrigger.objects.all().delete()  # the demo turns store a's moments on; each test sets its own
    return {s.code: s for s in Store.objects.all()}


@pytest.fixture
def fake_gifts():
    """A points and a coupon giver in ``care.gifts`` for the test (the loyalty app registers the real ones)."""
    from autocrm.core.extensions import registry

    given = []

    def points(customer_id, store_id, spec):
        given.append((customer_id, store_id, spec))
        return f"{spec.split(':')[1]} 积分"

    def coupon(customer_id, store_id, spec):
        given.append((customer_id, store_id, spec))
        return "生日券 BD0001"

    gifts = registry("care.gifts")
    real_points = gifts.get("points")  # loyalty's giver, put back after the test
    gifts.register(points, key="points")
    gifts.register(coupon, key="coupon:birthday")
    yield given
    gifts.unregister("points")
    gifts.unregister("coupon:birthday")
    if real_points is not None:
        gifts.register(real_points, key="points")


@pytest.fixture
def no_gifts():
    """``care.gifts`` emptied for the test (the loyalty app registers its givers at start-up)."""
    from autocrm.core.extensions import registry

    gifts = registry("care.gifts")
    saved = {key: gifts.get(key) for key in gifts.keys()}  # noqa: SIM118 (a Registry iterates entries)
    for key in saved:
        gifts.unregister(key)
    yield
    for key, fn in saved.items():
        gifts.register(fn, key=key)
