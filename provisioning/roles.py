"""Platform-wide roles: Django groups carrying the two custom permissions on Team."""

from __future__ import annotations

from typing import Any

PLATFORM_ADMINS = "Platform admins"
APPROVERS = "Approvers"

ADMINISTER_PLATFORM = "provisioning.administer_platform"
APPROVE_CHANGES = "provisioning.approve_changes"

GROUP_PERMISSIONS = {
    PLATFORM_ADMINS: ["administer_platform", "approve_changes"],
    APPROVERS: ["approve_changes"],
}


def is_platform_admin(user: Any) -> bool:
    return bool(user.is_authenticated and user.has_perm(ADMINISTER_PLATFORM))


def is_approver(user: Any) -> bool:
    return bool(user.is_authenticated and user.has_perm(APPROVE_CHANGES))


def ensure_role_groups() -> None:
    """Create the role groups with their permissions; safe to run any number of times."""
    from django.contrib.auth.models import Group, Permission

    for group_name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        wanted = set(
            Permission.objects.filter(
                content_type__app_label="provisioning", codename__in=codenames
            )
        )
        if set(group.permissions.all()) != wanted:
            group.permissions.set(wanted)
