"""Prefect tasks for provision and teardown: one per AWS step worth retrying or watching.

Each takes the Runtime, builds its boto3 clients from it, runs one idempotent step of
sparkify.aws.provision and logs what the step did.
"""

from __future__ import annotations

import logging

from prefect.exceptions import MissingContextError
from prefect.logging import get_run_logger

from sparkify.aws.provision import checks, iam, network
from sparkify.aws.provision.cluster import POLL_SECONDS
from sparkify.aws.provision.outcome import Outcome
from sparkify.runtime import Runtime
from tasks.retries import io_task, local_task


def _logger() -> logging.Logger | logging.LoggerAdapter:
    try:
        return get_run_logger()
    except MissingContextError:  # called through task.fn() in tests
        return logging.getLogger("sparkify.provisioning")


def _report(outcome: Outcome) -> Outcome:
    _logger().info("%s: %s", outcome.resource, outcome.action)
    return outcome


# ---- provision --------------------------------------------------------------------------

@local_task
def check_provision_settings(runtime: Runtime) -> None:
    """Validate dwh.cfg for provisioning before any AWS resource is touched."""
    checks.check_settings(runtime.settings)


@io_task
def ensure_role(runtime: Runtime) -> Outcome:
    """Create or reuse the IAM role that Redshift assumes to read S3."""
    return _report(iam.ensure_role(runtime.client("iam"), runtime.settings))


@io_task
def ensure_role_policy(runtime: Runtime, role: str) -> Outcome:
    """Give the role read-only S3 access: the inline least-privilege policy, or the managed one."""
    return _report(iam.ensure_role_policy(runtime.client("iam"), runtime.settings, role))


@io_task
def ensure_security_group(runtime: Runtime) -> Outcome:
    """Create or reuse the warehouse's own security group, in its VPC."""
    return _report(network.ensure_security_group(
        runtime.client("ec2"), runtime.settings, lambda: runtime.deployment.vpc_id(runtime.client)))


@io_task
def ensure_ingress_rule(runtime: Runtime, group_id: str) -> Outcome:
    """Allow the cluster port from INGRESS_CIDR only: add that rule, revoke any other CIDR."""
    return _report(network.ensure_ingress_rule(runtime.client("ec2"), runtime.settings, group_id))


@io_task
def announce_billable(runtime: Runtime) -> str:
    """Before anything billable is created: check what its creation needs (a workgroup's
    subnets), then say what will be created, and its price class per hour."""
    if runtime.deployment.exists(runtime.client):
        return ""
    runtime.deployment.check_creation(runtime.client)
    line = f"creating {runtime.deployment.price()}"
    _logger().info(line)
    print(line, flush=True)  # on the terminal before the creation starts, whatever the logging
    return line


@io_task
def ensure_warehouse(runtime: Runtime, role: str, group_id: str) -> list[Outcome]:
    """Create or reuse the cluster (or namespace and workgroup), role and group attached."""
    return [_report(o) for o in runtime.deployment.ensure(runtime.client, role, group_id,
                                                           _logger())]


@io_task
def wait_until_available(runtime: Runtime, poll_seconds: float = POLL_SECONDS) -> Outcome:
    """Wait until the warehouse is available with its role in sync; returns the endpoint."""
    return _report(runtime.deployment.wait_until_available(runtime.client, poll_seconds,
                                                           _logger()))


# ---- teardown ---------------------------------------------------------------------------

@io_task
def delete_warehouse(runtime: Runtime, poll_seconds: float = POLL_SECONDS) -> list[Outcome]:
    """Delete the cluster (or workgroup, then namespace), final snapshot if FINAL_SNAPSHOT is
    set, and wait until it is gone."""
    return [_report(o) for o in runtime.deployment.delete(runtime.client, poll_seconds,
                                                           _logger())]


@io_task
def revoke_ingress_rules(runtime: Runtime) -> Outcome:
    """Revoke every CIDR rule of the warehouse's security group."""
    return _report(network.revoke_ingress_rules(runtime.client("ec2"), runtime.settings))


@io_task
def delete_security_group(runtime: Runtime) -> Outcome:
    """Delete the warehouse's security group (possible once the warehouse is gone)."""
    return _report(network.delete_security_group(runtime.client("ec2"), runtime.settings))


@io_task
def delete_role_policies(runtime: Runtime) -> Outcome:
    """Delete the role's inline policies and detach its managed ones."""
    return _report(iam.delete_role_policies(runtime.client("iam"), runtime.settings))


@io_task
def delete_role(runtime: Runtime) -> Outcome:
    """Delete the IAM role (its policies are removed first)."""
    return _report(iam.delete_role(runtime.client("iam"), runtime.settings))
