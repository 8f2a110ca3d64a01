"""The Redshift cluster: create it or reuse it (attach, resume), wait for it, delete it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from botocore.exceptions import ClientError

from sparkify.aws.provision import TAGS
from sparkify.aws.provision.outcome import AVAILABLE, CREATED, GONE, REUSED, Outcome, aws_step
from sparkify.aws.session import error_code
from sparkify.config import Settings
from sparkify.errors import ProvisioningError

POLL_SECONDS = 15.0
Log = logging.Logger | logging.LoggerAdapter
LOG = logging.getLogger(__name__)


def describe_cluster(redshift, identifier: str) -> dict | None:
    """The cluster's description, or None when it does not exist."""
    try:
        return redshift.describe_clusters(ClusterIdentifier=identifier)["Clusters"][0]
    except ClientError as exc:
        if error_code(exc) == "ClusterNotFound":
            return None
        raise


def node_count(settings: Settings) -> int:
    return settings.num_nodes if settings.cluster_type == "multi-node" else 1


@contextmanager
def botocore_quiet() -> Iterator[None]:
    """botocore logs request parameters at DEBUG: keep the master password out of any log."""
    logger = logging.getLogger("botocore")
    previous = logger.level
    logger.setLevel(max(logging.INFO, logger.getEffectiveLevel()))
    try:
        yield
    finally:
        logger.setLevel(previous)


def create_cluster_params(settings: Settings, role_arn: str, group_id: str) -> dict:
    """CreateCluster's parameters: the admin password is AWS's own unless the user opts out."""
    params = {
        "ClusterIdentifier": settings.cluster_identifier, "ClusterType": settings.cluster_type,
        "NodeType": settings.node_type, "NumberOfNodes": settings.num_nodes,
        "DBName": settings.db_name, "MasterUsername": settings.db_user, "Port": settings.port,
        "IamRoles": [role_arn], "VpcSecurityGroupIds": [group_id], "Encrypted": True,
        "PubliclyAccessible": settings.publicly_accessible, "Tags": TAGS,
    }
    if settings.cluster_type == "single-node":
        del params["NumberOfNodes"]
    if settings.manage_admin_password:  # AWS generates it and keeps it in Secrets Manager
        params["ManageMasterPassword"] = True
    else:
        params["MasterUserPassword"] = settings.db_password
    return params


def _create_cluster(redshift, settings: Settings, role_arn: str, group_id: str) -> None:
    with botocore_quiet():
        redshift.create_cluster(**create_cluster_params(settings, role_arn, group_id))


def _differences(cluster: dict, settings: Settings) -> list[str]:
    wanted = node_count(settings)
    found = []
    if cluster.get("NodeType") != settings.node_type or cluster.get("NumberOfNodes") != wanted:
        found.append(f"{cluster.get('NumberOfNodes')} x {cluster.get('NodeType')} instead of "
                     f"{wanted} x {settings.node_type}")
    if not cluster.get("Encrypted"):
        found.append("not encrypted")
    return found


def _reuse_cluster(redshift, cluster: dict, settings: Settings, role_arn: str, group_id: str,
                   log: Log) -> str:
    """Attach what is missing to an existing cluster; returns what was done."""
    identifier, status = settings.cluster_identifier, cluster.get("ClusterStatus")
    if status == "deleting":
        raise ProvisioningError(f"cluster {identifier} is being deleted: run provision again "
                                "once teardown has finished")
    done = []
    if role_arn not in [r.get("IamRoleArn") for r in cluster.get("IamRoles", [])]:
        redshift.modify_cluster_iam_roles(ClusterIdentifier=identifier, AddIamRoles=[role_arn])
        done.append("role attached")
    groups = [g["VpcSecurityGroupId"] for g in cluster.get("VpcSecurityGroups", [])]
    if group_id not in groups:
        redshift.modify_cluster(ClusterIdentifier=identifier,
                                VpcSecurityGroupIds=groups + [group_id])
        done.append("security group attached")
    if status == "paused":
        redshift.resume_cluster(ClusterIdentifier=identifier)
        done.append("resumed")
    for difference in _differences(cluster, settings):
        log.warning("cluster %s exists with %s: reused as it is (resize it, or tear down "
                    "and provision again)", identifier, difference)
    return "exists, " + ", ".join(done) if done else REUSED


