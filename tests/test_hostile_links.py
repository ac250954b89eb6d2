"""Hostile input against the public pages (no login: the signed link is the permission) and the
lazy fragments (home panels). Every public URL pattern is enumerated from the resolver; each gets
malformed, forged, tampered and foreign-salted tokens (GET and POST), and the real links get
hostile form posts. Never a 5xx; a refused link or answer changes nothing."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from typing import Any

import pytest
from django.apps import apps
from django.core import signing
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from hostile import HOSTILE

PUBLIC_NAMESPACES = ("care_public", "moments_public", "service_public", "shortlinks", "leadform")
TABLES = ("care", "moments", "service", "messaging", "leads", "customers")

BAD_TOKENS = {
    "empty-ish": "-",
    "garbage": "not-a-token",
    "colons": "a:b:c:d",
    "long": "x" * 10_000,
    "dot-compressed": ".eJwrSS0uAQAEXQHB:1tK0Qq:abc",
    "unicode": "🚗\u202e１２３",
    "percent": "%00%ff",
    "huge-number": "9" * 40,
}


def _counts() -> dict[str, int]:
    return {
        m._meta.label: m._default_manager.count() for label in TABLES for m in apps.get_app_config(label).get_models()
    }


def _public_patterns() -> list[tuple[str, list[str]]]:
    """(url name, its arguments' names) of every pattern in the public namespaces."""
    resolver = get_resolver()
    out = []
    for namespace in PUBLIC_NAMESPACES:
        _prefix, sub = resolver.namespace_dict[namespace]
        for pattern in sub.url_patterns:
            assert isinstance(pattern, URLPattern | URLResolver)
            if isinstance(pattern, URLPattern) and pattern.name:
                out.append((f"{namespace}:{pattern.name}", list(pattern.pattern.regex.groupindex)))
    return out


PATTERNS = _public_patterns()


def _forged_tokens() -> dict[str, str]:
    tokens = dict(BAD_TOKENS)
    tokens["other-salt"] = signing.dumps({"i": 1, "n": "x", "l": 1, "e": 1, "c": 1}, salt="another.salt", compress=True)
    tokens["no-salt-list"] = signing.dumps([1, 2, 3])
    good = signing.dumps({"i": 1, "n": "x"}, salt="autocrm.care.survey")
    tokens["tampered"] = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    return tokens


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "params"), PATTERNS, ids=[p[0] for p in PATTERNS])
def test_forged_public_links_are_refused_and_change_nothing(demo: Any, name: str, params: list[str]) -> None:
    client = Client(raise_request_exception=False)
    problems: list[str] = []
    skipped: list[str] = []
    for label, token in _forged_tokens().items():
        kwargs = {}
        for param in params:
            if param in ("photo",):
                kwargs[param] = "987654321"
            elif param in ("org", "store_code"):
                kwargs[param] = "nope-" + secrets.token_hex(3)
            else:
                kwargs[param] = token
        try:
            url = reverse(name, kwargs=kwargs)
        except NoReverseMatch:  # a value the pattern cannot hold (a slug): the resolver refuses it, no view runs
            skipped.append(label)
            continue
        before = _counts()
        for method in ("get", "post"):
            response = getattr(client, method)(url, {"answer": "yes", "nps": "9"})
            if response.status_code >= 500:
                problems.append(f"{method.upper()} {name} {label}: {response.status_code}")
            elif response.status_code < 400 and response.status_code != 405:
                problems.append(f"{method.upper()} {name} {label}: {response.status_code} (a forged link was accepted)")
        if _counts() != before:
            problems.append(f"{name} {label}: tables changed")
    assert not problems, "\n".join(problems)


# --- real links with hostile answers -------------------------------------------------------------


def _survey_token(demo: Any) -> str:
    from autocrm.accounts.models import User
    from autocrm.care.models import SurveyInvitation
    from autocrm.care.services import survey_template_for, survey_token
    from autocrm.customers.tests.test_multistore import build_customer
    from autocrm.tenancy.models import Store

    store = Store.objects.get(code="a")
    owner = User.objects.get(username="sales_a1")
    template = survey_template_for(store.pk, "service", "nps")
    inv = SurveyInvitation.objects.create(store=store, template=template, moment="service", source_id=424242,
                                          customer=build_customer(store, owner), staff=owner, nonce="hostile",
                                          expires_at=timezone.now() + dt.timedelta(days=3))  # fmt: skip
    return survey_token(inv)


