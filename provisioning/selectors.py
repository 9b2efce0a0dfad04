"""All reads, scoped to the user who asks. Another team's rows are never returned."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from provisioning.models import Membership, Team
from provisioning.roles import is_platform_admin


def team_list_for_user(*, user: Any) -> QuerySet[Team]:
    teams = Team.objects.annotate(member_count=Count("memberships"))
    if is_platform_admin(user):
        return teams.order_by("slug")
    return teams.filter(memberships__user=user).order_by("slug")


def team_get_for_user(*, user: Any, slug: str) -> Team:
    """The team, or Team.DoesNotExist when the user may not see it (the view answers 404)."""
    return team_list_for_user(user=user).get(slug=slug)


def membership_list_for_team(*, team: Team) -> QuerySet[Membership]:
    return team.memberships.select_related("user").order_by("user__username")
