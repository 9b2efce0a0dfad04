"""Domain models, by seam: teams and policy, environments and their changes, the audit trail,
API tokens, recommendations, notifications."""

from provisioning.models.audit import AuditEvent
from provisioning.models.environments import (
    Approval,
    ChangeRequest,
    Environment,
    NetworkStack,
    StackEvent,
)
from provisioning.models.notifications import Webhook, WebhookDelivery
from provisioning.models.recommendations import Recommendation
from provisioning.models.teams import Membership, Team, TeamPolicy
from provisioning.models.tokens import ApiToken, IdempotencyRecord

__all__ = [
    "ApiToken",
    "Approval",
    "AuditEvent",
    "ChangeRequest",
    "Environment",
    "IdempotencyRecord",
    "Membership",
    "NetworkStack",
    "Recommendation",
    "StackEvent",
    "Team",
    "TeamPolicy",
    "Webhook",
    "WebhookDelivery",
]
