"""Web pages. Thin: every read goes through provisioning.selectors."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from provisioning import selectors
from provisioning.health import health_report
from provisioning.models import Team


@login_required
def home(request: HttpRequest) -> HttpResponse:
    teams = selectors.team_list_for_user(user=request.user)
    return render(request, "portal/home.html", {"teams": teams})


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    teams = selectors.team_list_for_user(user=request.user)
    return render(request, "portal/team_list.html", {"teams": teams})


@login_required
def team_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        team = selectors.team_get_for_user(user=request.user, slug=slug)
    except Team.DoesNotExist as exc:
        raise Http404("No such team") from exc
    memberships = selectors.membership_list_for_team(team=team)
    return render(request, "portal/team_detail.html", {"team": team, "memberships": memberships})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)
