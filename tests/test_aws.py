"""The AWS profile against moto in server mode (real HTTP, no patched clients).

Provision and teardown (idempotent, one-line errors), the cluster wait, access denied, the
Redshift warehouse's lookups, manifest, load-error path and lock, the configuration, and no
secret in any output, log or file. Each test starts from an empty moto server.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from conftest import CIDR, REGION, Aws, moto_api, small_dataset, upload_dataset, write_config

from sparkify import cli
from sparkify.aws.provision.checks import check_settings
from sparkify.aws.provision.cluster import poll_until
from sparkify.aws.session import CREDENTIALS_BLOCK_ENV, aws_client, aws_session
from sparkify.config import example_file, load_settings
from sparkify.errors import ConfigError, ProvisioningError
from sparkify.runtime import open_runtime
from tasks import provisioning

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ROLE = "sparkify-redshift-s3-read"
GROUP = "sparkify-redshift-ingress"
MANAGED_ARN = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"


def run_cli(module: str, config: Path, capsys, *extra: str) -> tuple[int, str, str]:
    """flows/<module>.py --config FILE, in process; (exit code, stdout, stderr)."""
    flow_module = __import__(f"flows.{module}", fromlist=["main", "build_parser"])
    code = cli.run_command(flow_module.main, flow_module.build_parser(),
                           ["--config", str(config), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *fragments: str) -> str:
    assert code == 1
    assert "Traceback" not in err
    line = err.strip().splitlines()[-1]
    assert line.startswith("error: ")
    for fragment in fragments:
        assert fragment in line
    return line


def state(aws: Aws) -> dict:
    """What exists in AWS, as provision leaves it (for before/after comparisons)."""
    iam, redshift, ec2 = aws.client("iam"), aws.client("redshift"), aws.client("ec2")
    role = iam.get_role(RoleName=ROLE)["Role"]
    cluster = redshift.describe_clusters(ClusterIdentifier="sparkify")["Clusters"][0]
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [GROUP]}])["SecurityGroups"]
    return {
        "role_arn": role["Arn"],
        "trust": role["AssumeRolePolicyDocument"],
        "inline": {name: iam.get_role_policy(RoleName=ROLE, PolicyName=name)["PolicyDocument"]
                   for name in iam.list_role_policies(RoleName=ROLE)["PolicyNames"]},
        "attached": [p["PolicyArn"] for p in
                     iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"]],
        "cluster": {k: cluster.get(k) for k in ("NodeType", "NumberOfNodes", "Encrypted",
                                                "DBName", "MasterUsername", "ClusterStatus")},
        "cluster_roles": [r["IamRoleArn"] for r in cluster.get("IamRoles", [])],
        "cluster_groups": [g["VpcSecurityGroupId"] for g in cluster.get("VpcSecurityGroups", [])],
        "groups": [(g["GroupId"], g["IpPermissions"]) for g in groups],
    }


def is_gone(call) -> bool:
    try:
        call()
    except ClientError as exc:
        return exc.response["Error"]["Code"] in {"NoSuchEntity", "ClusterNotFound"}
    return False


# ---- provision ---------------------------------------------------------------------------

def test_provision_creates_a_read_only_role_an_encrypted_cluster_and_one_ingress_rule(
        aws, prefect_harness, capsys):
    code, out, _ = run_cli("provision", aws.config, capsys)

    assert code == 0
    found = state(aws)
    assert found["trust"]["Statement"] == [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"]}}]
    assert found["inline"] == {"sparkify-s3-read": {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "ReadSparkifySources", "Effect": "Allow",
                       "Action": ["s3:Get*", "s3:List*"],
                       "Resource": ["arn:aws:s3:::udacity-dend", "arn:aws:s3:::udacity-dend/*"]}],
    }}
    assert found["attached"] == []
    assert found["cluster"] == {"NodeType": "ra3.large", "NumberOfNodes": 4, "Encrypted": True,
                                "DBName": "sparkify", "MasterUsername": "sparkify",
                                "ClusterStatus": "available"}
    assert found["cluster_roles"] == [found["role_arn"]]
    [(group_id, permissions)] = found["groups"]
    assert found["cluster_groups"] == [group_id]
    assert [(p["IpProtocol"], p["FromPort"], p["ToPort"], [r["CidrIp"] for r in p["IpRanges"]],
             p.get("Ipv6Ranges", [])) for p in permissions] == [("tcp", 5439, 5439, [CIDR], [])]
    endpoint = aws.client("redshift").describe_clusters()["Clusters"][0]["Endpoint"]
    assert f"endpoint: {endpoint['Address']}:5439" in out
    assert f"role ARN: {found['role_arn']}" in out


def test_a_second_provision_changes_nothing_and_says_so(aws, prefect_harness, capsys):
    assert run_cli("provision", aws.config, capsys)[0] == 0
    before = state(aws)

    code, out, _ = run_cli("provision", aws.config, capsys)

    assert code == 0
    assert state(aws) == before
    assert "nothing changed" in out
    step_lines = [line for line in out.splitlines() if line.startswith("  ")]
    assert len(step_lines) == 6
    assert all(line.endswith(("exists, reused", "available")) for line in step_lines)


def test_a_role_that_trusts_only_the_cluster_service_is_made_to_trust_serverless_too(
        aws, prefect_harness, capsys):
    """A role made by an earlier provision (or by hand) trusted redshift.amazonaws.com only: a
    namespace's COPY could not assume it. Its own statements stay; one is added."""
    own = {"Effect": "Allow", "Principal": {"Service": "redshift.amazonaws.com"},
           "Action": "sts:AssumeRole"}
    aws.client("iam").create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [own]}))

    code, out, _ = run_cli("provision", aws.config, capsys)

    assert code == 0
    assert state(aws)["trust"]["Statement"] == [own, {
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": ["redshift-serverless.amazonaws.com"]}}]
    assert re.search(r"\n  IAM role sparkify-redshift-s3-read +exists, trust in "
                     r"redshift-serverless\.amazonaws\.com added\n", out)
    assert "exists, reused" in run_cli("provision", aws.config, capsys)[1]


def test_provision_replaces_the_rule_of_a_changed_cidr(aws, prefect_harness, capsys):
    assert run_cli("provision", aws.config, capsys)[0] == 0
    write_config(aws.config, INGRESS_CIDR="198.51.100.0/24")

    code, out, _ = run_cli("provision", aws.config, capsys)

    assert code == 0
    [(_, permissions)] = state(aws)["groups"]
    assert [r["CidrIp"] for p in permissions for r in p["IpRanges"]] == ["198.51.100.0/24"]
    assert "revoked 1 other rule(s)" in out


def test_the_managed_policy_option_and_back(aws, prefect_harness, capsys):
    write_config(aws.config, INGRESS_CIDR=CIDR, S3_POLICY="managed")
    assert run_cli("provision", aws.config, capsys)[0] == 0
    assert (state(aws)["inline"], state(aws)["attached"]) == ({}, [MANAGED_ARN])

    write_config(aws.config, INGRESS_CIDR=CIDR, S3_POLICY="inline")
    code, out, _ = run_cli("provision", aws.config, capsys)

    assert code == 0
    assert list(state(aws)["inline"]) == ["sparkify-s3-read"]
    assert state(aws)["attached"] == []
    assert "removed AmazonS3ReadOnlyAccess" in out


def test_the_whole_internet_is_refused_before_any_aws_call(aws, prefect_harness, capsys):
    write_config(aws.config, INGRESS_CIDR="0.0.0.0/0")

    code, _, err = run_cli("provision", aws.config, capsys)

    assert_one_line_error(code, err, "INGRESS_CIDR = 0.0.0.0/0", "ALLOW_PUBLIC_INGRESS")
    assert is_gone(lambda: aws.client("iam").get_role(RoleName=ROLE))


@pytest.mark.parametrize("values, fragment", [
    ({"INGRESS_CIDR": ""}, "INGRESS_CIDR is empty"),
    ({"INGRESS_CIDR": "203.0.113.7/24"}, "is not a CIDR"),
    ({"INGRESS_CIDR": CIDR, "S3_POLICY": "everything"}, "S3_POLICY"),
    ({"INGRESS_CIDR": CIDR, "NUM_NODES": "1"}, "NUM_NODES must be 2 or more"),
])
def test_invalid_settings_are_one_line_config_errors(aws, values, fragment):
    write_config(aws.config, **values)

    with pytest.raises(ConfigError, match=re.escape(fragment)) as raised:
        check_settings(load_settings(aws.config))
    assert "\n" not in str(raised.value)


def test_a_password_redshift_would_refuse_is_caught_without_showing_it(aws, monkeypatch):
    monkeypatch.setenv("SPARKIFY_DWH_MANAGE_ADMIN_PASSWORD", "false")  # the user's own
    monkeypatch.setenv("SPARKIFY_DB_PASSWORD", "alllowercase1")

    with pytest.raises(ConfigError, match="Redshift's rules") as raised:
        check_settings(load_settings(aws.config))
    assert "alllowercase1" not in str(raised.value)


def test_provision_resumes_a_paused_cluster(aws, prefect_harness, capsys):
    assert run_cli("provision", aws.config, capsys)[0] == 0
    aws.client("redshift").pause_cluster(ClusterIdentifier="sparkify")

    code, out, _ = run_cli("provision", aws.config, capsys)

    assert code == 0
    assert "exists, resumed" in out
    assert state(aws)["cluster"]["ClusterStatus"] == "available"


# ---- waiting and failing -----------------------------------------------------------------

def test_a_cluster_that_never_becomes_available_times_out_in_one_line(
        aws, prefect_harness, capsys, monkeypatch):
    """moto creates clusters 'available' at once; a paused one stays paused while polled."""
    assert run_cli("provision", aws.config, capsys)[0] == 0
    aws.client("redshift").pause_cluster(ClusterIdentifier="sparkify")
    monkeypatch.setenv("SPARKIFY_DWH_AVAILABLE_TIMEOUT", "1")

    started = time.monotonic()
    with open_runtime("provision", config=str(aws.config)) as runtime, \
            pytest.raises(ProvisioningError) as raised:
        provisioning.wait_until_available.fn(runtime, poll_seconds=0.2)

    assert time.monotonic() - started < 10
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("cluster sparkify: still paused after ")
    assert "AVAILABLE_TIMEOUT" in message


def test_polling_logs_progress_and_gives_up_at_the_timeout(caplog):
    clock, states = [0.0], iter(["creating", "creating", "modifying", "creating"])

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    with caplog.at_level(logging.INFO), pytest.raises(ProvisioningError) as raised:
        poll_until(lambda: next(states), "available", what="cluster x", timeout=40, interval=15,
                   log=logging.getLogger("t"), sleep=sleep, clock=lambda: clock[0])

    assert str(raised.value) == ("cluster x: still creating after 40s, not available "
                                 "(timeout 40s: raise [DWH] AVAILABLE_TIMEOUT or run again)")
    assert [r.getMessage() for r in caplog.records] == [
        "cluster x: creating, waited 0s of 40s", "cluster x: creating, waited 15s of 40s",
        "cluster x: modifying, waited 30s of 40s"]


def test_polling_returns_as_soon_as_the_target_is_reached():
    states = iter(["creating", "available", "never read"])
    slept: list[float] = []
    poll_until(lambda: next(states), "available", what="c", timeout=60, interval=5,
               log=logging.getLogger("t"), sleep=slept.append)
    assert slept == [5]  # one wait between the two reads, none after the target
    assert next(states) == "never read"


@pytest.fixture
def denied_user(aws, monkeypatch):
    """Credentials of a user who may only describe Redshift clusters, with moto enforcing IAM."""
    iam = aws.client("iam")
    iam.create_user(UserName="limited")
    iam.put_user_policy(UserName="limited", PolicyName="describe-only", PolicyDocument=json.dumps(
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": "redshift:Describe*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="limited")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    moto_api(aws.endpoint, "/moto-api/reset-auth", b"0")  # from now on every call is checked
    try:
        yield key
    finally:
        moto_api(aws.endpoint, "/moto-api/reset-auth", b"inf")


def test_access_denied_is_one_line_naming_the_step(aws, denied_user, prefect_harness, capsys):
    code, _, err = run_cli("provision", aws.config, capsys)

    assert_one_line_error(code, err, f"IAM role {ROLE}: access denied (AccessDenied",
                          "iam:GetRole")
    assert denied_user["SecretAccessKey"] not in err


def test_access_denied_during_teardown_is_one_line(aws, denied_user, prefect_harness, capsys):
    code, _, err = run_cli("teardown", aws.config, capsys)

    # the cluster lookup is allowed (and finds nothing); the security group lookup is not
    assert_one_line_error(code, err, f"ingress rules of {GROUP}: access denied (AccessDenied",
                          "ec2:DescribeSecurityGroups")


# ---- teardown ----------------------------------------------------------------------------

def test_teardown_removes_everything_and_a_second_teardown_is_fine(aws, prefect_harness, capsys):
    assert run_cli("provision", aws.config, capsys)[0] == 0

    code, out, _ = run_cli("teardown", aws.config, capsys)

    assert code == 0
    iam, ec2 = aws.client("iam"), aws.client("ec2")
    assert is_gone(lambda: aws.client("redshift").describe_clusters(ClusterIdentifier="sparkify"))
    assert is_gone(lambda: iam.get_role(RoleName=ROLE))
    assert ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [GROUP]}])["SecurityGroups"] == []
    assert "deleted (no final snapshot)" in out and "revoked 1" in out

    code, out, _ = run_cli("teardown", aws.config, capsys)

    assert code == 0
    assert "nothing to delete: everything was already gone" in out
    assert out.count("already gone") == 6  # five steps and the footer


