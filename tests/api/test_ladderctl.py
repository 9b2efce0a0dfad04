"""ladderctl's commands against the API in this process (its HTTP exchange goes through
Django's test client); tests/e2e/test_cli.py runs it for real against a live portal."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout

import pytest
from rest_framework.test import APIClient

from ladderctl import cli, client
from ladderctl.client import Api
from provisioning import services
from provisioning.models import ChangeRequest, Environment

pytestmark = pytest.mark.django_db


class InProcessApi(Api):
    def __init__(self, key: str) -> None:
        super().__init__("http://testserver", key)
        self.client = APIClient()
        self.sent: list[tuple[str, str, dict]] = []

    def send(self, method, url, headers, data):
        self.sent.append((method, url, headers))
        response = self.client.generic(
            method, url.removeprefix("http://testserver"), data=data or b"",
            content_type=headers.get("Content-Type", ""), headers=headers,
        )  # fmt: skip
        return response.status_code, dict(response.headers), response.content


@pytest.fixture
def ladderctl(people):
    keys = {name: services.token_create(user=people[name], name="cli")[1] for name in people
            if name in {"alice", "bob", "carol", "dave"}}  # fmt: skip

    def run(*argv: str, as_user: str = "alice") -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        api = InProcessApi(keys[as_user])
        with redirect_stdout(out), redirect_stderr(err):
            code = cli.main(list(argv), api=api)
        run.last_api = api
        return code, out.getvalue(), err.getvalue()

    return run


def test_envs_prints_a_table_and_json(ladderctl, world):
    code, out, _ = ladderctl("envs")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "TEAM", "NAME", "TIER", "STATUS", "REGION", "$/MONTH",
                                "ACTIVE", "CHANGE"]  # fmt: skip
    assert any("shop" in line and "awaiting_approval" in line for line in lines)
    code, out, _ = ladderctl("envs", "--json", "--tier", "1")
    assert code == 0 and [e["name"] for e in json.loads(out)] == ["blog"]
    code, out, _ = ladderctl("--json", "envs", "--team", "data")
    assert json.loads(out) == []


def test_request_then_show_the_change(ladderctl, people):
    code, out, err = ladderctl(
        "request", "--team", "web", "--name", "cli-shop", "--tier", "1",
        "--param", "instance_type=t3.small", "--reason", "from the CLI",
    )  # fmt: skip
    assert code == 0, err
    assert "create of web/cli-shop (tier 1), planning" in out and "plan:" in out
    change = ChangeRequest.objects.get(environment__name="cli-shop")
    assert change.to_parameters["instance_type"] == "t3.small"
    method, _, headers = ladderctl.last_api.sent[-1]
    assert method == "POST" and headers["Idempotency-Key"]
    code, out, _ = ladderctl("change", str(change.pk))
    assert code == 0 and "ACTION" in out and "WebSecurityGroup" in out


def test_move_needs_the_name_when_data_is_at_risk(ladderctl, world):
    code, _, err = ladderctl("move", "blog", "--tier", "3")
    assert code == 1
    assert "error (400)" in err and "confirm:" in err
    code, out, err = ladderctl("move", "web/blog", "--tier", "3", "--confirm", "blog")
    assert code == 0, err
    assert "upgrade of web/blog (tier 1 -> 3)" in out
    code, _, err = ladderctl("move", "blog")
    assert code == 2 and "--tier N" in err


def test_environment_names_are_resolved_within_your_teams(ladderctl, world):
    assert ladderctl("env", "shop")[0] == 0
    assert ladderctl("env", str(world["shop"].pk))[1].startswith("id")
    code, _, err = ladderctl("env", "lake")  # bob's
    assert code == 2 and "no live environment" in err
    code, _, err = ladderctl("env", str(world["lake"].pk))
    assert code == 1 and "error (404)" in err


def test_approve_reject_and_who_may(ladderctl, world):
    change = world["shop_change"].pk
    code, _, err = ladderctl("approve", str(change))  # alice requested it and is no approver
    assert code == 1 and "error (403)" in err
    code, out, _ = ladderctl("approve", str(change), "--note", "fine", as_user="carol")
    assert code == 0 and "approved" in out
    code, _, err = ladderctl("reject", str(change), as_user="carol")
    assert code == 1 and "error (409)" in err


def test_changes_lists_with_filters(ladderctl, world):
    code, out, _ = ladderctl("changes", "--status", "awaiting_approval")
    assert code == 0 and f"{world['shop_change'].pk}" in out and "web/shop" in out
    code, out, _ = ladderctl("--json", "changes", "--env", "blog")
    assert json.loads(out) == []


@pytest.mark.parametrize(
    ("status", "expected"), [("applied", 0), ("failed", 1), ("rejected", 1), ("errored", 1)]
)
def test_wait_exits_0_only_when_applied(ladderctl, world, status, expected):
    ChangeRequest.objects.filter(pk=world["shop_change"].pk).update(status=status)
    code, out, err = ladderctl("wait", str(world["shop_change"].pk))
    assert code == expected
    assert f"change #{world['shop_change'].pk} {status}" in out
    assert "Database CREATE_COMPLETE" in err  # the stack events on the way


def test_wait_gives_up_after_its_timeout(ladderctl, world):
    code, _, err = ladderctl(
        "wait", str(world["shop_change"].pk), "--timeout", "0.3", "--interval", "0.1", "--quiet"
    )
    assert code == 3
    assert "awaiting_approval" in err and "still awaiting_approval after 0.3s" in err


def test_decommission_needs_a_confirmation(ladderctl, world):
    code, _, err = ladderctl("decommission", "blog")
    assert code == 2 and "--confirm blog" in err
    code, out, err = ladderctl("decommission", "blog", "--yes")
    assert code == 0, err
    assert "decommission of web/blog" in out
    assert Environment.objects.get(pk=world["blog"].pk).changes.filter(kind="decommission")


def test_ladder_and_teams(ladderctl, people):
    code, out, _ = ladderctl("ladder")
    assert code == 0 and "Single server" in out and "Web scale" in out
    code, out, _ = ladderctl("teams")
    assert code == 0 and "web" in out and "lead" in out


def test_bad_param_and_missing_configuration(ladderctl, people, monkeypatch):
    code, _, err = ladderctl("request", "--team", "web", "--name", "x", "--tier", "1",
                             "--param", "nonsense")  # fmt: skip
    assert code == 2 and "NAME=VALUE" in err
    monkeypatch.delenv("LADDER_URL", raising=False)
    monkeypatch.delenv("LADDER_TOKEN", raising=False)
    err = io.StringIO()
    with redirect_stderr(err):
        assert cli.main(["envs"]) == 2
    assert "LADDER_URL" in err.getvalue()


def test_an_unreachable_portal_is_exit_4_after_bounded_retries(monkeypatch):
    from tests.conftest import free_port

    sleeps: list[float] = []
    monkeypatch.setattr(client.time, "sleep", sleeps.append)
    monkeypatch.setenv("LADDER_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("LADDER_TOKEN", "ldr_x")
    err = io.StringIO()
    with redirect_stderr(err):
        assert cli.main(["envs"]) == 4
    assert "cannot reach" in err.getvalue() and len(sleeps) == client.ATTEMPTS - 1


def test_throttled_requests_are_retried_with_the_same_idempotency_key(monkeypatch):
    answers = [(429, {"Retry-After": "2"}, b'{"detail": "slow down", "code": "throttled"}'),
               (202, {}, b'{"id": 1}')]  # fmt: skip
    sent = []

    class Fake(Api):
        def send(self, method, url, headers, data):
            sent.append(dict(headers))
            return answers.pop(0)

    sleeps: list[float] = []
    monkeypatch.setattr(client.time, "sleep", sleeps.append)
    assert Fake("http://x", "k").post("environments/", {}) == {"id": 1}
    assert sleeps == [2.0]
    assert sent[0]["Idempotency-Key"] == sent[1]["Idempotency-Key"]
