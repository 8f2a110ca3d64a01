"""AWS provisioning and teardown: IAM role and its S3 policy, security group, cluster.

Every task is idempotent: it looks before it acts, changes only what differs, and says which
it did ("created", "exists, reused", "already gone"). Tasks take the dwh.cfg path and build
their own boto3 clients, which honour AWS_ENDPOINT_URL and the standard credential chain.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from prefect import task
from prefect.cache_policies import NONE
from prefect.exceptions import MissingContextError
from prefect.logging import get_run_logger

from sparkify.config import PASSWORD_ENV, Settings, load_settings
from sparkify.errors import ConfigError, ProvisioningError
from sparkify.aws import aws_client, describe_aws_error, error_code
from sparkify.storage import S3Location
from tasks.retries import IO_RETRIES, IO_RETRY_DELAYS, retry_on_transient

CREATED, REUSED, GONE, AVAILABLE = "created", "exists, reused", "already gone", "available"
UNCHANGED = frozenset({REUSED, GONE, AVAILABLE})
INLINE_POLICY = "sparkify-s3-read"
MANAGED_POLICY = "AmazonS3ReadOnlyAccess"
POLL_SECONDS = 15.0
RULE_DESCRIPTION = "sparkify: Redshift port from INGRESS_CIDR"
TAGS = [{"Key": "project", "Value": "sparkify"},
        {"Key": "managed-by", "Value": "sparkify flows/provision.py"}]
TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "redshift.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}
# Redshift's master password rules, checked before anything is created.
PASSWORD_RULE = re.compile(r"^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)[!#-&(-.0-?A-\[\]-~]{8,64}$")

aws_task = task(cache_policy=NONE, retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAYS,
                retry_condition_fn=retry_on_transient)


# ---- outcomes ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    """What one step found or did to one resource; `value` carries an ARN, id or endpoint."""

    resource: str
    action: str
    value: str = ""

    @property
    def changed(self) -> bool:
        return self.action not in UNCHANGED


@dataclass(frozen=True)
class Summary:
    """The printed result of provision or teardown."""

    title: str
    steps: list[Outcome]
    footer: list[str]

    def text(self) -> str:
        width = max(len(step.resource) for step in self.steps)
        lines = [self.title] + [f"  {s.resource:<{width}}  {s.action}" for s in self.steps]
        return "\n".join(lines + [""] + self.footer)


def provision_summary(steps: list[Outcome], *, role_arn: str, endpoint: str,
                      config: str) -> Summary:
    """What provision did, the endpoint and role ARN, and what to run next."""
    footer = [] if any(s.changed for s in steps) else \
        ["nothing changed: every resource already existed as configured", ""]
    footer += [f"endpoint: {endpoint}", f"role ARN: {role_arn}", "",
               f"next:     python flows/main.py --config {config}",
               (f"cost:     the cluster bills per node-hour until "
                f"python flows/teardown.py --config {config}")]
    return Summary("Sparkify on AWS: provisioned", steps, footer)


def teardown_summary(steps: list[Outcome], config: str) -> Summary:
    """What teardown deleted, and what (a final snapshot) is deliberately kept."""
    footer = ["deleted: nothing is left that bills by the hour"] if any(s.changed for s in steps) \
        else ["nothing to delete: everything was already gone"]
    snapshot = load_settings(config).final_snapshot
    if snapshot:
        footer.append(f"kept: final snapshot {snapshot} "
                      "(its storage is billed until you delete it)")
    return Summary("Sparkify on AWS: torn down", steps, footer)


def _logger() -> logging.Logger | logging.LoggerAdapter:
    try:
        return get_run_logger()
    except MissingContextError:  # called through task.fn() in tests
        return logging.getLogger("sparkify.provisioning")


def _report(outcome: Outcome) -> Outcome:
    _logger().info("%s: %s", outcome.resource, outcome.action)
    return outcome


@contextmanager
def aws_step(what: str) -> Iterator[None]:
    """Turn an AWS failure into one ProvisioningError line naming the step."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise ProvisioningError(f"{what}: {describe_aws_error(exc)}") from exc


# ---- settings checks --------------------------------------------------------------------

