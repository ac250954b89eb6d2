"""The UI's one path for service calls (core.forms): a refused service leaves its messages on the
right fields of the right form and nothing saved; 404 and 403 are not form errors; the
generic form view shows, validates, calls, redirects, and answers htmx with the partial; the
shared filter definition refuses bad API values by name."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from autocrm.accounts.models import User
from autocrm.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from autocrm.core.forms import REFUSED, FilterSet, ServiceFormView, StyledForm, run_action, run_service
from autocrm.customers.models import Customer
from autocrm.customers.services import customer_create
from autocrm.customers.tests.factories import actor_for


class NameForm(StyledForm):
    name = forms.CharField(required=False)
    mobile = forms.CharField(required=False)


class VinForm(StyledForm):
    vin = forms.CharField(required=False)


def bound(form_class: type[forms.Form], data: dict[str, str], **kwargs: Any) -> forms.Form:
    form = form_class(data, **kwargs)
    assert form.is_valid()
    return form


def test_field_errors_land_on_their_field_and_nothing_is_saved(demo):
    actor = actor_for("sales_a1", "a")
    form = bound(NameForm, {"name": "陈静", "mobile": "12345"})
    result = run_service(form, customer_create, actor=actor, data=form.cleaned_data)
    assert result is None
    assert form.errors["mobile"] and "name" not in form.errors
    assert "is-invalid" in form.fields["mobile"].widget.attrs["class"]
    assert isinstance(form.service_error, ValidationError)
    assert not Customer.objects.filter(name="陈静").exists()


def test_the_result_comes_back_when_the_service_accepts(demo):
    actor = actor_for("sales_a1", "a")
    form = bound(NameForm, {"name": "陈静", "mobile": "13911112222"})
    customer = run_service(form, customer_create, actor=actor, data=form.cleaned_data)
    assert customer.pk and form.service_error is None and not form.errors


def test_prefixed_keys_go_to_the_form_with_that_prefix_and_unknown_ones_are_not_lost():
    main = bound(NameForm, {"name": "x"})
    extra = bound(VinForm, {"vehicle-vin": "x"}, prefix="vehicle")

    def service() -> None:
        raise ValidationError(
            "Some fields are not valid.",
            fields={"mobile": ["bad mobile"], "vehicle-vin": ["bad VIN"], "colour": ["bad colour"]},
        )

    assert run_service([main, extra], service) is None
    assert main.errors["mobile"] == ["bad mobile"]
    assert extra.errors["vin"] == ["bad VIN"]
    assert main.non_field_errors() == ["bad colour"]  # a field no form has: shown, not dropped
    assert "vin" not in main.errors and "mobile" not in extra.errors


def test_a_message_without_fields_is_a_non_field_error_and_a_conflict_is_kept():
    form = bound(NameForm, {"name": "x"})

    def service() -> None:
        raise Conflict("Already on record.")

    assert run_service(form, service) is None
    assert form.non_field_errors() == ["Already on record."]
    assert isinstance(form.service_error, Conflict)


@pytest.mark.parametrize("error", [NotFound, PermissionDenied])
def test_not_found_and_permission_denied_pass_through_to_the_middleware(error):
    form = bound(NameForm, {"name": "x"})

    def service() -> None:
        raise error()

    with pytest.raises(error):
        run_service(form, service)
    assert not form.errors


def _request(method: str = "get", data: dict[str, str] | None = None, *, htmx: bool = False) -> Any:
    factory = RequestFactory()
    request = getattr(factory, method)("/thing/", data or {})
    request.user = User.objects.get(username="sales_a1")
    request.actor = actor_for("sales_a1", "a")
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    request.htmx = htmx
    return request


def test_run_action_turns_a_refusal_into_a_message_and_returns_refused(demo):
    request = _request("post")

    def service() -> None:
        raise ValidationError("Not now.", fields={"when": ["Pick a later day."]})

    assert run_action(request, service) is REFUSED
    assert [str(m) for m in get_messages(request)] == ["Not now. Pick a later day."]
    assert run_action(request, lambda: None) is None  # a service returning None is not a refusal
    with pytest.raises(PermissionDenied):
        run_action(request, lambda: (_ for _ in ()).throw(PermissionDenied()))


class CreateView(ServiceFormView):
    form_class = NameForm
    template_name = "partials/form_errors.html"
    partial_template_name = "partials/messages.html"
    success_message = "Saved."

    def call(self, form: Any) -> Customer:
        return customer_create(actor=self.actor, data=form.cleaned_data)

    def success_url(self, result: Customer) -> str:
        return f"/done/{result.pk}/"


def test_service_form_view_shows_validates_calls_and_redirects(demo):
    view = CreateView.as_view()
    assert view(_request()).status_code == 200
    response = view(_request("post", {"name": "陈静", "mobile": "12345"}))
    assert response.status_code == 200  # shown again with the error
    assert not Customer.objects.filter(name="陈静").exists()
    request = _request("post", {"name": "陈静", "mobile": "13911112222"})
    response = view(request)
    customer = Customer.objects.get(name="陈静")
    assert response.status_code == 302 and response["Location"] == f"/done/{customer.pk}/"
    assert [str(m) for m in get_messages(request)] == ["Saved."]


def test_service_form_view_answers_htmx_with_the_partial(demo):
    response = CreateView.as_view()(_request(htmx=True))
    assert response.status_code == 200
    assert b"<html" not in response.content


class ThingFilters(FilterSet):
    q = forms.CharField(required=False, max_length=5)
    colour = forms.ChoiceField(required=False, choices=[("", "all"), ("red", "red")])
    store = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)


def test_filterset_drops_bad_values_on_the_page_and_refuses_them_in_the_api(demo):
    actor = actor_for("manager_a", "a")
    page = ThingFilters({"q": "ab", "colour": "blue"}, actor=actor)
    assert page.filters() == {"q": "ab"} and page.errors["colour"]
    with pytest.raises(ValidationError) as refused:
        ThingFilters({"q": "ab", "colour": "blue"}, actor=actor, api=True).api_filters()
    assert set(refused.value.fields) == {"colour"}
    assert ThingFilters({"store": "7"}, actor=actor, api=True).api_filters() == {"store": 7}
    schema = ThingFilters.query_schema("ThingQuery", limit=int)
    assert set(schema.model_fields) == {"q", "colour", "store", "limit"}


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"q": "ab"},
        {"q": "  ab "},
        {"q": "abcdef"},
        {"colour": "blue"},
        {"colour": "red", "store": 7},
        {"store": "x7"},
        {"q": "abcdefg", "colour": "green", "store": "seven"},
    ],
)
def test_the_api_filters_made_once_clean_as_the_form_does(demo, data):
    """``api_filters_of`` reuses the API's fields instead of building a form per call: the same
    filters, or the same 400 naming the same fields with the same messages."""
    actor = actor_for("manager_a", "a")

    def outcome(call):
        try:
            return call()
        except ValidationError as exc:
            return exc.fields

    by_form = outcome(lambda: ThingFilters(dict(data), actor=actor, api=True).api_filters())
    assert outcome(lambda: ThingFilters.api_filters_of(dict(data), actor=actor)) == by_form
    assert outcome(lambda: ThingFilters.api_filters_of(dict(data), actor=actor)) == by_form  # made once, reused
    from autocrm.core.forms import _API_FIELDS

    assert set(_API_FIELDS[ThingFilters]) == {"q", "colour", "store"}  # not the form's fallback


def test_bad_input_escaping_a_page_is_a_400_not_a_500(client, demo):
    """A hand-edited cursor reaches the selector outside any form: the middleware answers 400."""
    from django.urls import reverse

    client.force_login(User.objects.get(username="manager_a"))
    for url in (reverse("customers:customer_list"), reverse("vehicles:vehicle_list"), reverse("audit:event_list")):
        response = client.get(url, {"cursor": "not-a-cursor"})
        assert response.status_code == 400, url
        assert "cursor" in response.content.decode()  # the 400 page names the bad parameter
