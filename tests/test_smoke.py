def test_demo_logins_exist(demo):
    from autocrm.accounts.models import User

    assert User.objects.filter(username="sales_a1").exists()
