"""What the channel clients' tests share: a fake provider on loopback and a client pointed at
it as pytest fixtures, an :class:`~autocrm.channels.base.Outgoing` with the provider's test
values, and an empty shared cache (the WeChat tokens live there) around every test.

    fake, client, outgoing = provider_fixtures(FakeTencentSms, TencentSmsClient, template_code="1110")
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from autocrm.channels.base import ChannelClient, Outgoing


def provider_fixtures(
    fake_class: Callable[[], Any], client_class: type[ChannelClient], **message: Any
) -> tuple[Any, Any, Callable[..., Outgoing]]:
    """``fake`` (the server, started for the test), ``client`` (its provider's client on the
    fake's configuration and URL, closed after the test) and ``outgoing(**changes)`` (a message
    to ``+8613812345678`` with a fresh id and ``message``'s values)."""

    @pytest.fixture
    def fake() -> Iterator[Any]:
        with fake_class() as server:
            yield server

    @pytest.fixture
    def client(fake: Any) -> Iterator[ChannelClient]:
        c = client_class(fake.client_config(), endpoint=fake.url, timeout=2.0)
        yield c
        c.close()

    def outgoing(**changes: Any) -> Outgoing:
        values: dict[str, Any] = {"message_id": uuid.uuid4().hex, "to": "+8613812345678", **message}
        values.update(changes)
        return Outgoing(**values)

    return fake, client, outgoing


@pytest.fixture
def empty_shared_cache() -> Iterator[None]:
    """The shared cache emptied before and after the test (tokens, rate counters)."""
    from autocrm.core.cache import shared_cache

    shared_cache().clear()
    yield
    shared_cache().clear()
