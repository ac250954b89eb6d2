"""Users and API tokens in the inherited role × scope matrix (autocrm.core.testing). Users are
not store rows: an administrator manages everyone of the organization, so "another store's"
user is in scope for them; every other role is refused at the door (403, even for a missing id)."""

from __future__ import annotations

import itertools

from autocrm.accounts.models import User
from autocrm.accounts.services import membership_set
from autocrm.core.roles import Role
from autocrm.core.testing import MultistoreMatrix, Op

U, TOKEN = "accounts.user", "accounts.apitoken"
_seq = itertools.count(1)


def build_user(store, owner):
    user = User.objects.create(username=f"matrix{next(_seq)}", organization_id=store.organization_id)
    membership_set(user=user, role=Role.SALES, store_id=store.pk)
    return user


class TestAccountsMultistore(MultistoreMatrix):
    builders = {U: build_user}
    namespaces = ["accounts", "accounts_admin"]
    api_prefixes = ["/api-tokens"]
    ops = [
        Op("accounts_admin:user_list", U, "view", record=False),
        Op("accounts_admin:user_create", U, "add", record=False),
        Op("accounts_admin:user_detail", U, "view", gate=True),
        Op("accounts_admin:token_list", TOKEN, "view", record=False),
        Op("/api-tokens", TOKEN, "view", api=True, record=False),
    ]
    exempt = {
        "accounts:login": "the sign-in page, open to everyone (rate-limited; tested in test_views)",
        "accounts:login_totp": "the second sign-in step, open to everyone mid-sign-in",
        "accounts:logout": "every signed-in user's own session",
        "accounts:security": "every signed-in user's own password and second factor",
        "accounts:password_change": "every signed-in user's own password (test_password_change)",
        "accounts:switch_store": "among the user's own stores only (test_views)",
        "accounts_admin:index": "a redirect to the user list",
        "accounts_admin:membership_set": "changes a user's roles; administrators only (test_admin_views)",
        "accounts_admin:membership_deactivate": "changes a user's roles; administrators only (test_admin_views)",
        "accounts_admin:user_active": "locks a user out; administrators only (test_admin_views)",
        "accounts_admin:user_password": "resets a password; administrators only (test_admin_views)",
        "accounts_admin:token_revoke": "revokes a credential; administrators only (test_tokens)",
        "POST /api/v1/api-tokens": "creates a credential; administrators only (test_tokens)",
        "DELETE /api/v1/api-tokens/{token_id}": "revokes a credential; administrators only (test_tokens)",
    }
