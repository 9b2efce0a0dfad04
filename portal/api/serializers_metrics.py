"""Serializers of the dashboards' endpoints: metrics and the advisor's recommendations."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from provisioning.models import (
    Recommendation,
)

MONEY = {"max_digits": 12, "decimal_places": 2}


# --- metrics and recommendations ------------------------------------------------------------
class MetricsQuerySerializer(serializers.Serializer):
    window = serializers.ChoiceField(choices=["1h", "24h", "7d"], default="24h")


class MetricSeriesSerializer(serializers.Serializer):
    label = serializers.CharField()
    timestamps = serializers.ListField(child=serializers.DateTimeField())
    values = serializers.ListField(child=serializers.FloatField())


class MetricChartSerializer(serializers.Serializer):
    key = serializers.CharField()
    group = serializers.CharField()
    title = serializers.CharField()
    namespace = serializers.CharField()
    metric = serializers.CharField()
    unit = serializers.CharField()
    stat = serializers.CharField(help_text="the statistic asked of CloudWatch")
    stat_label = serializers.CharField(help_text="e.g. 'p95', or 'Maximum (no percentiles)'")
    series = MetricSeriesSerializer(many=True)


class MetricGroupSerializer(serializers.Serializer):
    name = serializers.CharField()
    charts = MetricChartSerializer(many=True)


class MetricsSerializer(serializers.Serializer):
    environment = serializers.IntegerField()
    window = serializers.CharField()
    period = serializers.IntegerField(help_text="seconds per datapoint")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    available = serializers.BooleanField(help_text="false: CloudWatch failed, see `reason`")
    reason = serializers.CharField(allow_blank=True)
    simulated = serializers.BooleanField(help_text="published by the local traffic simulator")
    cached = serializers.BooleanField()
    groups = MetricGroupSerializer(many=True)
    missing = serializers.ListField(child=serializers.CharField())
    notes = serializers.ListField(child=serializers.CharField())


class EvidenceSerializer(serializers.Serializer):
    metric = serializers.CharField()
    window = serializers.CharField()
    stat = serializers.CharField()
    value = serializers.FloatField()
    threshold = serializers.FloatField()
    unit = serializers.CharField(allow_blank=True)
    text = serializers.CharField()


class RecommendationSerializer(serializers.ModelSerializer):
    evidence = serializers.SerializerMethodField()
    change = serializers.IntegerField(source="change_id", allow_null=True)
    change_request = serializers.SerializerMethodField(
        help_text="the body that requests this change (POST .../open/ does it for you)"
    )

    class Meta:
        model = Recommendation
        fields = [
            "id", "environment", "kind", "status", "title", "summary", "evidence", "window",
            "from_tier", "target_tier", "target_parameters", "monthly_saving", "simulated",
            "change", "change_request", "created_at", "updated_at",
        ]  # fmt: skip
        extra_kwargs = {"monthly_saving": MONEY}

    @extend_schema_field(EvidenceSerializer(many=True))
    def get_evidence(self, rec: Recommendation) -> list[dict[str, Any]]:
        return list(rec.evidence or [])

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "tier": {"type": "integer"},
                "parameters": {"type": "object", "additionalProperties": True},
                "reason": {"type": "string"},
            },
        }
    )
    def get_change_request(self, rec: Recommendation) -> dict[str, Any]:
        return rec.change_request_payload()


class RecommendationOpenSerializer(serializers.Serializer):
    confirm = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200,
        help_text="the environment's name, when the move puts data at risk",
    )  # fmt: skip
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
