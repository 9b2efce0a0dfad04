"""ladderctl end to end: the CLI (a real subprocess, over HTTP) against a live portal, with
real Celery worker and beat processes and the moto local cloud. alice requests an
environment at tier 1 and waits; moves it to tier 3; carol approves; alice waits; then
decommissions it (carol approving where policy asks)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from provisioning import services
from provisioning.roles import APPROVERS
from tests.conftest import wait_for
from tests.e2e.conftest import database_url

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420), pytest.mark.django_db(transaction=True)]

# The `stack` fixture (tests/e2e/conftest.py): moto local cloud, Celery worker and beat, an
# embedded Redis that this process (the live server's thread) enqueues to.
PASSWORD = "a-long-test-password-1"
WAIT = "150"  # seconds ladderctl waits for one change (each takes well under a minute here)


class Ladderctl:
    def __init__(self, base_env: dict[str, str], url: str, processes) -> None:
        self.env = {**base_env, "LADDER_URL": url}
        self.processes = processes
        self.tokens: dict[str, str] = {}

    def _env(self, user: str) -> dict[str, str]:
        return {**self.env, "LADDER_TOKEN": self.tokens[user]}

    def run(self, *args: str, user: str = "alice", timeout: float = 60) -> tuple[int, str]:
        code, out, err = self._run(args, user, timeout)
        return code, out + err

    def _run(self, args: tuple[str, ...], user: str, timeout: float) -> tuple[int, str, str]:
        done = subprocess.run(
            [sys.executable, "-m", "ladderctl", *args],
            env=self._env(user), capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        return done.returncode, done.stdout, done.stderr

    def json(self, *args: str, user: str = "alice") -> Any:
        code, out, err = self._run(("--json", *args), user, 60)
        assert code == 0, (args, out, err)
        return json.loads(out)

    def wait(self, change: int) -> None:
        code, output = self.run(
            "wait", str(change), "--timeout", WAIT, "--interval", "1", timeout=float(WAIT) + 30
        )
        if code != 0:
            logs = "\n".join(self.processes.log(p)[-3000:] for p, _ in self.processes.children)
            raise AssertionError(f"wait {change} exited {code}:\n{output}\n{logs}")
        assert f"change #{change} applied" in output

    def status_of(self, change: int) -> str:
        return str(self.json("change", str(change))["status"])

    def approve_if_asked(self, change: int) -> bool:
        """Wait for the plan; carol approves when policy asks for it."""
        status = wait_for(
            lambda: (s := self.status_of(change)) != "planning" and s, timeout=60, interval=0.5
        )
        if status != "awaiting_approval":
            return False
        code, output = self.run("approve", str(change), "--note", "looks right", user="carol")
        assert code == 0, output
        return True


def test_the_cli_drives_the_ladder(stack, live_server, processes, child_env):
    web = services.team_ensure(slug="web", name="Web")
    alice, _ = services.user_ensure(username="alice", password=PASSWORD)
    carol, _ = services.user_ensure(username="carol", password=PASSWORD, groups=(APPROVERS,))
    services.membership_ensure(team=web, user=alice)
    cli = Ladderctl(child_env, live_server.url, processes)

    # alice's key from the management command, as an operator would make it
    made = subprocess.run(
        [sys.executable, "manage.py", "create_token", "alice", "--name", "e2e", "--days", "1"],
        env={**child_env, "DATABASE_URL": database_url()},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    cli.tokens["alice"] = made.stdout.strip()
    cli.tokens["carol"] = services.token_create(user=carol, name="e2e")[1]

    # request at tier 1 (auto-approved) and wait until applied
    requested = cli.json("request", "--team", "web", "--name", "shop", "--tier", "1")
    assert requested["environment"]["status"] == "provisioning"
    cli.wait(requested["change"]["id"])
    env = cli.json("env", "shop")
    assert env["status"] == "ready" and env["tier"] == 1 and env["outputs"]

    # move to tier 3: above the auto-approve limit, so carol approves while alice waits
    move = cli.json("move", "shop", "--tier", "3", "--confirm", "shop", "--reason", "launch")
    assert move["kind"] == "upgrade" and move["to_tier"] == 3
    waiting = subprocess.Popen(
        [sys.executable, "-m", "ladderctl", "wait", str(move["id"]), "--timeout", WAIT,
         "--interval", "1"],
        env=cli._env("alice"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert cli.approve_if_asked(move["id"]), "tier 3 is above the default auto-approve limit"
        output, _ = waiting.communicate(timeout=float(WAIT) + 30)
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.wait(timeout=10)
    assert waiting.returncode == 0, output
    assert f"change #{move['id']} applied" in output
    decided = cli.json("change", str(move["id"]))
    assert [(a["approver"], a["decision"]) for a in decided["approvals"]] == [("carol", "approve")]
    env = cli.json("env", "shop")
    assert env["status"] == "ready" and env["tier"] == 3
    changes = cli.json("changes", "--env", "shop")
    assert [c["kind"] for c in changes] == ["upgrade", "create"]

    # decommission (data at risk: the database goes, a snapshot is kept)
    gone = cli.json("decommission", "shop", "--yes", "--reason", "done")
    assert gone["kind"] == "decommission"
    cli.approve_if_asked(gone["id"])
    cli.wait(gone["id"])
    rows = cli.json("envs", "--all")
    assert [(e["name"], e["status"]) for e in rows] == [("shop", "decommissioned")]
    code, output = cli.run("envs")
    assert code == 0 and "shop" not in output

    # the wrong person cannot decide: alice is no approver (403, exit 1)
    code, output = cli.run("approve", str(gone["id"]))
    assert code == 1 and "error (403)" in output
