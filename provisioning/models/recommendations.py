"""What the advisor says an environment should do next, kept while it still holds."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from provisioning.models.environments import ChangeRequest, Environment


class Recommendation(models.Model):
    class Kind(models.TextChoices):
        MOVE_UP = "move_up", "Move up the ladder"
        HIGH_AVAILABILITY = "high_availability", "Run more than one web server"
        DATA_TIER = "data_tier", "Add a cache and a read replica"
        MORE_WORKERS = "more_workers", "Raise the worker maximum"
        MOVE_DOWN = "move_down", "Move down the ladder"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Change requested"
        DISMISSED = "dismissed", "Dismissed"
        RESOLVED = "resolved", "No longer applies"

    COLORS = {"open": "orange", "accepted": "blue", "dismissed": "grey", "resolved": "green"}

    environment = models.ForeignKey(
        Environment, on_delete=models.CASCADE, related_name="recommendations"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    evidence = models.JSONField(default=list, blank=True, help_text="Numbers, windows, thresholds")
    window = models.CharField(max_length=8, help_text="The chart window the evidence comes from")
    from_tier = models.PositiveSmallIntegerField()
    target_tier = models.PositiveSmallIntegerField()
    target_parameters = models.JSONField(
        default=dict, blank=True, help_text="Parameters to pass to the change request"
    )
    monthly_saving = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    simulated = models.BooleanField(default=False, help_text="From the local traffic simulator")
    change = models.ForeignKey(
        ChangeRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "kind"],
                condition=Q(status="open"),
                name="one_open_recommendation_per_kind",
            )
        ]
        indexes = [models.Index(fields=["environment", "status"], name="recommendation_env_status")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.environment_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def status_color(self) -> str:
        return self.COLORS.get(self.status, "grey")

    def change_request_payload(self) -> dict[str, Any]:
        """What the change form (or POST /environments/{id}/changes/) is pre-filled with."""
        return {
            "tier": self.target_tier,
            "parameters": dict(self.target_parameters),
            "reason": f"Advisor: {self.title}",
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "environment": self.environment_id,
            "kind": self.kind,
            "status": self.status,
            "title": self.title,
            "summary": self.summary,
            "evidence": self.evidence,
            "window": self.window,
            "from_tier": self.from_tier,
            "target_tier": self.target_tier,
            "target_parameters": self.target_parameters,
            "monthly_saving": str(self.monthly_saving) if self.monthly_saving is not None else None,
            "simulated": self.simulated,
            "change": self.change_id,
            "change_request": self.change_request_payload(),
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }
