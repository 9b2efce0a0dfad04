"""What moving between neighbouring tiers does that a template diff does not say.

Prose for ``ladder.migration_notes``: (text, destructive) per adjacent move, up and down.
"destructive" = data or a public address is lost for good, so the plan needs confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass

NOTES: dict[tuple[int, int], tuple[tuple[str, bool], ...]] = {
    (1, 2): (
        (
            "Data in a database on the instance is not moved: dump it and restore it into "
            "the new RDS database before pointing the application at DatabaseEndpoint.",
            False,
        ),
        (
            "The database password is an RDS-managed Secrets Manager secret; the web "
            "instance role may read it. Nothing to copy by hand.",
            False,
        ),
        ("The web instance and its Elastic IP stay as they are.", False),
    ),
    (2, 1): (
        (
            "The database is deleted, a final snapshot is kept: move the data back onto the "
            "instance first; restore the snapshot to get it back later.",
            True,
        ),
        ("The web instance and its Elastic IP stay as they are.", False),
    ),
    (2, 3): (
        (
            "The single web instance and its Elastic IP are replaced by two instances in two "
            "AZs behind a load balancer: the public IP address is released for good and "
            "anything on the old instance's disk is lost.",
            True,
        ),
        (
            "The site's address becomes the load balancer's DNS name; a Route 53 record, if "
            "any, is switched to an alias of it.",
            False,
        ),
        (
            "The database becomes Multi-AZ in place: RDS adds a standby in a second AZ "
            "without downtime; I/O can be slower while it syncs.",
            False,
        ),
    ),
    (3, 2): (
        (
            "The load balancer and both web instances are deleted; one new instance with a "
            "new Elastic IP serves the site: the load balancer's DNS name stops working, "
            "anything on the old instances' disks is lost.",
            True,
        ),
        ("The site loses its failover: one AZ outage takes it down.", False),
        (
            "The database stays Multi-AZ if db_multi_az is true, otherwise RDS drops the "
            "standby in place (no data loss).",
            False,
        ),
    ),
    (3, 4): (
        (
            "The two fixed web instances are replaced by an Auto Scaling group and a new "
            "target group behind the same load balancer and URL; instance disks are not "
            "kept, so nothing may live there.",
            False,
        ),
        (
            "A new S3 bucket (StaticBucketName) behind CloudFront serves static assets: "
            "upload them and point the application at the distribution's domain; it takes "
            "minutes to deploy.",
            False,
        ),
    ),
    (4, 3): (
        (
            "The CloudFront distribution is deleted and its domain stops serving assets; "
            "the bucket is retained outside the stack with its objects (empty and delete "
            "it by hand to stop paying). Serve static assets from the web servers again.",
            True,
        ),
        (
            "The Auto Scaling group is replaced by two fixed instances: the web tier no "
            "longer grows with load.",
            False,
        ),
    ),
    (4, 5): (
        (
            "New Redis cache, job queue with dead-letter queue, worker group and database "
            "read replica: the application must be configured to use them.",
            False,
        ),
        (
            "Creating the read replica snapshots the database; I/O may be briefly slower.",
            False,
        ),
        (
            "The SES identity must be verified (and the account moved out of the SES "
            "sandbox) before mail is delivered; the alert email subscription must be "
            "confirmed from the inbox.",
            False,
        ),
    ),
    (5, 4): (
        (
            "The Redis cache is deleted (a final snapshot is kept) and its contents are "
            "gone from the running application.",
            True,
        ),
        (
            "The job queue and its dead-letter queue are deleted with any messages still in "
            "them, and the workers are terminated: drain the queue first.",
            True,
        ),
        (
            "The read replica is deleted: move read traffic to DatabaseEndpoint first. "
            "The primary database and its data are untouched.",
            False,
        ),
        (
            "Alarms, the dashboard, the alert topic and the SES identity are deleted.",
            False,
        ),
    ),
}


@dataclass(frozen=True)
class MigrationNote:
    from_tier: int
    to_tier: int
    text: str
    destructive: bool


def notes_between(from_tier: int, to_tier: int) -> list[MigrationNote]:
    """The notes of each adjacent step from ``from_tier`` to ``to_tier`` (tiers checked by
    ``ladder.migration_notes``)."""
    step = 1 if to_tier > from_tier else -1
    notes: list[MigrationNote] = []
    for here in range(from_tier, to_tier, step):
        there = here + step
        for text, destructive in NOTES[(here, there)]:
            notes.append(MigrationNote(here, there, text, destructive))
    return notes