def ingress_network(settings: Settings) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """INGRESS_CIDR as a network; the whole internet only with ALLOW_PUBLIC_INGRESS."""
    cidr = settings.ingress_cidr
    if not cidr:
        raise ConfigError("[DWH] INGRESS_CIDR is empty: set the one CIDR allowed to reach the "
                          "cluster, e.g. your public address as 203.0.113.7/32")
    try:
        network = ipaddress.ip_network(cidr, strict=True)
    except ValueError as exc:
        raise ConfigError(f"[DWH] INGRESS_CIDR = {cidr!r} is not a CIDR ({exc})") from None
    if network.prefixlen == 0 and not settings.allow_public_ingress:
        raise ConfigError(f"[DWH] INGRESS_CIDR = {cidr} opens the cluster port to the whole "
                          "internet: refused unless [DWH] ALLOW_PUBLIC_INGRESS = true")
    return network


def check_settings(settings: Settings) -> None:
    """Refuse, before any AWS call, settings that would fail or be unsafe half-way."""
    ingress_network(settings)
    if settings.s3_policy not in ("inline", "managed"):
        raise ConfigError(f"[DWH] S3_POLICY = {settings.s3_policy!r}: expected inline or managed")
    if settings.cluster_type not in ("multi-node", "single-node"):
        raise ConfigError(f"[DWH] CLUSTER_TYPE = {settings.cluster_type!r}: expected "
                          "multi-node or single-node")
    if settings.cluster_type == "multi-node" and settings.num_nodes < 2:
        raise ConfigError("[DWH] NUM_NODES must be 2 or more for a multi-node cluster")
    if not settings.db_password:
        raise ConfigError(f"no database password: set {PASSWORD_ENV} (or [DWH] DB_PASSWORD)")
    if not PASSWORD_RULE.match(settings.db_password):
        raise ConfigError("the database password does not meet Redshift's rules: 8-64 printable "
                          "ASCII characters with an upper-case letter, a lower-case letter and a "
                          "digit, and none of ' \" \\ / @ or space")


@task(cache_policy=NONE)
def check_provision_settings(config: str) -> None:
    """Validate dwh.cfg for provisioning before any AWS resource is touched."""
    check_settings(load_settings(config))


# ---- IAM role ---------------------------------------------------------------------------

def s3_read_policy(settings: Settings, partition: str = "aws") -> dict:
    """Least privilege: s3:Get*/s3:List* on the source buckets (and the manifest bucket)."""
    uris = (settings.log_data, settings.song_data, settings.log_jsonpath, settings.manifest_prefix)
    buckets = sorted({S3Location.parse(uri).bucket for uri in uris if uri})
    resources = [arn for bucket in buckets
                 for arn in (f"arn:{partition}:s3:::{bucket}", f"arn:{partition}:s3:::{bucket}/*")]
    return {"Version": "2012-10-17",
            "Statement": [{"Sid": "ReadSparkifySources", "Effect": "Allow",
                           "Action": ["s3:Get*", "s3:List*"], "Resource": resources}]}


def _trusts_redshift(role: dict) -> bool:
    for statement in role.get("AssumeRolePolicyDocument", {}).get("Statement", []):
        services = statement.get("Principal", {}).get("Service", [])
        services = [services] if isinstance(services, str) else services
        if statement.get("Effect") == "Allow" and "redshift.amazonaws.com" in services:
            return True
    return False


@aws_task
def ensure_role(config: str) -> Outcome:
    """Create or reuse the IAM role that Redshift assumes to read S3."""
    settings = load_settings(config)
    iam, name = aws_client("iam", settings.region), settings.iam_role_name
    with aws_step(f"IAM role {name}"):
        try:
            role, action = iam.get_role(RoleName=name)["Role"], REUSED
            if not _trusts_redshift(role):
                iam.update_assume_role_policy(RoleName=name,
                                              PolicyDocument=json.dumps(TRUST_POLICY))
                action = "exists, trust in redshift.amazonaws.com restored"
        except ClientError as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_POLICY),
                                   Description="Sparkify ELT: Redshift COPY reads the S3 sources",
                                   Tags=TAGS)["Role"]
            action = CREATED
    return _report(Outcome(f"IAM role {name}", action, role["Arn"]))


