"""Dashboards: an environment's metrics and recommendations, the portfolio, the platform.

Metrics come from provisioning.metrics, which never raises for the cloud's sake: a failing
call is drawn as "metrics unavailable: <reason>", never a 500. The environment page loads
its metrics as an htmx fragment, so the page itself never waits on CloudWatch.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from portal.views.common import client_ip, environment_or_404, paginate
from provisioning import advisor, ladder, metrics, planner, portfolio, pricing, selectors
from provisioning.errors import Forbidden, ServiceError
from provisioning.models import Environment, Recommendation
from provisioning.roles import is_platform_admin
from provisioning.services import recommendations as recommendation_services

DEFAULT_WINDOW = "24h"


def recommendation_cards(environment: Environment) -> list[dict[str, Any]]:
    """The open recommendations, each with whether acting on it puts data at risk (then the
    page asks for the environment's name, as the change form does)."""
    cards = []
    for rec in advisor.recommendation_list(environment=environment):
        destructive = False
        if environment.tier:
            try:
                plan = planner.plan(
                    planner.TierParams(environment.tier, dict(environment.parameters)),
                    planner.TierParams(rec.target_tier, dict(rec.target_parameters)),
                    region=environment.region,
                )
                destructive = plan.destructive
            except (planner.PlanError, pricing.PricingError, ladder.LadderError, ValueError):
                # a stale target: the service says what is wrong on submit
                destructive = rec.target_tier < environment.tier
        cards.append({"rec": rec, "destructive": destructive})
    return cards


@login_required
@require_GET
def environment_metrics(request: HttpRequest, pk: int) -> HttpResponse:
    """The metrics fragment of the environment page: charts for one window, and alarms."""
    environment = environment_or_404(request, pk)
    window = request.GET.get("window") or DEFAULT_WINDOW
    try:
        result = metrics.environment_metrics(environment=environment, window=window)
    except metrics.UnknownWindow as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    data = result.as_dict()
    context = {
        "environment": environment,
        "result": result,
        "data": data,
        "data_json": json.dumps(data, separators=(",", ":")),
        "windows": list(metrics.WINDOWS),
        "alarms": metrics.environment_alarms(environment=environment),
    }
    return render(request, "portal/partials/metrics.html", context)


def _recommendation_or_404(request: HttpRequest, pk: int) -> Recommendation:
    try:
        return selectors.recommendation_get_for_user(user=request.user, pk=pk)
    except Recommendation.DoesNotExist as exc:
        raise Http404("No such recommendation") from exc


@login_required
@require_POST
def recommendation_open(request: HttpRequest, pk: int) -> HttpResponse:
    rec = _recommendation_or_404(request, pk)
    try:
        change = recommendation_services.recommendation_open_change(
            user=request.user,
            recommendation=rec,
            reason=request.POST.get("reason", "").strip(),
            confirm=request.POST.get("confirm", ""),
            ip=client_ip(request),
        )
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    except ServiceError as exc:
        details = "; ".join(exc.fields.values()) if exc.fields else ""
        messages.error(request, f"{exc.message}{': ' + details if details else ''}")
        return redirect(f"{_environment_url(rec)}#recommendations")
    messages.success(request, f"Change #{change.pk} requested from the advisor: the plan is below.")
    return redirect("change-detail", change.pk)


@login_required
@require_POST
def recommendation_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    rec = _recommendation_or_404(request, pk)
    try:
        recommendation_services.recommendation_dismiss(
            user=request.user, recommendation=rec, ip=client_ip(request)
        )
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Dismissed: {rec.title}.")
    return redirect(f"{_environment_url(rec)}#recommendations")


def _environment_url(rec: Recommendation) -> str:
    return reverse("environment-detail", args=[rec.environment_id])


@login_required
@require_GET
def portfolio_dashboard(request: HttpRequest) -> HttpResponse:
    """The caller's environments: tier, status, cost, 24 h CPU, open recommendations."""
    environments = selectors.environment_list_for_user(user=request.user)
    # A page at a time: sparklines cost one metrics query per environment shown.
    page = paginate(request, environments)
    rows = list(page.object_list)
    lines = portfolio.portfolio_cpu(environments=rows)
    counts = advisor.open_recommendation_counts(environments=environments)
    table = [{"env": env, "cpu": lines.get(env.pk), "open": counts.get(env.pk, 0)} for env in rows]
    totals = environments.aggregate(cost=Sum("monthly_cost"), n=Count("pk"))
    context = {
        "rows": table,
        "page": page,
        "environment_count": totals["n"],
        "total_cost": totals["cost"] or 0,
        "open_total": sum(counts.values()),
        "simulated": any(line.simulated for line in lines.values()),
    }
    return render(request, "portal/portfolio.html", context)


@login_required
@require_GET
def platform_overview(request: HttpRequest) -> HttpResponse:
    if not is_platform_admin(request.user):
        raise PermissionDenied("the platform overview is for platform admins")
    overview = selectors.platform_overview(now=timezone.now())
    statuses = list(Environment.Status.values)
    counts = overview["by_tier_status"]
    grid = [
        {
            "tier": tier,
            "cells": [counts.get((tier.number, status), 0) for status in statuses],
            "total": sum(counts.get((tier.number, status), 0) for status in statuses),
        }
        for tier in ladder.TIERS
    ]
    unbuilt = [counts.get((None, status), 0) for status in statuses]
    days = overview["changes_per_day"]
    peak = max((d["total"] for d in days), default=0) or 1
    for day in days:
        day["height"] = round(100 * day["total"] / peak)
    context = {
        **overview,
        "statuses": [Environment.Status(s).label for s in statuses],
        "grid": grid,
        "unbuilt": unbuilt if any(unbuilt) else None,
        "status_totals": [
            sum(counts.get((t, s), 0) for t in [*ladder.TIER_NUMBERS, None]) for s in statuses
        ],
        "changes_total": sum(d["total"] for d in days),
    }
    return render(request, "portal/platform.html", context)
