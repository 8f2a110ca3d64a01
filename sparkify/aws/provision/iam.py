"""The IAM role that Redshift assumes to read the S3 sources, and the role's S3 policy."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from sparkify.aws.provision import TAGS
from sparkify.aws.provision.outcome import CREATED, GONE, REUSED, Outcome, aws_step
from sparkify.aws.session import error_code
from sparkify.config import Settings
from sparkify.store import S3Location

INLINE_POLICY = "sparkify-s3-read"
MANAGED_POLICY = "AmazonS3ReadOnlyAccess"
# Both deployments' services may assume the role: AWS requires redshift-serverless for a
# namespace's COPY and both for Serverless ("Granting permissions to Amazon Redshift
# Serverless", https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-security-other-services.html);
# trusting both always keeps one role valid when DEPLOYMENT changes.
REDSHIFT_PRINCIPALS = ("redshift.amazonaws.com", "redshift-serverless.amazonaws.com")


def _trust_statement(services: list[str]) -> dict:
    return {"Effect": "Allow", "Principal": {"Service": services}, "Action": "sts:AssumeRole"}


TRUST_POLICY = {"Version": "2012-10-17", "Statement": [_trust_statement(list(REDSHIFT_PRINCIPALS))]}


def s3_read_policy(settings: Settings, partition: str = "aws") -> dict:
    """Least privilege: s3:Get*/s3:List* on the source buckets (and the manifest bucket)."""
    uris = (settings.log_data, settings.song_data, settings.log_jsonpath, settings.manifest_prefix)
    buckets = sorted({S3Location.parse(uri).bucket for uri in uris if uri})
    resources = [arn for bucket in buckets
                 for arn in (f"arn:{partition}:s3:::{bucket}", f"arn:{partition}:s3:::{bucket}/*")]
    return {"Version": "2012-10-17",
            "Statement": [{"Sid": "ReadSparkifySources", "Effect": "Allow",
                           "Action": ["s3:Get*", "s3:List*"], "Resource": resources}]}


def _as_list(value) -> list:
    return [value] if isinstance(value, str) else list(value or [])


def untrusted_principals(trust: dict) -> list[str]:
    """The Redshift services that the trust policy does not allow to assume the role."""
    trusted = {service for statement in trust.get("Statement", [])
               if statement.get("Effect") == "Allow"
               and "sts:AssumeRole" in _as_list(statement.get("Action"))
               for service in _as_list(statement.get("Principal", {}).get("Service"))}
    return [service for service in REDSHIFT_PRINCIPALS if service not in trusted]


def _add_trust(iam, name: str, trust: dict, missing: list[str]) -> str:
    """Add one statement trusting the missing services; the role's other statements stay."""
    document = {"Version": "2012-10-17", **trust,
                "Statement": [*trust.get("Statement", []), _trust_statement(missing)]}
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(document))
    return f"exists, trust in {' and '.join(missing)} added"


def ensure_role(iam, settings: Settings) -> Outcome:
    """Create or reuse the IAM role that Redshift assumes to read S3; `value` is its ARN."""
    name = settings.iam_role_name
    with aws_step(f"IAM role {name}"):
        try:
            role, action = iam.get_role(RoleName=name)["Role"], REUSED
            trust = role.get("AssumeRolePolicyDocument", {})
            missing = untrusted_principals(trust)
            if missing:
                action = _add_trust(iam, name, trust, missing)
        except ClientError as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_POLICY),
                                   Description="Sparkify ELT: Redshift COPY reads the S3 sources",
                                   Tags=TAGS)["Role"]
            action = CREATED
    return Outcome(f"IAM role {name}", action, role["Arn"])


def ensure_role_policy(iam, settings: Settings, role_arn: str) -> Outcome:
    """Give the role read-only S3 access: the inline least-privilege policy, or the managed one."""
    name = settings.iam_role_name
    partition = role_arn.split(":")[1]  # aws, aws-cn, aws-us-gov
    managed_arn = f"arn:{partition}:iam::aws:policy/{MANAGED_POLICY}"
    with aws_step(f"S3 policy of IAM role {name}"):
        if settings.s3_policy == "managed":
            removed = _delete_inline_policy(iam, name)
            action = _attach_managed_policy(iam, name, managed_arn)
            resource = f"policy {MANAGED_POLICY}"
        else:
            removed = _detach_policy(iam, name, managed_arn)
            action = _put_inline_policy(iam, name, s3_read_policy(settings, partition))
            resource = f"inline policy {INLINE_POLICY}"
    if removed:
        action += f"; removed {removed}"
    return Outcome(resource, action, name)


def _put_inline_policy(iam, role_name: str, document: dict) -> str:
    try:
        current = iam.get_role_policy(RoleName=role_name,
                                      PolicyName=INLINE_POLICY)["PolicyDocument"]
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        current = None
    if current == document:
        return REUSED
    iam.put_role_policy(RoleName=role_name, PolicyName=INLINE_POLICY,
                        PolicyDocument=json.dumps(document))
    return CREATED if current is None else "exists, updated to the configured buckets"


def _attached_arns(iam, role_name: str) -> list[str]:
    pages = iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name)
    return [p["PolicyArn"] for page in pages for p in page["AttachedPolicies"]]


def _attach_managed_policy(iam, role_name: str, arn: str) -> str:
    if arn in _attached_arns(iam, role_name):
        return REUSED
    iam.attach_role_policy(RoleName=role_name, PolicyArn=arn)
    return "attached"


def _detach_policy(iam, role_name: str, arn: str) -> str:
    if arn not in _attached_arns(iam, role_name):
        return ""
    iam.detach_role_policy(RoleName=role_name, PolicyArn=arn)
    return MANAGED_POLICY


def _delete_inline_policy(iam, role_name: str) -> str:
    if INLINE_POLICY not in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        return ""
    iam.delete_role_policy(RoleName=role_name, PolicyName=INLINE_POLICY)
    return f"inline policy {INLINE_POLICY}"


def delete_role_policies(iam, settings: Settings) -> Outcome:
    """Delete the role's inline policies and detach its managed ones."""
    name = settings.iam_role_name
    with aws_step(f"policies of IAM role {name}"):
        try:
            inline = iam.list_role_policies(RoleName=name)["PolicyNames"]
            attached = _attached_arns(iam, name)
        except ClientError as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            return Outcome(f"policies of IAM role {name}", GONE)
        for policy in inline:
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
        for arn in attached:
            iam.detach_role_policy(RoleName=name, PolicyArn=arn)
    removed = [*inline, *(arn.rsplit("/", 1)[-1] for arn in attached)]
    action = f"removed {', '.join(removed)}" if removed else GONE
    return Outcome(f"policies of IAM role {name}", action)


def delete_role(iam, settings: Settings) -> Outcome:
    """Delete the IAM role (possible once its policies are removed)."""
    name = settings.iam_role_name
    with aws_step(f"IAM role {name}"):
        try:
            iam.delete_role(RoleName=name)
        except ClientError as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            return Outcome(f"IAM role {name}", GONE)
    return Outcome(f"IAM role {name}", "deleted")
