from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "autocrm.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from autocrm.core.navigation import register_menu
        from autocrm.core.roles import Role
        from autocrm.core.views import register_home_panel

        from . import audit_labels, auth, views

        audit_labels.register()  # how the audit trail names sign-ins, tokens…
        auth.connect_signals()  # writes to users, memberships, tokens, stores bump the auth caches

        register_menu("home", _("Home"), "home", icon="home", order=0)
        register_menu(
            "users_admin", _("Users and roles"), "accounts_admin:user_list", icon="users-group", order=800,
            visible=lambda actor: getattr(actor, "role", None) == Role.ADMIN,
        )  # fmt: skip
        register_menu("security", _("Account security"), "accounts:security", icon="shield-lock", order=900)
        register_home_panel(
            "my_stores", template="accounts/panels/my_stores.html", context=views.panel_my_stores, order=10
        )
        register_home_panel("team", template="accounts/panels/team.html", context=views.panel_team, order=20)
