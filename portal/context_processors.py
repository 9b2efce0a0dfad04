from django.conf import settings
from django.http import HttpRequest

from provisioning import selectors
from provisioning.roles import is_approver, is_platform_admin


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    platform_admin = signed_in and is_platform_admin(user)
    approver = signed_in and is_approver(user)
    # Callables: the template calls them only where the navigation is drawn (not in fragments).
    return {
        "nav_is_platform_admin": platform_admin,
        "nav_is_approver": approver,
        "nav_shows_audit": lambda: (
            platform_admin or (signed_in and selectors.teams_led_by(user=user).exists())
        ),
        "nav_pending_approvals": lambda: (
            selectors.approvals_pending_for_user(user=user).count() if approver else 0
        ),
        "cloud_label": "local cloud" if settings.PORTAL_CLOUD == "local" else "AWS",
    }