def ensure_cluster(redshift, settings: Settings, role_arn: str, group_id: str, *,
                   log: Log = LOG) -> Outcome:
    """Create or reuse the encrypted cluster, with the IAM role and security group attached."""
    identifier = settings.cluster_identifier
    resource = f"cluster {identifier} ({node_count(settings)} x {settings.node_type})"
    with aws_step(f"cluster {identifier}"):
        cluster = describe_cluster(redshift, identifier)
        if cluster is None:
            _create_cluster(redshift, settings, role_arn, group_id)
            action = CREATED
        else:
            action = _reuse_cluster(redshift, cluster, settings, role_arn, group_id, log)
    return Outcome(resource, action, identifier)


def cluster_state(cluster: dict | None) -> str:
    """'available' once the cluster and its IAM roles are ready; 'gone' when it is deleted."""
    if cluster is None:
        return "gone"
    status = cluster.get("ClusterStatus", "unknown")
    pending = [r.get("ApplyStatus") for r in cluster.get("IamRoles", [])
               if r.get("ApplyStatus") != "in-sync"]
    return f"{status}, IAM role {pending[0]}" if status == AVAILABLE and pending else status


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def poll_until(state_of: Callable[[], str], target: str, *, what: str, timeout: float,
               interval: float, log: Log, sleep: Callable[[float], None] = time.sleep,
               clock: Callable[[], float] = time.monotonic) -> None:
    """Call `state_of` until it returns `target`, logging progress; one-line error on timeout."""
    started = clock()
    while True:
        state, waited = state_of(), clock() - started
        if state == target:
            return
        if waited >= timeout:
            raise ProvisioningError(
                f"{what}: still {state} after {_duration(waited)}, not {target} "
                f"(timeout {_duration(timeout)}: raise [DWH] AVAILABLE_TIMEOUT or run again)")
        log.info("%s: %s, waited %s of %s", what, state, _duration(waited), _duration(timeout))
        sleep(max(min(interval, timeout - waited), 0.0))


def _poll_cluster(redshift, settings: Settings, target: str, interval: float, log: Log) -> None:
    identifier = settings.cluster_identifier
    poll_until(lambda: cluster_state(describe_cluster(redshift, identifier)), target,
               what=f"cluster {identifier}", timeout=settings.available_timeout,
               interval=interval, log=log)


def wait_until_available(redshift, settings: Settings, *, interval: float = POLL_SECONDS,
                         log: Log = LOG) -> Outcome:
    """Wait until the cluster is available with its role in sync; `value` is its endpoint."""
    identifier = settings.cluster_identifier
    with aws_step(f"cluster {identifier}"):
        _poll_cluster(redshift, settings, AVAILABLE, interval, log)
        endpoint = describe_cluster(redshift, identifier)["Endpoint"]
    return Outcome(f"cluster {identifier}", AVAILABLE, f"{endpoint['Address']}:{endpoint['Port']}")


def delete_cluster(redshift, settings: Settings, *, interval: float = POLL_SECONDS,
                   log: Log = LOG) -> Outcome:
    """Delete the cluster (final snapshot if FINAL_SNAPSHOT is set) and wait until it is gone."""
    identifier, snapshot = settings.cluster_identifier, settings.final_snapshot
    with aws_step(f"cluster {identifier}"):
        cluster = describe_cluster(redshift, identifier)
        if cluster is None:
            return Outcome(f"cluster {identifier}", GONE)
        action = "deletion already under way"
        if cluster.get("ClusterStatus") != "deleting":
            params = {"FinalClusterSnapshotIdentifier": snapshot} if snapshot else {}
            redshift.delete_cluster(ClusterIdentifier=identifier,
                                    SkipFinalClusterSnapshot=not snapshot, **params)
            kept = f"final snapshot {snapshot}" if snapshot else "no final snapshot"
            action = f"deleted ({kept})"
        _poll_cluster(redshift, settings, "gone", interval, log)
    return Outcome(f"cluster {identifier}", action)
