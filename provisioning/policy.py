"""Team policy: when a change needs an approver, and when it is refused outright."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from provisioning.models import Environment, Team, TeamPolicy

LIVE = [
    Environment.Status.PROVISIONING,
    Environment.Status.READY,
    Environment.Status.UPDATING,
    Environment.Status.FAILED,
    Environment.Status.DECOMMISSIONING,
]


@dataclass
class PolicyResult:
    needs_approval: bool = False
    reasons: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "needs_approval": self.needs_approval,
            "reasons": self.reasons,
            "refused": self.refused,
            "auto_approved": not self.needs_approval and not self.refused,
        }


def policy_for(team: Team) -> TeamPolicy:
    policy, _ = TeamPolicy.objects.get_or_create(team=team)
    return policy


def team_monthly_spend(team: Team, *, excluding: Environment | None = None) -> Decimal:
    environments = Environment.objects.filter(team=team, status__in=LIVE)
    if excluding is not None and excluding.pk:
        environments = environments.exclude(pk=excluding.pk)
    return environments.aggregate(total=Sum("monthly_cost"))["total"] or Decimal("0")


def evaluate(
    *,
    team: Team,
    environment: Environment | None,
    kind: str,
    to_tier: int | None,
    monthly_cost_after: Decimal,
    data_at_risk: str,
) -> PolicyResult:
    policy = policy_for(team)
    result = PolicyResult()

    if kind == "create":
        live = Environment.objects.filter(team=team, status__in=LIVE).count()
        if live >= policy.max_environments:
            result.refused.append(
                f"team {team.slug} already has {live} environments; its limit is "
                f"{policy.max_environments}"
            )

    current_cost = environment.monthly_cost if environment and environment.pk else Decimal("0")
    if monthly_cost_after > current_cost:
        others = team_monthly_spend(team, excluding=environment)
        total = others + monthly_cost_after
        if total > policy.monthly_budget_usd:
            increase = monthly_cost_after - current_cost
            result.refused.append(
                f"the team's estimated spend would be ${total:,.2f}/month (now "
                f"${others + current_cost:,.2f}, this change +${increase:,.2f}), "
                f"over its budget of ${policy.monthly_budget_usd:,.2f}/month"
            )

    if to_tier is not None and to_tier > policy.auto_approve_max_tier:
        result.needs_approval = True
        result.reasons.append(
            f"tier {to_tier} is above the team's auto-approve limit (tier "
            f"{policy.auto_approve_max_tier})"
        )
    if data_at_risk:
        result.needs_approval = True
        result.reasons.append(f"destructive: {data_at_risk}")
    return result
