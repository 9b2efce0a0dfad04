"""Per-team AWS access (docs/security.md, item 12): a team's role puts its stacks in its own
account (STS on in-process moto); role ARNs are validated; no AWS key is ever logged, stored
or put in a task message."""

from __future__ import annotations

import inspect
import io
import json
import logging
from collections.abc import Iterator

import boto3
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from moto import mock_aws

from provisioning import services, tasks
from provisioning.cloud import boto3_gateway
from provisioning.models import ChangeRequest, TeamPolicy
from tests import fakes

REGION = "us-east-1"
TEAM_ACCOUNT = "222222222222"
ROLE = f"arn:aws:iam::{TEAM_ACCOUNT}:role/ladder-deployer"
ACCESS_KEY = "AKIALADDERFAKEKEY0001"
SECRET_KEY = "ladder/FAKE+secret+that-must-never-be-logged"  # a fake
TEMPLATE = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})


@pytest.fixture
def aws(monkeypatch) -> Iterator[None]:
    """The in-process local cloud, reached with recognisable fake keys."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # mock_aws skips endpoint clients
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield


def stack_names(client) -> set[str]:
    return {s["StackName"] for s in client.list_stacks()["StackSummaries"]}


def test_a_teams_stacks_land_in_the_account_of_its_role(db, aws, caplog):
    caplog.set_level(logging.DEBUG)
    team = services.team_ensure(slug="web", name="Web")
    TeamPolicy.objects.update_or_create(
        team=team, defaults={"aws_role_arn": ROLE, "aws_external_id": "ladder-web-1"}
    )
    other = services.team_ensure(slug="data", name="Data")

    gateway = boto3_gateway(team=team, region=REGION)
    gateway.create_stack(
        stack_name="ladder-web-shop", template_body=TEMPLATE, parameters={},
        tags={"ladder:team": "web"}, client_request_token="create-1",
    )  # fmt: skip
    boto3_gateway(team=other, region=REGION).create_stack(
        stack_name="ladder-data-lake", template_body=TEMPLATE, parameters={}, tags={},
        client_request_token="create-2",
    )  # fmt: skip

    default = boto3.client("cloudformation", region_name=REGION)
    assert stack_names(default) == {"ladder-data-lake"}  # the team without a role
    assumed = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=ROLE, RoleSessionName="check", ExternalId="ladder-web-1"
    )["Credentials"]
    in_team_account = boto3.client(
        "cloudformation",
        region_name=REGION,
        aws_access_key_id=assumed["AccessKeyId"],
        aws_secret_access_key=assumed["SecretAccessKey"],
        aws_session_token=assumed["SessionToken"],
    )
    assert stack_names(in_team_account) == {"ladder-web-shop"}
    stack = in_team_account.describe_stacks(StackName="ladder-web-shop")["Stacks"][0]
    assert f":{TEAM_ACCOUNT}:stack/" in stack["StackId"]
    # The gateway itself sees its stack through the role; settled, it is not in flight.
    assert gateway.describe_stack(stack_name="ladder-web-shop").status == "CREATE_COMPLETE"
    assert gateway.list_stacks_in_progress() == {}

    # Neither the portal's keys nor the role's temporary ones reach a log line or the DB.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    dump = io.StringIO()
    call_command("dumpdata", exclude=["django_rq"], stdout=dump)  # its model has no table
    for secret in (ACCESS_KEY, SECRET_KEY, assumed["SecretAccessKey"], assumed["SessionToken"]):
        assert secret not in logged
        assert secret not in dump.getvalue()


@pytest.mark.parametrize(
    ("arn", "ok"),
    [
        (ROLE, True),
        ("arn:aws:iam::123456789012:role/path/to/deployer", True),
        ("arn:aws-us-gov:iam::123456789012:role/deployer", True),
        ("arn:aws:iam::12345678901:role/short-account", False),
        ("arn:aws:iam::123456789012:user/not-a-role", False),
        ("arn:aws:sts::123456789012:assumed-role/x/y", False),
        ("arn:aws:iam::123456789012:role/", False),
        ("arn:aws:iam::123456789012:role/white space", False),
        ("deployer", False),
    ],
)
def test_a_role_arn_must_name_an_iam_role_in_a_12_digit_account(db, arn, ok):
    team = services.team_ensure(slug="web", name="Web")
    policy, _ = TeamPolicy.objects.get_or_create(team=team)
    policy.aws_role_arn = arn
    if ok:
        policy.full_clean()
    else:
        with pytest.raises(ValidationError) as refused:
            policy.full_clean()
        assert "aws_role_arn" in refused.value.message_dict


def test_an_external_id_needs_a_role_and_sts_characters(db):
    team = services.team_ensure(slug="web", name="Web")
    policy, _ = TeamPolicy.objects.get_or_create(team=team)
    policy.aws_external_id = "abc"
    with pytest.raises(ValidationError):
        policy.full_clean()  # no role
    policy.aws_role_arn = ROLE
    policy.full_clean()
    policy.aws_external_id = "no spaces allowed"
    with pytest.raises(ValidationError):
        policy.full_clean()


def test_the_admin_form_refuses_a_bad_role_arn(admin_client, db):
    team = services.team_ensure(slug="web", name="Web")
    policy, _ = TeamPolicy.objects.get_or_create(team=team)
    url = f"/admin/provisioning/teampolicy/{policy.pk}/change/"
    data = {
        "team": team.pk, "auto_approve_max_tier": 2, "monthly_budget_usd": "2000.00",
        "max_environments": 10, "aws_role_arn": "arn:aws:iam::1:role/x", "aws_external_id": "",
    }  # fmt: skip
    response = admin_client.post(url, data)
    assert response.status_code == 200  # the form again, with the error
    assert "IAM role ARN" in response.content.decode()
    policy.refresh_from_db()
    assert policy.aws_role_arn == ""


# --- task messages carry ids only ----------------------------------------------------------
STEP_TASKS = (tasks.provisioning_plan, tasks.provisioning_apply, tasks.provisioning_check)


def test_step_tasks_take_one_change_id():
    for task in STEP_TASKS:
        parameters = list(inspect.signature(task.run).parameters.values())
        assert [(p.name, p.annotation) for p in parameters] == [("change_id", "int")], task.name


@pytest.fixture
def fake_gateway(settings):
    settings.STACK_GATEWAY_FACTORY = "tests.fakes.factory"
    settings.STACK_NOTIFICATIONS = True
    fakes.CURRENT = fakes.ScriptedGateway()
    yield fakes.CURRENT
    fakes.CURRENT = None


def test_a_workflow_run_logs_stores_and_sends_no_aws_key(
    db, fake_gateway, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    """Request -> plan -> apply -> check through the tasks, every message recorded."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    caplog.set_level(logging.DEBUG)
    sent: list[tuple[str, tuple, dict]] = []
    pending: list[tuple[object, tuple, dict]] = []

    def recorder(task):
        def apply_async(args=None, kwargs=None, **options):
            sent.append((task.name, tuple(args or ()), dict(kwargs or {})))
            pending.append((task, tuple(args or ()), dict(kwargs or {})))

        return apply_async

    for task in STEP_TASKS:
        monkeypatch.setattr(task, "apply_async", recorder(task))

    team = services.team_ensure(slug="web", name="Web")
    alice, _ = services.user_ensure(username="alice", password="a-long-test-password-1")
    services.membership_ensure(team=team, user=alice)
    with django_capture_on_commit_callbacks(execute=True):
        change = services.environment_request(
            user=alice, team=team, name="shop", tier=1, region=REGION
        )
    while pending:
        task, args, kwargs = pending.pop(0)
        with django_capture_on_commit_callbacks(execute=True):
            result = task.apply(args=args, kwargs=kwargs)  # type: ignore[attr-defined]
        assert result.successful(), result.traceback

    change = ChangeRequest.objects.get(pk=change.pk)
    assert change.status == ChangeRequest.Status.APPLIED, change.explanation
    assert [name.rsplit("_", 1)[1] for name, _, _ in sent] == ["plan", "apply", "check"]
    for name, args, kwargs in sent:
        assert kwargs == {} and len(args) == 1 and type(args[0]) is int, (name, args, kwargs)

    logged = "\n".join(r.getMessage() for r in caplog.records)
    dump = io.StringIO()
    call_command("dumpdata", exclude=["django_rq"], stdout=dump)  # its model has no table
    messages = json.dumps(sent)
    for secret in (ACCESS_KEY, SECRET_KEY):
        assert secret not in logged
        assert secret not in dump.getvalue()
        assert secret not in messages
