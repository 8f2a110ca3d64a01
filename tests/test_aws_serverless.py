"""Redshift Serverless provisioning: what a workgroup needs of its VPC, and how an existing one
is changed. EC2 and IAM are moto's server; moto has no redshift-serverless backend, so that
client is botocore's Stubber, which checks each request against the service's own model (an
UpdateWorkgroup with an unknown or misspelt parameter is refused by the Stubber too)."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from conftest import CIDR, REGION, write_config
from test_aws import ROLE, assert_one_line_error, run_cli
from test_aws_iam import _missing, no_password, serverless  # noqa: F401  (fixtures)

from sparkify.aws.provision import network
from sparkify.aws.provision.serverless import ensure_workgroup
from sparkify.config import load_settings
from sparkify.errors import ProvisioningError


def _ec2(aws, region: str):
    return boto3.client("ec2", region_name=region, endpoint_url=aws.endpoint,
                        aws_access_key_id=aws.access_key, aws_secret_access_key=aws.secret_key)


def _vpc_with_subnets(ec2, zones_of_subnets: list[int]) -> str:
    """A new VPC with one subnet in each listed zone (0: the region's first zone, ...)."""
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    vpc_id = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    for number, zone in enumerate(zones_of_subnets):
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.8.{number}.0/24",
                          AvailabilityZone=zones[zone])
    return vpc_id


@pytest.mark.parametrize("region, zones_of_subnets, refused", [
    ("us-west-2", [0, 1, 2], None),
    ("us-west-2", [0, 1, 2, 3], None),
    ("us-west-2", [0, 0, 1], "needs at least 3 subnets in 3 Availability Zones of us-west-2, "
                             "and it has 3 in 2 ("),
    ("us-west-2", [], "and it has 0 in 0 (none)"),
    ("us-west-1", [0, 0, 1], None),  # N. California: three subnets across its two zones
    ("us-west-1", [0, 1], "needs at least 3 subnets in 2 Availability Zones of us-west-1, "
                          "and it has 2 in 2 ("),
])
def test_a_workgroup_s_subnets_are_checked_against_aws_s_rule(aws, region, zones_of_subnets,
                                                             refused):
    ec2 = _ec2(aws, region)
    vpc_id = _vpc_with_subnets(ec2, zones_of_subnets)

    if refused is None:
        network.check_workgroup_subnets(ec2, vpc_id, region)
        return
    with pytest.raises(ProvisioningError) as raised:
        network.check_workgroup_subnets(ec2, vpc_id, region)
    assert str(raised.value).startswith(f"VPC {vpc_id}: a Redshift Serverless workgroup ")
    assert refused in str(raised.value)
    assert "aws ec2 create-default-subnet --availability-zone" in str(raised.value)


def test_provision_stops_before_creating_anything_when_the_default_vpc_spans_two_zones(
        serverless, prefect_harness, capsys):  # noqa: F811  (the fixture imported above)
    aws, stub = serverless
    ec2 = aws.client("ec2")
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0][
        "VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    kept_zones = sorted({s["AvailabilityZone"] for s in subnets})[:2]
    for subnet in subnets:
        if subnet["AvailabilityZone"] not in kept_zones:
            ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    _missing(stub, "get_workgroup")  # no workgroup yet: provision would create one

    code, _, err = run_cli("provision", aws.config, capsys)

    assert_one_line_error(code, err, f"VPC {vpc_id}: a Redshift Serverless workgroup needs at "
                                     f"least 3 subnets in 3 Availability Zones of {REGION}",
                          f"({', '.join(kept_zones)})")
    stub.assert_no_pending_responses()  # and no namespace or workgroup call was made
    with pytest.raises(ClientError):  # nor the role: the check came first
        aws.client("iam").get_role(RoleName=ROLE)


def test_an_existing_workgroup_is_updated_one_parameter_per_request(aws):
    """UpdateWorkgroup takes one parameter per request: a workgroup that lacks the security
    group and is private, while INGRESS_CIDR asks for public, gets two calls. The Stubber
    (moto has no Serverless backend) checks each call's exact parameters against the model."""
    write_config(aws.config, INGRESS_CIDR=CIDR, DEPLOYMENT="serverless")
    settings = load_settings(aws.config)
    client = boto3.client("redshift-serverless", region_name=REGION, aws_access_key_id="k",
                          aws_secret_access_key="s")
    found = {"workgroupName": "sparkify", "namespaceName": "sparkify", "status": "AVAILABLE",
             "baseCapacity": 4, "publiclyAccessible": False, "securityGroupIds": ["sg-other"]}
    with Stubber(client) as stub:
        stub.add_response("get_workgroup", {"workgroup": found}, {"workgroupName": "sparkify"})
        stub.add_response("update_workgroup", {"workgroup": found}, {
            "workgroupName": "sparkify", "securityGroupIds": ["sg-other", "sg-sparkify"]})
        stub.add_response("get_workgroup", {"workgroup": found}, {"workgroupName": "sparkify"})
        stub.add_response("update_workgroup", {"workgroup": found}, {
            "workgroupName": "sparkify", "publiclyAccessible": True})

        outcome = ensure_workgroup(client, settings, "sg-sparkify", ["subnet-1"], interval=0)

        stub.assert_no_pending_responses()
    assert outcome.action == "exists, security group attached, made public"
