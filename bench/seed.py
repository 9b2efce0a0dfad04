"""Seed the bench database with bulk_create: teams, people, environments, changes, stack
events, approvals and audit rows, growing to a target size so the same environment and
change can be measured at 10 and at 10,000 environments."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from provisioning import planner, services
from provisioning.models import (
    Approval,
    AuditEvent,
    ChangeRequest,
    Environment,
    Membership,
    StackEvent,
    Team,
)
from provisioning.roles import PLATFORM_ADMINS
from provisioning.validation import validate_parameters

ENVS_PER_TEAM = 20
CHANGES_PER_ENV = 3
EVENTS_PER_ENV = 10
BATCH = 2000
PASSWORD = "bench-password-not-secret-1"  # noqa: S105 - a throwaway bench database


def people() -> dict[str, Any]:
    """The platform admin and the team lead (of team 0) the pages are measured as."""
    admin, _ = services.user_ensure(
        username="bench-admin", password=PASSWORD, groups=(PLATFORM_ADMINS,)
    )
    lead, _ = services.user_ensure(username="bench-lead", password=PASSWORD, groups=())
    team = services.team_ensure(slug="team-0000", name="Team 0")
    services.membership_ensure(team=team, user=lead, role=Membership.Role.LEAD)
    return {"admin": admin, "lead": lead, "team": team}


def grow(*, environments: int, teams: int, changes_per_env: int = CHANGES_PER_ENV) -> None:
    """Add teams, owners and environments (with their changes, events, approvals and audit
    rows) until there are ``environments`` environments over ``teams`` teams."""
    who = people()
    user_model = get_user_model()
    have_teams = Team.objects.count()
    password = make_password(PASSWORD)
    new_teams = Team.objects.bulk_create(
        Team(slug=f"team-{n:04}", name=f"Team {n}") for n in range(have_teams, teams)
    )
    owners = user_model.objects.bulk_create(
        user_model(username=f"owner-{t.slug}", password=password) for t in new_teams
    )
    Membership.objects.bulk_create(
        Membership(team=t, user=u, role=Membership.Role.LEAD)
        for t, u in zip(new_teams, owners, strict=True)
    )
    all_teams = list(Team.objects.order_by("slug")[:teams])
    owner_of = {
        m.team_id: m.user_id
        for m in Membership.objects.filter(role=Membership.Role.LEAD).order_by("-pk")
    }
    have = Environment.objects.count()
    params = {t: validate_parameters(t, {}) for t in (1, 2, 3)}
    plan = planner.plan(
        planner.TierParams(2, params[2]), planner.TierParams(3, {}), region="us-east-1"
    )
    plan_dict = plan.as_dict()
    now = timezone.now()
    for start in range(have, environments, BATCH):
        stop = min(environments, start + BATCH)
        envs = []
        for n in range(start, stop):
            team = all_teams[n % len(all_teams)]
            tier = 1 + n % 3
            envs.append(
                Environment(
                    team=team, name=f"env-{n:05}", region="us-east-1", tier=tier,
                    parameters=params[tier], status="ready" if n % 17 else "failed",
                    stack_name=f"ladder-{team.slug}-env-{n:05}",
                    stack_id=f"arn:aws:cloudformation:us-east-1:123456789012:stack/env-{n}/1",
                    outputs={"SiteUrl": f"http://env-{n}.example.test"},
                    monthly_cost=Decimal("41.17") * tier,
                    created_by_id=owner_of.get(team.pk, who["lead"].pk),
                )
            )  # fmt: skip
        envs = Environment.objects.bulk_create(envs)
        changes = []
        for env in envs:
            for c in range(changes_per_env):
                last = c == changes_per_env - 1
                status = "awaiting_approval" if last and env.pk % 3 == 0 else "applied"
                changes.append(
                    ChangeRequest(
                        environment=env, kind="upgrade", status=status, from_tier=env.tier,
                        to_tier=3, from_parameters=env.parameters, to_parameters=params[3],
                        reason="bench", requester_id=env.created_by_id, plan=plan_dict,
                        cost_delta=plan.cost.delta, monthly_cost_after=plan.cost.target_total,
                        policy={"needs_approval": True, "reasons": [], "refused": []},
                    )
                )  # fmt: skip
        changes = ChangeRequest.objects.bulk_create(changes, batch_size=BATCH)
        events = []
        for i, change in enumerate(changes):
            per_change = EVENTS_PER_ENV // changes_per_env
            if i % changes_per_env == changes_per_env - 1:
                per_change += EVENTS_PER_ENV % changes_per_env  # the latest has the rest
            for seq in range(1, per_change + 1):
                events.append(
                    StackEvent(
                        change=change, event_id=f"ev-{change.pk}-{seq}", sequence=seq,
                        logical_id="Web", resource_type="AWS::EC2::Instance",
                        status="UPDATE_COMPLETE", timestamp=now - timedelta(seconds=seq),
                    )
                )  # fmt: skip
        StackEvent.objects.bulk_create(events, batch_size=BATCH * 5)
        decided = itertools.islice((c for c in changes if c.status == "applied"), 0, None, 5)
        Approval.objects.bulk_create(
            (Approval(change=c, approver=who["admin"], decision="approve") for c in decided),
            batch_size=BATCH,
        )
        AuditEvent.objects.bulk_create(
            (
                AuditEvent(
                    actor_id=c.requester_id, team_id=c.environment.team_id,
                    action="change.request", object_type="change", object_id=str(c.pk),
                )
                for c in changes
            ),
            batch_size=BATCH,
        )  # fmt: skip


def counts() -> dict[str, int]:
    return {
        "teams": Team.objects.count(),
        "environments": Environment.objects.count(),
        "changes": ChangeRequest.objects.count(),
        "stack_events": StackEvent.objects.count(),
        "audit_events": AuditEvent.objects.count(),
    }