@aws_task
def ensure_role_policy(config: str, role: str) -> Outcome:
    """Give the role read-only S3 access: the inline least-privilege policy, or the managed one."""
    settings = load_settings(config)
    iam, name = aws_client("iam", settings.region), settings.iam_role_name
    partition = role.split(":")[1]  # aws, aws-cn, aws-us-gov
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
    return _report(Outcome(resource, action, name))


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


# ---- security group and ingress ---------------------------------------------------------

def group_name(settings: Settings) -> str:
    return f"{settings.cluster_identifier}-redshift-ingress"


def describe_cluster(redshift, identifier: str) -> dict | None:
    """The cluster's description, or None when it does not exist."""
    try:
        return redshift.describe_clusters(ClusterIdentifier=identifier)["Clusters"][0]
    except ClientError as exc:
        if error_code(exc) == "ClusterNotFound":
            return None
        raise


def _default_vpc(ec2, region: str) -> str:
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    if not vpcs:
        raise ProvisioningError(f"no default VPC in {region}: create one "
                                "(aws ec2 create-default-vpc) or use a region that has one")
    return vpcs[0]["VpcId"]


def _groups_named(ec2, name: str, vpc_id: str | None = None) -> list[str]:
    filters = [{"Name": "group-name", "Values": [name]}]
    if vpc_id:
        filters.append({"Name": "vpc-id", "Values": [vpc_id]})
    groups = ec2.describe_security_groups(Filters=filters)["SecurityGroups"]
    return [group["GroupId"] for group in groups]


@aws_task
def ensure_security_group(config: str) -> Outcome:
    """Create or reuse the cluster's own security group, in the cluster's VPC."""
    settings = load_settings(config)
    ec2, name = aws_client("ec2", settings.region), group_name(settings)
    with aws_step(f"security group {name}"):
        cluster = describe_cluster(aws_client("redshift", settings.region),
                                   settings.cluster_identifier)
        vpc_id = (cluster or {}).get("VpcId") or _default_vpc(ec2, settings.region)
        existing = _groups_named(ec2, name, vpc_id)
        if existing:
            return _report(Outcome(f"security group {name}", REUSED, existing[0]))
        group_id = ec2.create_security_group(
            GroupName=name, VpcId=vpc_id,
            Description="Sparkify Redshift: cluster port from INGRESS_CIDR only",
            TagSpecifications=[{"ResourceType": "security-group", "Tags": TAGS}],
        )["GroupId"]
    return _report(Outcome(f"security group {name}", f"{CREATED} in {vpc_id}", group_id))


def _permission(port: int, network) -> dict:
    ranges, key = ("Ipv6Ranges", "CidrIpv6") if network.version == 6 else ("IpRanges", "CidrIp")
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
            ranges: [{key: str(network), "Description": RULE_DESCRIPTION}]}


def _ip_rules(permissions: list[dict]) -> Iterator[tuple[dict, str, str]]:
    """(permission, ranges key, cidr) for every CIDR rule of a group."""
    for permission in permissions:
        for ranges, key in (("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6")):
            for item in permission.get(ranges, []):
                yield permission, ranges, item[key]


def _revocation(permission: dict, ranges: str, cidr: str) -> dict:
    key = "CidrIpv6" if ranges == "Ipv6Ranges" else "CidrIp"
    fields = {k: permission[k] for k in ("IpProtocol", "FromPort", "ToPort") if k in permission}
    return {**fields, ranges: [{key: cidr}]}


def _is_wanted(permission: dict, cidr: str, port: int, network) -> bool:
    return (permission.get("IpProtocol") == "tcp" and permission.get("FromPort") == port
            and permission.get("ToPort") == port and cidr == str(network))


@aws_task
def ensure_ingress_rule(config: str, group_id: str) -> Outcome:
    """Allow the cluster port from INGRESS_CIDR only: add that rule, revoke any other CIDR."""
    settings = load_settings(config)
    network, port = ingress_network(settings), settings.port
    ec2 = aws_client("ec2", settings.region)
    resource = f"ingress tcp {port} from {network}"
    with aws_step(resource):
        group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
        rules = list(_ip_rules(group.get("IpPermissions", [])))
        stale = [_revocation(p, r, c) for p, r, c in rules if not _is_wanted(p, c, port, network)]
        if stale:
            ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=stale)
        action = REUSED
        if not any(_is_wanted(p, c, port, network) for p, _, c in rules):
            ec2.authorize_security_group_ingress(GroupId=group_id,
                                                 IpPermissions=[_permission(port, network)])
            action = CREATED
    if stale:
        action += f"; revoked {len(stale)} other rule(s)"
    return _report(Outcome(resource, action, group_id))


