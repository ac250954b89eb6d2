"""A provider client for the settings pages' tests: the form is built from its config fields.
(The real clients are h/sms's and h/wechat's, tested against local servers there.)"""

from __future__ import annotations

from autocrm.channels.base import ChannelClient, ChannelError, ConfigField, SendResult, register


@register
class SettingsTestSms(ChannelClient):
    provider = "settings_test_sms"
    channel = "sms"
    label = "Test SMS provider"
    config_fields = (
        ConfigField("secret_id", "SecretId"),
        ConfigField("secret_key", "SecretKey", secret=True),
        ConfigField("sign_name", "SignName", required=False),
    )
    sent: list = []

    def send(self, message):
        if message.to == "13900000000":
            raise ChannelError("auth", "AuthFailure.SecretIdNotFound", "secret id not found")
        type(self).sent.append((dict(self.config), message))
        return SendResult(provider_id="test-1")


@register
class SettingsTestWecom(ChannelClient):
    provider = "settings_test_wecom"
    channel = "wecom"
    label = "Test WeCom"
    config_fields = (ConfigField("corp_id", "CorpID"), ConfigField("corp_secret", "Secret", secret=True))

    def send(self, message):
        return SendResult(provider_id="wecom-1")
