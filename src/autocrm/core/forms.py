"""The UI's form machinery, shared by every module.

* :class:`StyledForm` — Tabler classes on every widget, ``is-invalid`` on fields with errors.
* :func:`run_service` — the one way a view calls a service with a form: the result, or None
  after the service's ``ValidationError``/``Conflict`` went onto the form (a field-named message
  on its field, the rest as non-field errors). ``NotFound`` and ``PermissionDenied`` are not
  caught: ``DomainErrorMiddleware`` turns them into the 404 and 403 pages.
* :func:`run_action` — the same for a button without a form (dismiss, undo, consent): the
  error becomes a flash message and the result is :data:`REFUSED`.
* :class:`ServiceFormView` — GET shows the form, POST validates it and calls one service, then
  redirects; htmx requests get the partial template.
* :class:`FilterSet` — a list's filters, defined once for the page and its API endpoint.
* :class:`CreateExtra` — a form a higher app adds to a lower app's create page (the first
  vehicle on "new customer"), registered with :func:`register_create_extra`.

Views never write ``try: … except DomainError`` and never open a transaction: one user action
is one service, and the service is atomic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from .actor import actor_of
from .errors import DomainError, NotFound, PermissionDenied
from .extensions import registry

# Not form errors: the 404 and 403 pages (DomainErrorMiddleware). Every other domain error is
# something the person can fix in what they typed (bad input, a conflict, a wrong password).
_PASSED_THROUGH = (NotFound, PermissionDenied)


class StyledForm(forms.Form):
    """Tabler classes on every widget, and ``is-invalid`` on fields with errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self) -> None:
        super().full_clean()
        self.mark_invalid()

    def mark_invalid(self) -> None:
        for name in getattr(self, "_errors", None) or {}:
            if name in self.fields:
                widget = self.fields[name].widget
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


FormOrForms = forms.Form | Sequence[forms.Form]


def _as_list(form: FormOrForms) -> list[forms.Form]:
    return [form] if isinstance(form, forms.BaseForm) else list(form)


def _target(forms_: list[forms.Form], key: str, aliases: Mapping[str, str]) -> tuple[forms.Form, str | None]:
    """Which form and field a service's field key names: ``vin`` on the first form that has it,
    ``vehicle-vin`` on the form with prefix ``vehicle``; else the first form's non-field errors.
    A form's ``error_aliases`` (service name → field name) rename keys, e.g. ``user`` → ``username``."""
    for form in forms_:
        key = getattr(form, "error_aliases", {}).get(key, key)
    key = aliases.get(key, key)
    for form in forms_:
        if form.prefix and key.startswith(f"{form.prefix}-") and key[len(form.prefix) + 1 :] in form.fields:
            return form, key[len(form.prefix) + 1 :]
    for form in forms_:
        if not form.prefix and key in form.fields:
            return form, key
    return forms_[0], None


def add_domain_errors(form: FormOrForms, exc: DomainError, *, aliases: Mapping[str, str] | None = None) -> None:
    """Put a service's field errors on the form's fields (unknown fields and the message
    itself go to the first form's non-field errors), so nothing the service said is lost.

    ``form`` may be several forms: a key ``<prefix>-<field>`` goes to the form with that prefix.
    A form may place an error itself (a link to the existing record, say) with a
    ``place_domain_error(exc) -> bool`` method."""
    forms_ = _as_list(form)
    for f in forms_:
        placer = getattr(f, "place_domain_error", None)
        if placer is not None and placer(exc):
            _mark(forms_)
            return
    placed = False
    for key, texts in (exc.fields or {}).items():
        for text in texts:
            if not str(text):
                continue
            target, name = _target(forms_, key, aliases or {})
            placed = True
            if name is not None and name in target.errors:
                # The form's own parsing already refused this field (the service got no value
                # for it): its error says more than "enter a value".
                continue
            target.add_error(name, str(text))
    if not placed:
        forms_[0].add_error(None, str(exc.message))
    _mark(forms_)


def _mark(forms_: Iterable[forms.Form]) -> None:
    for f in forms_:
        if isinstance(f, StyledForm):
            f.mark_invalid()


