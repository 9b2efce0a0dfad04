"""All writes. Keyword-only, typed, one transaction each."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from provisioning.models import Membership, Team
from provisioning.roles import PLATFORM_ADMINS, ensure_role_groups


@transaction.atomic
def team_ensure(*, slug: str, name: str) -> Team:
    team, created = Team.objects.get_or_create(slug=slug, defaults={"name": name})
    if not created and team.name != name:
        team.name = name
        team.save(update_fields=["name"])
    return team


@transaction.atomic
def membership_ensure(*, team: Team, user: Any, role: str = Membership.Role.MEMBER) -> Membership:
    membership, created = Membership.objects.get_or_create(
        team=team, user=user, defaults={"role": role}
    )
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def user_ensure(
    *,
    username: str,
    password: str,
    email: str = "",
    groups: tuple[str, ...] = (),
    superuser: bool = False,
) -> tuple[Any, bool]:
    """Create the user if missing; an existing user keeps its password. Returns (user, created)."""
    ensure_role_groups()
    user_model = get_user_model()
    # Platform admins use the Django admin too, which asks for is_staff.
    staff = superuser or PLATFORM_ADMINS in groups
    user, created = user_model.objects.get_or_create(
        username=username,
        defaults={"email": email, "is_staff": staff, "is_superuser": superuser},
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    wanted = set(Group.objects.filter(name__in=groups))
    if not wanted.issubset(set(user.groups.all())):
        user.groups.add(*wanted)
    return user, created
