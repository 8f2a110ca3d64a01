"""The stand-in's COPY on small inputs: Redshift's documented JSON rules, MAXERROR, manifests,
compression, REGION, the error views and PG_LAST_COPY_*; statements Redshift lacks refused.
Against the stand-in's strict PostgreSQL and the S3 emulator (no AWS)."""

from __future__ import annotations

import bz2
import gzip

import psycopg2
import pytest
import zstandard
from standin_helpers import copy_sql, new_bucket, put, session

from sparkify.local.emulator import EMULATOR_REGION
from sparkify.model import TABLES
from sparkify.sqllib import SqlLibrary
from sparkify.warehouse.copy_failures import CopyContext, explain

TABLE = ("CREATE TABLE t (name VARCHAR(8), n BIGINT NOT NULL, x DOUBLE PRECISION) "
         "DISTSTYLE ALL SORTKEY (n)")


@pytest.fixture
def loader(standin_db, s3_emulator_url):
    """(a stand-in session with table t, the emulator's endpoint, a fresh bucket)."""
    conn = session(standin_db, s3_emulator_url)
    with conn.cursor() as cur:
        cur.execute(TABLE)
    conn.commit()
    yield conn, s3_emulator_url, new_bucket(s3_emulator_url)
    conn.close()


def copy(conn, source: str, **options) -> tuple[list[tuple], list[tuple]]:
    """Run the COPY: (the rows of t, the session's rejected records as copy_errors reads them);
    a failed COPY raises, its transaction rolled back."""
    with conn.cursor() as cur:
        try:
            cur.execute(copy_sql("t", "name, n, x", source, **options))
        except psycopg2.Error:
            conn.rollback()
            raise
        cur.execute("SELECT name, n, x FROM t ORDER BY n")
        rows = cur.fetchall()
    conn.commit()
    return rows, rejected(conn)


def rejected(conn) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute("SELECT TRIM(file_name), line_number, TRIM(column_name), error_code, "
                    "TRIM(error_message) FROM sys_load_error_detail "
                    "WHERE query_id = PG_LAST_COPY_ID() ORDER BY line_number")
        found = cur.fetchall()
    conn.commit()
    return found


def test_auto_ignorecase_matches_keys_whatever_their_case_and_a_missing_key_loads_null(loader):
    conn, endpoint, bucket = loader
    uri = put(endpoint, bucket, "a.json", [{"NAME": "ann", "N": 1}, {"name": "bo", "n": 2, "x": 1.5}])

    assert copy(conn, uri) == ([("ann", 1, None), ("bo", 2, 1.5)], [])


def test_auto_is_case_sensitive(loader):
    conn, endpoint, bucket = loader
    uri = put(endpoint, bucket, "a.json", [{"NAME": "ann", "n": 1}])

    assert copy(conn, uri, json_option="auto")[0] == [(None, 1, None)]


def test_a_jsonpaths_file_maps_the_ith_path_to_the_ith_column(loader):
    conn, endpoint, bucket = loader
    paths = put(endpoint, bucket, "paths.json",
                b'{"jsonpaths": ["$.who.first", "$[\'id\']", "$.values[1]"]}')
    uri = put(endpoint, bucket, "a.json", [{"who": {"first": "cy"}, "id": 3, "values": [9, 2.5]}])

    assert copy(conn, uri, json_option=paths)[0] == [("cy", 3, 2.5)]


def test_a_jsonpaths_file_without_the_jsonpaths_name_means_auto(loader):
    """"If the name is any string other than "jsonpaths", COPY uses the 'auto' argument"."""
    conn, endpoint, bucket = loader
    paths = put(endpoint, bucket, "paths.json", b'{"paths": ["$.a", "$.b", "$.c"]}')
    uri = put(endpoint, bucket, "a.json", [{"name": "di", "n": 4}])

    assert copy(conn, uri, json_option=paths)[0] == [("di", 4, None)]


