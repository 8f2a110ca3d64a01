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
import string
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import boto3
import psycopg2
import pytest
from botocore.exceptions import ClientError
from conftest import query

from sparkify import cli
from sparkify.config import example_file, load_settings
from sparkify.errors import ConfigError, MalformedRecordError, ProvisioningError, WarehouseError
from sparkify.local import S3Emulator
from sparkify.records import SongsMapper
from sparkify.aws import CREDENTIALS_BLOCK_ENV, aws_client, aws_session
from sparkify.redshift import RedshiftWarehouse
from sparkify.storage import S3ObjectStore, SourceObject
from sparkify.warehouse import StagingSource
from tasks import provisioning

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REGION = "us-west-2"
CIDR = "203.0.113.7/32"
ROLE = "sparkify-redshift-s3-read"
GROUP = "sparkify-redshift-ingress"
MANAGED_ARN = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"


# ---- fixtures ----------------------------------------------------------------------------

class MotoServer(S3Emulator):
    """moto's server with every service (IAM, EC2, Redshift, S3), in its own process."""

    def command(self) -> list[str]:
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]


@pytest.fixture(scope="session")
def moto_url() -> str:
    """One moto server (every service) on loopback for the session."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")  # AmazonS3ReadOnlyAccess exists
        server = MotoServer().start()
    try:
        yield server.endpoint_url
    finally:
        server.stop()


def _moto_api(url: str, path: str, body: bytes = b"") -> None:
    request = urllib.request.Request(url + path, data=body, method="POST",
                                     headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(request, timeout=30).read()


@dataclass
class Aws:
    """The test's AWS: moto's endpoint, a dwh.cfg, and the secrets the test set."""

    endpoint: str
    config: Path
    password: str
    access_key: str
    secret_key: str

    def client(self, service: str):
        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint,
                            aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key)

    @property
    def secrets(self) -> tuple[str, str, str]:
        return self.password, self.access_key, self.secret_key


def write_config(path: Path, **values: str) -> Path:
    """dwh.cfg: the committed example with some keys set."""
    text = example_file()
    for key, value in values.items():
        text, found = re.subn(rf"^{key} = .*$", f"{key} = {value}", text, flags=re.MULTILINE)
        assert found == 1, key
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def aws(moto_url, tmp_path, monkeypatch) -> Aws:
    """An empty moto, fake credentials and a known password in the environment, a dwh.cfg."""
    _moto_api(moto_url, "/moto-api/reset")
    for name in list(os.environ):
        if name.startswith("SPARKIFY_") or name in {"AWS_PROFILE", "AWS_SESSION_TOKEN"}:
            monkeypatch.delenv(name)
    found = Aws(
        endpoint=moto_url,
        config=write_config(tmp_path / "dwh.cfg", INGRESS_CIDR=CIDR),
        password="Pw7" + secrets.token_hex(10),  # meets Redshift's rules
        access_key="AKIA" + "".join(secrets.choice(string.ascii_uppercase + string.digits)
                                    for _ in range(16)),
        secret_key=secrets.token_urlsafe(30),
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", found.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", found.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("SPARKIFY_DB_PASSWORD", found.password)
    return found


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
    assert found["trust"]["Statement"][0]["Principal"]["Service"] == "redshift.amazonaws.com"
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
        provisioning.check_settings(load_settings(aws.config))
    assert "\n" not in str(raised.value)


def test_a_password_redshift_would_refuse_is_caught_without_showing_it(aws, monkeypatch):
    monkeypatch.setenv("SPARKIFY_DB_PASSWORD", "alllowercase1")

    with pytest.raises(ConfigError, match="Redshift's rules") as raised:
        provisioning.check_settings(load_settings(aws.config))
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
    with pytest.raises(ProvisioningError) as raised:
        provisioning.wait_until_available.fn(str(aws.config), poll_seconds=0.2)

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
        provisioning.poll_until(lambda: next(states), "available", what="cluster x",
                                timeout=40, interval=15, log=logging.getLogger("t"),
                                sleep=sleep, clock=lambda: clock[0])

    assert str(raised.value) == ("cluster x: still creating after 40s, not available "
                                 "(timeout 40s: raise [DWH] AVAILABLE_TIMEOUT or run again)")
    assert [r.getMessage() for r in caplog.records] == [
        "cluster x: creating, waited 0s of 40s", "cluster x: creating, waited 15s of 40s",
        "cluster x: modifying, waited 30s of 40s"]


def test_polling_returns_as_soon_as_the_target_is_reached():
    states = iter(["creating", "available"])
    provisioning.poll_until(lambda: next(states), "available", what="c", timeout=60,
                            interval=0, log=logging.getLogger("t"), sleep=lambda s: None)


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
    _moto_api(aws.endpoint, "/moto-api/reset-auth", b"0")  # from now on every call is checked
    try:
        yield key
    finally:
        _moto_api(aws.endpoint, "/moto-api/reset-auth", b"inf")


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
    assert "kept: final snapshot sparkify-final" in out


# ---- the Redshift warehouse --------------------------------------------------------------

def test_the_warehouse_looks_up_host_and_role_and_connects_over_tls(aws, prefect_harness, capsys):
    assert run_cli("provision", aws.config, capsys)[0] == 0
    found = state(aws)

    warehouse = RedshiftWarehouse.from_settings(load_settings(aws.config))

    endpoint = aws.client("redshift").describe_clusters()["Clusters"][0]["Endpoint"]["Address"]
    parameters = psycopg2.extensions.parse_dsn(warehouse.dsn)
    assert (parameters["host"], parameters["port"], parameters["sslmode"]) == \
        (endpoint, "5439", "require")
    assert warehouse.role == found["role_arn"]
    assert aws.password not in repr(warehouse)


def test_configured_host_and_role_need_no_aws_call(aws, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    write_config(aws.config, HOST="example.redshift.amazonaws.com",
                 ROLE_ARN="arn:aws:iam::123456789012:role/x")

    warehouse = RedshiftWarehouse.from_settings(load_settings(aws.config))

    assert warehouse.role == "arn:aws:iam::123456789012:role/x"
    assert psycopg2.extensions.parse_dsn(warehouse.dsn)["host"] == "example.redshift.amazonaws.com"


def test_a_missing_cluster_is_a_one_line_hint_to_provision(aws):
    with pytest.raises(ConfigError) as raised:
        RedshiftWarehouse.from_settings(load_settings(aws.config))

    assert str(raised.value) == ("Redshift cluster 'sparkify' not found in us-west-2: run "
                                 "flows/provision.py, or set [DWH] HOST")


def _songs_source(aws: Aws, keys: list[str], load: list[str] | None = None):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="songs", CreateBucketConfiguration={"LocationConstraint": REGION})
    for key in keys:
        s3.put_object(Bucket="songs", Key=key, Body=b"{}\n")
    objects = [SourceObject("songs", key, "etag", 3) for key in (load or keys)]
    return StagingSource(objects, mapper=SongsMapper(), prefix_uri="s3://songs/song_data")


def _warehouse(manifest_prefix: str = "") -> RedshiftWarehouse:
    return RedshiftWarehouse("host=unused", role="arn:aws:iam::1:role/r", region=REGION,
                             manifest_prefix=manifest_prefix)


def test_copy_reads_the_prefix_when_it_holds_exactly_the_objects_to_load(aws):
    source = _songs_source(aws, ["song_data/A/a.json", "song_data/B/b.json"])

    uri, manifest = _warehouse().copy_from("staging_songs", source, S3ObjectStore(REGION), "r1")

    assert (uri, manifest) == ("s3://songs/song_data/", False)


def test_a_partial_load_without_a_manifest_location_asks_for_one(aws):
    source = _songs_source(aws, ["song_data/A/a.json", "song_data/B/b.json"],
                           load=["song_data/B/b.json"])

    with pytest.raises(ConfigError, match=r"1 of the 2 objects .* set \[S3\] MANIFEST_PREFIX"):
        _warehouse().copy_from("staging_songs", source, S3ObjectStore(REGION), "r1")


def test_a_manifest_lists_exactly_the_objects_to_load(aws):
    source = _songs_source(aws, ["song_data/A/a.json", "song_data/B/b.json"],
                           load=["song_data/B/b.json"])

    uri, manifest = _warehouse("s3://songs/manifests/").copy_from(
        "staging_songs", source, S3ObjectStore(REGION), "run-7")

    assert (uri, manifest) == ("s3://songs/manifests/run-7/staging_songs.manifest", True)
    body = aws.client("s3").get_object(Bucket="songs", Key="manifests/run-7/staging_songs.manifest")
    assert json.loads(body["Body"].read()) == {
        "entries": [{"url": "s3://songs/song_data/B/b.json", "mandatory": True}]}


FAKE_REDSHIFT = """
CREATE TABLE staging_songs (num_songs INT, artist_id TEXT, artist_latitude FLOAT,
    artist_longitude FLOAT, artist_location TEXT, artist_name TEXT, song_id TEXT, title TEXT,
    duration FLOAT, year INT);
