"""The only checkov findings the tier templates may have, each with its reason.

tests/provisioning/test_checkov.py runs checkov over every tier's template (defaults and
largest parameters) and the network template; any failed check not listed here fails the
test, and so does an entry here that no longer matches anything (a stale skip).

What the templates guarantee and checkov confirms: no public database (CKV_AWS_17), no SSH or
RDP open to the world (CKV_AWS_24/25), IMDSv2 only (CKV_AWS_79), no public IPs on instances
(CKV_AWS_88), encrypted storage (CKV_AWS_16/19/29, CKV2_AWS_69), TLS between CloudFront and
its origin and towards viewers (CKV2_AWS_72, CKV_AWS_34), TLS in transit to Redis (CKV_AWS_30).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Skip:
    check: str
    resources: frozenset[str]  # logical ids
    reason: str
    templates: frozenset[str] | None = None  # "network", "tier1".."tier5"; None: every one


def _skip(check: str, resources: str, reason: str, templates: str | None = None) -> Skip:
    return Skip(
        check,
        frozenset(resources.split()),
        reason,
        frozenset(templates.split()) if templates else None,
    )


SKIPS: tuple[Skip, ...] = (
    # --- the public HTTP entry point ---------------------------------------------------------
    _skip(
        "CKV_AWS_2",
        "HttpListener",
        "The load balancer listens on HTTP because the ladder takes no certificate parameter "
        "(no ACM certificate or domain validation exists when an environment is requested). "
        "An HTTPS listener comes with a certificate parameter; until then TLS ends in front.",
    ),
    _skip(
        "CKV_AWS_103",
        "HttpListener",
        "Same listener as CKV_AWS_2: a TLS policy applies only to an HTTPS listener.",
    ),
    _skip(
        "CKV_AWS_260",
        "LoadBalancerSecurityGroup WebIngressHttp",
        "Port 80 from anywhere is the web entry point itself (the load balancer from tier 3; "
        "the single web server at tiers 1-2). Only 80 is open: SSH/RDP are not (CKV_AWS_24/25).",
    ),
    # --- database ---------------------------------------------------------------------------
    _skip(
        "CKV_AWS_157",
        "Database",
        "Multi-AZ is a tier-2 choice (db_multi_az, off by default to halve the cost of a "
        "small environment); tiers 3-5 always run the database Multi-AZ.",
        templates="tier2",
    ),
    _skip(
        "CKV_AWS_157",
        "DatabaseReadReplica",
        "A read replica scales reads; the primary it follows is Multi-AZ at tier 5.",
        templates="tier5",
    ),
    _skip(
        "CKV_AWS_16",
        "DatabaseReadReplica",
        "A same-region replica inherits the primary's encryption; CloudFormation says not to "
        "set StorageEncrypted on a replica (the primary's is checked and passes).",
        templates="tier5",
    ),
    _skip(
        "CKV_AWS_161",
        "Database",
        "Applications sign in with the RDS-managed master secret (Secrets Manager, rotated by "
        "RDS); IAM database authentication would add a second way in, not close one.",
    ),
    _skip(
        "CKV_AWS_118",
        "Database DatabaseReadReplica",
        "Enhanced monitoring needs an extra IAM role per stack and is billed; the portal's "
        "dashboards read the standard CloudWatch RDS metrics.",
    ),
    # --- cache, queue, alerts -----------------------------------------------------------------
    _skip(
        "CKV_AWS_31",
        "Cache",
        "Transit and at-rest encryption are on (CKV_AWS_29/30 pass); the check also wants a "
        "Redis AUTH token, which would be a password in the template or the apps. Access is "
        "limited to the web servers' security group.",
    ),
    _skip(
        "CKV_AWS_27",
        "JobQueue JobDeadLetterQueue",
        "Both queues are encrypted at rest with SQS-managed keys (SqsManagedSseEnabled); the "
        "check only recognises KMS keys.",
    ),
    _skip(
        "CKV_AWS_26",
        "AlertTopic",
        "CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed SNS key, "
        "and a customer-managed key per stack costs more than tier 5's alerting is worth; the "
        "topic carries alarm names and states, no data.",
        templates="tier5",
    ),
    # --- static site --------------------------------------------------------------------------
    _skip(
        "CKV_AWS_174",
        "StaticDistribution",
        "The distribution uses CloudFront's default *.cloudfront.net certificate, for which "
        "CloudFront ignores MinimumProtocolVersion; viewers are redirected to HTTPS "
        "(CKV_AWS_34 passes).",
    ),
    _skip(
        "CKV_AWS_68",
        "StaticDistribution",
        "The distribution serves public static assets only; a WAF web ACL is billed per ACL "
        "and rule and protects nothing dynamic here.",
    ),
    _skip(
        "CKV_AWS_86",
        "StaticDistribution",
        "Standard logs need a separate log bucket with ACLs enabled; static asset requests "
        "are not audited by the portal.",
    ),
    _skip(
        "CKV_AWS_18",
        "StaticBucket",
        "The bucket is private (public access blocked) and read only by CloudFront through "
        "origin access control; server access logs would need a second bucket per stack.",
    ),
    _skip(
        "CKV_AWS_91",
        "LoadBalancer",
        "Access logs need a bucket whose policy names the region's ELB account; web requests "
        "are logged by the application servers.",
    ),
)


def skipped(check: str, resource: str, template: str) -> Skip | None:
    """The skip that covers a failed check on a resource (logical id) of a template."""
    for skip in SKIPS:
        if skip.check != check or resource not in skip.resources:
            continue
        if skip.templates is None or template in skip.templates:
            return skip
    return None
