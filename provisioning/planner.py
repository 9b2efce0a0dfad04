"""What a move along the ladder will do, worked out offline before CloudFormation is asked.

Both templates are composed and their Resources diffed by logical id. Whether a change
replaces a resource comes from the CloudFormation resource schemas that cfn-lint ships
(``createOnlyProperties``), so a plan is deterministic and needs no AWS account. A real
change set, when there is one, is merged in afterwards: AWS's word on replacement wins.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from provisioning import ladder, pricing
from provisioning.blueprints import compose
from provisioning.schemas import (
    MISSING,
    Pointer,
    has_intrinsic,
    references,
    schema_pointers,
    value_at,
)
from provisioning.validation import validate_parameters

ACTIONS = ("add", "modify", "remove")
_ACTION_ORDER = {action: rank for rank, action in enumerate(ACTIONS)}
_REPLACEMENT_RANK = {"": -1, "no": 0, "conditional": 1, "yes": 2}

# What a stateful resource holds, i.e. what is lost when it goes.
STATEFUL: dict[str, str] = {
    "AWS::RDS::DBInstance": "database contents", "AWS::RDS::DBCluster": "database contents",
    "AWS::ElastiCache::ReplicationGroup": "cache contents",
    "AWS::ElastiCache::CacheCluster": "cache contents",
    "AWS::S3::Bucket": "objects in the bucket", "AWS::SQS::Queue": "messages still in the queue",
    "AWS::DynamoDB::Table": "table items", "AWS::EFS::FileSystem": "files",
    "AWS::EC2::Volume": "volume data",
}  # fmt: skip
# AWS's documented DeletionPolicy default for RDS instances outside a cluster and clusters.
_DEFAULT_DELETION_POLICY = {"AWS::RDS::DBInstance": "Snapshot", "AWS::RDS::DBCluster": "Snapshot"}

# conditionalCreateOnlyProperties that CloudFormation updates in place for these types
# (stop/start or a rolling update), so a change to them is not a replacement.
_UPDATES_IN_PLACE = {
    "AWS::EC2::Instance": "InstanceType UserData EbsOptimized SecurityGroupIds",
    "AWS::RDS::DBInstance": "MultiAZ BackupRetentionPeriod PreferredMaintenanceWindow"
    " AutoMinorVersionUpgrade DBParameterGroupName",
    "AWS::AutoScaling::AutoScalingGroup": "LaunchTemplate VPCZoneIdentifier MixedInstancesPolicy"
    " LaunchConfigurationName",
}
# conditionalCreateOnlyProperties that always replace when the ladder changes them
# (postgres <-> mysql is a new database, never an in-place upgrade).
_REPLACED_WHEN_CHANGED = {"AWS::RDS::DBInstance": "Engine"}


class PlanError(Exception):
    """The move asked for cannot be planned."""


@dataclass(frozen=True)
class TierParams:
    tier: int
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DataRisk:
    summary: str  # "removed: final snapshot kept"
    kept: str  # what survives, "" when nothing does
    lost: str  # what goes, "" when nothing does


@dataclass(frozen=True)
class ResourceChange:
    logical_id: str
    resource_type: str
    action: str  # add | modify | remove
    replacement: str = ""  # yes | no | conditional for a modify; "" for add/remove
    properties: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    holds: str = ""  # what a stateful resource holds; "" for stateless ones and replicas
    deletion_policy: str = "Delete"
    update_replace_policy: str = "Delete"
    source: str = "plan"  # plan | aws | both

    @property
    def risk(self) -> DataRisk | None:
        if not self.holds or self.action == "add":
            return None
        if self.action == "remove":
            event, policy = "removed", self.deletion_policy
        elif self.replacement in ("yes", "conditional"):
            event = "replaced" if self.replacement == "yes" else "may be replaced"
            policy = self.update_replace_policy
        else:
            return None
        if policy == "Snapshot":
            kept, lost = "final snapshot kept", f"live {self.holds} after the snapshot"
        elif policy == "Retain":
            what = "bucket" if self.resource_type == "AWS::S3::Bucket" else "resource"
            kept, lost = f"{what} retained (outside the stack)", ""
        else:
            kept, lost = "", self.holds
        return DataRisk(f"{event}: {kept or lost + ' lost'}", kept, lost)

    @property
    def data_at_risk(self) -> bool:
        return self.risk is not None

    def as_dict(self) -> dict[str, Any]:
        risk = self.risk
        data = dataclasses.asdict(risk) if risk else None
        return {**_jsonable(dataclasses.asdict(self)), "data_at_risk": bool(risk), "data": data}


@dataclass(frozen=True)
class PlanNote:
    text: str
    destructive: bool
    from_tier: int | None = None
    to_tier: int | None = None


@dataclass(frozen=True)
class Plan:
    kind: str  # create | upgrade | downgrade | resize | decommission
    region: str
    current: TierParams | None
    target: TierParams | None
    changes: tuple[ResourceChange, ...]
    notes: tuple[PlanNote, ...]
    cost: pricing.CostDelta
    change_set_merged: bool = False

    @property
    def destructive(self) -> bool:
        return any(c.data_at_risk for c in self.changes) or any(n.destructive for n in self.notes)

    @property
    def data_at_risk(self) -> list[ResourceChange]:
        return [c for c in self.changes if c.data_at_risk]

    def counts(self) -> dict[str, int]:
        return {action: sum(c.action == action for c in self.changes) for action in ACTIONS}

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "region": self.region,
            "from_tier": self.current.tier if self.current else None,
            "to_tier": self.target.tier if self.target else None,
            "from_params": _jsonable(self.current.params) if self.current else None,
            "to_params": _jsonable(self.target.params) if self.target else None,
            "destructive": self.destructive,
            "counts": self.counts(),
            "data_at_risk": [c.logical_id for c in self.data_at_risk],
            "changes": [c.as_dict() for c in self.changes],
            "notes": [dataclasses.asdict(n) for n in self.notes],
            "cost": self.cost.as_dict(),
            "change_set_merged": self.change_set_merged,
        }


def plan(
    current: TierParams | None,
    target: TierParams | None,
    *,
    region: str = "us-east-1",
    network: Mapping[str, Any] | None = None,
) -> Plan:
    """Plan the move from ``current`` to ``target``; None on one side means nothing there.

    Parameters are validated (``ParameterValidationError``) and kept with defaults filled.
    """
    if current is None and target is None:
        raise PlanError("nothing to plan: neither a current nor a target tier")
    before = _validated(current)
    after = _validated(target)
    old = compose(before.tier, dict(before.params), network=network) if before else {}
    new = compose(after.tier, dict(after.params), network=network) if after else {}
    changes = plan_templates(old, new, region=region)
    notes: list[PlanNote] = []
    if before and after and before.tier != after.tier:
        for note in ladder.migration_notes(before.tier, after.tier):
            notes.append(PlanNote(note.text, note.destructive, note.from_tier, note.to_tier))
    cost = pricing.delta(
        (before.tier, before.params) if before else None,
        (after.tier, after.params) if after else None,
        region,
    )
    return Plan(_kind(before, after), region, before, after, tuple(changes), tuple(notes), cost)


def plan_templates(
    old_template: Mapping[str, Any], new_template: Mapping[str, Any], *, region: str = "us-east-1"
) -> list[ResourceChange]:
    """Diff two templates' Resources by logical id, sorted by action then logical id."""
    old = dict(old_template.get("Resources") or {})
    new = dict(new_template.get("Resources") or {})
    changes: list[ResourceChange] = []
    retyped = {lid for lid in old.keys() & new.keys() if old[lid]["Type"] != new[lid]["Type"]}
    for lid in sorted(old.keys() - new.keys()):
        changes.append(_whole(lid, old[lid], "remove"))
    for lid in sorted(new.keys() - old.keys()):
        changes.append(_whole(lid, new[lid], "add"))
    for lid in sorted(retyped):
        why = f"type changes from {old[lid]['Type']} to {new[lid]['Type']}"
        changes.append(_whole(lid, old[lid], "remove", "yes", why))
        changes.append(_whole(lid, new[lid], "add", "yes", why))
    kept = sorted((old.keys() & new.keys()) - retyped)
    # A replaced resource gets a new physical id, which can in turn replace what refers to it:
    # repeat until the set of replaced resources stops growing.
    replaced = set(retyped)
    while True:
        modified = [m for lid in kept if (m := _modify(lid, old[lid], new[lid], replaced, region))]
        grown = replaced | {
            m.logical_id for m in modified if m.replacement in ("yes", "conditional")
        }
        if grown == replaced:
            break
        replaced = grown
    return _sorted([*changes, *modified])


