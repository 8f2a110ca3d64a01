"""Redshift Serverless: the namespace (database, admin user, IAM role) and the workgroup
(compute, endpoint, security group): create or reuse them, wait for them, delete them
(workgroup first: a namespace cannot go while a workgroup uses it)."""

from __future__ import annotations

import re

from botocore.exceptions import ClientError

from sparkify.aws.provision import TAGS
from sparkify.aws.provision.cluster import LOG, POLL_SECONDS, Log, botocore_quiet, poll_until
from sparkify.aws.provision.outcome import AVAILABLE, CREATED, GONE, REUSED, Outcome, aws_step
from sparkify.aws.session import error_code
from sparkify.config import Settings
from sparkify.errors import ProvisioningError

SERVERLESS_TAGS = [{"key": tag["Key"], "value": tag["Value"]} for tag in TAGS]
_ARN = re.compile(r"arn:[^,)\s]+")


def get_namespace(rs, name: str) -> dict | None:
    try:
        return rs.get_namespace(namespaceName=name)["namespace"]
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise


def get_workgroup(rs, name: str) -> dict | None:
    try:
        return rs.get_workgroup(workgroupName=name)["workgroup"]
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise


def role_arns(namespace: dict) -> list[str]:
    """The namespace's role ARNs (GetNamespace gives each as 'IamRole(applyStatus=..,
    iamRoleArn=arn:...)' text, or as the bare ARN)."""
    return [match for entry in namespace.get("iamRoles", []) for match in _ARN.findall(entry)]


def ensure_namespace(rs, settings: Settings, role_arn: str) -> Outcome:
    """Create or reuse the namespace, with the read-only role attached (and its default)."""
    name = settings.namespace
    resource = f"namespace {name} (database {settings.db_name})"
    with aws_step(f"namespace {name}"):
        namespace = get_namespace(rs, name)
        if namespace is None:
            admin = {"manageAdminPassword": True} if settings.manage_admin_password \
                else {"adminUserPassword": settings.db_password}
            with botocore_quiet():
                rs.create_namespace(namespaceName=name, dbName=settings.db_name,
                                    adminUsername=settings.db_user, iamRoles=[role_arn],
                                    defaultIamRoleArn=role_arn, tags=SERVERLESS_TAGS, **admin)
            return Outcome(resource, CREATED, name)
        if namespace.get("status") == "DELETING":
            raise ProvisioningError(f"namespace {name} is being deleted: run provision again "
                                    "once teardown has finished")
        if role_arn in role_arns(namespace):
            return Outcome(resource, REUSED, name)
        rs.update_namespace(namespaceName=name, iamRoles=[*role_arns(namespace), role_arn],
                            defaultIamRoleArn=role_arn)
    return Outcome(resource, "exists, role attached", name)


def ensure_workgroup(rs, settings: Settings, group_id: str, subnet_ids: list[str], *,
                     interval: float = POLL_SECONDS, log: Log = LOG) -> Outcome:
    """Create or reuse the workgroup: public only with INGRESS_CIDR, in the one security group."""
    name, public = settings.workgroup, bool(settings.ingress_cidr)
    resource = f"workgroup {name} ({settings.base_capacity} RPUs base)"
    with aws_step(f"workgroup {name}"):
        workgroup = get_workgroup(rs, name)
        if workgroup is None:
            rs.create_workgroup(workgroupName=name, namespaceName=settings.namespace,
                                baseCapacity=settings.base_capacity, publiclyAccessible=public,
                                securityGroupIds=[group_id], subnetIds=subnet_ids,
                                port=settings.port, tags=SERVERLESS_TAGS)
            return Outcome(resource, CREATED, name)
        if workgroup.get("status") == "DELETING":
            raise ProvisioningError(f"workgroup {name} is being deleted: run provision again "
                                    "once teardown has finished")
        changes = _workgroup_changes(workgroup, group_id, public)
        _update_workgroup(rs, settings, changes, interval, log)
    if workgroup.get("baseCapacity") != settings.base_capacity:
        log.warning("workgroup %s exists with %s RPUs base instead of %s: reused as it is "
                    "(aws redshift-serverless update-workgroup --base-capacity changes it)",
                    name, workgroup.get("baseCapacity"), settings.base_capacity)
    done = {"securityGroupIds": "security group attached",
            "publiclyAccessible": f"made {'public' if public else 'private'}"}
    return Outcome(resource, "exists, " + ", ".join(done[k] for k in changes) if changes
                   else REUSED, name)


