"""The Redshift warehouse against moto's server and a PostgreSQL standing in for Redshift's
catalog: the look-ups the runtime makes once, the manifest, the load-error path, the lock."""

from __future__ import annotations

import json
import threading
import time

import psycopg2
import pytest
from conftest import REGION, Aws, query, write_config

from sparkify.aws.s3 import S3ObjectStore
from sparkify.aws.deployments import deployment_of
from sparkify.config import load_settings
from sparkify.errors import ConfigError, MalformedRecordError, WarehouseError
from sparkify.runtime import open_runtime
from sparkify.staging.mappers import SongsMapper
from sparkify.store import SourceObject
from sparkify.warehouse.base import StagingSource
from sparkify.staging.compression import BZIP2, GZIP, PLAIN, ZSTD
from sparkify.warehouse.redshift import CopySource, RedshiftWarehouse

ROLE = "sparkify-redshift-s3-read"


def _cluster_and_role(aws: Aws) -> tuple[str, str]:
    """What provision leaves behind: an available cluster and the role COPY assumes."""
    role = aws.client("iam").create_role(RoleName=ROLE, AssumeRolePolicyDocument="{}")["Role"]
    cluster = aws.client("redshift").create_cluster(
        ClusterIdentifier="sparkify", NodeType="ra3.large", MasterUsername="sparkify",
        MasterUserPassword=aws.password, ClusterType="single-node")["Cluster"]
    return cluster["ClusterIdentifier"], role["Arn"]


def _no_aws(service: str):
    raise AssertionError(f"no {service} look-up expected")


def test_the_runtime_looks_up_host_and_role_once_and_connects_over_tls(aws):
    _, role_arn = _cluster_and_role(aws)

    with open_runtime("elt", config=str(aws.config)) as runtime:
        target = runtime.target
        warehouse = runtime.warehouse()

    endpoint = aws.client("redshift").describe_clusters()["Clusters"][0]["Endpoint"]["Address"]
    parameters = psycopg2.extensions.parse_dsn(target.dsn.get_secret_value())
    assert (parameters["host"], parameters["port"], parameters["sslmode"]) == \
        (endpoint, "5439", "require")
    assert warehouse.role == role_arn
    assert aws.password not in repr(warehouse) + repr(target) + target.describe()


def test_configured_host_and_role_need_no_aws_call_with_a_password(aws):
    write_config(aws.config, HOST="example.redshift.amazonaws.com", AUTH="password",
                 ROLE_ARN="arn:aws:iam::123456789012:role/x")
    settings = load_settings(aws.config)

    target = RedshiftWarehouse.target_from_settings(settings, deployment_of(settings), _no_aws,
                                                    dry_run=False)

    assert target.role_arn == "arn:aws:iam::123456789012:role/x"
    assert psycopg2.extensions.parse_dsn(target.dsn.get_secret_value())["host"] == \
        "example.redshift.amazonaws.com"


def test_a_missing_cluster_is_a_one_line_hint_to_provision(aws):
    with pytest.raises(ConfigError) as raised, open_runtime("elt", config=str(aws.config)):
        pass

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

    plan = _warehouse().copy_plan("staging_songs", source, S3ObjectStore(REGION), "r1")

    assert plan == [CopySource("s3://songs/song_data/", False, PLAIN)]


def test_a_partial_load_without_a_manifest_location_asks_for_one(aws):
    source = _songs_source(aws, ["song_data/A/a.json", "song_data/B/b.json"],
                           load=["song_data/B/b.json"])

    with pytest.raises(ConfigError, match=r"1 of the 2 objects .* set \[S3\] MANIFEST_PREFIX"):
        _warehouse().copy_plan("staging_songs", source, S3ObjectStore(REGION), "r1")


def test_a_manifest_lists_exactly_the_objects_to_load(aws):
    source = _songs_source(aws, ["song_data/A/a.json", "song_data/B/b.json"],
                           load=["song_data/B/b.json"])

    plan = _warehouse("s3://songs/manifests/").copy_plan(
        "staging_songs", source, S3ObjectStore(REGION), "run-7")

    assert plan == [CopySource("s3://songs/manifests/run-7/staging_songs.manifest", True, PLAIN)]
    body = aws.client("s3").get_object(Bucket="songs", Key="manifests/run-7/staging_songs.manifest")
    assert json.loads(body["Body"].read()) == {
        "entries": [{"url": "s3://songs/song_data/B/b.json", "mandatory": True}]}


MIXED = ["song_data/A/a.json.gz", "song_data/A/b.json", "song_data/B/c.json.zst",
         "song_data/B/d.json.gz", "song_data/C/e.json.bz2"]


def test_a_mixed_prefix_is_one_copy_per_compression_kind_each_through_its_manifest(aws):
    source = _songs_source(aws, MIXED)

    plan = _warehouse("s3://songs/manifests").copy_plan(
        "staging_songs", source, S3ObjectStore(REGION), "run-8")

    assert [(copy.uri, copy.manifest, copy.kind) for copy in plan] == [
        ("s3://songs/manifests/run-8/staging_songs.manifest", True, PLAIN),
        ("s3://songs/manifests/run-8/staging_songs.gzip.manifest", True, GZIP),
        ("s3://songs/manifests/run-8/staging_songs.zstd.manifest", True, ZSTD),
        ("s3://songs/manifests/run-8/staging_songs.bzip2.manifest", True, BZIP2)]
    listed = {}
    for copy in plan:
        body = aws.client("s3").get_object(Bucket="songs", Key=copy.uri.split("/", 3)[3])
        listed[copy.kind.name] = [e["url"] for e in json.loads(body["Body"].read())["entries"]]
    assert listed == {"plain": ["s3://songs/song_data/A/b.json"],
                      "gzip": ["s3://songs/song_data/A/a.json.gz", "s3://songs/song_data/B/d.json.gz"],
                      "zstd": ["s3://songs/song_data/B/c.json.zst"],
                      "bzip2": ["s3://songs/song_data/C/e.json.bz2"]}


def test_a_mixed_prefix_without_a_manifest_location_asks_for_one(aws):
    source = _songs_source(aws, MIXED)

    with pytest.raises(ConfigError, match=r"^staging_songs: the objects under s3://songs/song_data/ "
                                          r"are of 4 compression kinds.*MANIFEST_PREFIX"):
        _warehouse().copy_plan("staging_songs", source, S3ObjectStore(REGION), "r1")


def test_one_compressed_kind_alone_copies_from_the_prefix_with_its_option(aws):
    source = _songs_source(aws, ["song_data/A/a.json.gz", "song_data/B/b.json.gz"])

    plan = _warehouse().copy_plan("staging_songs", source, S3ObjectStore(REGION), "r1")

    assert plan == [CopySource("s3://songs/song_data/", False, GZIP)]


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

    assert [e.describe() for e in warehouse.copy_errors(555, 8)] == [
        "s3://b/k.json line 9: Invalid JSON"]  # that COPY's only, not the session's others
    assert [e.describe() for e in warehouse.copy_errors(555, 7)] == [
        "s3://b/k.json line 2: Overflow (column ts)"]
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
