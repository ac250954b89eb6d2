"""The voice-of-customer page and API in the inherited role × scope matrix (autocrm.core.testing):
read by the store's managers and agents, by advisors and consultants for their own texts, by the
director for the group; everyone else 403."""

from __future__ import annotations

from autocrm.core.testing import MultistoreMatrix, Op

T = "voc.voctext"


class TestVocMultistore(MultistoreMatrix):
    builders = {}
    namespaces = ["voc"]
    api_prefixes = ["/voc"]
    ops = [
        Op("voc:overview", T, "view", record=False),
        Op("voc:data", T, "view", record=False),
        Op("/voc", T, "view", api=True, record=False),
    ]
