"""email (tier 5): an SES identity to send mail from, and the web role's right to use it.

The identity is the hosted zone's domain when one is given (Easy DKIM), else the alert
address; with neither there is nothing to verify, so nothing is added.
"""

from __future__ import annotations

from provisioning.blueprints import common
from provisioning.blueprints.base import Context, Template, sub


def identity(ctx: Context) -> str:
    return str(ctx.params.get("hosted_zone_name") or ctx.params.get("alert_email") or "")


def build(t: Template, ctx: Context) -> None:
    name = identity(ctx)
    if not name:
        return
    t.resource("EmailIdentity", "AWS::SES::EmailIdentity", {"EmailIdentity": name})
    common.web_role(t)
    common.role_policy(
        t,
        "WebEmailPolicy",
        "send-email",
        common.WEB_ROLE,
        [
            {
                "Effect": "Allow",
                "Action": ["ses:SendEmail", "ses:SendRawEmail"],
                "Resource": sub(
                    f"arn:${{AWS::Partition}}:ses:${{AWS::Region}}:${{AWS::AccountId}}:identity/{name}"
                ),
            }
        ],
    )
    t.output("EmailIdentity", name, "SES identity to send from (verify it first)")
