"""What the API reads and writes. Output serializers only present rows that a selector read;
input serializers only check the shape of a request: the rules live in the services."""

from __future__ import annotations

from decimal import Decimal
from functools import cached_property
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from provisioning import selectors
from provisioning.models import (
    Approval,
    ChangeRequest,
    Environment,
    StackEvent,
    Team,
    TeamPolicy,
)
from provisioning.validation import SUPPORTED_REGIONS

MONEY = {"max_digits": 12, "decimal_places": 2}


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    fields = serializers.DictField(child=serializers.CharField(), required=False)


# --- the ladder ---------------------------------------------------------------------------
class ParameterSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=["str", "int", "bool", "choice"])
    default = serializers.JSONField(help_text="the tier's default")
    help = serializers.CharField()
    choices = serializers.ListField(child=serializers.JSONField(), allow_null=True)
    minimum = serializers.IntegerField(allow_null=True)
    maximum = serializers.IntegerField(allow_null=True)


class TierSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    name = serializers.CharField()
    summary = serializers.CharField()
    resilience = serializers.CharField()
    scalability = serializers.CharField()
    capacity = serializers.CharField()
    components = serializers.ListField(child=serializers.CharField())
    parameters = ParameterSerializer(many=True)
    monthly_cost_from = serializers.DecimalField(**MONEY, help_text="USD, tier defaults")
    region = serializers.CharField(help_text="the region the cost is for")


class LadderSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = TierSerializer(many=True)


# --- teams --------------------------------------------------------------------------------
class TeamPolicySerializer(serializers.Serializer):
    auto_approve_max_tier = serializers.IntegerField()
    monthly_budget_usd = serializers.DecimalField(**MONEY)
    max_environments = serializers.IntegerField()


class TeamUsageSerializer(serializers.Serializer):
    environments = serializers.IntegerField(help_text="live (not decommissioned)")
    monthly_cost = serializers.DecimalField(**MONEY)
    budget_left = serializers.DecimalField(**MONEY)


class TeamSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField(help_text="your role in the team; null: not a member")
    member_count = serializers.IntegerField()
    policy = serializers.SerializerMethodField()
    usage = serializers.SerializerMethodField()

    class Meta:
        model = Team
        fields = ["slug", "name", "role", "member_count", "policy", "usage"]

    @staticmethod
    def _policy(team: Team) -> TeamPolicy:
        try:
            return team.policy
        except TeamPolicy.DoesNotExist:
            return TeamPolicy(team=team)  # the defaults, until a platform admin edits it

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_role(self, team: Team) -> str | None:
        memberships = getattr(team, "my_memberships", [])
        return memberships[0].role if memberships else None

    # One nested serializer per list, not one per row: a new serializer deep-copies its
    # fields (a third of a team list's time).
    @cached_property
    def _policy_serializer(self) -> TeamPolicySerializer:
        return TeamPolicySerializer()

    @cached_property
    def _usage_serializer(self) -> TeamUsageSerializer:
        return TeamUsageSerializer()

    @extend_schema_field(TeamPolicySerializer)
    def get_policy(self, team: Team) -> dict[str, Any]:
        return dict(self._policy_serializer.to_representation(self._policy(team)))

    @extend_schema_field(TeamUsageSerializer)
    def get_usage(self, team: Team) -> dict[str, Any]:
        spend = Decimal(getattr(team, "monthly_spend", 0) or 0)
        budget = self._policy(team).monthly_budget_usd
        usage = {
            "environments": getattr(team, "live_environments", 0),
            "monthly_cost": spend,
            "budget_left": max(budget - spend, Decimal("0")),
        }
        return dict(self._usage_serializer.to_representation(usage))


# --- changes ------------------------------------------------------------------------------
class ActiveChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChangeRequest
        fields = ["id", "kind", "status", "from_tier", "to_tier", "created_at"]


