"""The SQL of a Redshift run: it parses as Redshift, avoids what Redshift lacks, and keeps the
PostgreSQL columns (tests/test_dry_run.py checks what a run prints and sends)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from sparkify.staging.compression import BZIP2, GZIP, ZSTD
from sparkify.warehouse.copy_failures import CopyContext, explain
from sparkify.analytics.figures import QUESTIONS
from sparkify.oddities import QUERIES as ODDITY_QUERIES
from sparkify.warehouse.redshift import copy_params
from sparkify.model import TABLES, TRANSFORM_STEPS
from sparkify.sqllib import SQL_ROOT, SqlLibrary

PROJECT_ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden"
REDSHIFT = SqlLibrary("redshift")
POSTGRES = SqlLibrary("postgres")

COPY = copy_params(source="s3://udacity-dend/log_data/", manifest=False,
                   role="arn:aws:iam::123456789012:role/sparkify-redshift-s3-read",
                   region="us-west-2", jsonpaths="s3://udacity-dend/log_json_path.json",
                   max_errors=0)
PARAMS = {"table": "staging_events", "session_id": "555", "copy_query_id": "42",
          "timeout_ms": "2000", "schema": '"public"', **COPY}
QUOTED_TABLE = {"staging/clear_load_errors"}

# Every statement name a Redshift run executes (tests/golden/dry_run_redshift.sql shows the
# order), with those of the error path and --full-refresh.
RUN_STATEMENTS = (
    "session/search_path", "lock/create", "lock/set_timeout", "lock/acquire",
    "ddl/schema_exists", "ddl/schema", *(f"ddl/{table}" for table in TABLES),
    "ledger/loaded_objects",
    "staging/clear_staging_events", "staging/clear_staging_songs",
    "staging/copy_staging_events", "staging/copy_staging_songs", "staging/last_copy",
    "staging/copy_errors", "staging/copy_errors_stl", "staging/clear_load_errors",
    "staging/analyze",
    "refresh/clear_star", *TRANSFORM_STEPS,
    "ledger/forget_objects", "ledger/record_objects", "staging/record_load_errors",
    "report/row_count", "report/existing_tables",
    *(f"analytics/{question}" for question in QUESTIONS),
    "quality/table_exists", "staging/canonical_user_ids",
    "staging/trim_user_ids", "staging/trim_staging_events", "staging/trim_staging_songs",
    *ODDITY_QUERIES,
)
# sqlglot has no grammar for these; each is a keyword and a table name.
UNPARSED_ALLOWED = {"lock/acquire": "LOCK elt_lock"}


def redshift_text(name: str) -> str:
    params = {**PARAMS, "table": "'staging_events'"} if name in QUOTED_TABLE else PARAMS
    return REDSHIFT.text(name, **params)


def without_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


# ---- every statement parses as Redshift --------------------------------------------------

@pytest.mark.parametrize("name", RUN_STATEMENTS)
def test_every_statement_of_a_redshift_run_parses_with_sqlglot_redshift(name):
    statements = [s for s in sqlglot.parse(redshift_text(name), read="redshift") if s]

    assert statements
    unparsed = [s for s in statements if isinstance(s, exp.Command)]
    if name in UNPARSED_ALLOWED:
        assert [s.sql("redshift", comments=False) for s in unparsed] == [UNPARSED_ALLOWED[name]]
    else:
        assert unparsed == []


def test_every_redshift_file_is_used_by_a_run():
    names = {p.relative_to(SQL_ROOT / "redshift").with_suffix("").as_posix()
             for p in (SQL_ROOT / "redshift").rglob("*.sql")}

    assert names <= set(RUN_STATEMENTS)


def test_every_table_has_a_redshift_ddl():
    for table in TABLES:
        assert REDSHIFT.path(f"ddl/{table}") == SQL_ROOT / "redshift" / "ddl" / f"{table}.sql"


# ---- what Redshift lacks -----------------------------------------------------------------

UNSUPPORTED = {
    r"\bTRUNCATE\b": "TRUNCATE commits the open transaction",
    r"\bCREATE\s+(UNIQUE\s+)?INDEX\b": "Redshift has no indexes",
    r"\bpg_(try_)?advisory": "Redshift has no advisory locks",
    r"\bRESTART\s+IDENTITY\b": "an IDENTITY cannot be restarted",
    r"\bGENERATED\b.*\bIDENTITY\b": "Redshift spells it IDENTITY(seed, step)",
    r"\bON\s+CONFLICT\b": "Redshift has no upsert clause",
    r"::\s*regclass\b": "no regclass on compute nodes",
}


@pytest.mark.parametrize("name", RUN_STATEMENTS)
def test_no_statement_uses_what_redshift_lacks(name):
    text = without_comments(redshift_text(name))

    flags = re.IGNORECASE | re.DOTALL
    found = [why for pattern, why in UNSUPPORTED.items() if re.search(pattern, text, flags)]
    assert found == []


def outer_joins_in_update_from(sql: str) -> list[str]:
    """Outer joins directly in an UPDATE's FROM list (fine inside a derived table)."""
    found = []
    for update in sqlglot.parse(sql, read="redshift"):
        if isinstance(update, exp.Update) and update.args.get("from_") is not None:
            found += [join.sql("redshift") for join in update.args["from_"].find_all(exp.Join)
                      if join.side and not join.find_ancestor(exp.Subquery, exp.Select)]
    return found


