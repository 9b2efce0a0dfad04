"""The local cloud: a moto server on 127.0.0.1, with fixes for moto bugs that would make it
answer differently from AWS. `python -m worker.localcloud --port N` (the Procfile's `cloud`).

Each fix is applied to moto itself, so the portal talks to the local cloud exactly as it
talks to AWS (one code path); remove a fix once moto ships it.
"""

from __future__ import annotations

import argparse
import os
from typing import Any


def apply_moto_fixes() -> None:
    """Idempotent. Call before moto serves (server) or before mock_aws (in-process tests)."""
    _fix_metric_data_queries()
    from moto.cloudformation.models import CloudFormationBackend

    if getattr(CloudFormationBackend.execute_change_set, "_ladder_fixed", False):
        return
    original = CloudFormationBackend.execute_change_set

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        original(self, change_set_name, stack_name)
        # moto 5.2 applies the change set's resources but keeps the stack's old parsed
        # template and Outputs (none at all after a CREATE change set): refresh both.
        for stack in self.stacks.values():
            change_set_ids = {cs.change_set_id for cs in self.change_sets.values()}
            named = stack_name in {stack.name, stack.stack_id}
            if named or (stack_name is None and change_set_name in change_set_ids):
                stack._parse_template()
                stack.output_map = stack._create_output_map()

    execute_change_set._ladder_fixed = True  # type: ignore[attr-defined]
    CloudFormationBackend.execute_change_set = execute_change_set  # type: ignore[method-assign]

    from moto.cloudformation import parsing

    original_update = parsing.parse_and_update_resource

    def parse_and_update_resource(
        logical_id: str, resource_json: dict[str, Any], resources_map: Any, **kwargs: Any
    ) -> Any:
        # For types moto cannot update (EC2 Instance, RDS DBInstance, VPC, ALB...) it answers
        # None and drops the resource from the stack, orphaning it. AWS updates those in
        # place (or replaces them, which the planner reports): keep the resource and its
        # physical id; the new properties are simply not applied in the local cloud.
        updated = original_update(logical_id, resource_json, resources_map, **kwargs)
        if updated is None:
            return resources_map._parsed_resources.get(logical_id)
        return updated

    parsing.parse_and_update_resource = parse_and_update_resource


def _fix_metric_data_queries() -> None:
    """moto 5.2's GetMetricData scans every datapoint of the window once per query and per
    period (minutes per dashboard once the traffic simulator has published a week), and
    matches dimensions without the namespace. Answer like AWS: exact namespace, name and
    dimension set, bucketed from StartTime. Metric math and Insights queries keep moto's path.
    """
    from datetime import timedelta

    from moto.cloudwatch.models import CloudWatchBackend, Statistics

    if getattr(CloudWatchBackend.get_metric_data, "_ladder_fixed", False):
        return
    original = CloudWatchBackend.get_metric_data

    def get_metric_data(
        self: Any,
        queries: list[dict[str, Any]],
        start_time: Any,
        end_time: Any,
        scan_by: str = "TimestampAscending",
    ) -> list[dict[str, Any]]:
        start_time = start_time.replace(microsecond=0)
        end_time = end_time.replace(microsecond=0)
        if start_time >= end_time or any("MetricStat" not in q for q in queries):
            return original(self, queries, start_time, end_time, scan_by)  # type: ignore[no-any-return]
        index: dict[tuple[Any, ...], list[Any]] = {}
        for datum in self.get_all_metrics():
            if start_time <= datum.timestamp < end_time:
                dims = frozenset((d.name, d.value) for d in datum.dimensions)
                index.setdefault((datum.namespace, datum.name, dims), []).append(datum)
        results = []
        for query in queries:
            stat_spec = query["MetricStat"]
            metric, stat = stat_spec["Metric"], stat_spec["Stat"]
            period, unit = int(stat_spec["Period"]), stat_spec.get("Unit")
            dims = frozenset((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
            buckets: dict[int, list[Any]] = {}
            for datum in index.get((metric["Namespace"], metric["MetricName"], dims), []):
                if not unit or datum.unit == unit:
                    offset = int((datum.timestamp - start_time).total_seconds()) // period
                    buckets.setdefault(offset, []).append(datum)
            timestamps, values = [], []
            for offset in sorted(buckets, reverse=scan_by == "TimestampDescending"):
                stats = Statistics([stat], start_time + timedelta(seconds=offset * period))
                stats.metric_data = buckets[offset]
                values.append(stats.get_statistics_for_type(stat))
                timestamps.append(stats.timestamp)
            if query.get("ReturnData", True):
                results.append(
                    {
                        "id": query["Id"],
                        "label": query.get("Label") or f"{metric['MetricName']} {stat}",
                        "values": values,
                        "timestamps": timestamps,
                        "status_code": "Complete",
                    }
                )
        return results

    get_metric_data._ladder_fixed = True  # type: ignore[attr-defined]
    CloudWatchBackend.get_metric_data = get_metric_data  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("LOCAL_CLOUD_PORT", "4566")))
    args = parser.parse_args()
    apply_moto_fixes()
    from moto.server import main as moto_main

    moto_main(["-H", args.host, "-p", str(args.port)])


if __name__ == "__main__":
    main()
