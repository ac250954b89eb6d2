"""Templates, channel accounts and the store's sending rules, through their services."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from autocrm.audit.models import AuditEvent
from autocrm.core.errors import Conflict, PermissionDenied, ValidationError
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.messaging import services_accounts, services_templates
from autocrm.messaging.models import ChannelAccount, MessageTemplate, MessagingSettings
from autocrm.messaging.tests import fakes_settings as fakes  # registers the test providers

SERVICE = {
    "code": "pickup_ready", "name": "提车通知", "purpose": "service", "channel": "sms", "language": "zh-hans",
    "body": "{customer_title}，您的爱车{plate}已完成保养。", "provider_template_id": "9001",
    "param_order": "customer_title, plate",
}  # fmt: skip


@pytest.fixture
def manager(demo):
    return actor_for("manager_a")


def test_template_saves_and_renders(manager):
    t = services_templates.template_save(actor=manager, store=manager.store_id, data=SERVICE)
    assert (t.store_id, t.code, t.param_order) == (manager.store_id, "pickup_ready", ["customer_title", "plate"])
    assert AuditEvent.objects.filter(object_type="messaging.messagetemplate", object_id=str(t.pk), action="create").exists()


def test_unknown_variable_is_named_and_nothing_saved(manager):
    with pytest.raises(ValidationError) as exc:
        services_templates.template_save(actor=manager, data={**SERVICE, "body": "您好{nickname}"})
    assert "{nickname}" in " ".join(str(m) for m in exc.value.fields["body"])
    assert not MessageTemplate.objects.filter(code="pickup_ready").exists()


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"body": "【锦江】{customer_title}您好"}, "body", "【】"),
        ({"body": "{customer_title}，保养8折优惠"}, "body", "优惠"),
        ({"body": "{customer_title}，车已修好。拒收请回复R"}, "body", ""),
        ({"provider_template_id": ""}, "provider_template_id", ""),
        ({"param_order": "customer_title"}, "param_order", "plate"),
        ({"purpose": "gossip"}, "purpose", ""),
        ({"language": "fr"}, "language", ""),
        ({"code": "Bad Code!"}, "code", ""),
        ({"param_order": ["x" * 100]}, "param_order", ""),
    ],
)
def test_provider_rules_refused_with_the_reason(manager, change, field, words):
    with pytest.raises(ValidationError) as exc:
        services_templates.template_save(actor=manager, data={**SERVICE, **change})
    assert field in exc.value.fields
    assert words in " ".join(str(m) for m in exc.value.fields[field])


def test_the_stores_own_unsubscribe_text_is_the_one_checked(manager):
    services_accounts.messaging_settings_save(actor=manager, data={"unsubscribe_text": "回T退订"})
    with pytest.raises(ValidationError):
        services_templates.template_save(actor=manager, data={**SERVICE, "body": "{customer_title}{plate}好了。回T退订"})


def test_same_code_channel_language_is_a_conflict_other_language_is_not(manager):
    services_templates.template_save(actor=manager, data=SERVICE)
    with pytest.raises(Conflict) as exc:
        services_templates.template_save(actor=manager, data=SERVICE)
    assert "code" in exc.value.fields
    en = services_templates.template_save(
        actor=manager, data={**SERVICE, "language": "en", "body": "Dear {customer_name}, {plate} is ready."
                             , "param_order": "customer_name, plate"},
    )  # fmt: skip
    assert en.language == "en"


def test_update_keeps_store_and_checks_again(manager):
    t = services_templates.template_save(actor=manager, data=SERVICE)
    t = services_templates.template_save(actor=manager, template=t, data={"name": "提车"})
    assert t.name == "提车"
    with pytest.raises(ValidationError):
        services_templates.template_save(actor=manager, template=t, data={"body": "{bogus}"})
    t.refresh_from_db()
    assert t.body == SERVICE["body"]


def test_roles_without_add_are_refused(demo):
    with pytest.raises(PermissionDenied):
        services_templates.template_save(actor=actor_for("sales_a1"), data=SERVICE)
    manager = actor_for("manager_a")
    with pytest.raises(PermissionDenied):  # another store than the actor's own
        services_templates.template_save(actor=manager, store=manager.store_id + 999, data=SERVICE)


def test_preview_with_a_real_customer_and_samples(manager):
    t = services_templates.template_save(actor=manager, data=SERVICE)
    customer = make_customer(manager, name="王芳", gender="female")
    p = services_templates.template_preview(actor=manager, template=t, customer=customer)
    assert p.text.startswith("王女士，您的爱车")
    assert p.missing == ("plate",)  # no vehicle: the sample shows, the real send would refuse
    sample = services_templates.template_preview(actor=manager, template=t)
    assert sample.text == "刘女士，您的爱车川A·B724E已完成保养。"
    assert sample.params == ("刘女士", "川A·B724E")


def test_preview_of_a_customer_out_of_scope_is_refused(demo):
    colleague = actor_for("sales_a2")
    customer = make_customer(colleague, name="李雷", consultant_id=colleague.user_id)
    t = services_templates.template_save(actor=actor_for("manager_a"), data=SERVICE)
    with pytest.raises(PermissionDenied):
        services_templates.template_preview(actor=actor_for("sales_a1"), template=t, customer=customer)


def test_demo_templates_render_for_every_store(demo):
    assert MessageTemplate.objects.filter(code="winter_care", purpose="marketing").count() == 2
    assert set(MessageTemplate.objects.values_list("language", flat=True)) == {"zh-hans", "en"}
    assert not ChannelAccount.objects.exists()  # the bare demo of the fixtures: no provider
    from autocrm.demo.messaging import demo_messaging_store
    from autocrm.tenancy.models import Store

    for store in Store.objects.all():
        demo_messaging_store(store)
    assert ChannelAccount.objects.filter(provider="console", channel="sms", is_active=True).count() == Store.objects.count()


# --- channel accounts ----------------------------------------------------------------------------


def _raw_secret(account) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_config FROM messaging_channelaccount WHERE id = %s", [account.pk])
        return cursor.fetchone()[0]


def test_account_secrets_encrypted_kept_on_blank_and_audited_without_values(manager):
    a = services_accounts.channel_account_save(
        actor=manager, provider="settings_test_sms",
        data={"secret_id": "AKIDpublic", "secret_key": "s3cr3t-key", "name": "腾讯"},
    )  # fmt: skip
    assert a.channel == "sms" and a.public_config == {"secret_id": "AKIDpublic", "sign_name": ""}
    raw = _raw_secret(a)
    assert raw.startswith("enc:v1:") and "s3cr3t" not in raw
    assert services_accounts.secrets_of(a) == {"secret_key": "s3cr3t-key"}
    a = services_accounts.channel_account_save(actor=manager, provider="x", account=a, data={"secret_id": "AKID2"})
    assert services_accounts.secrets_of(a) == {"secret_key": "s3cr3t-key"}  # blank kept the saved one
    a = services_accounts.channel_account_save(actor=manager, provider="x", account=a,
                                               data={"secret_id": "AKID2", "secret_key": "new-key"})  # fmt: skip
    assert services_accounts.client_config(a)["secret_key"] == "new-key"
    trail = json.dumps(list(AuditEvent.objects.filter(object_type="messaging.channelaccount").values("changes", "extra")),
                       ensure_ascii=False)  # fmt: skip
    assert "s3cr3t" not in trail and "new-key" not in trail
    assert AuditEvent.objects.filter(action="messaging.secrets_replaced", extra__fields=["secret_key"]).count() == 2


def test_required_secret_missing_is_named(manager):
    with pytest.raises(ValidationError) as exc:
        services_accounts.channel_account_save(actor=manager, provider="settings_test_sms", data={"secret_id": "A"})
    assert set(exc.value.fields) == {"secret_key"}
    with pytest.raises(ValidationError) as exc:
        services_accounts.channel_account_save(actor=manager, provider="nope", data={})
    assert "provider" in exc.value.fields


def test_default_moves_between_accounts_of_a_channel(manager):
    first = services_accounts.channel_account_save(
        actor=manager, provider="settings_test_sms", data={"secret_id": "A", "secret_key": "k", "is_default": True}
    )
    assert first.is_default
    second = services_accounts.channel_account_save(
        actor=manager, provider="settings_test_sms", data={"secret_id": "B", "secret_key": "k", "is_default": True}
    )
    first.refresh_from_db()
    assert second.is_default and not first.is_default
    assert services_accounts.default_account(store_id=manager.store_id, channel="sms") == second


def test_only_the_manager_changes_accounts(demo):
    for username in ("sales_a1", "marketing_a1", "service_manager_a"):
        with pytest.raises(PermissionDenied):
            services_accounts.channel_account_save(
                actor=actor_for(username), provider="settings_test_sms", data={"secret_id": "A", "secret_key": "k"}
            )
        with pytest.raises(PermissionDenied):
            services_accounts.messaging_settings_save(actor=actor_for(username), data={"marketing_weekly_cap": 9})


def test_account_test_reports_the_providers_refusal(manager):
    a = services_accounts.channel_account_save(
        actor=manager, provider="settings_test_sms", data={"secret_id": "A", "secret_key": "k"}
    )
    assert services_accounts.channel_account_test(actor=manager, account=a, to="13800000000").provider_id == "test-1"
    assert fakes.SettingsTestSms.sent[-1][0] == {"secret_id": "A", "sign_name": "", "secret_key": "k"}
    with pytest.raises(ValidationError) as exc:
        services_accounts.channel_account_test(actor=manager, account=a, to="13900000000")
    assert "AuthFailure" in str(exc.value.fields["to"])


def test_new_callback_secret_changes_the_url(manager):
    a = services_accounts.channel_account_save(
        actor=manager, provider="settings_test_sms", data={"secret_id": "A", "secret_key": "k"}
    )
    before = services_accounts.callback_path(a)
    assert a.callback_secret and a.callback_secret in before
    services_accounts.channel_account_new_callback_secret(actor=manager, account=a)
    assert services_accounts.callback_path(a) != before


@pytest.mark.parametrize(
    ("data", "field"),
    [({"window_start": "20:00", "window_end": "08:00"}, "window_end"), ({"window_start": "25:00"}, "window_start"),
     ({"marketing_weekly_cap": 51}, "marketing_weekly_cap"), ({"marketing_weekly_cap": "x"}, "marketing_weekly_cap"),
     ({"unsubscribe_text": ""}, "unsubscribe_text"), ({"sms_signature": "【锦江】"}, "sms_signature")],
)  # fmt: skip
def test_settings_bad_input_names_the_field(manager, data, field):
    before = MessagingSettings.objects.get(store_id=manager.store_id).marketing_weekly_cap
    with pytest.raises(ValidationError) as exc:
        services_accounts.messaging_settings_save(actor=manager, data=data)
    assert field in exc.value.fields
    assert MessagingSettings.objects.get(store_id=manager.store_id).marketing_weekly_cap == before


def test_settings_saved(manager):
    s = services_accounts.messaging_settings_save(
        actor=manager, data={"window_start": "09:00", "window_end": "21:00", "marketing_weekly_cap": 3,
                             "unsubscribe_text": "回T退订", "sms_signature": "锦江4S"},
    )  # fmt: skip
    assert (str(s.window_start), s.marketing_weekly_cap, s.unsubscribe_text) == ("09:00:00", 3, "回T退订")
