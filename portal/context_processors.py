from django.conf import settings
from django.http import HttpRequest

from provisioning.roles import is_approver, is_platform_admin


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    return {
        "nav_is_platform_admin": signed_in and is_platform_admin(user),
        "nav_is_approver": signed_in and is_approver(user),
        "cloud_label": "local cloud" if settings.PORTAL_CLOUD == "local" else "AWS",
    }
