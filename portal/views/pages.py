"""The overview, the ladder, teams and the health check. Reads go through provisioning.selectors."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from provisioning import ladder, pricing, selectors
from provisioning.health import health_report
from provisioning.models import Team

LADDER_REGION = "us-east-1"

# What each component is, in the words of someone choosing a tier.
COMPONENT_LABELS = {
    "web_single": "One EC2 web server with an Elastic IP",
    "database": "Managed RDS database (PostgreSQL or MySQL), private subnets",
    "web_pair": "Two web servers in two Availability Zones",
    "load_balancer": "Application Load Balancer with health checks",
    "web_asg": "Web Auto Scaling group, CPU target 70%",
    "static_site": "Static assets in S3 behind CloudFront",
    "cache": "ElastiCache Redis, Multi-AZ with failover",
    "queue_workers": "SQS queue + dead-letter queue, worker Auto Scaling group",
    "read_replica": "RDS read replica",
    "monitoring": "CloudWatch alarms, dashboard, SNS alert topic",
    "email": "SES sending identity",
    "dns": "Route 53 record (when a hosted zone is given)",
}


def component_label(name: str) -> str:
    return COMPONENT_LABELS.get(name, name.replace("_", " "))


@login_required
def home(request: HttpRequest) -> HttpResponse:
    teams = selectors.team_list_for_user(user=request.user)
    environments = selectors.environment_list_for_user(user=request.user)[:10]
    return render(request, "portal/home.html", {"teams": teams, "environments": environments})


@login_required
def ladder_page(request: HttpRequest) -> HttpResponse:
    rungs = []
    previous: tuple[str, ...] = ()
    for tier in ladder.TIERS:
        added = [c for c in tier.components if c not in previous]
        replaced = [c for c in previous if c not in tier.components]
        cost = pricing.estimate(tier.number, ladder.defaults(tier.number), LADDER_REGION).total
        rungs.append(
            {
                "tier": tier,
                "adds": [component_label(c) for c in added],
                "replaces": [component_label(c) for c in replaced],
                "monthly_from": cost,
            }
        )
        previous = tier.components
    return render(request, "portal/ladder.html", {"rungs": rungs, "region": LADDER_REGION})


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    teams = selectors.team_list_for_user(user=request.user)
    return render(request, "portal/team_list.html", {"teams": teams})


@login_required
def team_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        team = selectors.team_get_for_user(user=request.user, slug=slug)
    except Team.DoesNotExist as exc:
        raise Http404("No such team") from exc
    memberships = selectors.membership_list_for_team(team=team)
    return render(request, "portal/team_detail.html", {"team": team, "memberships": memberships})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)
