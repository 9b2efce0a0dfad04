from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from provisioning import ladder
from provisioning.blueprints import compose
from provisioning.planner import (
    Plan,
    PlanError,
    ResourceChange,
    TierParams,
    merge_change_set,
    plan,
    plan_templates,
)
from provisioning.validation import validate_parameters

DB = "AWS::RDS::DBInstance"


def template(tier: int, **params: Any) -> dict[str, Any]:
    return compose(tier, validate_parameters(tier, params))


def database_id(tmpl: dict[str, Any]) -> str:
    primaries = [
        lid
        for lid, res in tmpl["Resources"].items()
        if res["Type"] == DB and "SourceDBInstanceIdentifier" not in res.get("Properties", {})
    ]
    assert len(primaries) == 1, primaries
    return primaries[0]


def change(result: Plan | list[ResourceChange], lid: str, action: str = "") -> ResourceChange:
    changes = result.changes if isinstance(result, Plan) else result
    found = [c for c in changes if c.logical_id == lid and (not action or c.action == action)]
    assert len(found) == 1, (lid, action, changes)
    return found[0]


def test_downgrade_2_to_1_puts_the_database_at_risk_with_its_final_snapshot() -> None:
    result = plan(TierParams(2), TierParams(1))
    db = change(result, database_id(template(2)))
    assert (result.kind, db.action, db.data_at_risk) == ("downgrade", "remove", True)
    assert db.risk is not None and db.risk.kept == "final snapshot kept"
    assert result.destructive
    assert db.logical_id in result.as_dict()["data_at_risk"]


@pytest.mark.parametrize(
    ("prop", "value"), [("MasterUsername", "someone_else"), ("StorageEncrypted", False)]
)
def test_changing_a_create_only_database_property_is_a_replacement(prop: str, value: Any) -> None:
    old = template(2)
    new = copy.deepcopy(old)
    lid = database_id(old)
    new["Resources"][lid]["Properties"][prop] = value
    db = change(plan_templates(old, new), lid)
    assert (db.action, db.replacement, db.properties) == ("modify", "yes", (prop,))
    assert db.data_at_risk and db.risk is not None
    assert db.risk.summary.startswith("replaced")
    assert any(prop in reason for reason in db.reasons)


def test_a_create_only_property_set_by_an_unresolvable_intrinsic_is_conditional() -> None:
    old = template(2)
    new = copy.deepcopy(old)
    lid = database_id(old)
    new["Resources"][lid]["Properties"]["DBName"] = {"Fn::Sub": "${AWS::StackName}db"}
    assert change(plan_templates(old, new), lid).replacement == "conditional"


def test_what_refers_to_a_replaced_resource_in_a_create_only_property_is_conditional() -> None:
    resources = {
        "Group": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "a"}},
        "Db": {
            "Type": DB,
            "DeletionPolicy": "Snapshot",
            "UpdateReplacePolicy": "Snapshot",
            "Properties": {"DBSubnetGroupName": {"Ref": "Subnets"}, "DBInstanceClass": "x"},
        },
        "Subnets": {"Type": "AWS::RDS::DBSubnetGroup", "Properties": {"DBSubnetGroupName": "a"}},
        "Other": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Ref": "Group"}}},
    }
    old = {"Resources": resources}
    new = copy.deepcopy(old)
    new["Resources"]["Subnets"]["Properties"]["DBSubnetGroupName"] = "b"
    changes = plan_templates(old, new)
    assert change(changes, "Subnets").replacement == "yes"
    db = change(changes, "Db")
    assert (db.replacement, db.properties) == ("conditional", ("DBSubnetGroupName",))
    assert db.risk is not None and db.risk.summary == "may be replaced: final snapshot kept"
    assert [c.logical_id for c in changes] == ["Db", "Subnets"]  # Group, Other unchanged


def test_a_changed_type_is_a_remove_and_an_add() -> None:
    old = {"Resources": {"Web": {"Type": "AWS::EC2::Instance", "Properties": {}}}}
    new = {"Resources": {"Web": {"Type": "AWS::AutoScaling::AutoScalingGroup", "Properties": {}}}}
    changes = plan_templates(old, new)
    assert [(c.action, c.replacement) for c in changes] == [("add", "yes"), ("remove", "yes")]


def test_upgrade_3_to_4_drops_the_fixed_web_instances_without_data_at_risk() -> None:
    old = template(3)
    instances = [lid for lid, r in old["Resources"].items() if r["Type"] == "AWS::EC2::Instance"]
    assert len(instances) == 2
    result = plan(TierParams(3), TierParams(4))
    for lid in instances:
        web = change(result, lid)
        assert web.action == "remove" or web.replacement == "yes"
        assert not web.data_at_risk
    assert result.kind == "upgrade"
    assert not [c for c in result.changes if c.resource_type == DB and c.data_at_risk]


def test_upgrade_1_to_2_says_data_on_the_instance_is_not_moved() -> None:
    result = plan(TierParams(1), TierParams(2))
    assert result.notes
    assert any("not moved" in note.text.lower() for note in result.notes)
    assert change(result, database_id(template(2))).action == "add"