def merge_change_set(plan: Plan, changes: Iterable[Mapping[str, Any]]) -> Plan:
    """Fold a CloudFormation change set's ``Changes`` into ``plan``.

    AWS's ``Action`` and ``Replacement`` win where given; resources only AWS lists are added;
    without ``Replacement`` (moto) the planner's own value stays.
    """
    merged = list(plan.changes)
    for entry in changes:
        if entry.get("Type", "Resource") != "Resource":
            continue
        rc = entry.get("ResourceChange", entry)
        lid = rc.get("LogicalResourceId")
        action = _AWS_ACTIONS.get(str(rc.get("Action")))
        if not lid or not action:
            continue
        replacement = _AWS_REPLACEMENT.get(str(rc.get("Replacement")), "")
        mine = [i for i, c in enumerate(merged) if c.logical_id == lid]
        same = [i for i in mine if merged[i].action == action]
        if same or len(mine) == 1:
            ours = merged[(same or mine)[0]]
            said = f"CloudFormation change set: Replacement {rc.get('Replacement')}"
            merged[(same or mine)[0]] = dataclasses.replace(
                ours,
                action=action,
                replacement=_merged_replacement(ours, action, replacement),
                reasons=ours.reasons + ((said,) if replacement and action == "modify" else ()),
                source="both",
            )
            continue
        rtype = str(rc.get("ResourceType", ""))
        theirs = (replacement or "conditional") if action == "modify" else ""
        merged.append(ResourceChange(
            lid, rtype, action, theirs, (), ("listed only by the CloudFormation change set",),
            STATEFUL.get(rtype, ""), _DEFAULT_DELETION_POLICY.get(rtype, "Delete"), source="aws",
        ))  # fmt: skip
    return dataclasses.replace(plan, changes=tuple(_sorted(merged)), change_set_merged=True)


