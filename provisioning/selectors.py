"""All reads, scoped to the user who asks. Another team's rows are never returned.

Each ``*_get_for_user`` raises the model's DoesNotExist for a row the user may not see, so
the faces answer 404 whether the row is missing or belongs to someone else. List selectors
join what their pages show, so a page costs the same few queries however long it is.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, TruncDate

from provisioning.models import (
    ApiToken,
    Approval,
    AuditEvent,
    ChangeRequest,
    Environment,
    Membership,
    Recommendation,
    StackEvent,
    Team,
    Webhook,
)
from provisioning.policy import LIVE
from provisioning.roles import is_approver, is_platform_admin

# What a list of changes never shows: the stored plan (~7 KB of JSON a change, decoded per
# row) and the parameters on each side. The change's own page and API detail read them;
# lists leave them in the database. WITH_ENVIRONMENT_DEFERRED: the same for the environment
# a list joins in, whose parameters and outputs only its own page shows.
LIST_DEFERRED = ("plan", "from_parameters", "to_parameters")
WITH_ENVIRONMENT_DEFERRED = (*LIST_DEFERRED, "environment__parameters", "environment__outputs")


# --- teams --------------------------------------------------------------------------------
def team_list_for_user(*, user: Any) -> QuerySet[Team]:
    # A subquery, not Count() over a join: no GROUP BY, so a page of 25 teams is read in
    # slug order from the index and counted for those 25 only (EXPLAIN in bench/report.json).
    members = (
        Membership.objects.filter(team=OuterRef("pk"))
        .order_by()
        .values("team")
        .annotate(n=Count("pk"))
        .values("n")
    )
    teams = Team.objects.annotate(
        member_count=Coalesce(Subquery(members, output_field=IntegerField()), 0)
    )
    if is_platform_admin(user):
        return teams.order_by("slug")
    return teams.filter(pk__in=Membership.objects.filter(user=user).values("team")).order_by("slug")


def team_get_for_user(*, user: Any, slug: str) -> Team:
    """The team, or Team.DoesNotExist when the user may not see it (the view answers 404)."""
    return team_list_for_user(user=user).get(slug=slug)


def membership_list_for_team(*, team: Team) -> QuerySet[Membership]:
    return team.memberships.select_related("user").order_by("user__username")


def team_choices_for_user(*, user: Any) -> QuerySet[Team]:
    """Teams the user may request environments for: their own (all, for platform admins)."""
    if is_platform_admin(user):
        return Team.objects.order_by("slug")
    return Team.objects.filter(memberships__user=user).order_by("slug")


def teams_led_by(*, user: Any) -> QuerySet[Team]:
    return Team.objects.filter(
        memberships__user=user, memberships__role=Membership.Role.LEAD
    ).order_by("slug")


def user_leads_team(*, user: Any, team: Team) -> bool:
    return team.memberships.filter(user=user, role=Membership.Role.LEAD).exists()


# --- environments -------------------------------------------------------------------------
def environment_list_for_user(*, user: Any) -> QuerySet[Environment]:
    """The user's teams' live environments (every team's for platform admins), each with
    ``active_changes`` (at most one) prefetched. Lists with filters use
    ``environment_queryset_for_user`` narrowed by ``provisioning.filters``."""
    return (
        environment_queryset_for_user(user=user)
        .select_related("created_by")
        .exclude(status=Environment.Status.DECOMMISSIONED)
    )


def environment_get_for_user(*, user: Any, pk: int) -> Environment:
    """The environment, or Environment.DoesNotExist when it is not the user's team's."""
    environments = Environment.objects.select_related("team", "created_by")
    if not is_platform_admin(user):
        environments = environments.filter(team__in=Team.objects.filter(memberships__user=user))
    return environments.get(pk=pk)


def environment_active_change(*, environment: Environment) -> ChangeRequest | None:
    return (
        environment.changes.filter(status__in=ChangeRequest.ACTIVE)
        .select_related("requester")
        .first()
    )


# --- changes ------------------------------------------------------------------------------
def _changes_visible_to(user: Any) -> QuerySet[ChangeRequest]:
    """Team members see their teams' changes. Approvers decide for every team, so they also
    see what waits for a decision and what they decided; platform admins see everything."""
    changes = ChangeRequest.objects.all()
    if is_platform_admin(user):
        return changes
    mine = Q(environment__team__in=Team.objects.filter(memberships__user=user))
    if is_approver(user):
        mine |= Q(status=ChangeRequest.Status.AWAITING_APPROVAL) | Q(
            pk__in=ChangeRequest.objects.filter(approvals__approver=user).values("pk")
        )
    return changes.filter(mine)


def change_list_for_user(
    *, user: Any, environment: Environment | None = None
) -> QuerySet[ChangeRequest]:
    changes = (
        _changes_visible_to(user)
        .select_related("environment__team", "requester")
        .defer(*WITH_ENVIRONMENT_DEFERRED)
    )
    if environment is not None:
        changes = changes.filter(environment=environment)
    return changes.order_by("-created_at", "-pk")


def change_get_for_user(*, user: Any, pk: int) -> ChangeRequest:
    """The change, or ChangeRequest.DoesNotExist when the user may not see it."""
    return (
        _changes_visible_to(user)
        .select_related("environment__team", "environment__created_by", "requester")
        .prefetch_related("approvals__approver")
        .get(pk=pk)
    )


def stack_event_list_for_change(*, change: ChangeRequest, limit: int = 200) -> list[StackEvent]:
    """The change's latest ``limit`` stack events, oldest first."""
    latest = list(change.events.order_by("-sequence")[:limit])
    return latest[::-1]


def approvals_pending_for_user(*, user: Any) -> QuerySet[ChangeRequest]:
    """Changes waiting for a decision, oldest first; nothing for someone who cannot approve."""
    if not is_approver(user):
        return ChangeRequest.objects.none()
    return (
        ChangeRequest.objects.filter(status=ChangeRequest.Status.AWAITING_APPROVAL)
        .select_related("environment__team", "requester")
        .defer(*WITH_ENVIRONMENT_DEFERRED)
        .order_by("created_at", "pk")
    )


def approvals_decided_by_user(*, user: Any, limit: int = 20) -> QuerySet[ChangeRequest]:
    """The changes of the user's ``limit`` latest decisions, latest decision first.

    The approver's decisions come from their own index (approval_by_approver), not from a
    join of every change they ever decided sorted afterwards (97 ms at 5,000 decisions)."""
    latest = (
        Approval.objects.filter(approver=user).order_by("-created_at", "-pk").values("change_id")
    )
    return (
        ChangeRequest.objects.filter(pk__in=latest[:limit])
        .select_related("environment__team", "requester")
        .prefetch_related("approvals__approver")
        .defer(*WITH_ENVIRONMENT_DEFERRED)
        .order_by("-updated_at", "-pk")
    )


# --- audit --------------------------------------------------------------------------------
def audit_list_for_user(*, user: Any, team: str | None = None) -> QuerySet[AuditEvent]:
    """Platform admins see every event, team leads their teams' events, others nothing."""
    events = AuditEvent.objects.select_related("actor", "team")
    if not is_platform_admin(user):
        events = events.filter(team__in=teams_led_by(user=user))
    if team:
        events = events.filter(team__slug=team)
    return events.order_by("-created_at", "-pk")


def audit_visible_to(*, user: Any) -> bool:
    return bool(is_platform_admin(user) or teams_led_by(user=user).exists())


# --- the API's lists ------------------------------------------------------------------------
def environment_queryset_for_user(*, user: Any) -> QuerySet[Environment]:
    """Every environment the user may see, decommissioned ones too, with its active change
    prefetched (``active_changes``): the base that ``provisioning.filters`` narrows."""
    environments = Environment.objects.select_related("team").prefetch_related(
        Prefetch(
            "changes",
            queryset=ChangeRequest.objects.filter(status__in=ChangeRequest.ACTIVE).defer(
                *LIST_DEFERRED
            ),
            to_attr="active_changes",
        )
    )
    if not is_platform_admin(user):
        environments = environments.filter(team__in=Team.objects.filter(memberships__user=user))
    return environments.order_by("team__slug", "name", "-created_at")


def team_usage_list_for_user(*, user: Any) -> QuerySet[Team]:
    """The user's teams with their policy, the caller's membership (``my_memberships``) and
    their usage: ``live_environments`` and ``monthly_spend`` (subqueries: no join fan-out)."""
    live = Environment.objects.filter(team=OuterRef("pk"), status__in=LIVE).values("team")
    return (
        team_list_for_user(user=user)
        .select_related("policy")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.filter(user=user),
                to_attr="my_memberships",
            )
        )
        .annotate(
            live_environments=Coalesce(
                Subquery(live.annotate(n=Count("pk")).values("n"), output_field=IntegerField()),
                0,
            ),
            monthly_spend=Coalesce(
                Subquery(
                    live.annotate(total=Sum("monthly_cost")).values("total"),
                    output_field=DecimalField(max_digits=12, decimal_places=2),
                ),
                Decimal("0"),
                output_field=DecimalField(max_digits=12, decimal_places=2),
            ),
        )
    )


