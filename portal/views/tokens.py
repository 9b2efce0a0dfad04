"""Personal API tokens: make one (its key is shown once, on this answer only), revoke one."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from portal.views.common import client_ip, errors_onto_form
from provisioning import selectors, services
from provisioning.errors import ServiceError
from provisioning.models import ApiToken
from provisioning.services.tokens import DEFAULT_DAYS, MAX_DAYS


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What will use it, such as “deploy pipeline”.")
    days = forms.IntegerField(
        min_value=1, max_value=MAX_DAYS, initial=DEFAULT_DAYS, label="Valid for (days)"
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    created: tuple[ApiToken, str] | None = None
    status = 200
    form = TokenForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                created = services.token_create(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    days=form.cleaned_data["days"],
                    ip=client_ip(request),
                )
            except ServiceError as exc:
                errors_onto_form(form, exc)
        if created:
            form = TokenForm()
        else:
            status = 400
    context = {
        "form": form,
        "tokens": selectors.token_list_for_user(user=request.user),
        "created": created[0] if created else None,
        "key": created[1] if created else None,
        "api_base": request.build_absolute_uri("/api/v1/"),
    }
    return render(request, "portal/tokens.html", context, status=status)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        token = selectors.token_get_for_user(user=request.user, pk=pk)
    except ApiToken.DoesNotExist as exc:
        raise Http404("No such token") from exc
    services.token_revoke(user=request.user, token=token, ip=client_ip(request))
    messages.success(request, f"Revoked the token “{token.name}” ({token.key_prefix}…).")
    return redirect("token-list")
