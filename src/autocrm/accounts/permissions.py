"""Rule tables of accounts: only administrators manage users, memberships and API tokens, in
their whole organization. Users are not store rows, so selectors scope them by organization."""

from autocrm.core.permissions import Scope, register
from autocrm.core.roles import Role

for _model in ("accounts.user", "accounts.membership", "accounts.apitoken"):
    register(_model, {Role.ADMIN: ("view add change", Scope.ORGANIZATION)}, resource="accounts")