class ChangeSummarySerializer(serializers.ModelSerializer):
    environment = serializers.IntegerField(source="environment_id")
    environment_name = serializers.CharField(source="environment.name")
    team = serializers.CharField(source="environment.team.slug")
    requester = serializers.CharField(source="requester.get_username")
    needs_approval = serializers.SerializerMethodField()

    class Meta:
        model = ChangeRequest
        fields = [
            "id", "environment", "environment_name", "team", "kind", "status",
            "from_tier", "to_tier", "cost_delta", "monthly_cost_after", "requester", "reason",
            "needs_approval", "created_at", "updated_at", "finished_at",
        ]  # fmt: skip

    def get_needs_approval(self, change: ChangeRequest) -> bool:
        return bool((change.policy or {}).get("needs_approval"))


class PlanResourceSerializer(serializers.Serializer):
    logical_id = serializers.CharField()
    type = serializers.CharField()
    action = serializers.ChoiceField(choices=["add", "modify", "remove"])
    replacement = serializers.CharField(
        allow_blank=True, help_text="yes | no | conditional for a modify; empty otherwise"
    )
    data_at_risk = serializers.BooleanField()
    risk = serializers.CharField(allow_null=True, help_text="what happens to the data")
    properties = serializers.ListField(child=serializers.CharField())


class PlanNoteSerializer(serializers.Serializer):
    text = serializers.CharField()
    destructive = serializers.BooleanField()
    from_tier = serializers.IntegerField(allow_null=True)
    to_tier = serializers.IntegerField(allow_null=True)


class PlanCostSerializer(serializers.Serializer):
    current_total = serializers.DecimalField(**MONEY)
    target_total = serializers.DecimalField(**MONEY)
    delta = serializers.DecimalField(**MONEY)


class PlanSerializer(serializers.Serializer):
    resources = PlanResourceSerializer(many=True)
    notes = PlanNoteSerializer(many=True)
    counts = serializers.DictField(child=serializers.IntegerField())
    destructive = serializers.BooleanField()
    cost = PlanCostSerializer(allow_null=True)
    change_set_merged = serializers.BooleanField()


class PolicyResultSerializer(serializers.Serializer):
    needs_approval = serializers.BooleanField()
    auto_approved = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())
    refused = serializers.ListField(child=serializers.CharField())


class ApprovalSerializer(serializers.ModelSerializer):
    approver = serializers.CharField(source="approver.get_username")

    class Meta:
        model = Approval
        fields = ["approver", "decision", "note", "created_at"]


def plan_view(plan: dict[str, Any]) -> dict[str, Any]:
    """The stored plan (planner.Plan.as_dict) in the API's words."""
    resources = [
        {
            "logical_id": c.get("logical_id", ""),
            "type": c.get("resource_type", ""),
            "action": c.get("action", "modify"),
            "replacement": c.get("replacement") or "",
            "data_at_risk": bool(c.get("data_at_risk")),
            "risk": (c.get("data") or {}).get("summary"),
            "properties": list(c.get("properties") or []),
        }
        for c in plan.get("changes") or []
    ]
    notes = [
        {
            "text": n.get("text", ""),
            "destructive": bool(n.get("destructive")),
            "from_tier": n.get("from_tier"),
            "to_tier": n.get("to_tier"),
        }
        for n in plan.get("notes") or []
    ]
    counts = {a: sum(r["action"] == a for r in resources) for a in ("add", "modify", "remove")}
    cost = plan.get("cost")
    return {
        "resources": resources,
        "notes": notes,
        "counts": counts,
        "destructive": bool(plan.get("destructive")),
        "cost": {k: cost[k] for k in ("current_total", "target_total", "delta")} if cost else None,
        "change_set_merged": bool(plan.get("change_set_merged")),
    }


