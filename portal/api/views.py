"""API v1 views: three-line viewsets over selectors (reads) and services (writes).

Every object is looked up through a selector scoped to the caller, so another team's id
answers 404 exactly like a missing one. Errors become JSON in portal.api.exceptions.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from portal.api import serializers as s
from portal.api import serializers_metrics as sm
from portal.api.filters import ChangeFilterSet, DjangoFilterBackend, EnvironmentFilterSet
from portal.api.idempotency import HEADER_PARAMETER, idempotent
from portal.views.common import client_ip
from provisioning import advisor, ladder, metrics, pricing, selectors, services
from provisioning.errors import InvalidRequest, ServiceError
from provisioning.models import ChangeRequest, Environment, Recommendation, Team
from provisioning.services.recommendations import recommendation_open_change

LADDER_REGION = "us-east-1"
MAX_ID = 2**63 - 1
EVENTS_PER_PAGE = 500


def _id(value: Any) -> int:
    """A URL id as a database id; anything else (too big for the column) is simply not found."""
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise NotFound() from None
    if not 0 < pk <= MAX_ID:
        raise NotFound()
    return pk


def _valid(serializer_class: type[Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _parameter_fields(error: ServiceError, known: set[str]) -> ServiceError:
    """Service field errors that name a parameter are reported as ``parameters.<name>``."""
    if not isinstance(error, InvalidRequest) or not error.fields:
        return error
    fields = {(k if k in known else f"parameters.{k}"): v for k, v in error.fields.items()}
    return InvalidRequest(error.message, fields=fields)


class LadderView(APIView):
    """The five tiers of the ladder: what each adds, its parameters and its cost from."""

    @extend_schema(responses=s.LadderSerializer, operation_id="ladder_list")
    def get(self, request: Request) -> Response:
        tiers = []
        for tier in ladder.TIERS:
            defaults = ladder.defaults(tier.number)
            parameters = [
                {
                    "name": p.name,
                    "kind": p.kind,
                    "default": defaults.get(p.name, p.default),
                    "help": p.help,
                    "choices": list(p.choices_for(tier.number) or []) or None,
                    "minimum": p.minimum,
                    "maximum": p.maximum,
                }
                for p in ladder.parameters_for(tier.number)
            ]
            cost = pricing.estimate(tier.number, defaults, LADDER_REGION).total
            tiers.append(
                {
                    **{f: getattr(tier, f) for f in ("number", "name", "summary", "capacity")},
                    "resilience": tier.resilience,
                    "scalability": tier.scalability,
                    "components": list(tier.components),
                    "parameters": parameters,
                    "monthly_cost_from": cost,
                    "region": LADDER_REGION,
                }
            )
        page = {"count": len(tiers), "next": None, "previous": None, "results": tiers}
        return Response(s.LadderSerializer(page).data)


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    """Your teams, with their policy, budget and what they use now."""

    serializer_class = s.TeamSerializer
    lookup_field = "slug"
    lookup_value_regex = r"[a-z0-9-]+"

    def get_queryset(self) -> QuerySet[Team]:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular, making the schema
            return Team.objects.none()
        return selectors.team_usage_list_for_user(user=self.request.user)


@extend_schema_view(
    list=extend_schema(summary="Your teams' environments"),
    retrieve=extend_schema(summary="One environment"),
)
class EnvironmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.EnvironmentSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = EnvironmentFilterSet
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Environment]:
        if getattr(self, "swagger_fake_view", False):
            return Environment.objects.none()
        return selectors.environment_queryset_for_user(user=self.request.user)

    def get_object(self) -> Environment:
        # Not through the list filters: a decommissioned environment still has a page.
        pk = _id(self.kwargs["pk"])
        return selectors.environment_get_for_user(user=self.request.user, pk=pk)

    def _change(self, change: ChangeRequest) -> dict[str, Any]:
        change = selectors.change_get_for_user(user=self.request.user, pk=change.pk)
        return s.ChangeSerializer(change).data

    @extend_schema(
        summary="Request a new environment",
        request=s.EnvironmentRequestSerializer,
        responses={202: s.EnvironmentCreatedSerializer},
        parameters=[HEADER_PARAMETER],
    )
    def create(self, request: Request) -> Response:
        def work() -> Response:
            data = _valid(s.EnvironmentRequestSerializer, request.data)
            team = selectors.team_choices_for_user(user=request.user).filter(slug=data["team"])
            if not team.exists():
                raise InvalidRequest("no such team", fields={"team": "not one of your teams"})
            try:
                change = services.environment_request(
                    user=request.user, team=team.get(), name=data["name"], tier=data["tier"],
                    region=data["region"], parameters=data["parameters"],
                    reason=data["reason"], ip=client_ip(request),
                )  # fmt: skip
            except ServiceError as exc:
                raise _parameter_fields(exc, set(s.EnvironmentRequestSerializer().fields)) from None
            environment = selectors.environment_get_for_user(
                user=request.user, pk=change.environment_id
            )
            body = {"environment": self.get_serializer(environment).data}
            body["change"] = self._change(change)
            return Response(body, status=status.HTTP_202_ACCEPTED)

        return idempotent(request, work)

    @extend_schema(
        summary="Move along the ladder, or resize in place",
        request=s.ChangeRequestSerializer,
        responses={202: s.ChangeSerializer},
        parameters=[HEADER_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    def changes(self, request: Request, pk: str) -> Response:
        environment = self.get_object()

        def work() -> Response:
            data = _valid(s.ChangeRequestSerializer, request.data)
            try:
                change = services.change_request(
                    user=request.user, environment=environment, tier=data.get("tier"),
                    parameters=data["parameters"], reason=data["reason"],
                    confirm=data["confirm"], ip=client_ip(request),
                )  # fmt: skip
            except ServiceError as exc:
                raise _parameter_fields(exc, set(s.ChangeRequestSerializer().fields)) from None
            return Response(self._change(change), status=status.HTTP_202_ACCEPTED)

        return idempotent(request, work)

    @extend_schema(
        summary="Decommission: delete the stack, keep the history",
        request=s.DecommissionSerializer,
        responses={202: s.ChangeSerializer},
        parameters=[HEADER_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    def decommission(self, request: Request, pk: str) -> Response:
        environment = self.get_object()

        def work() -> Response:
            data = _valid(s.DecommissionSerializer, request.data)
            change = services.environment_decommission(
                user=request.user, environment=environment, confirm=data["confirm"],
                reason=data["reason"], ip=client_ip(request),
            )  # fmt: skip
            return Response(self._change(change), status=status.HTTP_202_ACCEPTED)

        return idempotent(request, work)

    @extend_schema(
        summary="Try a failed create again",
        request=s.RetrySerializer,
        responses={202: s.ChangeSerializer},
        parameters=[HEADER_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str) -> Response:
        environment = self.get_object()

        def work() -> Response:
            data = _valid(s.RetrySerializer, request.data)
            change = services.environment_retry(
                user=request.user, environment=environment, reason=data["reason"],
                ip=client_ip(request),
            )  # fmt: skip
            return Response(self._change(change), status=status.HTTP_202_ACCEPTED)

        return idempotent(request, work)

    @extend_schema(
        summary="Stack events of a change, in order",
        description="The events of `change` (default: the active change, else the latest) "
        "with a sequence above `after`. Poll with the last sequence you saw.",
        parameters=[s.EventQuerySerializer],
        responses=s.StackEventPageSerializer,
        filters=False,
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def events(self, request: Request, pk: str) -> Response:
        environment = self.get_object()
        query = _valid(s.EventQuerySerializer, request.query_params)
        changes = selectors.change_list_for_user(user=request.user, environment=environment)
        if "change" in query:
            change = changes.filter(pk=query["change"]).first()
            if change is None:
                raise NotFound("no such change of this environment")
        else:
            change = selectors.environment_active_change(environment=environment)
            change = change or changes.first()
        events = selectors.stack_events_after(
            change=change, after=query["after"], limit=EVENTS_PER_PAGE
        ) if change else []  # fmt: skip
        next_url = None
        if len(events) == EVENTS_PER_PAGE and change is not None:
            next_url = request.build_absolute_uri(
                f"{request.path}?change={change.pk}&after={events[-1].sequence}"
            )
        page = {
            "change": change.pk if change else None,
            "change_status": change.status if change else None,
            "next": next_url,
            "results": events,
        }
        return Response(s.StackEventPageSerializer(page).data)

    @extend_schema(
        summary="CloudWatch metrics of the environment",
        description="The tier's metrics over `window`, grouped as the page draws them. A "
        "failing CloudWatch call answers 200 with `available: false` and the `reason`.",
        parameters=[sm.MetricsQuerySerializer],
        responses=sm.MetricsSerializer,
        filters=False,
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def metrics(self, request: Request, pk: str) -> Response:
        environment = self.get_object()
        window = _valid(sm.MetricsQuerySerializer, request.query_params)["window"]
        result = metrics.environment_metrics(environment=environment, window=window)
        return Response(sm.MetricsSerializer(result.as_dict()).data)

    @extend_schema(
        summary="The advisor's open recommendations for the environment",
        responses=sm.RecommendationSerializer(many=True),
        filters=False,
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def recommendations(self, request: Request, pk: str) -> Response:
        environment = self.get_object()
        rows = advisor.recommendation_list(environment=environment)
        return Response(sm.RecommendationSerializer(rows, many=True).data)


class RecommendationViewSet(viewsets.GenericViewSet):
    """Acting on a recommendation: request the change it proposes."""

    serializer_class = sm.RecommendationSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Recommendation]:
        return Recommendation.objects.none()  # only looked up one by one, scoped

    def get_object(self) -> Recommendation:
        return selectors.recommendation_get_for_user(
            user=self.request.user, pk=_id(self.kwargs["pk"])
        )

    @extend_schema(
        summary="Request the change a recommendation proposes",
        request=sm.RecommendationOpenSerializer,
        responses={202: s.ChangeSerializer},
        parameters=[HEADER_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    def open(self, request: Request, pk: str) -> Response:
        recommendation = self.get_object()

        def work() -> Response:
            data = _valid(sm.RecommendationOpenSerializer, request.data)
            change = recommendation_open_change(
                user=request.user, recommendation=recommendation, reason=data["reason"],
                confirm=data["confirm"], ip=client_ip(request),
            )  # fmt: skip
            fresh = selectors.change_get_for_user(user=request.user, pk=change.pk)
            return Response(s.ChangeSerializer(fresh).data, status=status.HTTP_202_ACCEPTED)

        return idempotent(request, work)


@extend_schema_view(
    list=extend_schema(summary="Changes you may see"),
    retrieve=extend_schema(summary="One change, with its plan, policy and approvals"),
)
class ChangeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    filter_backends = [DjangoFilterBackend]
    filterset_class = ChangeFilterSet
    lookup_value_regex = r"[0-9]+"

    def get_serializer_class(self) -> type[Serializer]:
        return s.ChangeSummarySerializer if self.action == "list" else s.ChangeSerializer

    def get_queryset(self) -> QuerySet[ChangeRequest]:
        if getattr(self, "swagger_fake_view", False):
            return ChangeRequest.objects.none()
        return selectors.change_list_for_user(user=self.request.user)

    def get_object(self) -> ChangeRequest:
        return selectors.change_get_for_user(user=self.request.user, pk=_id(self.kwargs["pk"]))

    def _decide(self, request: Request, decide: Any) -> Response:
        change = self.get_object()

        def work() -> Response:
            note = _valid(s.DecisionSerializer, request.data)["note"]
            decided = decide(user=request.user, change=change, note=note, ip=client_ip(request))
            fresh = selectors.change_get_for_user(user=request.user, pk=decided.pk)
            return Response(s.ChangeSerializer(fresh).data)

        return idempotent(request, work)

    _decision = extend_schema(
        request=s.DecisionSerializer,
        responses={200: s.ChangeSerializer},
        parameters=[HEADER_PARAMETER],
    )

    @_decision
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        return self._decide(request, services.change_approve)

    @_decision
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        return self._decide(request, services.change_reject)

    @_decision
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        return self._decide(request, services.change_cancel)
