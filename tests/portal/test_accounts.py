from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from provisioning import services
from provisioning.models import Membership
from provisioning.roles import PLATFORM_ADMINS

PASSWORD = "a-long-test-password-1"


@pytest.fixture
def people(db):
    web = services.team_ensure(slug="web", name="Web")
    data = services.team_ensure(slug="data", name="Data")
    alice, _ = services.user_ensure(username="alice", password=PASSWORD)
    bob, _ = services.user_ensure(username="bob", password=PASSWORD)
    admin, _ = services.user_ensure(username="root", password=PASSWORD, groups=(PLATFORM_ADMINS,))
    services.membership_ensure(team=web, user=alice, role=Membership.Role.LEAD)
    services.membership_ensure(team=data, user=bob)
    return {"alice": alice, "bob": bob, "admin": admin, "web": web, "data": data}


def test_pages_need_sign_in(client, people):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_sign_in_and_out(client, people):
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert b"web" in home.content and b"/teams/data/" not in home.content
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_wrong_password_is_refused_with_a_message(client, people):
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_another_teams_page_answers_404(client, people):
    client.force_login(people["alice"])
    assert client.get(reverse("team-detail", args=["web"])).status_code == 200
    assert client.get(reverse("team-detail", args=["data"])).status_code == 404
    assert client.get(reverse("team-detail", args=["nope"])).status_code == 404


def test_platform_admin_sees_every_team_and_the_admin(client, people):
    client.force_login(people["admin"])
    assert client.get(reverse("team-detail", args=["data"])).status_code == 200
    listing = client.get(reverse("team-list")).content.decode()
    assert "/teams/web/" in listing and "/teams/data/" in listing
    # A permission through a group, not superuser: the admin site still needs is_staff.
    assert not people["admin"].is_superuser
    assert Group.objects.get(name=PLATFORM_ADMINS).permissions.count() == 2


def test_django_admin_manages_teams_and_memberships(admin_client, people):
    assert admin_client.get("/admin/provisioning/team/").status_code == 200
    assert admin_client.get("/admin/provisioning/membership/").status_code == 200
    assert admin_client.get("/admin/auth/user/").status_code == 200


def test_membership_is_unique_per_team_and_user(people):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(team=people["web"], user=people["alice"])
    assert get_user_model().objects.count() == 3
