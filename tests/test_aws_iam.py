"""No stored password and Redshift Serverless: provision, dry run and teardown with AUTH = iam.

The cluster path runs against moto's server (IAM, EC2, Redshift with GetClusterCredentials).
moto has no redshift-serverless backend: that client is botocore's Stubber, which checks each
request (and each canned answer) against the service's own model; IAM and EC2 stay moto's.
No DB_PASSWORD anywhere and SPARKIFY_DB_PASSWORD unset, in every test here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import boto3
import psycopg2
import pytest
from botocore.stub import ANY, Stubber
from conftest import CIDR, REGION, moto_api, small_dataset, upload_dataset, write_config
from test_aws import ROLE, assert_one_line_error, run_cli, state

from sparkify.aws.provision import TAGS
from sparkify.aws.provision.cluster import create_cluster_params
from sparkify.config import load_settings
from sparkify.local.emulator import free_port
from sparkify.runtime import Runtime, open_runtime
from sparkify.secrets import redact

PROJECT_ROOT = Path(__file__).resolve().parents[1]

SERVERLESS_TAGS = [{"key": t["Key"], "value": t["Value"]} for t in TAGS]
CLUSTER_CALL = ("redshift GetClusterCredentials(ClusterIdentifier='sparkify', DbUser='sparkify', "
                "DbName='sparkify', DurationSeconds=3600, AutoCreate=False)")


@pytest.fixture
def no_password(aws, monkeypatch, tmp_path):
    """The aws fixture without any password: the environment's is unset, the file has none."""
    monkeypatch.delenv("SPARKIFY_DB_PASSWORD")
    assert "DB_PASSWORD = \n" in aws.config.read_text()
    upload_dataset(aws.client("s3"), "udacity-dend", small_dataset(tmp_path / "data"))
    return aws


def test_cluster_no_password_provision_dry_run_teardown_twice(no_password, prefect_harness,
                                                               capsys):
    aws = no_password
    code, out, err = run_cli("provision", aws.config, capsys)
    assert code == 0, err[-2000:]
    assert out.splitlines()[0] == (
        "creating Redshift cluster sparkify, 4 x ra3.large: about US$2.17 per hour (4 x "
        "US$0.543 per node-hour, US on-demand list prices, 2025), billed from creation until "
        "deletion, queries or not")
    before = state(aws)

    code, out, _ = run_cli("provision", aws.config, capsys)
    assert code == 0 and "nothing changed" in out and "creating" not in out
    assert state(aws) == before

    code, out, err = run_cli("main", aws.config, capsys, "--dry-run")
    assert code == 0, err[-2000:]
    endpoint = aws.client("redshift").describe_clusters()["Clusters"][0]["Endpoint"]["Address"]
    assert f"-- target: Redshift cluster sparkify at {endpoint}:5439/sparkify as **** " in out
    assert (f"-- login: temporary IAM credentials from {CLUSTER_CALL}: user **** and password "
            "****, not requested on a dry run") in out

    for expected_last in ("still billed: nothing", "still billed: nothing"):
        code, out, _ = run_cli("teardown", aws.config, capsys)
        assert code == 0 and out.rstrip().splitlines()[-1] == expected_last
    assert "nothing to delete: everything was already gone" in out


def test_the_cluster_is_created_with_a_managed_admin_password_in_the_model(aws, monkeypatch):
    """CreateCluster's exact request, checked against Redshift's model (moto ignores
    ManageMasterPassword, so it cannot show that the flag was sent)."""
    monkeypatch.delenv("SPARKIFY_DB_PASSWORD")
    params = create_cluster_params(load_settings(aws.config), "arn:aws:iam::1:role/r", "sg-1")
    client = boto3.client("redshift", region_name=REGION, aws_access_key_id="k",
                          aws_secret_access_key="s")

    with Stubber(client) as stub:
        stub.add_response("create_cluster", {"Cluster": {"ClusterIdentifier": "sparkify"}},
                          expected_params=params)
        client.create_cluster(**params)
        stub.assert_no_pending_responses()
    assert params["ManageMasterPassword"] is True and "MasterUserPassword" not in params


def test_a_paused_cluster_is_a_one_line_hint_to_resume_it(no_password, prefect_harness,
                                                          capsys):
    aws = no_password
    _cluster(aws)
    aws.client("redshift").pause_cluster(ClusterIdentifier="sparkify")

    code, _, err = run_cli("validate", aws.config, capsys)

    assert_one_line_error(code, err, "Redshift cluster 'sparkify' is paused: resume it",
                          "aws redshift resume-cluster --cluster-identifier sparkify")


def _cluster(aws) -> None:
    """What provision leaves: an available cluster and the role COPY assumes."""
    aws.client("iam").create_role(RoleName=ROLE, AssumeRolePolicyDocument="{}")
    aws.client("redshift").create_cluster(ClusterIdentifier="sparkify", NodeType="ra3.large",
                                          MasterUsername="sparkify", ClusterType="single-node",
                                          MasterUserPassword="Unused-pw-1")


