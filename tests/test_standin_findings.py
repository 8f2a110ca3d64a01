"""The findings of the reading of the Redshift path against AWS's documentation (issue #25),
each shown on the Redshift engine running against the stand-in's strict PostgreSQL (or, for
Serverless's credentials, botocore's Stubber: moto has no Redshift Serverless backend)."""

from __future__ import annotations

import gzip
import threading
import time
from datetime import datetime, timedelta, timezone

import botocore.session
import psycopg2
import pytest
from botocore.stub import Stubber

from sparkify.model import TABLES
from pydantic import SecretStr
from standin_helpers import new_bucket, put
from conftest import event, song

from sparkify.aws.credentials import TemporaryLogin
from sparkify.aws.deployments import ServerlessDeployment
from sparkify.config import load_settings
from sparkify.dry_run import StatementLog
from sparkify.local.emulator import EMULATOR_REGION, emulator_session
from sparkify.local.standin.warehouse import StandInRedshiftWarehouse, standin_logins
from sparkify.staging.mappers import SongsMapper
from sparkify.staging.schema import DEFAULT_JSONPATHS, STAGING_EVENTS
from sparkify.staging.jsonpaths import load_jsonpaths
from sparkify.staging.mappers import events_mapper
from sparkify.aws.s3 import S3ObjectStore
from sparkify.store import SourceObject
from sparkify.warehouse.base import StagingSource
from sparkify.warehouse.redshift import RedshiftWarehouse


def warehouse(db, endpoint: str, bucket: str, seconds: int = 600, recorder=None):
    return StandInRedshiftWarehouse(SecretStr(db.login_url("")), s3_endpoint=endpoint,
                                    manifest_prefix=f"s3://{bucket}/manifests", recorder=recorder,
                                    login=standin_logins(db, seconds))


def store(endpoint: str) -> S3ObjectStore:
    return S3ObjectStore(EMULATOR_REGION, endpoint, emulator_session())


def objects(endpoint: str, bucket: str, files: dict[str, bytes | list]) -> list[SourceObject]:
    for key, body in files.items():
        put(endpoint, bucket, key, body)
    return [SourceObject(bucket, key, "etag", 1) for key in files]


def songs_source(endpoint: str, bucket: str, files: dict) -> StagingSource:
    return StagingSource(objects(endpoint, bucket, files), mapper=SongsMapper(),
                         prefix_uri=f"s3://{bucket}/song_data")


def events_source(endpoint: str, bucket: str, files: dict) -> StagingSource:
    jsonpaths = put(endpoint, bucket, "log_json_path.json", DEFAULT_JSONPATHS)
    return StagingSource(objects(endpoint, bucket, files), jsonpaths_uri=jsonpaths,
                         mapper=events_mapper(load_jsonpaths(DEFAULT_JSONPATHS, "x", STAGING_EVENTS)),
                         prefix_uri=f"s3://{bucket}/log_data")


def login_query(db, sql: str) -> list[tuple]:
    conn = psycopg2.connect(db.login_url(db.issue_password(60)))
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        conn.close()


@pytest.fixture
def bucket(s3_emulator_url) -> str:
    return new_bucket(s3_emulator_url)


# ---- 2: a login without CREATE on the database --------------------------------------------

def test_2_tables_are_created_by_a_login_that_may_not_create_schemas(standin_db, s3_emulator_url,
                                                                       bucket):
    """CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema exists."""
    assert login_query(standin_db, "SELECT has_database_privilege(current_user, "
                                   "current_database(), 'CREATE')") == [(False,)]

    warehouse(standin_db, s3_emulator_url, bucket).create_tables()

    assert login_query(standin_db, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public' "
                                   "AND tableowner = current_user") == [(len(TABLES),)]


# ---- 3: the side-by-side COPYs under SERIALIZABLE --------------------------------------------

def test_3_side_by_side_loads_that_both_keep_errors_do_not_conflict(standin_db, s3_emulator_url,
                                                                     bucket):
    """Both staging loads tolerate a bad record; each wrote load_errors in its own
    transaction, and under SERIALIZABLE the second to commit failed (40001)."""
    wh = warehouse(standin_db, s3_emulator_url, bucket)
    wh.create_tables()
    events = events_source(s3_emulator_url, bucket, {
        "log_data/a.json": [event(userId="1"), b'{"userId": "2", "sessionId": "x"}']})
    songs = songs_source(s3_emulator_url, bucket, {
        "song_data/a.json": [song("SO1", "A", "AR1", "X"), b'{"song_id": "SO2", "year": "y"}']})

    results = wh.stage_all([("staging_events", events), ("staging_songs", songs)],
                           store(s3_emulator_url), max_errors=5, run_id="r")

    assert [(r.table, r.rows, len(r.errors)) for r in results] == [
        ("staging_events", 1, 1), ("staging_songs", 1, 1)]
    assert login_query(standin_db, "SELECT table_name, line_number FROM load_errors ORDER BY 1") \
        == [("staging_events", 2), ("staging_songs", 2)]


