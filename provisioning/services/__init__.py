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
from provisioning.services.idempotency import idempotency_claim, idempotency_finish
from provisioning.services.teams import membership_ensure, team_ensure, user_ensure
from provisioning.services.tokens import token_authenticate, token_create, token_revoke

__all__ = [
    "change_approve",
    "change_cancel",
    "change_reject",
    "change_request",
    "environment_decommission",
    "environment_request",
    "environment_retry",
    "idempotency_claim",
    "idempotency_finish",
    "membership_ensure",
    "team_ensure",
    "token_authenticate",
    "token_create",
    "token_revoke",
    "user_ensure",
]