def test_teardown_takes_the_configured_final_snapshot(aws, prefect_harness, capsys):
    assert run_cli("provision", aws.config, capsys)[0] == 0
    write_config(aws.config, INGRESS_CIDR=CIDR, FINAL_SNAPSHOT="sparkify-final")

    code, out, _ = run_cli("teardown", aws.config, capsys)

    assert code == 0
    snapshots = aws.client("redshift").describe_cluster_snapshots(
        SnapshotIdentifier="sparkify-final")["Snapshots"]
    assert [s["SnapshotIdentifier"] for s in snapshots] == ["sparkify-final"]
    assert out.rstrip().splitlines()[-1] == (
        "still billed: the final snapshot sparkify-final (backup storage, about US$0.024 per "
        "GB-month) until you delete it")


def test_a_prefect_aws_credentials_block_replaces_the_credential_chain(
        aws, prefect_harness, monkeypatch):
    from prefect_aws import AwsCredentials

    key, secret = "AKIA" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30)
    AwsCredentials(aws_access_key_id=key, aws_secret_access_key=secret).save(
        "sparkify-test-aws", overwrite=True)
    monkeypatch.setenv(CREDENTIALS_BLOCK_ENV, "sparkify-test-aws")

    assert aws_session().get_credentials().access_key == key
    assert aws_client("iam", REGION).list_roles()["Roles"] == []  # and it reaches moto


