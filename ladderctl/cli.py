"""ladderctl: request environments, move them along the ladder, approve, wait.

Reads LADDER_URL (the portal, e.g. http://127.0.0.1:8000) and LADDER_TOKEN (a key from the
portal's /account/tokens/ page or `manage.py create_token`). Prints tables; --json prints
the API's JSON for scripts. Exit codes: 0 done (for `wait`: applied), 1 the portal refused
or the change did not apply, 2 usage or configuration, 3 `wait` timed out, 4 unreachable.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from ladderctl import __version__
from ladderctl.client import Api, ApiError, Unreachable
from ladderctl.output import Output, cell, change_line, print_change

OK, REFUSED, USAGE, TIMED_OUT, UNREACHABLE = 0, 1, 2, 3, 4
TERMINAL = {"applied", "failed", "errored", "rejected", "cancelled", "superseded"}


class UsageError(Exception):
    pass


def _params(pairs: Sequence[str] | None) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--param takes NAME=VALUE, not {pair!r}")
        params[name.strip()] = value.strip()
    return params


def _environment(api: Api, ref: str) -> dict[str, Any]:
    """An environment by id, NAME or TEAM/NAME."""
    if ref.isdigit():
        return dict(api.get(f"environments/{ref}/"))
    team, _, name = ref.rpartition("/")
    matches = [
        e for e in api.get_all("environments/", search=name, team=team or None) if e["name"] == name
    ]
    if not matches:
        raise UsageError(f"no live environment called {ref!r} among your teams'")
    if len(matches) > 1:
        teams = ", ".join(f"{e['team']}/{e['name']}" for e in matches)
        raise UsageError(f"{ref!r} is ambiguous ({teams}): use TEAM/NAME or the id")
    return matches[0]


# --- commands -----------------------------------------------------------------------------
def cmd_envs(api: Api, out: Output, args: argparse.Namespace) -> int:
    status = "all" if args.all else args.status
    rows = api.get_all(
        "environments/", team=args.team, tier=args.tier, status=status, search=args.search
    )
    if out.as_json:
        out.json(rows)
        return OK
    out.table(
        ["ID", "TEAM", "NAME", "TIER", "STATUS", "REGION", "$/MONTH", "ACTIVE CHANGE"],
        [
            [
                e["id"],
                e["team"],
                e["name"],
                e["tier"],
                e["status"],
                e["region"],
                e["monthly_cost"],
                f"#{e['active_change']['id']} {e['active_change']['status']}"
                if e["active_change"]
                else "",
            ]
            for e in rows
        ],
    )
    return OK


def cmd_env(api: Api, out: Output, args: argparse.Namespace) -> int:
    env = _environment(api, args.env)
    if out.as_json:
        out.json(env)
        return OK
    for key in ("id", "team", "name", "tier", "status", "region", "stack_name", "monthly_cost"):
        out.line(f"{key:<13}{cell(env[key])}")
    active = env.get("active_change")
    out.line(f"{'active':<13}" + (f"#{active['id']} {active['status']}" if active else "-"))
    for key, value in sorted(env["outputs"].items()):
        out.line(f"output       {key} = {value}")
    for key, value in sorted(env["parameters"].items()):
        out.line(f"parameter    {key} = {value}")
    return OK


def _requested(api: Api, out: Output, args: argparse.Namespace, change: dict[str, Any]) -> int:
    if out.as_json and not args.wait:
        return OK
    if not out.as_json:
        print_change(out, change)
    return _wait(api, out, change["id"], args) if args.wait else OK


def cmd_request(api: Api, out: Output, args: argparse.Namespace) -> int:
    body = {
        "team": args.team, "name": args.name, "tier": args.tier, "region": args.region,
        "parameters": _params(args.param), "reason": args.reason,
    }  # fmt: skip
    answer = api.post("environments/", body)
    if out.as_json:
        out.json(answer)
    return _requested(api, out, args, answer["change"])


def cmd_move(api: Api, out: Output, args: argparse.Namespace) -> int:
    env = _environment(api, args.env)
    if args.tier is None and not args.param:
        raise UsageError("say where to: --tier N, or --param NAME=VALUE to resize in place")
    body = {
        "tier": args.tier, "parameters": _params(args.param), "reason": args.reason,
        "confirm": args.confirm or "",
    }  # fmt: skip
    change = api.post(f"environments/{env['id']}/changes/", body)
    if out.as_json:
        out.json(change)
    return _requested(api, out, args, change)


def cmd_decommission(api: Api, out: Output, args: argparse.Namespace) -> int:
    env = _environment(api, args.env)
    confirm = args.confirm or (env["name"] if args.yes else "")
    if not confirm:
        if not sys.stdin.isatty():
            raise UsageError(f"confirm with --confirm {env['name']} (or --yes)")
        confirm = input(f"Type {env['name']} to decommission it: ").strip()
    change = api.post(
        f"environments/{env['id']}/decommission/", {"confirm": confirm, "reason": args.reason}
    )
    if out.as_json:
        out.json(change)
    return _requested(api, out, args, change)


def cmd_changes(api: Api, out: Output, args: argparse.Namespace) -> int:
    environment = _environment(api, args.env)["id"] if args.env else None
    rows = api.get_all(
        "changes/", status=args.status, team=args.team, kind=args.kind, environment=environment
    )
    if out.as_json:
        out.json(rows)
        return OK
    out.table(
        ["ID", "ENVIRONMENT", "KIND", "FROM", "TO", "STATUS", "REQUESTER", "COST DELTA", "CREATED"],
        [
            [
                c["id"],
                f"{c['team']}/{c['environment_name']}",
                c["kind"],
                c["from_tier"],
                c["to_tier"],
                c["status"],
                c["requester"],
                c["cost_delta"],
                c["created_at"][:16].replace("T", " "),
            ]
            for c in rows
        ],
    )
    return OK


def cmd_change(api: Api, out: Output, args: argparse.Namespace) -> int:
    change = api.get(f"changes/{args.change}/")
    if out.as_json:
        out.json(change)
    else:
        print_change(out, change)
    return OK


def _decide(verb: str) -> Callable[[Api, Output, argparse.Namespace], int]:
    def command(api: Api, out: Output, args: argparse.Namespace) -> int:
        change = api.post(f"changes/{args.change}/{verb}/", {"note": args.note})
        if out.as_json:
            out.json(change)
        else:
            out.line(change_line(change))
        return OK

    return command


def _wait(api: Api, out: Output, change_id: int, args: argparse.Namespace) -> int:
    """Poll until the change is terminal or the timeout passes; events go to stderr."""
    deadline = time.monotonic() + args.timeout
    seen_status, after = None, 0
    while True:
        change = api.get(f"changes/{change_id}/")
        if change["status"] != seen_status:
            seen_status = change["status"]
            extra = ""
            if seen_status == "awaiting_approval":
                extra = ": " + "; ".join(change["policy"]["reasons"] or ["needs an approver"])
            out.note(f"change #{change_id}: {seen_status}{extra}")
        if not args.quiet:
            page = api.get(
                f"environments/{change['environment']}/events/", change=change_id, after=after
            )
            for event in page["results"]:
                after = event["sequence"]
                reason = f" ({event['reason']})" if event["reason"] else ""
                out.note(f"  {event['logical_id']} {event['status']}{reason}")
        if change["status"] in TERMINAL:
            if out.as_json:
                out.json(change)
            elif change.get("explanation"):
                out.line(f"change #{change_id} {change['status']}: {change['explanation']}")
            else:
                out.line(f"change #{change_id} {change['status']}")
            return OK if change["status"] == "applied" else REFUSED
        if time.monotonic() >= deadline:
            out.note(f"change #{change_id} still {change['status']} after {args.timeout:g}s")
            return TIMED_OUT
        time.sleep(min(args.interval, max(deadline - time.monotonic(), 0.1)))


def cmd_wait(api: Api, out: Output, args: argparse.Namespace) -> int:
    return _wait(api, out, args.change, args)


def cmd_ladder(api: Api, out: Output, args: argparse.Namespace) -> int:
    tiers = api.get("ladder/")["results"]
    if out.as_json:
        out.json(tiers)
        return OK
    out.table(
        ["TIER", "NAME", "RESILIENCE", "SCALABILITY", "FROM $/MONTH", "FOR"],
        [
            [t["number"], t["name"], t["resilience"], t["scalability"], t["monthly_cost_from"],
             t["capacity"]]
            for t in tiers
        ],
    )  # fmt: skip
    return OK


def cmd_teams(api: Api, out: Output, args: argparse.Namespace) -> int:
    teams = api.get_all("teams/")
    if out.as_json:
        out.json(teams)
        return OK
    out.table(
        ["TEAM", "NAME", "ROLE", "ENVS", "MAX", "$/MONTH", "BUDGET", "AUTO-APPROVE TO"],
        [
            [t["slug"], t["name"], t["role"], t["usage"]["environments"],
             t["policy"]["max_environments"], t["usage"]["monthly_cost"],
             t["policy"]["monthly_budget_usd"], t["policy"]["auto_approve_max_tier"]]
            for t in teams
        ],
    )  # fmt: skip
    return OK


# --- arguments ----------------------------------------------------------------------------
def _positive(text: str) -> float:
    value = float(text)
    if not 0 < value <= 7 * 24 * 3600:
        raise argparse.ArgumentTypeError("a number of seconds above 0, at most a week")
    return value


def _waiting(parser: argparse.ArgumentParser, *, flag: bool) -> None:
    if flag:
        parser.add_argument("--wait", action="store_true", help="then wait for the change")
    parser.add_argument("--timeout", type=_positive, default=1800.0, help="seconds (1800)")
    parser.add_argument("--interval", type=_positive, default=3.0, help="poll every (3 s)")
    parser.add_argument("--quiet", action="store_true", help="no stack events while waiting")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ladderctl", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("LADDER_URL", ""), help="$LADDER_URL")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.add_argument("--version", action="version", version=f"ladderctl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, run: Any, help_text: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.add_argument(
            "--json", action="store_true", default=argparse.SUPPRESS, help="print JSON"
        )
        command.set_defaults(run=run)
        return command

    p = add("envs", cmd_envs, "list environments")
    p.add_argument("--team")
    p.add_argument("--tier", type=int)
    p.add_argument("--status")
    p.add_argument("--search")
    p.add_argument("--all", action="store_true", help="decommissioned ones too")
    add("env", cmd_env, "show one environment").add_argument("env", help="ID, NAME or TEAM/NAME")

    p = add("request", cmd_request, "request a new environment")
    p.add_argument("--team", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--tier", type=int, required=True)
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--param", action="append", metavar="NAME=VALUE")
    p.add_argument("--reason", default="")
    _waiting(p, flag=True)

    p = add("move", cmd_move, "move an environment to another tier (or resize it)")
    p.add_argument("env", help="ID, NAME or TEAM/NAME")
    p.add_argument("--tier", type=int)
    p.add_argument("--param", action="append", metavar="NAME=VALUE")
    p.add_argument("--reason", default="")
    p.add_argument("--confirm", metavar="NAME", help="the environment's name, if data is at risk")
    _waiting(p, flag=True)

    p = add("decommission", cmd_decommission, "delete an environment's stack")
    p.add_argument("env", help="ID, NAME or TEAM/NAME")
    p.add_argument("--confirm", metavar="NAME", help="the environment's name")
    p.add_argument("--yes", action="store_true", help="confirm without typing the name")
    p.add_argument("--reason", default="")
    _waiting(p, flag=True)

    p = add("changes", cmd_changes, "list changes")
    p.add_argument("--status", help="a status, or 'active'")
    p.add_argument("--env", help="ID, NAME or TEAM/NAME")
    p.add_argument("--team")
    p.add_argument("--kind")
    add("change", cmd_change, "show a change and its plan").add_argument("change", type=int)
    for verb in ("approve", "reject", "cancel"):
        p = add(verb, _decide(verb), f"{verb} a change")
        p.add_argument("change", type=int)
        p.add_argument("--note", default="")
    p = add("wait", cmd_wait, "wait until a change finishes (exit 0 only when applied)")
    p.add_argument("change", type=int)
    _waiting(p, flag=False)
    add("ladder", cmd_ladder, "the tiers of the ladder")
    add("teams", cmd_teams, "your teams, their policy and usage")
    return parser


def main(argv: Sequence[str] | None = None, *, api: Api | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out = Output(args.json)
    if api is None:
        token = os.environ.get("LADDER_TOKEN", "")
        if not args.url or not token:
            out.note("ladderctl: set LADDER_URL (the portal's address) and LADDER_TOKEN")
            return USAGE
        api = Api(args.url, token)
    try:
        return int(args.run(api, out, args))
    except UsageError as exc:
        out.note(f"ladderctl: {exc}")
        return USAGE
    except ApiError as exc:
        if out.as_json:
            print(json.dumps(exc.body, indent=2, sort_keys=True), file=out.err)
        else:
            out.note(f"error ({exc.status}): {exc}")
            for field, message in exc.fields.items():
                out.note(f"  {field}: {message}")
        return REFUSED
    except Unreachable as exc:
        out.note(f"ladderctl: {exc}")
        return UNREACHABLE
    except KeyboardInterrupt:
        return 130
