"""Redshift look-ups the runtime makes once per run: the endpoint and the role's ARN.

`client(service)` builds a boto3 client; it is called only when settings leave a value empty.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sparkify.aws.session import describe_aws_error, error_code
from sparkify.config import Settings
from sparkify.errors import ConfigError, WarehouseError


def cluster_endpoint(settings: Settings, client: Callable[[str], Any]) -> tuple[str, int]:
    """(host, port) of the configured cluster, from settings or describe_clusters."""
    if settings.host:
        return settings.host, settings.port
    try:
        clusters = client("redshift").describe_clusters(
            ClusterIdentifier=settings.cluster_identifier)["Clusters"]
    except (ClientError, BotoCoreError) as exc:
        if error_code(exc) == "ClusterNotFound":
            raise ConfigError(
                f"Redshift cluster '{settings.cluster_identifier}' not found in "
                f"{settings.region}: run flows/provision.py, or set [DWH] HOST") from None
        raise WarehouseError(f"cannot look up cluster '{settings.cluster_identifier}': "
                             f"{describe_aws_error(exc)}") from exc
    endpoint, status = clusters[0].get("Endpoint") or {}, clusters[0].get("ClusterStatus")
    if status in ("paused", "pausing"):
        raise WarehouseError(
            f"Redshift cluster '{settings.cluster_identifier}' is {status}: resume it (python "
            f"flows/provision.py resumes it, or aws redshift resume-cluster --cluster-identifier "
            f"{settings.cluster_identifier}) and run again")
    if status != "available" or not endpoint.get("Address"):
        raise WarehouseError(f"Redshift cluster '{settings.cluster_identifier}' is {status}, "
                             "not available: wait for it, or see the Redshift console")
    return endpoint["Address"], int(endpoint.get("Port") or settings.port)


def workgroup_endpoint(settings: Settings, client: Callable[[str], Any]) -> tuple[str, int]:
    """(host, port) of the configured Serverless workgroup, from settings or get_workgroup."""
    if settings.host:
        return settings.host, settings.port
    name = settings.workgroup
    try:
        workgroup = client("redshift-serverless").get_workgroup(workgroupName=name)["workgroup"]
    except (ClientError, BotoCoreError) as exc:
        if error_code(exc) == "ResourceNotFoundException":
            raise ConfigError(f"Redshift Serverless workgroup '{name}' not found in "
                              f"{settings.region}: run flows/provision.py, or set [DWH] HOST") from None
        raise WarehouseError(f"cannot look up workgroup '{name}': {describe_aws_error(exc)}") from exc
    endpoint = workgroup.get("endpoint") or {}
    if workgroup.get("status") != "AVAILABLE" or not endpoint.get("address"):
        raise WarehouseError(f"Redshift Serverless workgroup '{name}' is "
                             f"{str(workgroup.get('status')).lower()}, not available: wait for it")
    return endpoint["address"], int(endpoint.get("port") or settings.port)


def role_arn(settings: Settings, client: Callable[[str], Any]) -> str:
    """The ARN of the role COPY assumes, from settings or iam get_role."""
    if settings.role_arn:
        return settings.role_arn
    try:
        return client("iam").get_role(RoleName=settings.iam_role_name)["Role"]["Arn"]
    except (ClientError, BotoCoreError) as exc:
        if error_code(exc) == "NoSuchEntity":
            raise ConfigError(f"IAM role '{settings.iam_role_name}' not found: run "
                              "flows/provision.py, or set [DWH] ROLE_ARN") from None
        raise WarehouseError(f"cannot look up role '{settings.iam_role_name}': "
                             f"{describe_aws_error(exc)}") from exc