def run_service(form: FormOrForms, fn: Callable[..., Any], /, **kwargs: Any) -> Any:
    """Call ``fn(**kwargs)`` (one service) for a submitted form.

    Returns the service's result, or None when the service refused the input: its
    ``ValidationError``/``Conflict`` messages are then on the form(s), field by field, and the
    error itself is kept as ``form.service_error`` (for a conflict's duplicates, say). The
    service is atomic, so nothing was saved. ``NotFound``/``PermissionDenied`` propagate."""
    forms_ = _as_list(form)
    for f in forms_:
        f.service_error = None  # type: ignore[attr-defined]
    try:
        return fn(**kwargs)
    except _PASSED_THROUGH:
        raise
    except DomainError as exc:
        forms_[0].service_error = exc  # type: ignore[attr-defined]
        add_domain_errors(forms_, exc)
        return None


def error_text(exc: DomainError) -> str:
    """A domain error as one sentence: its message and its field messages, each once."""
    texts = [str(exc.message)] + [str(m) for msgs in (exc.fields or {}).values() for m in msgs if str(m)]
    return " ".join(dict.fromkeys(texts))


class _Refused:
    """What :func:`run_action` returns when the service refused: falsy, and unlike None not a
    result any service returns."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "REFUSED"


REFUSED: Any = _Refused()


def run_action(request: HttpRequest, fn: Callable[..., Any], /, **kwargs: Any) -> Any:
    """:func:`run_service` for a button without a form: a refusal becomes a flash message
    (the error's sentence and its field messages). Returns the service's result, or
    :data:`REFUSED` when refused (``if result is REFUSED``)."""
    try:
        return fn(**kwargs)
    except _PASSED_THROUGH:
        raise
    except DomainError as exc:
        messages.error(request, error_text(exc))
        return REFUSED


# --- the common case as a class ------------------------------------------------------------------


class ServiceFormView(LoginRequiredMixin, View):
    """GET shows the form; POST validates it and calls one service (:meth:`call`, which only
    calls it: the view wraps it in :func:`run_service`), then redirects to :meth:`success_url` with :attr:`success_message`.
    A refused form is shown again with its errors (status 200, as Django's form views do).
    An htmx request gets :attr:`partial_template_name` when set.

    Subclasses set ``form_class`` and ``template_name`` and implement ``call`` and
    ``success_url``; ``setup_view`` loads the record (``scoped_object_or_404``) and checks the
    model permission, raising the domain errors the middleware turns into 404/403."""

    form_class: ClassVar[type[forms.Form]]
    template_name: ClassVar[str]
    partial_template_name: ClassVar[str | None] = None
    success_message: ClassVar[Any] = None

    def setup_view(self, request: HttpRequest, **kwargs: Any) -> None:
        """Load what the view works on (and check permission) before GET and POST."""

    def get_form_kwargs(self) -> dict[str, Any]:
        return {}

    def get_form(self) -> forms.Form:
        data = self.request.POST if self.request.method == "POST" else None
        return self.form_class(data, **self.get_form_kwargs())

    def get_context_data(self, **context: Any) -> dict[str, Any]:
        return context

    def call(self, form: Any) -> Any:
        """Call the one service of this page with the form's cleaned data."""
        raise NotImplementedError

    def success_url(self, result: Any) -> str:
        raise NotImplementedError

    def message(self, result: Any) -> str | None:
        return str(self.success_message) if self.success_message else None

    @property
    def actor(self) -> Any:
        return actor_of(self.request)

    def render_form(self, form: forms.Form, **context: Any) -> HttpResponse:
        template = self.template_name
        if self.partial_template_name and getattr(self.request, "htmx", False):
            template = self.partial_template_name
        return render(self.request, template, self.get_context_data(form=form, **context))

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.setup_view(request, **kwargs)
        return self.render_form(self.get_form())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.setup_view(request, **kwargs)
        form = self.get_form()
        if form.is_valid():
            result = run_service(form, self.call, form=form)
            if getattr(form, "service_error", None) is None:
                text = self.message(result)
                if text:
                    messages.success(request, text)
                return redirect(self.success_url(result))
        return self.render_form(form)


# --- filters shared by a list page and its API endpoint -----------------------------------------


# FilterSet subclass -> its API fields, made once (FilterSet.api_filters_of); {} = use the form.
_API_FIELDS: dict[type, dict[str, forms.Field]] = {}


def _reads_one_value(widget: forms.Widget) -> bool:
    """Does the widget take its value as ``data.get(name)`` (text, number, single select)?"""
    own = type(widget).value_from_datadict
    if own is forms.widgets.ChoiceWidget.value_from_datadict:
        return not widget.allow_multiple_selected  # type: ignore[attr-defined]  # ChoiceWidget's
    return own is forms.Widget.value_from_datadict


class FilterSet(StyledForm):
    """One definition of a list's filters, for the page and its API endpoint.

    The page binds it to ``request.GET`` and keeps the valid filters (:meth:`filters`: a bad
    value is shown on its field, not an error page); the API binds it with ``api=True`` and
    refuses a bad value with a 400 naming the field (:meth:`api_filters`); :meth:`query_schema`
    gives the endpoint the same parameter names for its OpenAPI document.

    A ``store`` field follows the header's store switch. For an actor whose scope on ``model``
    spans several stores (a director), the page shows the current store only — unless they
    chose "all stores", when the page gets a store filter and a store column
    (``show_store``). The API takes ``?store=<id>`` from anyone; a store outside the actor's
    scope simply matches nothing. ``api_int_fields`` are plain integers in the API (their page
    choices depend on the current store)."""

    model: ClassVar[Any] = None
    page_fields: ClassVar[tuple[str, ...]] = ()
    api_int_fields: ClassVar[tuple[str, ...]] = ("store",)

    def __init__(self, data: Any = None, *, actor: Any, all_stores: bool = False, api: bool = False, **kwargs: Any):
        super().__init__(data, **kwargs)
        self.actor = actor
        self.api = api
        self.fixed: dict[str, Any] = {}
        self.show_store = False
        if api:
            for name in self.api_int_fields:
                if name in self.fields:
                    self.fields[name] = forms.IntegerField(required=False)
        elif "store" in self.fields:
            self._store_field(all_stores)

    def _store_field(self, all_stores: bool) -> None:
        from django.apps import apps
        from django.utils.translation import gettext_lazy as _

        from .permissions import scope_for, store_ids_for

        scope = scope_for(self.actor, self.model, "view") if self.model is not None else None
        ids = store_ids_for(self.actor, scope) if scope is not None else ()
        if len(ids) > 1 and all_stores:
            # core imports no app: the store names are read through the app registry.
            store_model = apps.get_model("tenancy", "Store")
            names = dict(store_model.objects.filter(pk__in=ids).values_list("pk", "name"))
            # cast: Form.fields is typed dict[str, Field]; a filter set declares "store" as a choice
            # field (replaced by an IntegerField for the API only, which never comes here).
            cast(forms.ChoiceField, self.fields["store"]).choices = [
                ("", _("All stores")),
                *[(i, names[i]) for i in ids if i in names],
            ]
            self.show_store = True
            return
        del self.fields["store"]
        if len(ids) > 1 and self.actor.store_id is not None:
            self.fixed["store"] = self.actor.store_id

    def page_filter_fields(self) -> list[Any]:
        """The bound fields the page shows as pickers, in ``page_fields`` order."""
        return [self[name] for name in self.page_fields if name in self.fields]

    def filters(self) -> dict[str, Any]:
        """Valid filters only (a bad value is dropped and shown as an error), plus the store
        the header's switch fixes."""
        return {**self.chosen(), **self.fixed}

    def chosen(self) -> dict[str, Any]:
        """The filters the person picked (without the fixed store): does the list say "filtered"?"""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {k: v for k, v in data.items() if v not in (None, "", []) and k not in self.errors}

    def api_filters(self) -> dict[str, Any]:
        """Every filter given, or a ``ValidationError`` naming each bad one (API: 400)."""
        from .errors import ValidationError

        if not self.is_valid():
            raise ValidationError(fields={name: [str(e) for e in errors] for name, errors in self.errors.items()})
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "", [])}

    @classmethod
    def api_filters_of(cls, data: Mapping[str, Any], *, actor: Any) -> dict[str, Any]:
        """``cls(data, actor=actor, api=True).api_filters()`` without a form per call: the API's
        fields are made once per filter set and each value is cleaned by its field as the form
        would clean it (same values, same 400 naming each bad one). So the fields of the API may
        depend on the filter set only — its ``__init__`` with ``api=True`` must not look at the
        actor. A filter set with ``clean`` hooks, or a widget that reads the data its own way,
        gets the form."""
        fields = _API_FIELDS.get(cls)
        if fields is None:
            fields = cls(None, actor=actor, api=True).fields
            plain = all(_reads_one_value(f.widget) for f in fields.values())
            hooks = cls.clean is not forms.Form.clean or any(hasattr(cls, f"clean_{n}") for n in fields)
            fields = _API_FIELDS[cls] = fields if plain and not hooks else {}
        if not fields:
            return cls(data, actor=actor, api=True).api_filters()
        from django.core.exceptions import ValidationError as FieldError

        from .errors import ValidationError

        cleaned: dict[str, Any] = {}
        bad: dict[str, list[str]] = {}
        for name, field in fields.items():
            try:
                cleaned[name] = field.clean(data.get(name))
            except FieldError as exc:
                bad[name] = [str(m) for m in exc.messages]
        if bad:
            raise ValidationError(fields=bad)
        return {k: v for k, v in cleaned.items() if v not in (None, "", [])}

    @classmethod
    def query_schema(cls, name: str, **extra: Any) -> type:
        """A ninja ``Schema`` with one optional query parameter per filter (plus ``extra``
        name → type), for the endpoint's signature and its OpenAPI document."""
        from ninja import Schema
        from pydantic import create_model

        fields: dict[str, Any] = {}
        for field_name, field in cls.base_fields.items():
            kind: Any = str
            if isinstance(field, forms.IntegerField) or getattr(field, "coerce", None) is int:
                kind = int
            fields[field_name] = (kind | None, None)
        for field_name, kind in extra.items():
            fields[field_name] = (kind | None, None)
        return create_model(name, __base__=Schema, **fields)


