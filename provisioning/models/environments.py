"""Environments, the changes that move them along the ladder, and what AWS reported."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q

from provisioning.models.teams import Team

environment_name_validator = RegexValidator(
    r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$|^[a-z]$",
    "1 to 40 characters: lower-case letters, digits and hyphens, starting with a letter.",
)


class NetworkStack(models.Model):
    """The team's network in one region (VPC, subnets, routes), shared by its environments."""

    class Status(models.TextChoices):
        CREATING = "creating", "Creating"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="networks")
    region = models.CharField(max_length=32)
    stack_name = models.CharField(max_length=128, unique=True)
    stack_id = models.CharField(max_length=512, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATING)
    outputs = models.JSONField(default=dict, blank=True)
    explanation = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "region"], name="network_unique_team_region")
        ]

    def __str__(self) -> str:
        return self.stack_name


class Environment(models.Model):
    class Status(models.TextChoices):
        PROVISIONING = "provisioning", "Provisioning"
        READY = "ready", "Ready"
        UPDATING = "updating", "Updating"
        FAILED = "failed", "Failed"
        DECOMMISSIONING = "decommissioning", "Decommissioning"
        DECOMMISSIONED = "decommissioned", "Decommissioned"

    COLORS = {
        "provisioning": "blue", "ready": "green", "updating": "blue", "failed": "red",
        "decommissioning": "orange", "decommissioned": "grey",
    }  # fmt: skip

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="environments")
    name = models.CharField(max_length=40, validators=[environment_name_validator])
    region = models.CharField(max_length=32)
    tier = models.PositiveSmallIntegerField(null=True, blank=True, help_text="None until created")
    parameters = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PROVISIONING, db_index=True
    )
    stack_name = models.CharField(max_length=128)
    stack_id = models.CharField(max_length=512, blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    monthly_cost = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    decommissioned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["team__slug", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "name"],
                condition=~Q(status="decommissioned"),
                name="environment_unique_live_name_per_team",
            )
        ]
        indexes = [
            models.Index(fields=["team", "status"], name="env_team_status"),
            models.Index(fields=["status", "-updated_at"], name="env_status_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.team.slug}/{self.name}"

    @property
    def status_color(self) -> str:
        return self.COLORS.get(self.status, "grey")


class ChangeRequest(models.Model):
    class Kind(models.TextChoices):
        CREATE = "create", "Create"
        UPGRADE = "upgrade", "Upgrade"
        DOWNGRADE = "downgrade", "Downgrade"
        RESIZE = "resize", "Resize"
        DECOMMISSION = "decommission", "Decommission"

    class Status(models.TextChoices):
        PLANNING = "planning", "Planning"
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        APPROVED = "approved", "Approved"
        APPLYING = "applying", "Applying"
        APPLIED = "applied", "Applied"
        FAILED = "failed", "Failed"
        ERRORED = "errored", "Errored"
        REJECTED = "rejected", "Rejected"
        CANCELLED = "cancelled", "Cancelled"
        SUPERSEDED = "superseded", "Superseded"

    ACTIVE = frozenset({"planning", "awaiting_approval", "approved", "applying"})
    TERMINAL = frozenset({"applied", "failed", "errored", "rejected", "cancelled", "superseded"})
    COLORS = {
        "planning": "blue", "awaiting_approval": "orange", "approved": "blue",
        "applying": "blue", "applied": "green", "failed": "red", "errored": "red",
        "rejected": "grey", "cancelled": "grey", "superseded": "grey",
    }  # fmt: skip

    environment = models.ForeignKey(Environment, on_delete=models.PROTECT, related_name="changes")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNING)
    from_tier = models.PositiveSmallIntegerField(null=True, blank=True)
    to_tier = models.PositiveSmallIntegerField(null=True, blank=True)
    from_parameters = models.JSONField(default=dict, blank=True)
    to_parameters = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="change_requests"
    )
    plan = models.JSONField(default=dict, blank=True)
    cost_delta = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    monthly_cost_after = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    policy = models.JSONField(default=dict, blank=True)
    confirmed = models.BooleanField(default=False, help_text="Data at risk confirmed by name")
    explanation = models.TextField(blank=True)
    change_set_name = models.CharField(max_length=128, blank=True)
    change_set_id = models.CharField(max_length=512, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    apply_requested_at = models.DateTimeField(null=True, blank=True, help_text="Intent recorded")
    apply_started_at = models.DateTimeField(null=True, blank=True, help_text="AWS accepted")
    last_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["environment"],
                condition=Q(status__in=["planning", "awaiting_approval", "approved", "applying"]),
                name="one_active_change_per_environment",
            )
        ]
        indexes = [
            models.Index(fields=["status", "updated_at"], name="change_status_updated"),
            models.Index(fields=["environment", "-created_at"], name="change_env_created"),
            # The change lists (newest first) and the approvals queue (oldest first) read an
            # index in order instead of sorting every change (EXPLAIN in bench/report.json).
            models.Index(fields=["-created_at", "-id"], name="change_created"),
            models.Index(fields=["status", "created_at", "id"], name="change_status_created"),
        ]

    def __str__(self) -> str:
        return f"change {self.pk} {self.kind} of {self.environment_id}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def status_color(self) -> str:
        return self.COLORS.get(self.status, "grey")

    @property
    def client_token(self) -> str:
        """Idempotency token for this change's mutating CloudFormation calls."""
        return f"ladder-change-{self.pk}"


class Approval(models.Model):
    class Decision(models.TextChoices):
        APPROVE = "approve", "Approved"
        REJECT = "reject", "Rejected"

    change = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    decision = models.CharField(max_length=8, choices=Decision.choices)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["change", "approver"], name="approval_once_per_person")
        ]
        indexes = [
            # An approver's latest decisions (the approvals page), without a sort.
            models.Index(
                F("approver"), F("created_at").desc(), F("id").desc(), name="approval_by_approver"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.decision} of change {self.change_id} by {self.approver_id}"


class StackEvent(models.Model):
    """A CloudFormation stack event, stored once (AWS event id) in arrival order."""

    change = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="events")
    event_id = models.CharField(max_length=256, unique=True)
    sequence = models.PositiveIntegerField()
    logical_id = models.CharField(max_length=256)
    resource_type = models.CharField(max_length=256, blank=True)
    physical_id = models.CharField(max_length=1024, blank=True)
    status = models.CharField(max_length=64)
    reason = models.TextField(blank=True)
    timestamp = models.DateTimeField()

    class Meta:
        ordering = ["change", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["change", "sequence"], name="event_unique_sequence")
        ]

    def __str__(self) -> str:
        return f"{self.logical_id} {self.status}"

    @property
    def is_failure(self) -> bool:
        return self.status.endswith("_FAILED")
