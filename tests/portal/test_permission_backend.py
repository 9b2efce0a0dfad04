"""portal.security.PermissionBackend: Django's ModelBackend answers, in one query."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission

from portal.security import PermissionBackend
from provisioning.roles import ADMINISTER_PLATFORM, APPROVE_CHANGES, ensure_role_groups

pytestmark = pytest.mark.django_db


def _fresh(user):
    return get_user_model().objects.get(pk=user.pk)  # no permission cache


@pytest.fixture
def users():
    ensure_role_groups()
    make = get_user_model().objects.create_user
    approver = make("approver", password="x-long-password-1")
    approver.groups.add(Group.objects.get(name="Approvers"))
    direct = make("direct", password="x-long-password-1")  # a permission of their own
    direct.user_permissions.add(Permission.objects.get(codename="administer_platform"))
    both = make("both", password="x-long-password-1")
    both.groups.add(Group.objects.get(name="Approvers"))
    both.user_permissions.add(Permission.objects.get(codename="administer_platform"))
    plain = make("plain", password="x-long-password-1")
    gone = make("gone", password="x-long-password-1", is_active=False)
    gone.groups.add(Group.objects.get(name="Platform admins"))
    root = get_user_model().objects.create_superuser("root", password="x-long-password-1")
    return [approver, direct, both, plain, gone, root]


def test_the_same_answers_as_model_backend(users):
    for user in users:
        assert PermissionBackend().get_all_permissions(_fresh(user)) == (
            ModelBackend().get_all_permissions(_fresh(user))
        ), user.username
    approver, direct, both, plain, gone, root = users
    assert _fresh(approver).has_perm(APPROVE_CHANGES)
    assert not _fresh(approver).has_perm(ADMINISTER_PLATFORM)
    assert _fresh(direct).has_perm(ADMINISTER_PLATFORM)
    assert {ADMINISTER_PLATFORM, APPROVE_CHANGES} <= _fresh(both).get_all_permissions()
    assert not _fresh(plain).get_all_permissions()
    assert not _fresh(gone).has_perm(ADMINISTER_PLATFORM)  # inactive: nothing
    assert _fresh(root).has_perm(ADMINISTER_PLATFORM)


def test_one_query_then_none(users, django_assert_num_queries):
    both = _fresh(users[2])
    with django_assert_num_queries(1):
        assert both.has_perm(APPROVE_CHANGES) and both.has_perm(ADMINISTER_PLATFORM)
