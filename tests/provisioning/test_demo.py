from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from provisioning.models import Membership, Team
from provisioning.roles import is_approver, is_platform_admin


def snapshot():
    users = get_user_model().objects.order_by("username")
    return (
        [
            (u.username, u.password, u.is_superuser, sorted(g.name for g in u.groups.all()))
            for u in users
        ],
        list(Team.objects.values_list("slug", "name")),
        list(Membership.objects.values_list("team__slug", "user__username", "role")),
        list(Group.objects.values_list("name", flat=True).order_by("name")),
    )


@pytest.mark.django_db
def test_seeding_twice_changes_nothing(settings, tmp_path, capsys):
    settings.STATE_DIR = tmp_path
    call_command("seed_demo")
    first = snapshot()
    printed = capsys.readouterr().out
    call_command("seed_demo")
    assert snapshot() == first
    assert capsys.readouterr().out == printed
    users, teams, memberships, _ = first
    assert [u[0] for u in users] == ["admin", "alice", "bob", "carol"]
    assert teams == [("data", "Data platform"), ("web", "Web storefront")]
    assert ("web", "alice", "lead") in memberships and ("data", "bob", "lead") in memberships


@pytest.mark.django_db
def test_demo_roles_and_passwords(settings, tmp_path):
    settings.STATE_DIR = tmp_path
    call_command("seed_demo", "--quiet-logins")
    users = {u.username: u for u in get_user_model().objects.all()}
    assert is_platform_admin(users["admin"]) and is_approver(users["admin"])
    assert is_approver(users["carol"]) and not is_platform_admin(users["carol"])
    assert not is_approver(users["alice"]) and not is_platform_admin(users["alice"])
    import json

    passwords = json.loads((tmp_path / "demo-logins.json").read_text())
    assert users["bob"].check_password(passwords["bob"])
    assert len(set(passwords.values())) == 4  # random, one each


@pytest.mark.django_db
def test_seed_demo_refuses_production_mode(settings, tmp_path):
    settings.STATE_DIR = tmp_path
    settings.LOCAL_MODE = False
    with pytest.raises(CommandError, match="local mode only"):
        call_command("seed_demo")
    assert not get_user_model().objects.exists()