_AWS_ACTIONS = {
    "Add": "add", "Import": "add", "Modify": "modify", "Dynamic": "modify", "Remove": "remove",
}  # fmt: skip
_AWS_REPLACEMENT = {"True": "yes", "False": "no", "Conditional": "conditional"}


def _merged_replacement(ours: ResourceChange, action: str, theirs: str) -> str:
    if action != "modify":
        return ours.replacement if ours.action == action else ""
    if theirs:
        return theirs
    return ours.replacement if ours.action == "modify" else "conditional"


def _kind(before: TierParams | None, after: TierParams | None) -> str:
    if before is None or after is None:
        return "create" if before is None else "decommission"
    if after.tier == before.tier:
        return "resize"
    return "upgrade" if after.tier > before.tier else "downgrade"


def _validated(side: TierParams | None) -> TierParams | None:
    if side is None:
        return None
    return TierParams(side.tier, validate_parameters(side.tier, dict(side.params)))


def _sorted(changes: Iterable[ResourceChange]) -> list[ResourceChange]:
    return sorted(changes, key=lambda c: (_ACTION_ORDER[c.action], c.logical_id))


def _holds(resource: Mapping[str, Any]) -> str:
    props = resource.get("Properties") or {}
    if resource["Type"] == "AWS::RDS::DBInstance" and "SourceDBInstanceIdentifier" in props:
        return ""  # a read replica: the primary keeps the data
    return STATEFUL.get(resource["Type"], "")


def _whole(
    lid: str, resource: Mapping[str, Any], action: str, replacement: str = "", why: str = ""
) -> ResourceChange:
    rtype = resource["Type"]
    deletion = resource.get("DeletionPolicy") or _DEFAULT_DELETION_POLICY.get(rtype, "Delete")
    return ResourceChange(
        lid, rtype, action, replacement, (), (why,) if why else (), _holds(resource),
        deletion, resource.get("UpdateReplacePolicy") or "Delete",
    )  # fmt: skip


def _modify(
    lid: str, old: Mapping[str, Any], new: Mapping[str, Any], replaced: set[str], region: str
) -> ResourceChange | None:
    rtype = new["Type"]
    old_props, new_props = old.get("Properties") or {}, new.get("Properties") or {}
    names = sorted(old_props.keys() | new_props.keys())
    changed = [n for n in names if old_props.get(n, MISSING) != new_props.get(n, MISSING)]
    dynamic = [n for n in names if n not in changed and references(new_props.get(n)) & replaced]
    policies = [k for k in ("DeletionPolicy", "UpdateReplacePolicy") if old.get(k) != new.get(k)]
    if not (changed or dynamic or policies):
        return None
    replacement, reasons = "no", []
    pointers = schema_pointers(region, rtype)
    if pointers is None and (changed or dynamic):
        reasons.append(f"no resource schema for {rtype}: replacement unknown")
        replacement = "conditional"
    create_only, conditional = pointers or ((), ())
    for pointer in create_only + conditional:
        before, after = value_at(old_props, pointer), value_at(new_props, pointer)
        refs = sorted(references(after) & replaced)
        if before != after or refs:
            verdict, why = _verdict(rtype, pointer, pointer in conditional, before, after, refs)
            reasons.append(why)
            if _REPLACEMENT_RANK[verdict] > _REPLACEMENT_RANK[replacement]:
                replacement = verdict
    reasons += [f"{p} changes" for p in policies]
    return dataclasses.replace(
        _whole(lid, new, "modify", replacement),
        properties=tuple(changed + dynamic + policies),
        reasons=tuple(reasons),
    )


def _verdict(
    rtype: str, pointer: Pointer, conditional: bool, before: Any, after: Any, refs: list[str]
) -> tuple[str, str]:
    """(replacement, why) for one create-only or conditionally create-only property."""
    name, top = "/".join(pointer), pointer[0]
    literal = not (has_intrinsic(before) or has_intrinsic(after))
    if conditional and top in _UPDATES_IN_PLACE.get(rtype, "").split():
        return "no", f"{name} updates in place (may interrupt)"
    always = top in _REPLACED_WHEN_CHANGED.get(rtype, "").split()
    if conditional and always and literal and before != after:
        return "yes", f"{name} changes from {before!r} to {after!r}"
    if conditional:
        return "conditional", f"{name} may require replacement"
    if before == after:
        return "conditional", f"{name} is create-only and refers to replaced {', '.join(refs)}"
    if not literal:
        return "conditional", f"{name} is create-only; its new value is known only at deploy"
    return "yes", f"{name} is create-only"


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