# ---- cluster ----------------------------------------------------------------------------

@contextmanager
def _botocore_quiet() -> Iterator[None]:
    """botocore logs request parameters at DEBUG: keep the master password out of any log."""
    logger = logging.getLogger("botocore")
    previous = logger.level
    logger.setLevel(max(logging.INFO, logger.getEffectiveLevel()))
    try:
        yield
    finally:
        logger.setLevel(previous)


def _create_cluster(redshift, settings: Settings, role: str, group_id: str) -> None:
    params = {
        "ClusterIdentifier": settings.cluster_identifier, "ClusterType": settings.cluster_type,
        "NodeType": settings.node_type, "NumberOfNodes": settings.num_nodes,
        "DBName": settings.db_name, "MasterUsername": settings.db_user,
        "MasterUserPassword": settings.db_password, "Port": settings.port, "IamRoles": [role],
        "VpcSecurityGroupIds": [group_id], "Encrypted": True,
        "PubliclyAccessible": settings.publicly_accessible, "Tags": TAGS,
    }
    if settings.cluster_type == "single-node":
        del params["NumberOfNodes"]
    with _botocore_quiet():
        redshift.create_cluster(**params)


def _differences(cluster: dict, settings: Settings) -> list[str]:
    wanted = settings.num_nodes if settings.cluster_type == "multi-node" else 1
    found = []
    if cluster.get("NodeType") != settings.node_type or cluster.get("NumberOfNodes") != wanted:
        found.append(f"{cluster.get('NumberOfNodes')} x {cluster.get('NodeType')} instead of "
                     f"{wanted} x {settings.node_type}")
    if not cluster.get("Encrypted"):
        found.append("not encrypted")
    return found


def _reuse_cluster(redshift, cluster: dict, settings: Settings, role: str, group_id: str) -> str:
    """Attach what is missing to an existing cluster; returns what was done."""
    identifier, status = settings.cluster_identifier, cluster.get("ClusterStatus")
    if status == "deleting":
        raise ProvisioningError(f"cluster {identifier} is being deleted: run provision again "
                                "once teardown has finished")
    done = []
    if role not in [r.get("IamRoleArn") for r in cluster.get("IamRoles", [])]:
        redshift.modify_cluster_iam_roles(ClusterIdentifier=identifier, AddIamRoles=[role])
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
        _logger().warning("cluster %s exists with %s: reused as it is (resize it, or tear down "
                          "and provision again)", identifier, difference)
    return "exists, " + ", ".join(done) if done else REUSED


@aws_task
def ensure_cluster(config: str, role: str, group_id: str) -> Outcome:
    """Create or reuse the encrypted cluster, with the IAM role and security group attached."""
    settings = load_settings(config)
    redshift, identifier = aws_client("redshift", settings.region), settings.cluster_identifier
    nodes = settings.num_nodes if settings.cluster_type == "multi-node" else 1
    resource = f"cluster {identifier} ({nodes} x {settings.node_type})"
    with aws_step(f"cluster {identifier}"):
        cluster = describe_cluster(redshift, identifier)
        if cluster is None:
            _create_cluster(redshift, settings, role, group_id)
            action = CREATED
        else:
            action = _reuse_cluster(redshift, cluster, settings, role, group_id)
    return _report(Outcome(resource, action, identifier))


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
               interval: float, log: logging.Logger | logging.LoggerAdapter,
               sleep: Callable[[float], None] = time.sleep,
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


@aws_task
def wait_until_available(config: str, poll_seconds: float = POLL_SECONDS) -> Outcome:
    """Wait until the cluster is available with its role in sync; returns the endpoint."""
    settings = load_settings(config)
    redshift, identifier = aws_client("redshift", settings.region), settings.cluster_identifier
    with aws_step(f"cluster {identifier}"):
        poll_until(lambda: cluster_state(describe_cluster(redshift, identifier)), AVAILABLE,
                   what=f"cluster {identifier}", timeout=settings.available_timeout,
                   interval=poll_seconds, log=_logger())
        endpoint = describe_cluster(redshift, identifier)["Endpoint"]
    return _report(Outcome(f"cluster {identifier}", AVAILABLE,
                           f"{endpoint['Address']}:{endpoint['Port']}"))


