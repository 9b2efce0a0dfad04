"""Domain models, by seam: teams and policy, environments and their changes, the audit trail."""

from provisioning.models.audit import AuditEvent
from provisioning.models.environments import (
    Approval,
    ChangeRequest,
    Environment,
    NetworkStack,
    StackEvent,
)
from provisioning.models.teams import Membership, Team, TeamPolicy

__all__ = [
    "Approval",
    "AuditEvent",
    "ChangeRequest",
    "Environment",
    "Membership",
    "NetworkStack",
    "StackEvent",
    "Team",
    "TeamPolicy",
]
