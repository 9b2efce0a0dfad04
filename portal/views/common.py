"""What the web views share: scoped lookups that answer 404, paging, service errors on forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from provisioning import selectors
from provisioning.errors import Forbidden, ServiceError
from provisioning.models import ChangeRequest, Environment

PAGE_SIZE = 25


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def environment_or_404(request: HttpRequest, pk: int) -> Environment:
    try:
        return selectors.environment_get_for_user(user=request.user, pk=pk)
    except Environment.DoesNotExist as exc:
        raise Http404("No such environment") from exc


def change_or_404(request: HttpRequest, pk: int) -> ChangeRequest:
    try:
        return selectors.change_get_for_user(user=request.user, pk=pk)
    except ChangeRequest.DoesNotExist as exc:
        raise Http404("No such change") from exc


def paginate(request: HttpRequest, items: QuerySet[Any], per_page: int = PAGE_SIZE) -> Page:
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def errors_onto_form(form: forms.Form, error: ServiceError) -> None:
    """Each of the service's field messages next to its field; the rest above the form.

    A Forbidden is not a form problem: it becomes a 403.
    """
    if isinstance(error, Forbidden):
        raise PermissionDenied(error.message)
    for field, message in error.fields.items():
        if field in form.fields:
            form.add_error(field, message)
        else:
            form.add_error(None, f"{field}: {message}")
    if not error.fields:
        form.add_error(None, error.message)