def stack_events_after(
    *, change: ChangeRequest, after: int = 0, limit: int = 500
) -> list[StackEvent]:
    """The change's stack events with a sequence above ``after``, oldest first."""
    return list(change.events.filter(sequence__gt=after).order_by("sequence")[:limit])


# --- API tokens ---------------------------------------------------------------------------
def token_list_for_user(*, user: Any) -> QuerySet[ApiToken]:
    """The user's own tokens, newest first. Nobody sees another person's tokens."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


def token_get_for_user(*, user: Any, pk: int) -> ApiToken:
    return token_list_for_user(user=user).get(pk=pk)


# --- dashboards ---------------------------------------------------------------------------
def recommendation_get_for_user(*, user: Any, pk: int) -> Recommendation:
    """The recommendation, or Recommendation.DoesNotExist when its environment is not the
    user's team's."""
    rows = Recommendation.objects.select_related("environment__team")
    if not is_platform_admin(user):
        rows = rows.filter(environment__team__in=Team.objects.filter(memberships__user=user))
    return rows.get(pk=pk)


def webhook_get_for_team(*, team: Team, pk: int) -> Webhook:
    return Webhook.objects.select_related("team").get(team=team, pk=pk)


def platform_overview(*, now: datetime, days: int = 14) -> dict[str, Any]:
    """The platform admins' page: environments per tier and status, changes per day (the
    last ``days``) with their success rate, what waits for approval, spend by team. A fixed
    handful of aggregate queries, however many rows there are."""
    by_tier_status = {
        (row["tier"], row["status"]): row["n"]
        for row in Environment.objects.values("tier", "status").annotate(n=Count("pk"))
    }
    since = (now - timedelta(days=days - 1)).date()
    per_day = {
        row["day"]: row
        for row in ChangeRequest.objects.filter(created_at__date__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            total=Count("pk"),
            applied=Count("pk", filter=Q(status=ChangeRequest.Status.APPLIED)),
            failed=Count(
                "pk",
                filter=Q(status__in=[ChangeRequest.Status.FAILED, ChangeRequest.Status.ERRORED]),
            ),
        )
    }
    changes_per_day: list[dict[str, Any]] = []
    for offset in range(days):
        day: date = since + timedelta(days=offset)
        row = per_day.get(day, {"total": 0, "applied": 0, "failed": 0})
        finished = row["applied"] + row["failed"]
        changes_per_day.append(
            {
                "day": day,
                "total": row["total"],
                "applied": row["applied"],
                "failed": row["failed"],
                "success_rate": round(100 * row["applied"] / finished) if finished else None,
            }
        )
    live = Q(environments__status__in=LIVE)
    spend = Team.objects.annotate(
        live_environments=Count("environments", filter=live),
        monthly_spend=Coalesce(
            Sum("environments__monthly_cost", filter=live),
            Decimal("0"),
            output_field=DecimalField(max_digits=12, decimal_places=2),
        ),
    ).order_by("-monthly_spend", "slug")
    pending = ChangeRequest.objects.filter(
        status=ChangeRequest.Status.AWAITING_APPROVAL
    ).select_related("environment__team", "requester")
    return {
        "by_tier_status": by_tier_status,
        "changes_per_day": changes_per_day,
        "spend_by_team": list(spend),
        "pending": list(pending.order_by("created_at", "pk")[:20]),
        "pending_count": pending.count(),
    }
