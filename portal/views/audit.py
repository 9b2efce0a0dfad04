"""The audit log: platform admins see every team's events, team leads their teams'."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.forms import AuditFilterForm
from portal.views.common import paginate
from provisioning import selectors
from provisioning.models import Team
from provisioning.roles import is_platform_admin

AUDIT_PAGE_SIZE = 50


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    if not selectors.audit_visible_to(user=request.user):
        raise PermissionDenied("The audit log is for platform admins and team leads.")
    teams = (
        Team.objects.order_by("slug")
        if is_platform_admin(request.user)
        else selectors.teams_led_by(user=request.user)
    )
    slugs = list(teams.values_list("slug", flat=True))
    form = AuditFilterForm(request.GET or None, teams=slugs)
    team = form.cleaned_data["team"] if form.is_bound and form.is_valid() else ""
    events = selectors.audit_list_for_user(user=request.user, team=team or None)
    page = paginate(request, events, per_page=AUDIT_PAGE_SIZE)
    return render(request, "portal/audit_log.html", {"page": page, "form": form})
