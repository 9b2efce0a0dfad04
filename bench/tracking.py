"""AWS calls while tracking N changes in flight: the batched sweep against a naive baseline
(one waiter per stack: DescribeStacks per change per round), on the scripted gateway, in the
same run. Needs a database (the bench one): ``python -m bench.tracking --out FILE``."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

LOOKS = 4  # each stack is seen in progress this many times before it settles
TEAMS = 10  # the changes belong to several teams of one AWS account
LIST_PAGE = 100  # real ListStacks answers at most 100 summaries a page
SETTLED_IN_ACCOUNT = 10_000  # the account's ready environments' stacks, not in flight
DELETED_IN_ACCOUNT = 5_000  # decommissioned ones: AWS lists them for 90 days


def _in_flight(n: int, tag: str) -> tuple[Any, list[Any]]:
    """N environments with an applying change each, and a scripted gateway whose stacks take
    LOOKS looks to settle (one in eight rolls back)."""
    from django.utils import timezone

    from bench.seed import people
    from provisioning import services
    from provisioning.models import ChangeRequest, Environment
    from tests.fakes import FakeStack, ScriptedGateway

    owner = people()["lead"]
    gateway = ScriptedGateway()
    teams = [
        services.team_ensure(slug=f"t{tag}-{i}", name=f"Tracking {tag} {i}") for i in range(TEAMS)
    ]
    envs = Environment.objects.bulk_create(
        Environment(
            team=teams[i % TEAMS], name=f"track-{i:04}", region="us-east-1", tier=2,
            status="updating", stack_name=f"ladder-{tag}-{i}",
            stack_id=f"arn:aws:cloudformation:us-east-1:123456789012:stack/ladder-{tag}-{i}/1",
            created_by=owner,
        )
        for i in range(n)
    )  # fmt: skip
    now = timezone.now()
    changes = ChangeRequest.objects.bulk_create(
        ChangeRequest(
            environment=env, kind="upgrade", status="applying", from_tier=2, to_tier=3,
            requester=owner, apply_requested_at=now, apply_started_at=now,
        )
        for env in envs
    )  # fmt: skip
    for i, env in enumerate(envs):
        end = "UPDATE_ROLLBACK_COMPLETE" if i % 8 == 0 else "UPDATE_COMPLETE"
        stack = FakeStack(env.stack_name, env.stack_id, "UPDATE_IN_PROGRESS")
        stack.pending = ["UPDATE_IN_PROGRESS"] * (LOOKS - 1) + [end]
        gateway.stacks[env.stack_name] = stack
    # The rest of the account: settled and deleted stacks that no change is waiting on.
    for i in range(SETTLED_IN_ACCOUNT):
        name = f"ladder-{tag}-ready-{i}"
        gateway.stacks[name] = FakeStack(name, f"{name}/id", "UPDATE_COMPLETE")
    for i in range(DELETED_IN_ACCOUNT):
        name = f"ladder-{tag}-gone-{i}"
        gateway.deleted[f"{name}/id"] = FakeStack(name, f"{name}/id", "DELETE_COMPLETE")
    return gateway, changes


def _pages(listed: int) -> int:
    return max(1, math.ceil(listed / LIST_PAGE))


def _sweep_run(n: int) -> dict[str, Any]:
    from provisioning import reconcile

    gateway, _ = _in_flight(n, f"s{n}")
    listed: list[int] = []  # summaries each ListStacks answered (its pages of 100)
    real_list = gateway.list_stacks_in_progress

    def list_in_progress() -> Any:
        answer = real_list()
        listed.append(len(answer))
        return answer

    gateway.list_stacks_in_progress = list_in_progress  # type: ignore[method-assign]
    rounds = []
    for _ in range(LOOKS + 2):  # bounded: every stack settles within LOOKS looks
        before = dict(gateway.calls)
        listed.clear()
        result = reconcile.sweep(gateway_factory=lambda **kwargs: gateway)
        delta = {k: v - before.get(k, 0) for k, v in gateway.calls.items() if v - before.get(k, 0)}
        rounds.append(
            {
                "in_flight": result["in_flight"],
                "settled": result["finished"],
                "list_stacks_calls": delta.get("list_stacks", 0),
                "list_stacks_pages": sum(_pages(n) for n in listed),
                "event_reads": delta.get("stack_events", 0),
                "describe_stack": delta.get("describe_stack", 0),
                "calls": sum(delta.values()) - delta.get("list_stacks", 0)
                + sum(_pages(n) for n in listed),
            }
        )  # fmt: skip
        if result["in_flight"] == 0:
            break
    budget = math.ceil(n / 50) + 1
    worst = max(r["list_stacks_pages"] for r in rounds if r["in_flight"])
    # Per settled stack: one DescribeStacks and one read of its events, nothing for the rest.
    reads_ok = all(
        r["event_reads"] <= r["settled"] and r["describe_stack"] <= r["settled"] for r in rounds
    )
    return {
        "rounds": rounds,
        "total_calls": sum(r["calls"] for r in rounds),
        "tracking_calls_per_sweep_max": worst,
        "budget": budget,
        "met": worst <= budget and reads_ok,
        "event_reads_only_for_settled": reads_ok,
        "account": {"in_flight": n, "settled": SETTLED_IN_ACCOUNT, "deleted": DELETED_IN_ACCOUNT},
        "pages_per_sweep_unfiltered": _pages(n + SETTLED_IN_ACCOUNT + DELETED_IN_ACCOUNT),
    }


def _naive_run(n: int) -> dict[str, Any]:
    """One waiter per stack: DescribeStacks for every change each round until it settles,
    then its events once."""
    from provisioning.aws.gateway import stack_is_settled

    gateway, changes = _in_flight(n, f"n{n}")
    waiting = {c.environment.stack_name for c in changes}
    rounds = []
    for _ in range(LOOKS + 2):
        before = sum(gateway.calls.values())
        for name in sorted(waiting):
            info = gateway.describe_stack(stack_name=name)
            if info is None or stack_is_settled(info.status):
                gateway.stack_events(stack_name=name)
                waiting.discard(name)
        rounds.append({"calls": sum(gateway.calls.values()) - before})
        if not waiting:
            break
    from provisioning.models import ChangeRequest

    # The baseline settles nothing in the database: leave no change applying for the sweeps.
    ChangeRequest.objects.filter(pk__in=[c.pk for c in changes]).update(status="applied")
    return {"rounds": rounds, "total_calls": sum(r["calls"] for r in rounds)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    result = {}
    for n in (int(s) for s in args.sizes.split(",")):
        result[str(n)] = {"sweep": _sweep_run(n), "naive": _naive_run(n)}
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