# ---- 4: the errors of the COPY just run, not the session's latest with errors ----------------

def test_4_a_clean_copy_after_one_with_errors_reports_nothing(standin_db, s3_emulator_url, bucket):
    wh = warehouse(standin_db, s3_emulator_url, bucket)
    wh.create_tables()
    source = songs_source(s3_emulator_url, bucket, {
        "song_data/a.json": [song("SO1", "A", "AR1", "X"), b'{"song_id": "SO2", "year": "y"}'],
        "song_data/b.json.gz": gzip.compress(b'{"song_id": "SO3", "year": 2000}\n')})

    result = wh.stage("staging_songs", source, store(s3_emulator_url), max_errors=5, run_id="r")

    assert (result.rows, [e.describe() for e in result.errors]) == (2, [
        f"s3://{bucket}/song_data/a.json line 2: Invalid digit, Value 'y', Pos 0, Type: Integer "
        "(column year)"])


# ---- 9: temporary credentials that expire during a run ---------------------------------------

def test_9_sessions_opened_after_the_credentials_expired_log_in_with_new_ones(
        standin_db, s3_emulator_url, bucket):
    """The stand-in's login gets passwords valid 2 s, as IAM hands out temporary credentials:
    a session opened later (after a lock wait, in a long run) must not use an expired one."""
    wh = warehouse(standin_db, s3_emulator_url, bucket, seconds=2)
    wh.create_tables()
    time.sleep(2.5)

    assert wh.loaded_objects() == {}


def test_9_serverless_credentials_are_asked_again_before_they_expire():
    """GetCredentials through botocore's Stubber (moto has no Redshift Serverless backend):
    each answer's `expiration` decides when the next session asks again."""
    client = botocore.session.get_session().create_client("redshift-serverless",
                                                          region_name="us-west-2")
    settings = load_settings(None)
    call = ServerlessDeployment(settings).credentials_call()
    soon = datetime.now(timezone.utc) + timedelta(seconds=1)
    with Stubber(client) as stub:
        for number in (1, 2):
            stub.add_response("get_credentials", {
                "dbUser": "IAMR:loader", "dbPassword": f"pw-{number}",
                "expiration": soon + timedelta(hours=number - 1)}, call.params)
        logins = TemporaryLogin(lambda: call.request(lambda _: client))
        first = logins.current().password
        again = logins.current().password
        time.sleep(0.6)  # past half the first credentials' life: they are renewed
        later = logins.current().password
        stub.assert_no_pending_responses()

    assert (first, again, later) == ("pw-1", "pw-1", "pw-2")


# ---- 10: Redshift compares VARCHAR ignoring trailing blanks ------------------------------------

def test_10_trailing_blanks_are_dropped_at_staging_so_both_engines_compare_alike(
        standin_db, s3_emulator_url, bucket):
    wh = warehouse(standin_db, s3_emulator_url, bucket)
    wh.create_tables()
    events = events_source(s3_emulator_url, bucket, {"log_data/a.json": [
        event(userId="7 ", song="Song A", artist="Band"), event(userId="7", itemInSession=1)]})
    songs = songs_source(s3_emulator_url, bucket, {
        "song_data/a.json": [song("SO1", "Song A ", "AR1", "Band ")]})

    wh.stage_all([("staging_events", events), ("staging_songs", songs)], store(s3_emulator_url),
                 max_errors=0, run_id="r")

    assert login_query(standin_db, "SELECT DISTINCT user_id FROM staging_events") == [("7",)]
    assert login_query(standin_db, "SELECT title, artist_name FROM staging_songs") == [
        ("Song A", "Band")]


# ---- 13: widths and the lock probe --------------------------------------------------------------

def test_13_the_ledger_holds_the_uri_of_a_key_of_1024_bytes(standin_db, s3_emulator_url, bucket):
    wh = warehouse(standin_db, s3_emulator_url, bucket)
    wh.create_tables()
    uri = "s3://" + "b" * 63 + "/" + "k" * 1024

    with wh.transaction() as cur:
        wh.record_loaded(cur, [(uri, "etag", 1, None, "r", datetime(2024, 1, 1))])

    assert wh.loaded_objects() == {uri: "etag"}


def test_13_a_file_name_cut_at_256_bytes_is_given_back_whole(standin_db, s3_emulator_url, bucket):
    wh = warehouse(standin_db, s3_emulator_url, bucket)
    wh.create_tables()
    key = "song_data/" + "x" * 300 + ".json"
    source = songs_source(s3_emulator_url, bucket, {key: [b'{"song_id": "S", "year": "y"}']})

    result = wh.stage("staging_songs", source, store(s3_emulator_url), max_errors=5, run_id="r")

    assert [e.source_key for e in result.errors] == [f"s3://{bucket}/{key}"]


