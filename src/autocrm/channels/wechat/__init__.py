"""WeChat clients: Official Account template messages (``wechat_oa``), Mini Program subscribe
messages (``wechat_mp``) and WeCom application messages for staff (``wecom``), sharing one
access-token manager cached across workers (:mod:`.tokens`) and the push checks (:mod:`.push`)."""

from . import mini_program, official_account, wecom

__all__ = ["mini_program", "official_account", "wecom"]
