"""The cluster's own security group, and its one ingress rule: the port from INGRESS_CIDR."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator

from botocore.exceptions import ClientError

from sparkify.aws.provision import TAGS
from sparkify.aws.provision.outcome import CREATED, GONE, NO_INGRESS, REUSED, Outcome, aws_step
from sparkify.aws.session import error_code
from sparkify.config import Settings
from sparkify.errors import ConfigError, ProvisioningError

RULE_DESCRIPTION = "sparkify: Redshift port from INGRESS_CIDR"
# A workgroup needs at least three subnets spanning three Availability Zones; in US West
# (N. California) three subnets spanning two, one zone holding two of them ("Considerations
# when using Amazon Redshift Serverless", three subnets;
# https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-usage-considerations.html).
WORKGROUP_SUBNETS = 3
WORKGROUP_ZONES = 3
WORKGROUP_ZONES_IN = {"us-west-1": 2}


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


def group_name(settings: Settings) -> str:
    return f"{settings.cluster_identifier}-redshift-ingress"


def default_vpc(ec2, region: str) -> str:
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    if not vpcs:
        raise ProvisioningError(f"no default VPC in {region}: create one "
                                "(aws ec2 create-default-vpc) or use a region that has one")
    return vpcs[0]["VpcId"]


def _subnets(ec2, vpc_id: str) -> list[dict]:
    return ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]


def default_subnets(ec2, vpc_id: str) -> list[str]:
    """The VPC's subnets (a default VPC has one per availability zone), for a workgroup."""
    return sorted(subnet["SubnetId"] for subnet in _subnets(ec2, vpc_id))


def check_workgroup_subnets(ec2, vpc_id: str, region: str) -> None:
    """Refuse, in one line naming what is missing, a VPC whose subnets a workgroup cannot use
    (CreateWorkgroup would fail after the namespace was created)."""
    subnets = _subnets(ec2, vpc_id)
    zones = sorted({subnet["AvailabilityZone"] for subnet in subnets})
    needed = WORKGROUP_ZONES_IN.get(region, WORKGROUP_ZONES)
    if len(subnets) >= WORKGROUP_SUBNETS and len(zones) >= needed:
        return
    raise ProvisioningError(
        f"VPC {vpc_id}: a Redshift Serverless workgroup needs at least {WORKGROUP_SUBNETS} "
        f"subnets in {needed} Availability Zones of {region}, and it has {len(subnets)} in "
        f"{len(zones)} ({', '.join(zones) or 'none'}): add subnets in other zones (aws ec2 "
        "create-default-subnet --availability-zone <zone>)")


def _groups_named(ec2, name: str, vpc_id: str | None = None) -> list[str]:
    filters = [{"Name": "group-name", "Values": [name]}]
    if vpc_id:
        filters.append({"Name": "vpc-id", "Values": [vpc_id]})
    groups = ec2.describe_security_groups(Filters=filters)["SecurityGroups"]
    return [group["GroupId"] for group in groups]


def ensure_security_group(ec2, settings: Settings, vpc_of: Callable[[], str]) -> Outcome:
    """Create or reuse the warehouse's own security group, in its VPC; `value` is its id."""
    name = group_name(settings)
    with aws_step(f"security group {name}"):
        vpc_id = vpc_of()
        existing = _groups_named(ec2, name, vpc_id)
        if existing:
            return Outcome(f"security group {name}", REUSED, existing[0])
        group_id = ec2.create_security_group(
            GroupName=name, VpcId=vpc_id,
            Description="Sparkify Redshift: cluster port from INGRESS_CIDR only",
            TagSpecifications=[{"ResourceType": "security-group", "Tags": TAGS}],
        )["GroupId"]
    return Outcome(f"security group {name}", f"{CREATED} in {vpc_id}", group_id)


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


def ensure_ingress_rule(ec2, settings: Settings, group_id: str) -> Outcome:
    """Allow the port from INGRESS_CIDR only: add that rule, revoke any other CIDR. Without
    INGRESS_CIDR (a private Serverless workgroup) no CIDR at all."""
    network, port = (ingress_network(settings) if settings.ingress_cidr else None), settings.port
    resource = f"ingress tcp {port} from {network}" if network else f"ingress tcp {port}"
    with aws_step(resource):
        group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
        rules = list(_ip_rules(group.get("IpPermissions", [])))
        stale = [_revocation(p, r, c) for p, r, c in rules if not _is_wanted(p, c, port, network)]
        if stale:
            ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=stale)
        action = REUSED if network else NO_INGRESS
        if network and not any(_is_wanted(p, c, port, network) for p, _, c in rules):
            ec2.authorize_security_group_ingress(GroupId=group_id,
                                                 IpPermissions=[_permission(port, network)])
            action = CREATED
    if stale:
        action += f"; revoked {len(stale)} other rule(s)"
    return Outcome(resource, action, group_id)


def revoke_ingress_rules(ec2, settings: Settings) -> Outcome:
    """Revoke every CIDR rule of the cluster's security group."""
    name = group_name(settings)
    revoked = 0
    with aws_step(f"ingress rules of {name}"):
        for group_id in _groups_named(ec2, name):
            group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
            rules = [_revocation(p, r, c) for p, r, c in _ip_rules(group.get("IpPermissions", []))]
            if rules:
                ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=rules)
                revoked += len(rules)
    return Outcome(f"ingress rules of {name}", f"revoked {revoked}" if revoked else GONE)


def delete_security_group(ec2, settings: Settings) -> Outcome:
    """Delete the cluster's security group (possible once the cluster is gone)."""
    name = group_name(settings)
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
    return Outcome(f"security group {name}", "deleted" if groups else GONE)
