"""Alibaba Cloud SMS (provider ``aliyun_sms``): :class:`~.client.AliyunSmsClient`."""

from autocrm.channels.aliyun_sms.client import AliyunSmsClient

__all__ = ["AliyunSmsClient"]
