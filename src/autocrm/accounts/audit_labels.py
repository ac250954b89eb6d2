"""How the audit trail names what accounts records: sign-ins, tokens, integrations, password
resets. Registered in ``AccountsConfig.ready`` (accounts sits below the audit app, so it uses
the registries of ``core.audit``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from autocrm.core.audit import Fact, Names, register_action, register_model


def _ip(event: Any, names: Names) -> list[Fact]:
    ip = event.extra.get("ip") or event.ip
    return [Fact(_("IP address"), ip)] if ip else []


def _username(event: Any, names: Names) -> list[Fact]:
    return [Fact(_("User name"), event.extra.get("username", ""))]


def _token(event: Any, names: Names) -> list[Fact]:
    facts = [Fact(_("For"), event.extra.get("user", ""))]
    scopes = event.extra.get("scopes") or []
    if scopes:
        facts.append(Fact(_("Scopes"), gettext(", ").join(str(s) for s in scopes)))
    return facts


def _store_refs(event: Any) -> list[tuple[str, Any]]:
    return [("tenancy.store", event.extra.get("store"))]


def _integration(event: Any, names: Names) -> list[Fact]:
    store = event.extra.get("store")
    return [Fact(_("Store"), names.name("tenancy.store", store) if store else gettext("every store"))]


def _password(event: Any, names: Names) -> list[Fact]:
    return [Fact(_("API tokens revoked"), event.extra.get("tokens_revoked", 0))]


def register() -> None:
    register_action("login", _("Signed in"), noise=True, summary=_ip)
    register_action("login.failed", _("Sign-in failed"), noise=True, summary=_username)
    register_action("login.locked", _("Sign-in refused (locked)"), summary=_username)
    register_action("token.create", _("API token created"), summary=_token)
    register_action("token.revoke", _("API token revoked"))
    register_action("integration.create", _("Integration created"), refs=_store_refs, summary=_integration)
    register_action("password.reset", _("Password reset"), summary=_password)
    register_action("password.change", _("Password changed"), summary=_password)
    register_action("password.change_failed", _("Password change refused (wrong current password)"))

    register_model("accounts.user", labels={"default_store_id": _("default store")})