def test_13_a_waiting_run_sets_the_lock_timeout_back_itself(standin_db, s3_emulator_url, bucket):
    """Whether a rollback undoes a SET is not documented for Redshift: after a probe timed
    out, the run sends SET statement_timeout TO 0 before it waits without limit."""
    log = StatementLog(open("/dev/null", "w"))
    first = warehouse(standin_db, s3_emulator_url, bucket)
    second = warehouse(standin_db, s3_emulator_url, bucket, recorder=log)
    second.lock_probe_ms = 200
    waiting, entered = threading.Event(), threading.Event()

    def second_run() -> None:
        with second.exclusive(on_wait=waiting.set):
            entered.set()

    with first.exclusive():
        thread = threading.Thread(target=second_run)
        thread.start()
        assert waiting.wait(60), "the second run's probe never timed out"
        assert not entered.is_set()
    thread.join(60)

    assert entered.is_set()
    log.flush()  # the second run's statements were recorded on its own thread
    sent = [label for label in log.statements() if label.startswith(("lock/", "ROLLBACK"))]
    assert sent[-4:] == ["lock/acquire", "ROLLBACK", "lock/set_timeout", "lock/acquire"]


def test_redshift_engine_without_the_stand_in_still_builds_one_dsn_per_session():
    """A password login (AUTH = password) keeps its DSN as it is."""
    wh = RedshiftWarehouse("host=h user=u password=p", role="r", region="us-west-2")

    assert wh.session_dsn() == "host=h user=u password=p"


# ---- 11: integer parity between the local staging and COPY's rules ----------------------------

@pytest.mark.parametrize("literal", [b"12", b'"12"', b"-7", b'"+7"', b"3.0", b'"3.0"', b"3.5",
                                     b"1e3", b'" 12"', b'""', b"null", b"9223372036854775808",
                                     b"true", b'"abc"'])
def test_11_an_integer_column_takes_what_copy_takes_on_both_engines(literal):
    """The local profile's staging and the stand-in's COPY (Redshift's documented rules: digits
    with an optional sign, 1207 otherwise; an empty string is NULL) agree on every value."""
    import orjson

    from sparkify.local.standin.json_records import _DECODER, Column, RecordError, convert
    from sparkify.staging.schema import BIGINT
    from sparkify.staging.values import CONVERTERS, NULL, BadRecord

    try:
        local = CONVERTERS[BIGINT](orjson.loads(literal), "sessionId")
        local = None if local == NULL else int(local)
    except BadRecord:
        local = "rejected"
    try:
        copied = convert(_DECODER.decode(literal.decode()), Column("session_id", "bigint", False))
    except RecordError:
        copied = "rejected"

    assert local == copied


def test_2_another_database_user_is_told_whose_tables_these_are(standin_db, s3_emulator_url,
                                                                  bucket):
    """Tables belong to the user that created them: on Serverless with AUTH = iam, each IAM
    identity is a user. Another one is refused, and the error says why and what to do."""
    warehouse(standin_db, s3_emulator_url, bucket).create_tables()
    admin = psycopg2.connect(standin_db.admin_url())
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("DROP ROLE IF EXISTS other_identity")
        cur.execute("CREATE ROLE other_identity LOGIN")
    other = StandInRedshiftWarehouse(
        SecretStr(f"postgresql://other_identity@/{standin_db.database}?host={standin_db.data_dir}"),
        s3_endpoint=s3_emulator_url)

    try:
        with pytest.raises(Exception, match=r"ledger/loaded_objects\.sql failed: .*permission "
                                            r"denied for table load_ledger; tables belong to the "
                                            r"database user that created them"):
            other.loaded_objects()
    finally:
        with admin.cursor() as cur:
            cur.execute(f'REVOKE ALL ON DATABASE "{standin_db.database}" FROM other_identity')
            cur.execute("DROP OWNED BY other_identity")
            cur.execute("DROP ROLE other_identity")
        admin.close()


def test_10_the_embedded_database_sorts_strings_by_their_bytes_as_redshift(tmp_path):
    """Whatever this machine's locale: the local profile's tie-breaks (the smallest title,
    name or location) then pick what Redshift's binary order picks."""
    from sparkify.local.postgres import EmbeddedPostgres

    with EmbeddedPostgres(data_dir=tmp_path / "pg", database="sparkify") as embedded:
        assert login_free_query(embedded.url, "SELECT datcollate, 'Zebra' < 'apple', 'é' > 'z' "
                                              "FROM pg_database WHERE datname = current_database()"
                                ) == [("C", True, True)]


def login_free_query(url: str, sql: str) -> list[tuple]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        conn.close()