class ChangeSerializer(ChangeSummarySerializer):
    plan = serializers.SerializerMethodField()
    policy = serializers.SerializerMethodField()
    approvals = ApprovalSerializer(many=True)

    class Meta(ChangeSummarySerializer.Meta):
        fields = [
            *ChangeSummarySerializer.Meta.fields,
            "from_parameters", "to_parameters", "plan", "policy", "approvals", "confirmed",
            "explanation",
        ]  # fmt: skip

    @extend_schema_field(PlanSerializer)
    def get_plan(self, change: ChangeRequest) -> dict[str, Any]:
        return PlanSerializer(plan_view(change.plan or {})).data

    @extend_schema_field(PolicyResultSerializer)
    def get_policy(self, change: ChangeRequest) -> dict[str, Any]:
        policy = change.policy or {}
        return PolicyResultSerializer(
            {
                "needs_approval": bool(policy.get("needs_approval")),
                "auto_approved": bool(policy.get("auto_approved")),
                "reasons": list(policy.get("reasons") or []),
                "refused": list(policy.get("refused") or []),
            }
        ).data


# --- environments -------------------------------------------------------------------------
class EnvironmentSerializer(serializers.ModelSerializer):
    team = serializers.CharField(source="team.slug")
    parameters = serializers.DictField()
    outputs = serializers.DictField()
    active_change = serializers.SerializerMethodField()

    class Meta:
        model = Environment
        fields = [
            "id", "team", "name", "tier", "status", "region", "parameters", "outputs",
            "stack_name", "monthly_cost", "active_change", "created_at", "updated_at",
            "decommissioned_at",
        ]  # fmt: skip

    @cached_property
    def _active_serializer(self) -> ActiveChangeSerializer:
        return ActiveChangeSerializer()  # one per list, not one per row

    @extend_schema_field(ActiveChangeSerializer(allow_null=True))
    def get_active_change(self, environment: Environment) -> dict[str, Any] | None:
        prefetched = getattr(environment, "active_changes", None)
        if prefetched is not None:
            active = prefetched[0] if prefetched else None
        else:
            active = selectors.environment_active_change(environment=environment)
        return dict(self._active_serializer.to_representation(active)) if active else None


class EnvironmentCreatedSerializer(serializers.Serializer):
    environment = EnvironmentSerializer()
    change = ChangeSerializer()


class StackEventSerializer(serializers.ModelSerializer):
    failed = serializers.BooleanField(source="is_failure")

    class Meta:
        model = StackEvent
        fields = [
            "sequence", "event_id", "logical_id", "resource_type", "physical_id", "status",
            "reason", "timestamp", "failed",
        ]  # fmt: skip


class StackEventPageSerializer(serializers.Serializer):
    change = serializers.IntegerField(allow_null=True, help_text="whose events these are")
    change_status = serializers.CharField(allow_null=True)
    next = serializers.URLField(allow_null=True, help_text="more events: follow this")
    results = StackEventSerializer(many=True)


# --- requests -----------------------------------------------------------------------------
class EnvironmentRequestSerializer(serializers.Serializer):
    team = serializers.CharField(max_length=32, help_text="the team's slug")
    name = serializers.CharField(max_length=100)
    tier = serializers.IntegerField(min_value=1, max_value=5)
    region = serializers.ChoiceField(choices=SUPPORTED_REGIONS, default=SUPPORTED_REGIONS[0])
    parameters = serializers.DictField(required=False, default=dict)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ChangeRequestSerializer(serializers.Serializer):
    tier = serializers.IntegerField(
        min_value=1, max_value=5, required=False, allow_null=True,
        help_text="the target tier; leave it out to resize in place",
    )  # fmt: skip
    parameters = serializers.DictField(required=False, default=dict)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    confirm = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="",
        help_text="the environment's name, when the plan puts data at risk",
    )  # fmt: skip


class DecommissionSerializer(serializers.Serializer):
    confirm = serializers.CharField(max_length=100, help_text="the environment's name")
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RetrySerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class EventQuerySerializer(serializers.Serializer):
    after = serializers.IntegerField(
        min_value=0, max_value=2**31 - 1, required=False, default=0,
        help_text="the last sequence you have; 0 for all",
    )  # fmt: skip
    change = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, required=False,
        help_text="whose events (default: the active change, else the latest)",
    )  # fmt: skip