def test_a_missing_credentials_block_is_a_one_line_config_error(aws, prefect_harness, monkeypatch):
    monkeypatch.setenv(CREDENTIALS_BLOCK_ENV, "no-such-block")

    with pytest.raises(ConfigError, match=f"cannot load the AwsCredentials block 'no-such-block' "
                                          f"named by {CREDENTIALS_BLOCK_ENV}: ") as raised:
        aws_session()
    assert "\n" not in str(raised.value)


# ---- configuration -----------------------------------------------------------------------

def test_the_committed_example_is_generated_from_the_schema():
    assert (PROJECT_ROOT / "dwh.cfg.example").read_text(encoding="utf-8") == example_file()


def test_the_real_config_is_git_ignored():
    result = subprocess.run(["git", "check-ignore", "-q", "dwh.cfg"], cwd=PROJECT_ROOT, check=False)
    assert result.returncode == 0


def test_inline_comments_env_overrides_and_the_password_variable(tmp_path):
    config = tmp_path / "dwh.cfg"
    config.write_text("[AWS]\nREGION = eu-west-1   ; where the bucket lives\n"
                      "[DWH]\nNUM_NODES = 2 ; small\nDB_PASSWORD =    ; from the environment\n"
                      "PORT = 5440\n", encoding="utf-8")
    env = {"SPARKIFY_DWH_NUM_NODES": "6", "SPARKIFY_S3_LOG_DATA": "s3://mine/logs",
           "SPARKIFY_DB_PASSWORD": "From-env-1", "SPARKIFY_DWH_AUTH": "password"}

    settings = load_settings(config, env=env)

    assert (settings.region, settings.port) == ("eu-west-1", 5440)
    assert settings.num_nodes == 6  # the environment wins over the file
    assert settings.log_data == "s3://mine/logs"
    assert settings.db_password == "From-env-1"
    assert "From-env-1" not in repr(settings)


