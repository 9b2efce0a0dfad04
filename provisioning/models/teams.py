"""Domain models. Teams own environments; people belong to teams through memberships."""

from __future__ import annotations

import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

slug_validator = RegexValidator(
    r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$",
    "3 to 32 characters: lower-case letters, digits and hyphens, starting with a letter.",
)


class Team(models.Model):
    slug = models.CharField(max_length=32, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]
        permissions = [
            ("administer_platform", "Can see and administer every team's environments"),
            ("approve_changes", "Can approve or reject change requests"),
        ]

    def __str__(self) -> str:
        return self.slug


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        LEAD = "lead", "Lead"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team__slug", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="membership_unique_team_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


# An IAM role in a 12-digit account (any partition), with an optional path.
ROLE_ARN = re.compile(
    r"arn:aws(?:-[a-z]+)*:iam::\d{12}:role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}", re.ASCII
)
EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)


class TeamPolicy(models.Model):
    """What a team may do without an approver. Edited by platform admins."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="policy")
    auto_approve_max_tier = models.PositiveSmallIntegerField(
        default=2, help_text="Changes up to this tier are approved automatically (0: never)."
    )
    monthly_budget_usd = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("2000.00"),
        help_text="Estimated monthly cost of all the team's environments may not exceed this.",
    )  # fmt: skip
    max_environments = models.PositiveIntegerField(default=10)
    aws_role_arn = models.CharField(
        max_length=2048, blank=True, help_text="Role assumed for this team's AWS calls (optional)."
    )
    aws_external_id = models.CharField(max_length=1224, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "team policies"

    def __str__(self) -> str:
        return f"policy of {self.team}"

    def clean(self) -> None:
        """A role ARN names an IAM role in a 12-digit account; an external id is STS-shaped."""
        super().clean()
        errors = {}
        if self.aws_role_arn and not ROLE_ARN.fullmatch(self.aws_role_arn):
            errors["aws_role_arn"] = (
                "Give an IAM role ARN such as arn:aws:iam::123456789012:role/ladder-deployer"
            )
        if self.aws_external_id and not EXTERNAL_ID.fullmatch(self.aws_external_id):
            errors["aws_external_id"] = (
                "An external id is 2 to 1224 letters, digits or the characters +=,.@:/-"
            )
        if self.aws_external_id and not self.aws_role_arn:
            errors["aws_external_id"] = "An external id is only used with a role ARN"
        if errors:
            raise ValidationError(errors)
