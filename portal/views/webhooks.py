"""A team's webhooks: leads (and platform admins) add and remove them, members read them and
the delivery log. Another team's page answers 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from portal.views.common import client_ip
from provisioning import notifications, selectors
from provisioning.errors import Forbidden, ServiceError
from provisioning.models import Team, Webhook
from provisioning.roles import is_platform_admin
from provisioning.services import webhooks as webhook_services


def _team_or_404(request: HttpRequest, slug: str) -> Team:
    try:
        return selectors.team_get_for_user(user=request.user, slug=slug)
    except Team.DoesNotExist as exc:
        raise Http404("No such team") from exc


def _can_manage(request: HttpRequest, team: Team) -> bool:
    return is_platform_admin(request.user) or selectors.user_leads_team(
        user=request.user, team=team
    )


@login_required
@require_http_methods(["GET", "POST"])
def webhook_list(request: HttpRequest, slug: str) -> HttpResponse:
    team = _team_or_404(request, slug)
    can_manage = _can_manage(request, team)
    created: Webhook | None = None
    errors: dict[str, str] = {}
    status = 200
    form = {"url": "", "events": []}
    if request.method == "POST":
        form = {"url": request.POST.get("url", ""), "events": request.POST.getlist("events")}
        try:
            created = webhook_services.webhook_create(
                user=request.user, team=team, url=form["url"], events=form["events"],
                ip=client_ip(request),
            )  # fmt: skip
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from exc
        except ServiceError as exc:
            errors = dict(exc.fields) or {"": exc.message}
            status = 400
        else:
            form = {"url": "", "events": []}
    context = {
        "team": team,
        "can_manage": can_manage,
        "webhooks": notifications.webhook_list(team=team),
        "deliveries": notifications.delivery_list(team=team),
        "events": notifications.EVENTS,
        "created": created,  # its secret is shown on this answer only
        "errors": errors,
        "form": form,
    }
    return render(request, "portal/team_webhooks.html", context, status=status)


@login_required
@require_POST
def webhook_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    team = _team_or_404(request, slug)
    try:
        hook = selectors.webhook_get_for_team(team=team, pk=pk)
    except Webhook.DoesNotExist as exc:
        raise Http404("No such webhook") from exc
    try:
        webhook_services.webhook_delete(user=request.user, webhook=hook, ip=client_ip(request))
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    messages.success(request, f"Webhook {hook.url} removed.")
    return redirect("team-webhooks", team.slug)
