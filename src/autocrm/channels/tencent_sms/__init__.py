"""Tencent Cloud SMS (provider ``tencent_sms``): :class:`~.client.TencentSmsClient`."""

from autocrm.channels.tencent_sms.client import TencentSmsClient

__all__ = ["TencentSmsClient"]