def test_the_run_and_its_gx_data_source_log_in_with_the_same_temporary_credentials(no_password):
    _cluster(no_password)

    with open_runtime("elt", config=str(no_password.config)) as runtime:
        dsn = psycopg2.extensions.parse_dsn(runtime.warehouse().session_dsn())
        gx_url = runtime.warehouse().quality_target().connection_string.get_secret_value()

    assert dsn["user"] == "IAM:sparkify"  # moto's answer for DbUser sparkify, AutoCreate off
    assert len(dsn["password"]) == 32 and dsn["sslmode"] == "require"
    assert gx_url.startswith(f"redshift+psycopg2://IAM%3Asparkify:{dsn['password']}@")
    assert redact(f"{dsn['user']} {dsn['password']}") == "**** ****"  # registered at once
    assert "IAM:sparkify" not in runtime.target.describe()


def test_temporary_credentials_never_reach_the_output_the_logs_or_any_file(no_password, tmp_path):
    """A real run as a user starts it, Prefect at DEBUG and --debug on: it gets temporary
    credentials, then cannot connect (nothing listens on HOST:PORT) and says so in one line.
    moto's random generator is seeded, so the same request made again afterwards returns the
    same credentials: those are what must appear nowhere."""
    aws = no_password
    _cluster(aws)
    write_config(aws.config, INGRESS_CIDR=CIDR, HOST="127.0.0.1", PORT=str(free_port()),
                 ROLE_ARN=f"arn:aws:iam::123456789012:role/{ROLE}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPARKIFY_", "PREFECT_"))}
    env.update(PREFECT_LOGGING_LEVEL="DEBUG")
    moto_api(aws.endpoint, "/moto-api/seed?a=1405")  # the run's first moto call: the credentials
    run = subprocess.run([sys.executable, str(PROJECT_ROOT / "flows/main.py"), "--config",
                          str(aws.config), "--debug"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=300, check=False)
    redshift = aws.client("redshift")

    def credentials_after_seeding() -> dict:
        moto_api(aws.endpoint, "/moto-api/seed?a=1405")
        return redshift.get_cluster_credentials(ClusterIdentifier="sparkify", DbUser="sparkify",
                                                DbName="sparkify", DurationSeconds=3600,
                                                AutoCreate=False)

    got = credentials_after_seeding()
    assert credentials_after_seeding()["DbPassword"] == got["DbPassword"]  # repeatable

    assert run.returncode == 1
    for secret in (got["DbPassword"], got["DbUser"]):
        assert secret not in run.stdout + run.stderr
        for path in [*tmp_path.rglob("*"), *(PROJECT_ROOT / ".sparkify").rglob("*.log")]:
            if path.is_file():
                assert secret not in path.read_bytes().decode("utf-8", "replace"), path


# ---- Serverless, through the Stubber ------------------------------------------------------

def _namespace(status: str = "AVAILABLE", roles: list[str] | None = None) -> dict:
    return {"namespace": {"namespaceName": "sparkify", "status": status, "dbName": "sparkify",
                          "iamRoles": [f"IamRole(applyStatus=in-sync, iamRoleArn={r})"
                                       for r in roles or []]}}


def _workgroup(group_id, status: str = "AVAILABLE") -> dict:
    group_id = group_id if isinstance(group_id, str) else "sg-00000000"  # not created yet
    return {"workgroup": {"workgroupName": "sparkify", "namespaceName": "sparkify",
                          "status": status, "baseCapacity": 4, "publiclyAccessible": True,
                          "securityGroupIds": [group_id], "port": 5439,
                          "endpoint": {"address": "sparkify.1.us-west-2.redshift-serverless."
                                                  "amazonaws.com", "port": 5439}}}


def _missing(stub: Stubber, operation: str) -> None:
    stub.add_client_error(operation, "ResourceNotFoundException", "not found", 404)


class ServerlessScript:
    """The exact redshift-serverless calls of each command, in order."""

    def __init__(self, stub: Stubber, role_arn, group_id, subnets) -> None:
        self.stub, self.role, self.group, self.subnets = stub, role_arn, group_id, subnets

    def first_provision(self) -> None:
        s = self.stub
        _missing(s, "get_workgroup")  # announce: nothing billable exists yet
        _missing(s, "get_namespace")
        s.add_response("create_namespace", {}, {
            "namespaceName": "sparkify", "dbName": "sparkify", "adminUsername": "sparkify",
            "iamRoles": [self.role()], "defaultIamRoleArn": self.role(),
            "tags": SERVERLESS_TAGS, "manageAdminPassword": True})
        _missing(s, "get_workgroup")
        s.add_response("create_workgroup", {}, {
            "workgroupName": "sparkify", "namespaceName": "sparkify", "baseCapacity": 4,
            "publiclyAccessible": True, "securityGroupIds": [self.group()],
            "subnetIds": self.subnets(), "port": 5439, "tags": SERVERLESS_TAGS})
        self.available()

    def second_provision(self) -> None:
        s = self.stub
        s.add_response("get_workgroup", _workgroup(self.group()), {"workgroupName": "sparkify"})
        s.add_response("get_namespace", _namespace(roles=[self.role()]),
                       {"namespaceName": "sparkify"})
        s.add_response("get_workgroup", _workgroup(self.group()), {"workgroupName": "sparkify"})
        self.available()

    def available(self) -> None:
        s = self.stub
        s.add_response("get_namespace", _namespace(roles=[self.role()]), {"namespaceName": ANY})
        s.add_response("get_workgroup", _workgroup(self.group()), {"workgroupName": ANY})
        s.add_response("get_workgroup", _workgroup(self.group()), {"workgroupName": ANY})

    def teardown(self) -> None:
        s = self.stub
        s.add_response("get_workgroup", _workgroup(self.group()), {"workgroupName": "sparkify"})
        s.add_response("delete_workgroup", _workgroup(self.group(), "DELETING"),
                       {"workgroupName": "sparkify"})
        _missing(s, "get_workgroup")
        s.add_response("get_namespace", _namespace(roles=[self.role()]),
                       {"namespaceName": "sparkify"})
        s.add_response("delete_namespace", _namespace("DELETING"), {"namespaceName": "sparkify"})
        _missing(s, "get_namespace")

    def teardown_again(self) -> None:
        _missing(self.stub, "get_workgroup")
        _missing(self.stub, "get_namespace")


@pytest.fixture
def serverless(no_password, monkeypatch):
    """DEPLOYMENT = serverless; its client is a Stubber, every other one goes to moto."""
    aws = no_password
    write_config(aws.config, INGRESS_CIDR=CIDR, DEPLOYMENT="serverless")
    client = boto3.client("redshift-serverless", region_name=REGION, aws_access_key_id="k",
                          aws_secret_access_key="s")
    original = Runtime.client
    monkeypatch.setattr(Runtime, "client", lambda self, service: client
                        if service == "redshift-serverless" else original(self, service))
    with Stubber(client) as stub:
        yield aws, stub


def test_serverless_no_password_provision_dry_run_teardown_twice(serverless, prefect_harness,
                                                                  capsys):
    aws, stub = serverless
    ec2 = aws.client("ec2")

    def group_id():
        groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [
            "sparkify-redshift-ingress"]}])["SecurityGroups"]
        return groups[0]["GroupId"] if groups else ANY

    def role_arn():
        return aws.client("iam").get_role(RoleName=ROLE)["Role"]["Arn"]

    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    subnets = sorted(s["SubnetId"] for s in ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"])
    script = ServerlessScript(stub, lambda: f"arn:aws:iam::123456789012:role/{ROLE}", group_id,
                              lambda: subnets)

    script.first_provision()
    code, out, err = run_cli("provision", aws.config, capsys)
    assert code == 0, err[-2000:]
    assert out.splitlines()[0] == (
        "creating Redshift Serverless namespace sparkify and workgroup sparkify: about US$1.50 "
        "per hour of queries at the base 4 RPUs (US$0.375 per RPU-hour, US on-demand list "
        "prices, 2025), billed per second with a 60-second minimum, only while queries run; "
        "nothing while idle")
    assert "endpoint: sparkify.1.us-west-2.redshift-serverless.amazonaws.com:5439" in out
    assert role_arn() == f"arn:aws:iam::123456789012:role/{ROLE}"

    script.second_provision()
    code, out, _ = run_cli("provision", aws.config, capsys)
    assert code == 0 and "nothing changed" in out and "creating" not in out

    stub.add_response("get_workgroup", _workgroup(group_id()), {"workgroupName": "sparkify"})
    code, out, err = run_cli("main", aws.config, capsys, "--dry-run")
    assert code == 0, err[-2000:]
    assert ("-- login: temporary IAM credentials from redshift-serverless GetCredentials("
            "workgroupName='sparkify', dbName='sparkify', durationSeconds=3600): user **** and "
            "password ****, not requested on a dry run") in out
    assert "-- target: Redshift workgroup sparkify at sparkify.1.us-west-2" in out

    script.teardown()
    code, out, _ = run_cli("teardown", aws.config, capsys)
    assert code == 0 and re.search(r"\n  workgroup sparkify +deleted\n", out)
    assert re.search(r"\n  namespace sparkify +deleted \(no final snapshot\)\n", out)
    assert out.rstrip().splitlines()[-1] == "still billed: nothing"
    script.teardown_again()
    code, out, _ = run_cli("teardown", aws.config, capsys)
    assert code == 0 and "nothing to delete: everything was already gone" in out
    stub.assert_no_pending_responses()