INSERT INTO staging_songs (song_id) VALUES ('SOKEPT');
CREATE FUNCTION pg_last_copy_count() RETURNS BIGINT AS 'SELECT 0::BIGINT' LANGUAGE SQL;
CREATE FUNCTION pg_last_copy_id() RETURNS INT AS 'SELECT 42' LANGUAGE SQL;
CREATE TABLE stl_load_errors (query INT, filename TEXT, line_number BIGINT, colname TEXT,
    err_reason TEXT, raw_line TEXT);
"""


def test_a_rejected_copy_names_file_line_and_reason_and_keeps_the_staging_rows(
        aws, warehouse_url):
    """PostgreSQL stands in for Redshift's catalog: its COPY fails, the error lookup runs."""
    query_all(warehouse_url, FAKE_REDSHIFT + """
        INSERT INTO stl_load_errors VALUES (42, 's3://songs/song_data/B/b.json   ', 3,
            'year', 'Invalid digit, Value ''x'', Pos 0, Type: Integer   ', '{"year": "x"}')""")
    source = _songs_source(aws, ["song_data/A/a.json", "song_data/B/b.json"])
    warehouse = RedshiftWarehouse(warehouse_url, role="arn:aws:iam::1:role/r", region=REGION)

    with pytest.raises(MalformedRecordError) as raised:
        warehouse.stage("staging_songs", source, S3ObjectStore(REGION), max_errors=0, run_id="r")

    assert str(raised.value) == (
        "malformed record in s3://songs/song_data/B/b.json line 3: Invalid digit, Value 'x', "
        "Pos 0, Type: Integer (column year); any malformed record is fatal (--max-errors 0)")
    assert query(warehouse_url, "SELECT song_id FROM staging_songs") == [("SOKEPT",)]


