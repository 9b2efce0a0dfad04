"""static_site (tiers 4-5): static assets in a private, encrypted S3 bucket behind CloudFront
(origin access control: the bucket is readable by this distribution only)."""

from __future__ import annotations

from provisioning.blueprints.base import Context, Template, get_att, ref, sub

# AWS managed cache policy "CachingOptimized".
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"


def build(t: Template, ctx: Context) -> None:
    t.resource(
        "StaticBucket",
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "VersioningConfiguration": {"Status": "Enabled"},
            "LifecycleConfiguration": {
                "Rules": [
                    {
                        "Id": "expire-old-versions",
                        "Status": "Enabled",
                        "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                    }
                ]
            },
        },
        policy="Retain",
    )
    t.resource(
        "StaticOriginAccessControl",
        "AWS::CloudFront::OriginAccessControl",
        {
            "OriginAccessControlConfig": {
                "Name": sub("${AWS::StackName}-static"),
                "OriginAccessControlOriginType": "s3",
                "SigningBehavior": "always",
                "SigningProtocol": "sigv4",
            }
        },
    )
    t.resource(
        "StaticDistribution",
        "AWS::CloudFront::Distribution",
        {
            "DistributionConfig": {
                "Enabled": True,
                "Comment": sub("${AWS::StackName} static assets"),
                "HttpVersion": "http2and3",
                "IPV6Enabled": True,
                "PriceClass": "PriceClass_100",
                "Origins": [
                    {
                        "Id": "static",
                        "DomainName": get_att("StaticBucket", "RegionalDomainName"),
                        "OriginAccessControlId": get_att("StaticOriginAccessControl", "Id"),
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
                "DefaultCacheBehavior": {
                    "TargetOriginId": "static",
                    "ViewerProtocolPolicy": "redirect-to-https",
                    "CachePolicyId": CACHING_OPTIMIZED,
                    "AllowedMethods": ["GET", "HEAD"],
                    "Compress": True,
                },
            }
        },
    )
    objects = sub("${StaticBucket.Arn}/*")
    t.resource(
        "StaticBucketPolicy",
        "AWS::S3::BucketPolicy",
        {
            "Bucket": ref("StaticBucket"),
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "CloudFrontReadsObjects",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudfront.amazonaws.com"},
                        "Action": "s3:GetObject",
                        "Resource": objects,
                        "Condition": {
                            "StringEquals": {
                                "AWS:SourceArn": sub(
                                    "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:"
                                    "distribution/${StaticDistribution}"
                                )
                            }
                        },
                    },
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [get_att("StaticBucket", "Arn"), objects],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ],
            },
        },
    )
    t.output("StaticBucketName", ref("StaticBucket"), "Bucket for static assets")
    # No output names the distribution: the local cloud skips it, and there an output
    # referring to it breaks the stack's description after a change set. Its id is the
    # physical id of StaticDistribution (DescribeStackResource), its domain CloudFront's.
