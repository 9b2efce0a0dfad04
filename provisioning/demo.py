"""Demo teams and people for local mode. Passwords are random per machine, kept in the
state directory (never in code or git), and reused so that seeding twice changes nothing."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from provisioning import services
from provisioning.models import Membership
from provisioning.roles import APPROVERS, PLATFORM_ADMINS


@dataclass(frozen=True)
class DemoUser:
    username: str
    description: str
    team: str | None = None
    role: str = Membership.Role.MEMBER
    groups: tuple[str, ...] = ()
    superuser: bool = False


DEMO_TEAMS = {"web": "Web storefront", "data": "Data platform"}
DEMO_USERS = (
    DemoUser("admin", "platform admin", groups=(PLATFORM_ADMINS,), superuser=True),
    DemoUser("carol", "approver", groups=(APPROVERS,)),
    DemoUser("alice", "member of team web", team="web", role=Membership.Role.LEAD),
    DemoUser("bob", "member of team data", team="data", role=Membership.Role.LEAD),
)


def demo_passwords(state_dir: Path) -> dict[str, str]:
    """The machine's demo passwords, made on first use."""
    path = state_dir / "demo-logins.json"
    known: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    changed = False
    for user in DEMO_USERS:
        if user.username not in known:
            known[user.username] = secrets.token_urlsafe(9)
            changed = True
    if changed:
        state_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(known, indent=2, sort_keys=True))
        path.chmod(0o600)
    return known


def seed_demo(*, state_dir: Path) -> list[tuple[DemoUser, str]]:
    passwords = demo_passwords(state_dir)
    teams = {slug: services.team_ensure(slug=slug, name=name) for slug, name in DEMO_TEAMS.items()}
    logins = []
    for demo in DEMO_USERS:
        user, _ = services.user_ensure(
            username=demo.username,
            password=passwords[demo.username],
            email=f"{demo.username}@example.com",
            groups=demo.groups,
            superuser=demo.superuser,
        )
        if demo.team:
            services.membership_ensure(team=teams[demo.team], user=user, role=demo.role)
        logins.append((demo, passwords[demo.username]))
    return logins
