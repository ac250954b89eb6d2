from django.urls import path
from django.utils.translation import gettext_lazy as _

from autocrm.core.navigation import register_menu
from autocrm.core.permissions import scope_for
from autocrm.core.roles import Role

from . import views_quality
from .models import Customer

app_name = "quality"
urlpatterns = [
    path("", views_quality.quality_overview, name="quality_overview"),
    path("<slug:problem>/", views_quality.quality_problem, name="quality_problem"),
]

register_menu(
    "data_quality", _("Data quality"), "quality:quality_overview", icon="checkup-list", order=120,
    # A manager's tool: the page itself answers anyone who may view customers (their scope only).
    visible=lambda actor: actor.role in (Role.MANAGER, Role.DIRECTOR) and scope_for(actor, Customer, "view") is not None,
)  # fmt: skip