def _club_token(demo: Any) -> str:
    from autocrm.accounts.models import User
    from autocrm.customers.tests.test_multistore import build_customer
    from autocrm.moments.services import link_token
    from autocrm.moments.tests.test_multistore import build_event
    from autocrm.tenancy.models import Store

    store = Store.objects.get(code="a")
    owner = User.objects.get(username="sales_a1")
    return link_token(build_event(store, owner), build_customer(store, owner))


def _estimate_token(demo: Any) -> str:
    from autocrm.accounts.models import User
    from autocrm.service.models import EstimateLink
    from autocrm.service.services import estimate_token
    from autocrm.service.tests.test_multistore import build_ro
    from autocrm.tenancy.models import Store

    store = Store.objects.get(code="a")
    ro = build_ro(store, User.objects.get(username="advisor_a1"))
    link = EstimateLink.objects.create(store=store, repair_order=ro, nonce="hostile",
                                       expires_at=timezone.now() + dt.timedelta(days=3))  # fmt: skip
    return estimate_token(link)


LINKS = {
    "care_public:survey": (_survey_token, ("nps", "score", "comment", "answer", "q1", "flags", "reason")),
    "moments_public:club_join": (_club_token, ("seats", "party_size", "note", "action", "guests")),
    "service_public:estimate": (_estimate_token, ("job:1", "part:1", "decision", "answer", "note")),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(LINKS))
def test_hostile_answers_on_real_links_are_refused(demo: Any, name: str) -> None:
    make, fields = LINKS[name]
    token = make(demo)
    url = reverse(name, args=[token])
    client = Client(raise_request_exception=False)
    assert client.get(url).status_code == 200
    problems = []
    for label, value in HOSTILE.items():
        before = _counts()
        response = client.post(url, dict.fromkeys(fields, value))
        if response.status_code >= 500:
            problems.append(f"{label}: {response.status_code}")
        elif response.status_code in (400, 404, 409, 410) and _counts() != before:
            problems.append(f"{label}: refused ({response.status_code}) yet tables changed")
        response = client.get(url, dict.fromkeys(fields, value))
        if response.status_code >= 500:
            problems.append(f"GET {label}: {response.status_code}")
    assert not problems, f"{url}:\n" + "\n".join(problems)


@pytest.mark.django_db
def test_the_public_lead_form_refuses_hostile_fields(demo: Any, settings: Any) -> None:
    from autocrm.leads import views_public
    from autocrm.tenancy.models import Store

    settings.AUTOCRM_LEAD_FORM_RATE = "1000/10m"
    store = Store.objects.select_related("organization").get(code="a")
    url = reverse("leadform:lead_form", args=[store.organization.code, store.code])
    # the form's signed "filled in a minute ago" stamp, so the answers reach the service
    stamp = signing.dumps({"s": store.pk, "at": time.time() - 60}, salt=views_public._SALT)
    client = Client(raise_request_exception=False)
    problems = []
    for label, value in HOSTILE.items():
        if label in ("long", "rtl", "emoji", "sql", "fullwidth", "minus", "huge", "nan", "infinity", "inf"):
            data = {"name": "张三", "mobile": value, "model_interest": value, "message": "x"}
        else:
            data = dict.fromkeys(("name", "mobile", "model_interest", "message", "consent"), value)
        data["t"] = stamp
        before = _counts()
        response = client.post(url, data)
        if response.status_code >= 500:
            problems.append(f"{label}: {response.status_code}")
        elif response.status_code == 400 and _counts() != before:
            problems.append(f"{label}: refused yet tables changed")
    assert not problems, "\n".join(problems)


# --- lazy fragments ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["manager_a", "sales_a1", "advisor_a1", "agent_a1", "director"])
def test_home_panels_take_hostile_query_strings(demo: Any, username: str) -> None:
    from autocrm.accounts.models import User
    from autocrm.core.extensions import PANELS

    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username=username))
    keys = [p.key for p in PANELS.entries("core.home")]
    assert keys
    problems = []
    for key in [*keys, "no-such-panel"]:
        url = reverse("home_panel", args=[key])
        for label, value in HOSTILE.items():
            query = dict.fromkeys(("cursor", "period", "store", "days", "month", "q", "page", key), value)
            response = client.get(url, query, headers={"HX-Request": "true"})
            if response.status_code >= 500:
                problems.append(f"{key} {label}: {response.status_code}")
    assert not problems, "\n".join(problems)
