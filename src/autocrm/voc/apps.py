from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VocConfig(AppConfig):
    """客户之声 (voice of customer): the sentiment and aspect phrases of what customers write and
    say — survey comments, complaints, call notes — per store and per staff member, as charts
    (ADR 0035). Below care, which feeds it through ``voc.services.record_text``."""

    name = "autocrm.voc"
    label = "voc"
    verbose_name = _("Voice of customer")
    module_key = "care"

    def ready(self) -> None:
        from autocrm.core.audit import register_model
        from autocrm.core.navigation import register_menu
        from autocrm.core.permissions import can

        from . import permissions  # noqa: F401  (the rule table)
        from .models import VocText

        register_menu(
            "voc", _("Voice of customer"), "voc:overview", icon="message-circle", order=67, module="care",
            visible=lambda actor: can(actor, "view", VocText),
        )  # fmt: skip
        register_model("voc.voctext", labels={"sentiment": _("sentiment"), "score": _("score")})
