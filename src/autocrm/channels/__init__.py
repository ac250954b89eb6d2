"""Clients of the providers that carry messages: one sub-package per provider, all behind the
interface in :mod:`autocrm.channels.base`. Nothing here knows customers, consent or the outbox
(that is :mod:`autocrm.messaging`); a client turns one :class:`~autocrm.channels.base.Outgoing`
into the provider's real request, and the provider's answers and callbacks into our types."""
