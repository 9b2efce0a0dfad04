"""Keeping an environment's recommendations current, and acting on one.

``recommendations_refresh`` runs the advisor (the periodic task calls it for every ready
environment); ``recommendation_open_change`` turns a recommendation into a change request
with its target tier and parameters (the button and the API call); ``recommendation_dismiss``
puts it away. A dismissed recommendation stays quiet for ``DISMISSED_QUIET`` unless its
target changes.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from provisioning import advisor, notifications
from provisioning.audit import audit_record
from provisioning.errors import Conflict, Forbidden
from provisioning.models import ChangeRequest, Environment, Recommendation
from provisioning.roles import is_platform_admin
from provisioning.services.changes import change_request

log = logging.getLogger(__name__)
R = Recommendation.Status
DISMISSED_QUIET = timedelta(days=7)


def _close(rec: Recommendation, status: str, *, user: Any = None, **fields: Any) -> None:
    rec.status = status
    rec.closed_at = timezone.now()
    rec.closed_by = user if getattr(user, "is_authenticated", False) else None
    for name, value in fields.items():
        setattr(rec, name, value)
    rec.save(update_fields=["status", "closed_at", "closed_by", "updated_at", *fields])


def _same_target(rec: Recommendation, advice: advisor.Advice) -> bool:
    return (
        rec.from_tier == advice.from_tier
        and rec.target_tier == advice.target_tier
        and rec.target_parameters == advice.target_parameters
    )


def recommendations_refresh(
    *, environment: Environment, now: datetime | None = None
) -> list[Recommendation]:
    """Run the advisor for one environment and store what it says: new advice opens a
    recommendation (and notifies the team), changed evidence updates it, advice that no
    longer holds resolves it. Metrics unavailable: nothing changes. Returns the open ones."""
    if environment.status != Environment.Status.READY or environment.tier is None:
        advice: list[advisor.Advice] | None = []
    else:
        advice = advisor.advice_for(environment=environment, now=now)
    with transaction.atomic():
        env = Environment.objects.select_for_update().get(pk=environment.pk)
        current = {r.kind: r for r in env.recommendations.filter(status=R.OPEN)}
        if advice is None or env.tier != environment.tier or env.status != environment.status:
            return list(current.values())  # nothing judged, or the environment moved meanwhile
        wanted = {a.kind: a for a in advice}
        for kind, rec in current.items():
            if kind not in wanted or not _same_target(rec, wanted[kind]):
                _close(rec, R.RESOLVED)
        for kind, item in wanted.items():
            known = current.get(kind)
            if known and _same_target(known, item):
                rec = known
                rec.title, rec.summary = item.title, item.summary
                rec.evidence = [e.as_dict() for e in item.evidence]
                rec.monthly_saving = item.monthly_saving
                rec.save(
                    update_fields=["title", "summary", "evidence", "monthly_saving", "updated_at"]
                )
            elif not _recently_dismissed(env, item):
                _open(env, item)
        return list(env.recommendations.filter(status=R.OPEN))


def _recently_dismissed(env: Environment, item: advisor.Advice) -> bool:
    since = timezone.now() - DISMISSED_QUIET
    return env.recommendations.filter(
        kind=item.kind,
        status=R.DISMISSED,
        closed_at__gte=since,
        from_tier=item.from_tier,
        target_tier=item.target_tier,
        target_parameters=item.target_parameters,
    ).exists()


def _open(env: Environment, item: advisor.Advice) -> Recommendation:
    rec = Recommendation.objects.create(
        environment=env,
        kind=item.kind,
        title=item.title,
        summary=item.summary,
        evidence=[e.as_dict() for e in item.evidence],
        window=item.window,
        from_tier=item.from_tier,
        target_tier=item.target_tier,
        target_parameters=item.target_parameters,
        monthly_saving=item.monthly_saving,
        simulated=bool(settings.METRICS_SIMULATED),
    )
    audit_record(
        actor=None,
        action="recommendation.opened",
        obj=rec,
        team=env.team,
        after={"kind": rec.kind, "target_tier": rec.target_tier},
    )
    transaction.on_commit(lambda: notifications.recommendation_created(rec.pk))
    return rec


def _require_member(*, user: Any, environment: Environment) -> None:
    if is_platform_admin(user) or environment.team.memberships.filter(user=user).exists():
        return
    raise Forbidden(f"you are not a member of team {environment.team.slug}")


@transaction.atomic
def recommendation_open_change(
    *,
    user: Any,
    recommendation: Recommendation,
    reason: str = "",
    confirm: str = "",
    ip: str | None = None,
) -> ChangeRequest:
    """Request the change the recommendation proposes (its target tier and parameters), as
    ``services.change_request`` would for the same form; the recommendation is then
    "accepted" and points at the change. A move down that puts data at risk needs ``confirm``
    (the environment's name), like any other."""
    rec = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
    _require_member(user=user, environment=rec.environment)
    if rec.status != R.OPEN:
        raise Conflict(f"recommendation {rec.pk} is {rec.status}, not open")
    payload = rec.change_request_payload()
    change = change_request(
        user=user,
        environment=rec.environment,
        tier=payload["tier"],
        parameters=payload["parameters"],
        reason=reason or payload["reason"],
        confirm=confirm,
        ip=ip,
    )
    _close(rec, R.ACCEPTED, user=user, change=change)
    audit_record(
        actor=user,
        action="recommendation.accepted",
        obj=rec,
        team=rec.environment.team,
        after={"change": change.pk},
        ip=ip,
    )
    return change


@transaction.atomic
def recommendation_dismiss(
    *, user: Any, recommendation: Recommendation, ip: str | None = None
) -> Recommendation:
    rec = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
    _require_member(user=user, environment=rec.environment)
    if rec.status != R.OPEN:
        raise Conflict(f"recommendation {rec.pk} is {rec.status}, not open")
    _close(rec, R.DISMISSED, user=user)
    audit_record(
        actor=user, action="recommendation.dismissed", obj=rec, team=rec.environment.team, ip=ip
    )
    return rec


def advise_all(*, now: datetime | None = None) -> dict[str, int]:
    """Refresh every ready environment (the periodic task). One environment's trouble is
    logged and skipped, never the end of the round."""
    counts = {"environments": 0, "open": 0, "errors": 0}
    ready = Environment.objects.filter(status=Environment.Status.READY, tier__isnull=False)
    for environment in ready.select_related("team").order_by("pk"):
        try:
            counts["open"] += len(recommendations_refresh(environment=environment, now=now))
        except Exception:
            log.exception("advisor failed for environment %s", environment.pk)
            counts["errors"] += 1
        counts["environments"] += 1
    return counts