# ---- teardown ---------------------------------------------------------------------------

@aws_task
def delete_cluster(config: str, poll_seconds: float = POLL_SECONDS) -> Outcome:
    """Delete the cluster (final snapshot if FINAL_SNAPSHOT is set) and wait until it is gone."""
    settings = load_settings(config)
    redshift, identifier = aws_client("redshift", settings.region), settings.cluster_identifier
    snapshot = settings.final_snapshot
    with aws_step(f"cluster {identifier}"):
        cluster = describe_cluster(redshift, identifier)
        if cluster is None:
            return _report(Outcome(f"cluster {identifier}", GONE))
        action = "deletion already under way"
        if cluster.get("ClusterStatus") != "deleting":
            params = {"FinalClusterSnapshotIdentifier": snapshot} if snapshot else {}
            redshift.delete_cluster(ClusterIdentifier=identifier,
                                    SkipFinalClusterSnapshot=not snapshot, **params)
            kept = f"final snapshot {snapshot}" if snapshot else "no final snapshot"
            action = f"deleted ({kept})"
        poll_until(lambda: cluster_state(describe_cluster(redshift, identifier)), "gone",
                   what=f"cluster {identifier}", timeout=settings.available_timeout,
                   interval=poll_seconds, log=_logger())
    return _report(Outcome(f"cluster {identifier}", action))


@aws_task
def revoke_ingress_rules(config: str) -> Outcome:
    """Revoke every CIDR rule of the cluster's security group."""
    settings = load_settings(config)
    ec2, name = aws_client("ec2", settings.region), group_name(settings)
    revoked = 0
    with aws_step(f"ingress rules of {name}"):
        for group_id in _groups_named(ec2, name):
            group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
            rules = [_revocation(p, r, c) for p, r, c in _ip_rules(group.get("IpPermissions", []))]
            if rules:
                ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=rules)
                revoked += len(rules)
    return _report(Outcome(f"ingress rules of {name}", f"revoked {revoked}" if revoked else GONE))


@aws_task
def delete_security_group(config: str) -> Outcome:
    """Delete the cluster's security group (possible once the cluster is gone)."""
    settings = load_settings(config)
    ec2, name = aws_client("ec2", settings.region), group_name(settings)
    with aws_step(f"security group {name}"):
        groups = _groups_named(ec2, name)
        for group_id in groups:
            try:
                ec2.delete_security_group(GroupId=group_id)
            except ClientError as exc:
                if error_code(exc) != "DependencyViolation":
                    raise
                raise ProvisioningError(f"security group {name} is still in use (the cluster's "
                                        "network interfaces linger for a few minutes after "
                                        "deletion): run teardown again shortly") from None
    return _report(Outcome(f"security group {name}", "deleted" if groups else GONE))


@aws_task
def delete_role_policies(config: str) -> Outcome:
    """Delete the role's inline policies and detach its managed ones."""
    settings = load_settings(config)
    iam, name = aws_client("iam", settings.region), settings.iam_role_name
    with aws_step(f"policies of IAM role {name}"):
        try:
            inline = iam.list_role_policies(RoleName=name)["PolicyNames"]
            attached = _attached_arns(iam, name)
        except ClientError as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            return _report(Outcome(f"policies of IAM role {name}", GONE))
        for policy in inline:
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
        for arn in attached:
            iam.detach_role_policy(RoleName=name, PolicyArn=arn)
    removed = [*inline, *(arn.rsplit("/", 1)[-1] for arn in attached)]
    action = f"removed {', '.join(removed)}" if removed else GONE
    return _report(Outcome(f"policies of IAM role {name}", action))


@aws_task
def delete_role(config: str) -> Outcome:
    """Delete the IAM role (its policies are removed first)."""
    settings = load_settings(config)
    iam, name = aws_client("iam", settings.region), settings.iam_role_name
    with aws_step(f"IAM role {name}"):
        try:
            iam.delete_role(RoleName=name)
        except ClientError as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            return _report(Outcome(f"IAM role {name}", GONE))
    return _report(Outcome(f"IAM role {name}", "deleted"))