# --- extra forms on another app's create page ---------------------------------------------------


@dataclass(frozen=True)
class CreateExtra:
    """A form a higher app adds to a lower app's create page (e.g. the first vehicle on
    "new customer"), so the lower app imports none of them.

    ``check(actor, data)`` validates the extra's cleaned form data without writing and returns
    what ``save`` needs, or raises a ``ValidationError``/``Conflict`` naming the extra's fields;
    ``save(actor, parent, checked)`` writes it inside the parent's service, after the parent was
    created. The owning service checks the parent and every extra first, so one submit shows
    every error of every part, and saves nothing unless all are good. ``is_empty(data)`` says
    the user left the extra blank (nothing to check or save)."""

    key: str
    form_class: type[forms.Form]
    template: str
    check: Callable[[Any, Mapping[str, Any]], Any]
    save: Callable[[Any, Any, Any], Any]
    visible: Callable[[Any], bool] = lambda actor: True
    is_empty: Callable[[Mapping[str, Any]], bool] = lambda data: not any(v not in (None, "") for v in data.values())
    order: int = 100


CREATE_EXTRAS = registry("create_extras")


def register_create_extra(target: str, extra: CreateExtra) -> None:
    """Add ``extra`` to the create page of ``target`` (a model label, ``customers.customer``)."""
    CREATE_EXTRAS.register(extra, key=extra.key, group=target, order=extra.order)


def create_extras(target: str, actor: Any) -> list[CreateExtra]:
    """The extras of ``target``'s create page that ``actor`` sees, in order."""
    return [extra for extra in CREATE_EXTRAS.entries(target) if extra.visible(actor)]


def create_extra(target: str, key: str) -> CreateExtra | None:
    return CREATE_EXTRAS.get(key, group=target)