UPDATES = [name for name in RUN_STATEMENTS if name.startswith("star/")]
KNOWN_GAPS: dict[str, str] = {}  # statement name -> why it cannot run on Redshift yet


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xfail(reason=KNOWN_GAPS[name], strict=False))
    if name in KNOWN_GAPS else name for name in UPDATES])
def test_no_update_has_an_outer_join_in_its_from_list(name):
    assert outer_joins_in_update_from(redshift_text(name)) == []


def test_the_outer_join_check_accepts_the_derived_table_form():
    derived = ("UPDATE songplay SET song_id = matches.song_id FROM (SELECT p.user_id, p.song_id "
               "FROM touched_plays AS p LEFT JOIN song ON song.song_id = p.song_id) AS matches "
               "WHERE songplay.user_id = matches.user_id")
    direct = ("UPDATE songplay SET song_id = p.song_id FROM touched_plays AS p LEFT JOIN song "
              "ON song.song_id = p.song_id WHERE songplay.user_id = p.user_id")

    assert outer_joins_in_update_from(derived) == []
    assert len(outer_joins_in_update_from(direct)) == 1


# ---- DDL ---------------------------------------------------------------------------------

def create_table(sql: str, dialect: str) -> exp.Create:
    return next(s for s in sqlglot.parse(sql, read=dialect)
                if isinstance(s, exp.Create) and s.args.get("kind") == "TABLE")


def columns(create: exp.Create) -> list[str]:
    return [c.name for c in create.this.expressions if isinstance(c, exp.ColumnDef)]


@pytest.mark.parametrize("table", TABLES)
def test_redshift_tables_have_the_postgres_columns_in_the_same_order(table):
    redshift = create_table(REDSHIFT.text(f"ddl/{table}"), "redshift")
    postgres = create_table(POSTGRES.text(f"ddl/{table}"), "postgres")

    assert columns(redshift) == columns(postgres)


@pytest.mark.parametrize("table", TABLES)
def test_distribution_and_sort_are_chosen_and_explained(table):
    text = REDSHIFT.text(f"ddl/{table}")
    properties = create_table(text, "redshift").args["properties"].expressions
    kinds = {type(p).__name__ for p in properties}
    comment = " ".join(line for line in text.splitlines() if line.startswith("--"))

    assert kinds & {"DistStyleProperty", "DistKeyProperty"}
    assert re.search(r"\bDIST(STYLE|KEY)\b", comment)  # the choice, with its reason
    assert "SortKeyProperty" in kinds or "No sort key" in comment


def test_songplay_id_is_an_identity_from_zero():
    text = REDSHIFT.text("ddl/songplay")

    assert re.search(r"songplay_id\s+BIGINT\s+IDENTITY\(0,\s*1\)", text)