def test_integers_take_digits_only_and_an_empty_string_loads_null(loader):
    conn, endpoint, bucket = loader
    uri = put(endpoint, bucket, "a.json", [
        {"n": "12"}, {"n": 3.0}, {"n": 2 ** 63}, {"n": 5, "x": ""}, {"n": 6, "x": "abc"}])

    rows, errors = copy(conn, uri, max_errors=10)

    assert rows == [(None, 5, None), (None, 12, None)]
    assert [(line, code, message) for _, line, _, code, message in errors] == [
        (2, 1207, "Invalid digit, Value '.', Pos 1, Type: Long"),
        (3, 1222, "Overflow, Value '9223372036854775808', Type: Long"),
        (5, 1208, "Invalid floating-point number, Value 'abc'")]


def test_varchar_holds_bytes_not_characters_and_not_null_is_enforced(loader):
    conn, endpoint, bucket = loader
    uri = put(endpoint, bucket, "a.json", [{"name": "abcdefgh", "n": 1}, {"name": "ééééé", "n": 2},
                                           {"name": "x"}])

    rows, errors = copy(conn, uri, max_errors=10)

    assert rows == [("abcdefgh", 1, None)]
    assert [(line, column, code) for _, line, column, code, _ in errors] == [
        (2, "name", 1204), (3, "n", 1213)]


def test_an_object_over_several_lines_is_one_row_and_named_by_its_last_line(loader):
    conn, endpoint, bucket = loader
    uri = put(endpoint, bucket, "a.json", b'{"n": 1}\n{"n":\n  "x"\n}\nnot json\n{"n": 2}{"n": 3}\n')

    rows, errors = copy(conn, uri, max_errors=10)

    assert [n for _, n, _ in rows] == [1, 2, 3]
    assert [(line, code) for _, line, _, code, _ in errors] == [(4, 1207), (5, 1216)]


def test_maxerror_fails_the_load_at_that_many_errors_as_documented(loader):
    """"If the load returns the error_count number of errors or greater, the load fails"."""
    conn, endpoint, bucket = loader
    uri = put(endpoint, bucket, "a.json", [{"n": 1}, {"n": "a"}, {"n": "b"}])

    with pytest.raises(psycopg2.errors.InternalError_, match=r"Load into table 't' failed"):
        copy(conn, uri, max_errors=2)
    assert [line for _, line, *_ in rejected(conn)] == [2, 3]  # kept, whatever the rollback
    assert copy(conn, uri, max_errors=3)[0] == [(None, 1, None)]
    with pytest.raises(psycopg2.errors.InternalError_):
        copy(conn, put(endpoint, bucket, "b.json", [{"n": "c"}]), max_errors=0)


def test_each_compression_option_reads_its_kind_and_refuses_another(loader):
    conn, endpoint, bucket = loader
    body = b'{"n": 1}\n{"n": 2}\n'
    for option, packed in (("GZIP", gzip.compress(body)), ("BZIP2", bz2.compress(body)),
                           ("ZSTD", zstandard.ZstdCompressor().compress(body))):
        uri = put(endpoint, bucket, f"{option}/a.json", packed)
        assert [n for _, n, _ in copy(conn, uri, extra=option)[0]] == [1, 2]
        with conn.cursor() as cur:
            cur.execute("DELETE FROM t")
        conn.commit()
    with pytest.raises(psycopg2.errors.InternalError_, match=r"not GZIP data"):
        copy(conn, put(endpoint, bucket, "plain.json", body), extra="GZIP")


def test_a_prefix_loads_every_key_under_it_and_a_manifest_exactly_its_entries(loader):
    conn, endpoint, bucket = loader
    first = put(endpoint, bucket, "d/a.json", [{"n": 1}])
    put(endpoint, bucket, "d/b.json", [{"n": 2}])
    put(endpoint, bucket, "d_old/c.json", [{"n": 3}])
    assert [n for _, n, _ in copy(conn, f"s3://{bucket}/d/")[0]] == [1, 2]
    with conn.cursor() as cur:
        cur.execute("DELETE FROM t")
    conn.commit()

    manifest = put(endpoint, bucket, "m.manifest",
                   b'{"entries": [{"url": "%s", "mandatory": true}]}' % first.encode())
    assert [n for _, n, _ in copy(conn, manifest, extra="MANIFEST")[0]] == [1]
    missing = put(endpoint, bucket, "n.manifest",
                  b'{"entries": [{"url": "s3://%s/gone.json", "mandatory": true}]}' % bucket.encode())
    with pytest.raises(psycopg2.errors.InternalError_, match=r"mandatory file .*gone.json not found"):
        copy(conn, missing, extra="MANIFEST")