def test_create_adds_everything() -> None:
    result = plan(None, TierParams(3, {"hosted_zone_name": "example.com"}))
    tmpl = template(3, hosted_zone_name="example.com")
    assert result.kind == "create"
    assert {c.action for c in result.changes} == {"add"}
    assert sorted(c.logical_id for c in result.changes) == sorted(tmpl["Resources"])
    assert not result.destructive
    assert result.notes == ()
    assert result.cost.current_total == 0 and result.cost.delta > 0


def test_decommission_removes_everything() -> None:
    result = plan(TierParams(5), None)
    assert result.kind == "decommission"
    assert {c.action for c in result.changes} == {"remove"}
    assert sorted(c.logical_id for c in result.changes) == sorted(template(5)["Resources"])
    assert result.destructive
    assert result.cost.target_total == 0 and result.cost.delta < 0


def test_resize_has_no_notes_and_keeps_the_database() -> None:
    sizes = ladder.instance_types_for(2)
    result = plan(
        TierParams(2, {"instance_type": sizes[0]}), TierParams(2, {"instance_type": sizes[-1]})
    )
    assert (result.kind, result.notes) == ("resize", ())
    assert all(c.action == "modify" and c.replacement != "yes" for c in result.changes)
    assert not result.destructive


def test_nothing_to_nothing_is_an_error() -> None:
    with pytest.raises(PlanError):
        plan(None, None)


def test_plan_is_deterministic_and_json_serialisable() -> None:
    first = plan(TierParams(2), TierParams(5), region="eu-west-1").as_dict()
    second = plan(TierParams(2), TierParams(5), region="eu-west-1").as_dict()
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    keys = [(c["action"], c["logical_id"]) for c in first["changes"]]
    order = {"add": 0, "modify": 1, "remove": 2}
    assert keys == sorted(keys, key=lambda k: (order[k[0]], k[1]))
    assert first["cost"]["region"] == "eu-west-1"
    assert first["from_params"] == dict(validate_parameters(2, {}))


def _set(lid: str, action: str, rtype: str, **extra: str) -> dict[str, Any]:
    return {
        "Type": "Resource",
        "ResourceChange": {
            "Action": action,
            "LogicalResourceId": lid,
            "ResourceType": rtype,
            **extra,
        },
    }


def _two_to_three() -> tuple[Plan, ResourceChange]:
    result = plan(TierParams(2), TierParams(3))
    return result, change(result, database_id(template(2)))


def test_merge_change_set_lets_aws_replacement_win() -> None:
    result, db = _two_to_three()
    assert db.action == "modify" and db.replacement != "yes"
    merged = merge_change_set(result, [_set(db.logical_id, "Modify", DB, Replacement="True")])
    after = change(merged, db.logical_id)
    assert (after.replacement, after.source, after.data_at_risk) == ("yes", "both", True)
    assert merged.destructive and merged.change_set_merged


def test_merge_change_set_without_replacement_keeps_ours_and_adds_aws_only_resources() -> None:
    result, db = _two_to_three()
    moto_style = [
        _set(db.logical_id, "Modify", DB),
        _set("SomethingAwsSaw", "Add", "AWS::SNS::Topic"),
        {"Type": "HookInvocation"},
    ]
    merged = merge_change_set(result, moto_style)
    assert change(merged, db.logical_id).replacement == db.replacement
    extra = change(merged, "SomethingAwsSaw")
    assert (extra.action, extra.source) == ("add", "aws")
    assert len(merged.changes) == len(result.changes) + 1
    assert merge_change_set(result, list(reversed(moto_style))).as_dict() == merged.as_dict()


def test_changing_the_database_engine_replaces_the_database() -> None:
    result = plan(TierParams(2, {"db_engine": "postgres"}), TierParams(2, {"db_engine": "mysql"}))
    db = change(result, database_id(template(2)))
    assert (result.kind, db.action, db.replacement) == ("resize", "modify", "yes")
    assert db.risk is not None and db.risk.summary == "replaced: final snapshot kept"
    assert result.destructive


def test_multi_az_and_instance_class_change_in_place() -> None:
    result = plan(
        TierParams(2, {"db_multi_az": "false"}),
        TierParams(2, {"db_multi_az": "true", "db_instance_class": "db.t4g.large"}),
    )
    db = change(result, database_id(template(2)))
    assert (db.action, db.replacement, db.data_at_risk) == ("modify", "no", False)
    assert not result.destructive


def test_downgrade_5_to_4_loses_cache_and_queues_but_not_through_the_replica() -> None:
    result = plan(TierParams(5), TierParams(4))
    at_risk = {c.resource_type for c in result.data_at_risk}
    assert at_risk == {"AWS::ElastiCache::ReplicationGroup", "AWS::SQS::Queue"}
    replica = [c for c in result.changes if c.resource_type == DB and c.action == "remove"]
    assert len(replica) == 1 and not replica[0].data_at_risk


def test_downgrade_4_to_3_retains_the_bucket() -> None:
    result = plan(TierParams(4), TierParams(3))
    (bucket,) = [c for c in result.changes if c.resource_type == "AWS::S3::Bucket"]
    assert bucket.action == "remove"
    assert bucket.risk is not None and bucket.risk.kept == "bucket retained (outside the stack)"
    assert bucket.risk.lost == ""
