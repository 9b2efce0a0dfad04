"""Environments: the list, requesting one, its page, moving it along the ladder, retiring it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from portal.forms import (
    DecommissionForm,
    EnvironmentChangeForm,
    EnvironmentRequestForm,
    LadderForm,
    carried_parameters,
    environment_filterset,
    parameter_label,
)
from portal.views.common import (
    change_or_404,
    client_ip,
    environment_or_404,
    errors_onto_form,
    paginate,
)
from portal.views.dashboards import recommendation_cards
from provisioning import ladder, planner, pricing, selectors, services
from provisioning.errors import Conflict, ServiceError
from provisioning.models import Environment
from provisioning.validation import (
    SUPPORTED_REGIONS,
    ParameterValidationError,
    validate_parameters,
)

E = Environment.Status
HISTORY_LIMIT = 50


def _tier_arg(value: Any, default: int = 1) -> int:
    try:
        tier = int(value)
    except (TypeError, ValueError):
        return default
    return tier if tier in ladder.TIER_NUMBERS else default


@login_required
def environment_list(request: HttpRequest) -> HttpResponse:
    filterset = environment_filterset(request.GET, user=request.user)
    page = paginate(request, filterset.qs)
    return render(request, "portal/environment_list.html", {"form": filterset.form, "page": page})


@login_required
@require_http_methods(["GET", "POST"])
def environment_request(request: HttpRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        tier = _tier_arg(request.POST.get("tier"))
        form = EnvironmentRequestForm(request.POST, user=request.user, tier=tier)
        if form.is_valid():
            data = form.cleaned_data
            try:
                change = services.environment_request(
                    user=request.user,
                    team=data["team"],
                    name=data["name"],
                    tier=data["tier"],
                    region=data["region"],
                    parameters=form.parameters(data["tier"]),
                    reason=data["reason"],
                    ip=client_ip(request),
                )
            except ServiceError as exc:
                errors_onto_form(form, exc)
            else:
                messages.success(
                    request,
                    f"Requested {change.environment.name} at tier {change.to_tier}: "
                    "the plan is below.",
                )
                return redirect("change-detail", change.pk)
        status = 400
    else:
        form = EnvironmentRequestForm(user=request.user, tier=_tier_arg(request.GET.get("tier")))
    context = {
        "form": form,
        "tier_values": form.tier_defaults(),
        "has_teams": form.has_teams,
    }
    return render(request, "portal/environment_request.html", context, status=status)


@login_required
@require_GET
def environment_estimate(request: HttpRequest) -> HttpResponse:
    """The live estimate next to the request and change forms (an htmx fragment)."""
    tier = _tier_arg(request.GET.get("tier"))
    environment = None
    if request.GET.get("environment", "").isdigit():
        environment = environment_or_404(request, int(request.GET["environment"]))
    region = environment.region if environment else request.GET.get("region", "")
    if region not in SUPPORTED_REGIONS:
        region = SUPPORTED_REGIONS[0]
    form = LadderForm(request.GET)
    form.add_parameter_fields({})
    form.is_valid()  # a bad choice counts as "the default" here; the submit reports it
    submitted = form.parameters(tier)
    context: dict[str, Any] = {"tier": tier, "region": region, "environment": environment}
    try:
        if environment is not None and environment.tier is not None:
            target = {**carried_parameters(environment, tier), **submitted}
            context["plan"] = planner.plan(
                planner.TierParams(environment.tier, dict(environment.parameters)),
                planner.TierParams(tier, target),
                region=region,
            )
        else:
            values = validate_parameters(tier, submitted, region=region)
            context["estimate"] = pricing.estimate(tier, values, region)
    except ParameterValidationError as exc:
        context["problems"] = [(parameter_label(k), v) for k, v in sorted(exc.errors.items())]
    except (pricing.PricingError, planner.PlanError, ladder.LadderError) as exc:
        context["problems"] = [("", str(exc))]
    return render(request, "portal/partials/estimate.html", context)


def _outputs(environment: Environment) -> list[tuple[str, Any]]:
    # The site's address first: it is what people come to the page for.
    return sorted(environment.outputs.items(), key=lambda kv: (not kv[0].endswith("Url"), kv[0]))


def _parameters(values: dict[str, Any]) -> list[tuple[str, Any]]:
    order = [p.name for p in ladder.PARAMETERS]
    known = [(parameter_label(n), values[n]) for n in order if n in values]
    return known + [(n, v) for n, v in sorted(values.items()) if n not in order]


@login_required
def environment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    environment = environment_or_404(request, pk)
    history = list(
        selectors.change_list_for_user(user=request.user, environment=environment)[:HISTORY_LIMIT]
    )
    active = next((c for c in history if c.is_active), None)
    watched = active or (history[0] if history else None)
    live = environment.status not in {E.DECOMMISSIONED} and active is None
    context = {
        "environment": environment,
        "history": history,
        "active": active,
        "watched": watched,
        "events": selectors.stack_event_list_for_change(change=watched) if watched else [],
        "outputs": _outputs(environment),
        "parameters": _parameters(environment.parameters),
        "can_change": live and environment.status == E.READY and environment.tier is not None,
        "can_decommission": live and environment.status in {E.READY, E.FAILED},
        "decommission_form": DecommissionForm(),
        "tiers": ladder.TIERS,
        "recommendations": recommendation_cards(environment),
        "metrics_window": request.GET.get("window", "24h"),
    }
    return render(request, "portal/environment_detail.html", context)


@login_required
@require_GET
def environment_events(request: HttpRequest, pk: int) -> HttpResponse:
    """The stack events of a change (htmx, polled every 2 s while the change is active).

    ``status`` is the status the page was drawn with: once the change has moved on, the page
    is reloaded whole (HX-Refresh) so its status, actions and outputs follow.
    """
    environment = environment_or_404(request, pk)
    change_id = request.GET.get("change", "")
    change = change_or_404(request, int(change_id)) if change_id.isdigit() else None
    if change is None or change.environment_id != environment.pk:
        change = selectors.environment_active_change(environment=environment)
    events = selectors.stack_event_list_for_change(change=change) if change else []
    response = render(
        request,
        "portal/partials/events.html",
        {"environment": environment, "watched": change, "events": events},
    )
    drawn_with = request.GET.get("status")
    if change is not None and drawn_with and drawn_with != change.status:
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def environment_change(request: HttpRequest, pk: int) -> HttpResponse:
    environment = environment_or_404(request, pk)
    status = 200
    if request.method == "POST":
        tier = _tier_arg(request.POST.get("tier"), environment.tier or 1)
        form = EnvironmentChangeForm(request.POST, environment=environment, tier=tier)
        if form.is_valid():
            data = form.cleaned_data
            try:
                change = services.change_request(
                    user=request.user,
                    environment=environment,
                    tier=data["tier"],
                    parameters=form.parameters(data["tier"]),
                    reason=data["reason"],
                    confirm=data["confirm"],
                    ip=client_ip(request),
                )
            except ServiceError as exc:
                errors_onto_form(form, exc)
                status = 409 if isinstance(exc, Conflict) else 400
            else:
                messages.success(request, f"Change #{change.pk} requested: the plan is below.")
                return redirect("change-detail", change.pk)
        else:
            status = 400
    else:
        tier = _tier_arg(request.GET.get("tier"), environment.tier or 1)
        form = EnvironmentChangeForm(environment=environment, tier=tier)
    active = selectors.environment_active_change(environment=environment)
    context = {
        "environment": environment,
        "form": form,
        "tier_values": EnvironmentChangeForm.tier_values(environment),
        "active": active,
        "blocked": active is not None or environment.status != E.READY or not environment.tier,
    }
    return render(request, "portal/environment_change.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def environment_decommission(request: HttpRequest, pk: int) -> HttpResponse:
    environment = environment_or_404(request, pk)
    status = 200
    if request.method == "POST":
        form = DecommissionForm(request.POST)
        if form.is_valid():
            try:
                change = services.environment_decommission(
                    user=request.user,
                    environment=environment,
                    confirm=form.cleaned_data["confirm"],
                    reason=form.cleaned_data["reason"],
                    ip=client_ip(request),
                )
            except ServiceError as exc:
                errors_onto_form(form, exc)
                status = 409 if isinstance(exc, Conflict) else 400
            else:
                messages.success(
                    request, f"Decommissioning {environment.name}: change #{change.pk}."
                )
                return redirect("change-detail", change.pk)
        else:
            status = 400
    else:
        form = DecommissionForm()
    active = selectors.environment_active_change(environment=environment)
    context = {
        "environment": environment,
        "form": form,
        "active": active,
        "blocked": active is not None or environment.status not in {E.READY, E.FAILED},
    }
    return render(request, "portal/environment_decommission.html", context, status=status)