def test_a_password_in_the_file_or_its_own_variable_wins_over_the_fallback(tmp_path):
    config = tmp_path / "dwh.cfg"
    config.write_text("[DWH]\nDB_PASSWORD = In-file-1\n", encoding="utf-8")

    assert load_settings(config, env={"SPARKIFY_DB_PASSWORD": "x"}).db_password == "In-file-1"
    assert load_settings(config, env={"SPARKIFY_DWH_AUTH": "password"}).db_password == "In-file-1"
    assert load_settings(config, env={"SPARKIFY_DWH_DB_PASSWORD": "Env-key-1"}).db_password \
        == "Env-key-1"


def test_a_bad_value_is_a_one_line_error_naming_the_key(tmp_path):
    config = tmp_path / "dwh.cfg"
    config.write_text("[DWH]\nNUM_NODES = four\n", encoding="utf-8")

    with pytest.raises(ConfigError, match=r"\[DWH\] NUM_NODES = 'four' is not a valid int"):
        load_settings(config, env={})


# ---- secrets -----------------------------------------------------------------------------

def _script(aws: Aws, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPARKIFY_", "PREFECT_"))}
    env.update(AWS_ENDPOINT_URL=aws.endpoint, AWS_ACCESS_KEY_ID=aws.access_key,
               AWS_SECRET_ACCESS_KEY=aws.secret_key, AWS_DEFAULT_REGION=REGION,
               SPARKIFY_DB_PASSWORD=aws.password, PREFECT_LOGGING_LEVEL="DEBUG",
               PREFECT_HOME=str(cwd / "prefect-home"))  # its server's log and database: scanned too
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def _repository_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    return [PROJECT_ROOT / name for name in listed if (PROJECT_ROOT / name).is_file()]


def test_no_secret_reaches_the_output_the_logs_or_the_repository(aws, tmp_path):
    """The real commands, as a user runs them, with Prefect logging at DEBUG."""
    upload_dataset(aws.client("s3"), "udacity-dend", small_dataset(tmp_path / "data"))
    runs = [
        _script(aws, str(PROJECT_ROOT / "flows/provision.py"), "--config", str(aws.config),
                cwd=tmp_path),
        _script(aws, str(PROJECT_ROOT / "flows/main.py"), "--config", str(aws.config),
                "--dry-run", cwd=tmp_path),
        _script(aws, str(PROJECT_ROOT / "flows/teardown.py"), "--config", str(aws.config),
                "--debug", cwd=tmp_path),
    ]

    assert [run.returncode for run in runs] == [0, 0, 0], [run.stderr[-2000:] for run in runs]
    for run in runs:
        for secret in aws.secrets:
            assert secret not in run.stdout and secret not in run.stderr
    for path in [*_repository_files(), *tmp_path.rglob("*")]:
        if path.is_file():
            text = path.read_bytes().decode("utf-8", errors="replace")
            assert not any(secret in text for secret in aws.secrets), path
    assert "DB_PASSWORD = \n" in aws.config.read_text()  # never written back


def test_the_master_password_stays_out_of_botocore_debug_logs(aws, caplog, monkeypatch):
    monkeypatch.setenv("SPARKIFY_DWH_MANAGE_ADMIN_PASSWORD", "false")  # a password is sent
    with open_runtime("provision", config=str(aws.config)) as runtime:
        check_settings(runtime.settings)
        with caplog.at_level(logging.DEBUG, logger="botocore"):
            provisioning.ensure_warehouse.fn(runtime, "arn:aws:iam::123456789012:role/r",
                                             "sg-12345678")

    assert caplog.records  # botocore did log at DEBUG around the call
    assert aws.password not in caplog.text


def test_no_aws_key_or_password_is_committed():
    patterns = [re.compile(rb"AKIA[0-9A-Z]{16}"),
                re.compile(rb"(?i)aws_secret_access_key\s*[=:]\s*\S{20,}"),
                re.compile(rb"(?m)^DB_PASSWORD\s*=\s*[^\s;]")]
    for path in _repository_files():
        if path.suffix in {".py", ".cfg", ".example", ".md", ".yaml", ".yml", ".toml", ".txt",
                           ".json", ".sql", ""} and "golden" not in path.parts:
            data = path.read_bytes()
            assert not any(p.search(data) for p in patterns), path