@pytest.mark.parametrize("table", ["staging_events", "staging_songs"])
def test_staging_is_cleared_by_delete(table):
    [statement] = sqlglot.parse(REDSHIFT.text(f"staging/clear_{table}"), read="redshift")

    assert isinstance(statement, exp.Delete)


# ---- COPY --------------------------------------------------------------------------------

def copy_text(table: str, **overrides) -> str:
    values = {"source": "s3://udacity-dend/song_data/", "manifest": False,
              "role": "arn:aws:iam::1:role/r", "region": "us-west-2",
              "jsonpaths": "s3://udacity-dend/log_json_path.json", "max_errors": 0}
    return REDSHIFT.text(f"staging/copy_{table}", **copy_params(**{**values, **overrides}))


def test_events_copy_maps_through_the_jsonpaths_file():
    text = without_comments(copy_text("staging_events", max_errors=3))

    assert "FORMAT AS JSON 's3://udacity-dend/log_json_path.json'" in text
    for clause in ("IAM_ROLE 'arn:aws:iam::1:role/r'", "REGION 'us-west-2'", "COMPUPDATE OFF",
                   "STATUPDATE OFF", "MAXERROR 4"):
        assert clause in text
    assert "MANIFEST" not in text


@pytest.mark.parametrize("max_errors, sent", [(0, 0), (1, 2), (3, 4), (99_999, 100_000)])
def test_maxerror_tolerates_exactly_max_errors_records(max_errors, sent):
    """COPY fails once it returns MAXERROR errors or more (0 and 1: at the first); the local
    load tolerates up to --max-errors. MAXERROR is at most 100000."""
    assert f"\nMAXERROR {sent}\n" in copy_text("staging_songs", max_errors=max_errors) + "\n"


def test_a_max_errors_beyond_what_maxerror_allows_is_one_line_naming_the_option():
    from sparkify.errors import ConfigError
    from sparkify.warehouse.postgres import PostgresWarehouse
    from sparkify.warehouse.redshift import RedshiftWarehouse

    with pytest.raises(ConfigError, match=r"^--max-errors 100000: at most 99999 on Redshift"):
        copy_text("staging_songs", max_errors=100_000)
    warehouse = RedshiftWarehouse(None, role="r", region="us-west-2")
    with pytest.raises(ConfigError, match=r"^--max-errors 100000: "):
        warehouse.check_max_errors(100_000)
    warehouse.check_max_errors(99_999)
    PostgresWarehouse(None).check_max_errors(10**6)  # the local load has no such limit


def test_songs_copy_matches_keys_case_insensitively_from_a_manifest():
    text = without_comments(copy_text("staging_songs", source="s3://b/m/r/staging_songs.manifest",
                                      manifest=True))

    assert "FORMAT AS JSON 'auto ignorecase'" in text
    assert re.search(r"FROM 's3://b/m/r/staging_songs\.manifest'\n(.*\n)*MANIFEST\n", text)


@pytest.mark.parametrize("kind", [GZIP, ZSTD, BZIP2], ids=lambda kind: kind.name)
@pytest.mark.parametrize("table", ["staging_events", "staging_songs"])
def test_a_compressed_copy_names_its_option_and_parses_as_redshift(table, kind):
    text = copy_text(table, manifest=True, compression=kind)

    assert re.search(rf"\nMANIFEST\n{kind.copy_option}\nREGION", text)
    [statement] = [s for s in sqlglot.parse(text, read="redshift") if s]
    assert not isinstance(statement, exp.Command)


def test_a_plain_copy_names_no_option():
    text = without_comments(copy_text("staging_songs"))

    assert not re.search(r"\b(GZIP|ZSTD|BZIP2)\b", text)


def test_a_quote_in_a_uri_cannot_break_out_of_the_literal():
    text = copy_text("staging_songs", source="s3://b/it's/")

    assert "FROM 's3://b/it''s/'" in text


BREAKOUT = "x\\' ; DROP TABLE users; --"  # x\' ; DROP TABLE users; --


