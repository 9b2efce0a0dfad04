"""The approvers' queue: every change that waits for a decision, oldest first."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.views.common import paginate
from provisioning import selectors
from provisioning.roles import is_approver


@login_required
def approvals(request: HttpRequest) -> HttpResponse:
    if not is_approver(request.user):
        raise PermissionDenied("Only approvers see the approvals queue.")
    page = paginate(request, selectors.approvals_pending_for_user(user=request.user))
    decided = selectors.approvals_decided_by_user(user=request.user, limit=10)
    return render(request, "portal/approvals.html", {"page": page, "decided": decided})