def _update_workgroup(rs, settings: Settings, changes: dict, interval: float, log: Log) -> None:
    """One UpdateWorkgroup per change: the API reference of UpdateWorkgroup allows one
    parameter per request. Between two, a precaution: wait until the workgroup is available
    again, since an update is applied after the request returns."""
    name = settings.workgroup
    for number, (parameter, value) in enumerate(changes.items()):
        if number:
            poll_until(lambda: str((get_workgroup(rs, name) or {}).get("status")).lower(),
                       "available", what=f"workgroup {name}", timeout=settings.available_timeout,
                       interval=interval, log=log)
        rs.update_workgroup(workgroupName=name, **{parameter: value})


def _workgroup_changes(workgroup: dict, group_id: str, public: bool) -> dict:
    changes: dict = {}
    groups = workgroup.get("securityGroupIds", [])
    if group_id not in groups:
        changes["securityGroupIds"] = [*groups, group_id]
    if bool(workgroup.get("publiclyAccessible")) != public:
        changes["publiclyAccessible"] = public
    return changes


def serverless_state(namespace: dict | None, workgroup: dict | None) -> str:
    """'available' once both are; 'gone' once both are deleted."""
    if namespace is None and workgroup is None:
        return "gone"
    states = {(namespace or {}).get("status", "missing"), (workgroup or {}).get("status", "missing")}
    if states == {"AVAILABLE"}:
        return AVAILABLE
    return (f"namespace {(namespace or {}).get('status', 'missing').lower()}, "
            f"workgroup {(workgroup or {}).get('status', 'missing').lower()}")


def wait_until_available(rs, settings: Settings, *, interval: float = POLL_SECONDS,
                         log: Log = LOG) -> Outcome:
    """Wait until namespace and workgroup are available; `value` is the endpoint."""
    what = f"workgroup {settings.workgroup}"
    with aws_step(what):
        poll_until(lambda: serverless_state(get_namespace(rs, settings.namespace),
                                            get_workgroup(rs, settings.workgroup)),
                   AVAILABLE, what=what, timeout=settings.available_timeout,
                   interval=interval, log=log)
        endpoint = get_workgroup(rs, settings.workgroup)["endpoint"]
    return Outcome(what, AVAILABLE, f"{endpoint['address']}:{endpoint['port']}")


def delete_workgroup(rs, settings: Settings, *, interval: float = POLL_SECONDS,
                     log: Log = LOG) -> Outcome:
    """Delete the workgroup and wait until it is gone (its endpoint stops billing at once)."""
    name = settings.workgroup
    with aws_step(f"workgroup {name}"):
        workgroup = get_workgroup(rs, name)
        if workgroup is None:
            return Outcome(f"workgroup {name}", GONE)
        if workgroup.get("status") != "DELETING":
            rs.delete_workgroup(workgroupName=name)
        poll_until(lambda: "gone" if get_workgroup(rs, name) is None else "deleting", "gone",
                   what=f"workgroup {name}", timeout=settings.available_timeout,
                   interval=interval, log=log)
    return Outcome(f"workgroup {name}", "deleted")


def delete_namespace(rs, settings: Settings, *, interval: float = POLL_SECONDS,
                     log: Log = LOG) -> Outcome:
    """Delete the namespace (final snapshot if FINAL_SNAPSHOT is set), wait until it is gone."""
    name, snapshot = settings.namespace, settings.final_snapshot
    with aws_step(f"namespace {name}"):
        namespace = get_namespace(rs, name)
        if namespace is None:
            return Outcome(f"namespace {name}", GONE)
        if namespace.get("status") != "DELETING":
            params = {"finalSnapshotName": snapshot} if snapshot else {}
            rs.delete_namespace(namespaceName=name, **params)
        poll_until(lambda: "gone" if get_namespace(rs, name) is None else "deleting", "gone",
                   what=f"namespace {name}", timeout=settings.available_timeout,
                   interval=interval, log=log)
    kept = f"final snapshot {snapshot}" if snapshot else "no final snapshot"
    return Outcome(f"namespace {name}", f"deleted ({kept})")