def test_a_copy_failing_for_another_reason_keeps_its_own_one_line_error(aws, warehouse_url):
    query_all(warehouse_url, FAKE_REDSHIFT)
    source = _songs_source(aws, ["song_data/A/a.json"])
    warehouse = RedshiftWarehouse(warehouse_url, role="arn:aws:iam::1:role/r", region=REGION)

    with pytest.raises(WarehouseError, match=r"^staging/copy_staging_songs\.sql failed: ") as raised:
        warehouse.stage("staging_songs", source, S3ObjectStore(REGION), max_errors=0, run_id="r")

    assert "\n" not in str(raised.value)
    assert query(warehouse_url, "SELECT song_id FROM staging_songs") == [("SOKEPT",)]


def test_load_errors_prefer_sys_load_error_detail(warehouse_url):
    query_all(warehouse_url, FAKE_REDSHIFT + """
        CREATE TABLE sys_load_error_detail (query_id BIGINT, session_id INT, file_name TEXT,
            line_number BIGINT, column_name TEXT, error_message TEXT);
        INSERT INTO sys_load_error_detail VALUES
            (7, 555, 's3://b/k.json', 2, 'ts', 'Overflow'),
            (8, 555, 's3://b/k.json', 9, '', 'Invalid JSON'),
            (9, 556, 's3://b/other.json', 1, '', 'another session');
        INSERT INTO stl_load_errors VALUES (42, 's3://b/stl.json', 1, '', 'from stl', 'raw')""")
    warehouse = RedshiftWarehouse(warehouse_url, role="r", region=REGION)

    assert [e.describe() for e in warehouse.copy_errors(555, 42)] == [
        "s3://b/k.json line 9: Invalid JSON"]  # the session's latest COPY only
    assert [(e.describe(), e.raw_text) for e in warehouse.copy_errors(999, 42)] == [
        ("s3://b/stl.json line 1: from stl", "raw")]  # no SYS rows: the STL fallback


def query_all(url: str, sql: str) -> None:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
        conn.commit()
    finally:
        conn.close()


def test_the_elt_lock_makes_a_second_run_wait_and_say_so(warehouse_url):
    """Redshift's LOCK and statement_timeout behave as PostgreSQL's, which stands in here."""
    first, second = (RedshiftWarehouse(warehouse_url, role="r", region=REGION) for _ in "12")
    second.lock_probe_ms = 200
    waited, entered = threading.Event(), threading.Event()

    def second_run() -> None:
        with second.exclusive(on_wait=waited.set):
            entered.set()

    with first.exclusive(on_wait=lambda: pytest.fail("the first run must not wait")):
        thread = threading.Thread(target=second_run)
        thread.start()
        assert waited.wait(10)
        time.sleep(0.3)
        assert not entered.is_set()
    thread.join(10)
    assert entered.is_set()


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
           "SPARKIFY_DB_PASSWORD": "From-env-1"}

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
               SPARKIFY_DB_PASSWORD=aws.password, PREFECT_LOGGING_LEVEL="DEBUG")
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def _repository_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    return [PROJECT_ROOT / name for name in listed if (PROJECT_ROOT / name).is_file()]


def test_no_secret_reaches_the_output_the_logs_or_the_repository(aws, tmp_path):
    """The real commands, as a user runs them, with Prefect logging at DEBUG."""
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


def test_the_master_password_stays_out_of_botocore_debug_logs(aws, caplog):
    settings = load_settings(aws.config)
    provisioning.check_settings(settings)
    with caplog.at_level(logging.DEBUG, logger="botocore"):
        provisioning.ensure_cluster.fn(str(aws.config), "arn:aws:iam::123456789012:role/r",
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
