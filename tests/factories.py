"""Environments and changes as the workers leave them, made straight in the database: the
page tests show what is stored and need no worker."""

from __future__ import annotations

from decimal import Decimal

from provisioning import planner
from provisioning.models import ChangeRequest, Environment
from provisioning.validation import validate_parameters

S = ChangeRequest.Status


def make_environment(team, user, name, *, tier=2, status="ready", **extra):
    """An environment as a finished create leaves it (ORM: display tests need no worker)."""
    defaults = {
        "region": "us-east-1",
        "tier": tier,
        "parameters": validate_parameters(tier, {}) if tier else {},
        "status": status,
        "stack_name": f"ladder-{team.slug}-{name}",
        "stack_id": f"arn:aws:cloudformation:us-east-1:123456789012:stack/ladder-{name}/1",
        "outputs": {"SiteUrl": f"http://{name}.example.test", "InstanceId": "i-0abc"}
        if tier
        else {},
        "monthly_cost": Decimal("41.17"),
        "created_by": user,
    }
    defaults.update(extra)
    return Environment.objects.create(team=team, name=name, **defaults)


def make_change(environment, user, *, to_tier, status=S.AWAITING_APPROVAL, kind="upgrade"):
    current = planner.TierParams(environment.tier, environment.parameters)
    plan = planner.plan(current, planner.TierParams(to_tier, {}), region=environment.region)
    return ChangeRequest.objects.create(
        environment=environment,
        kind=kind,
        status=status,
        from_tier=environment.tier,
        to_tier=to_tier,
        from_parameters=environment.parameters,
        to_parameters=dict(plan.target.params),
        reason="more traffic",
        requester=user,
        plan=plan.as_dict(),
        cost_delta=plan.cost.delta,
        monthly_cost_after=plan.cost.target_total,
        policy={"needs_approval": True, "reasons": ["tier 3 is above the limit"], "refused": []},
    )
