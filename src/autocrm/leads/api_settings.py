"""/api/v1/lead-settings: the current store's lead rules (GET, PATCH) and their batch rescoring
(POST /api/v1/lead-settings/rescore, GET /api/v1/lead-settings/rescores/{id}); thin handlers
over ``leads.rules``."""

from __future__ import annotations

from typing import Any

from ninja import Router, Schema, Status

from autocrm.core.actor import ActorRequest

from . import rules
from .models import LeadRescore, LeadSettings

router = Router(tags=["leads"])
PREFIX = ""


class RescoreOut(Schema):
    id: int
    status: str
    threshold: int
    previous_threshold: int
    scanned: int
    changed: int
    newly_hot: int
    routed: int
    started_at: Any = None
    finished_at: Any = None


class LeadSettingsOut(Schema):
    store: int
    first_contact_minutes: int
    follow_up_days_h: int
    follow_up_days_a: int
    follow_up_days_b: int
    follow_up_days_c: int
    sleeping_days: int
    remind_minutes_before: int
    hot_score_threshold: int
    daily_capacity_default: int
    lost_reasons: list[str]
    rescore: RescoreOut | None = None


class LeadSettingsPatch(Schema):
    """Any of the rules; each is checked by the service (400 naming the field)."""

    first_contact_minutes: Any = None
    follow_up_days_h: Any = None
    follow_up_days_a: Any = None
    follow_up_days_b: Any = None
    follow_up_days_c: Any = None
    sleeping_days: Any = None
    remind_minutes_before: Any = None
    hot_score_threshold: Any = None
    daily_capacity_default: Any = None
    lost_reasons: Any = None


def rescore_out(run: LeadRescore) -> dict[str, Any]:
    return {name: getattr(run, name) for name in RescoreOut.model_fields if name != "id"} | {"id": run.pk}


def settings_out(settings: LeadSettings, run: LeadRescore | None) -> dict[str, Any]:
    data = {name: getattr(settings, name) for name in rules.NUMBERS}
    data.update(store=settings.store_id, lost_reasons=settings.reasons(), rescore=rescore_out(run) if run else None)
    return data


@router.get("/lead-settings", response=LeadSettingsOut)
def lead_settings_get(request: ActorRequest) -> dict[str, Any]:
    """The current store's lead rules and its last rescoring run."""
    settings = rules.settings_get(actor=request.actor)
    return settings_out(settings, rules.latest_run(actor=request.actor))


@router.patch("/lead-settings", response=LeadSettingsOut)
def lead_settings_patch(request: ActorRequest, payload: LeadSettingsPatch) -> dict[str, Any]:
    """Change the rules sent (others stay); a new ``hot_score_threshold`` starts a rescoring."""
    data = payload.dict(exclude_unset=True)
    settings = rules.lead_settings_update(actor=request.actor, data=data)
    return settings_out(settings, rules.latest_run(actor=request.actor))


@router.post("/lead-settings/rescore", response={202: RescoreOut})
def lead_settings_rescore(request: ActorRequest) -> Status[dict[str, Any]]:
    """Rescore the store's open leads now (after a change of the weights); 202 with the run."""
    return Status(202, rescore_out(rules.rescore_request(actor=request.actor)))


@router.get("/lead-settings/rescores/{int:run_id}", response=RescoreOut)
def lead_rescore_get(request: ActorRequest, run_id: int) -> dict[str, Any]:
    return rescore_out(rules.run_get(actor=request.actor, pk=run_id))