@pytest.mark.parametrize("field", ["source", "role", "region", "jsonpaths"])
def test_a_backslash_and_a_quote_stay_inside_the_redshift_literal(field):
    """Redshift reads a backslash in a literal as an escape (so does sqlglot's Redshift
    dialect): doubling the quote alone would end the literal early and run the rest as SQL."""
    text = copy_text("staging_events", **{field: BREAKOUT})

    statements = [s for s in sqlglot.parse(text, read="redshift") if s]
    assert len(statements) == 1
    assert BREAKOUT in [literal.this for literal in statements[0].find_all(exp.Literal)]


def test_redshift_literals_double_backslashes_and_postgres_literals_do_not():
    from sparkify.sqllib import quote_literal, quote_redshift_literal
    from sparkify.warehouse.postgres import PostgresWarehouse
    from sparkify.warehouse.redshift import RedshiftWarehouse

    assert quote_redshift_literal("a\\b'c") == "'a\\\\b''c'"
    assert quote_literal("a\\b'c") == "'a\\b''c'"  # standard_conforming_strings: \ is plain
    assert RedshiftWarehouse.literal is quote_redshift_literal
    assert PostgresWarehouse.literal is quote_literal


# ---- a failed COPY in one line a user can act on -------------------------------------------

CONTEXT = CopyContext("staging_events", "s3://udacity-dend/log_data/",
                      "arn:aws:iam::1:role/r", "us-west-2", "s3://udacity-dend/log_json_path.json")
FAILED = "staging/copy_staging_events.sql failed: ERROR:  "  # how Warehouse.run words it


@pytest.mark.parametrize("redshift_says, expected", [
    ("S3ServiceException:Access Denied,Status 403,Error AccessDenied,Rid 1,CanRetry 1",
     "COPY staging_events from s3://udacity-dend/log_data/: access denied: the IAM role "
     "arn:aws:iam::1:role/r needs s3:GetObject and s3:ListBucket on the source bucket"),
    ("User arn:aws:redshift:us-west-2:1:dbuser:sparkify/IAM:sparkify is not authorized to "
     "assume IAM Role arn:aws:iam::1:role/r",
     "COPY staging_events from s3://udacity-dend/log_data/: Redshift cannot use the IAM role "
     "arn:aws:iam::1:role/r: attach it to the cluster or namespace and let it trust "
     "redshift.amazonaws.com and redshift-serverless.amazonaws.com"),
    ("S3ServiceException:The bucket you are attempting to access must be addressed using the "
     "specified endpoint. Please send all future requests to this endpoint.,Status 301,Error "
     "PermanentRedirect",
     "COPY staging_events from s3://udacity-dend/log_data/: the bucket is not in region "
     "us-west-2: set [S3] REGION to the bucket's region (COPY's REGION; the JSONPaths file "
     "and MANIFEST_PREFIX must be in that region too)"),
    ("Invalid JSONPath format: Member is not an object.",
     "COPY staging_events from s3://udacity-dend/log_data/: the JSONPaths file "
     "s3://udacity-dend/log_json_path.json is invalid (Invalid JSONPath format: Member is not "
     "an object.)"),
    ("Number of jsonpaths and the number of columns should match. JSONPath size: 5, Number of "
     "columns in table or column list: 18",
     "COPY staging_events from s3://udacity-dend/log_data/: the JSONPaths file "
     "s3://udacity-dend/log_json_path.json is invalid (Number of jsonpaths and the number of "
     "columns should match."),
], ids=["s3-access-denied", "role-not-attached", "bucket-in-another-region", "jsonpaths-format",
        "jsonpaths-count"])
def test_a_failed_copy_says_which_setting_is_wrong_in_one_line(redshift_says, expected):
    line = explain(FAILED + redshift_says, CONTEXT)

    assert line.startswith(expected)
    assert "\n" not in line


def test_a_failed_copy_of_another_kind_keeps_redshift_s_own_words():
    assert explain(FAILED + "permission denied for relation staging_events", CONTEXT) is None
    assert explain(FAILED + "Invalid JSONPath format", CopyContext("staging_songs", "s3://b/",
                                                                   "r", "us-west-2")) is None


def test_a_copy_failure_of_settings_is_never_retried():
    from sparkify.errors import is_transient
    from sparkify.warehouse.redshift import CopyFailed

    assert not is_transient(CopyFailed("COPY staging_events ...: access denied"))
