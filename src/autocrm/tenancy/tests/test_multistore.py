"""Stores in the inherited role × scope matrix (autocrm.core.testing): tenancy has no pages, only
``GET /api/v1/stores``, which every role working in a store may read (its own store; directors and
administrators every store of the organization)."""

from __future__ import annotations

from autocrm.core.testing import MultistoreMatrix, Op


class TestTenancyMultistore(MultistoreMatrix):
    api_prefixes = ["/stores"]
    ops = [Op("/stores", "tenancy.store", "view", api=True, record=False)]
    exempt = {
        "PUT /api/v1/stores/{store_id}/modules": (
            "a store's own row, not a record owned in it: administrators only, another organization's "
            "store 404, every other role 403 and audited (test_store_modules)"
        ),
    }