def test_a_region_other_than_the_buckets_fails_and_is_explained_as_such(loader):
    conn, endpoint, bucket = loader
    uri = put(endpoint, bucket, "a.json", [{"n": 1}])
    sql = copy_sql("t", "n", uri).replace(f"REGION '{EMULATOR_REGION}'", "REGION 'eu-west-1'")

    with conn.cursor() as cur, pytest.raises(psycopg2.Error) as raised:
        cur.execute(sql)
    conn.rollback()

    assert explain(str(raised.value), CopyContext("t", uri, "r", "eu-west-1")).startswith(
        f"COPY t from {uri}: the bucket is not in region eu-west-1")


def test_an_option_the_stand_in_does_not_implement_is_refused_not_ignored(loader):
    conn, endpoint, bucket = loader
    uri = put(endpoint, bucket, "a.json", [{"name": "way too long", "n": 1}])

    with pytest.raises(psycopg2.Error, match="does not implement the COPY option TRUNCATECOLUMNS"):
        copy(conn, uri, extra="TRUNCATECOLUMNS")


def test_last_copy_functions_answer_for_the_session(loader):
    conn, endpoint, bucket = loader
    with conn.cursor() as cur:
        cur.execute("SELECT PG_LAST_COPY_COUNT(), PG_LAST_COPY_ID()")
        assert cur.fetchone() == (0, -1)
    copy(conn, put(endpoint, bucket, "a.json", [{"n": 1}, {"n": 2}]))
    with conn.cursor() as cur:
        cur.execute("SELECT PG_LAST_COPY_COUNT(), PG_LAST_COPY_ID()")
        count, query_id = cur.fetchone()
    assert count == 2 and query_id > 0


def test_the_error_views_cut_file_names_to_256_bytes_as_redshifts_char_256(loader):
    conn, endpoint, bucket = loader
    key = "k/" + "é" * 200 + ".json"
    uri = put(endpoint, bucket, key, [{"n": "x"}])

    [(file_name, *_)] = copy(conn, uri, max_errors=5)[1]

    assert len(file_name.encode()) <= 256 and uri.startswith(file_name) and file_name != uri


def test_every_redshift_table_is_created_through_the_stand_in(standin_db, s3_emulator_url):
    """Every DDL of the Redshift overlay, translated, by the login without CREATE on the
    database: dist and sort keys, IDENTITY, ENCODE-free, GETDATE() defaults."""
    redshift = SqlLibrary("redshift")
    conn = session(standin_db, s3_emulator_url)
    with conn.cursor() as cur:
        for table in TABLES:
            cur.execute(redshift.text(f"ddl/{table}"))
        cur.execute("INSERT INTO load_errors (run_id, table_name, source_key, line_number, reason)"
                    " VALUES ('r', 't', 'k', 1, 'why')")
        cur.execute("SELECT logged_at IS NOT NULL FROM load_errors")
        assert cur.fetchone() == (True,)
        with pytest.raises(psycopg2.errors.CheckViolation):  # VARCHAR(256) holds 256 bytes
            cur.execute("INSERT INTO users (user_id) VALUES (%s)", ("é" * 129,))
    conn.rollback()
    conn.close()


@pytest.mark.parametrize("sql", [
    "SELECT pg_try_advisory_lock(1)",
    "INSERT INTO t (n) VALUES (1) ON CONFLICT DO NOTHING",
    "SELECT DISTINCT ON (n) n FROM t",
    "DELETE FROM t RETURNING n",
    "TRUNCATE t",
    "CREATE INDEX i ON t (n)",
    "CREATE UNLOGGED TABLE u (n INT)",
    "SELECT n FROM generate_series(1, 3) AS n",
    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
    "SELECT 1 WHERE 1 IS DISTINCT FROM 2",
])
def test_statements_redshift_lacks_are_refused_naming_the_documentation(loader, sql):
    conn, _, _ = loader
    with conn.cursor() as cur, pytest.raises(psycopg2.ProgrammingError,
                                             match=r"Redshift does not support .*docs\.aws"):
        cur.execute(sql)
    conn.rollback()
