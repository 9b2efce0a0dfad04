"""All writes. Keyword-only, typed, one transaction each (HackSoft style)."""

from provisioning.services.changes import (
    change_approve,
    change_cancel,
    change_reject,
    change_request,
    environment_decommission,
    environment_request,
    environment_retry,
)
from provisioning.services.teams import membership_ensure, team_ensure, user_ensure

__all__ = [
    "change_approve",
    "change_cancel",
    "change_reject",
    "change_request",
    "environment_decommission",
    "environment_request",
    "environment_retry",
    "membership_ensure",
    "team_ensure",
    "user_ensure",
]
