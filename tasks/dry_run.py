"""--dry-run: every SQL statement of one ELT run, in run order, secrets redacted.

The plan is built from dwh.cfg and the SQL files only: no AWS call, no database connection.
The engine is Redshift when --config is given without --warehouse-url, PostgreSQL otherwise;
statements come from the same `SqlLibrary` files, with the same parameters, as a real run.
"""

from __future__ import annotations

from dataclasses import dataclass

from sparkify.config import Settings, load_settings
from sparkify.local import EMULATOR_BUCKET, EMULATOR_REGION
from sparkify.profiles import _source_uris
from sparkify.records import STAGING_EVENTS, STAGING_SONGS
from sparkify.redshift import RedshiftWarehouse, copy_params, manifest_uri, prefix_uri
from sparkify.secrets import redact
from sparkify.sqllib import STAR_TABLES, TABLES, TRANSFORM_STEPS, SqlLibrary, quote_literal
from sparkify.storage import S3Location

STAGED = {"staging_events": ("log_data", STAGING_EVENTS),
          "staging_songs": ("song_data", STAGING_SONGS)}
RUN_ID = "<run_id>"


@dataclass(frozen=True)
class Entry:
    """One statement of the run (`sql`), or a note on work that is not SQL."""

    label: str
    text: str
    sql: bool = True


def note(label: str, text: str) -> Entry:
    return Entry(label, text, sql=False)


@dataclass(frozen=True)
class Step:
    """Statements that run together, in order."""

    title: str
    entries: list[Entry]


@dataclass(frozen=True)
class Target:
    """Where the run would load, and from where."""

    engine: str
    schema: str
    uris: dict[str, str]
    region: str
    settings: Settings | None
    warehouse_url: str | None


def print_plan(config: str | None, source: str | None, warehouse_url: str | None,
               max_errors: int = 0, full_refresh: bool = False) -> None:
    """Print the SQL of the run these options describe, redacted; touches nothing."""
    print(redact(plan_text(config, source, warehouse_url, max_errors, full_refresh)))


def plan_text(config: str | None, source: str | None, warehouse_url: str | None,
              max_errors: int = 0, full_refresh: bool = False) -> str:
    """The whole plan as text: a header, then each step's statements in run order."""
    target = _target(config, source, warehouse_url)
    sql = SqlLibrary(target.engine)
    steps = [_lock(sql, target), _create_tables(sql, target.schema),
             _select_new(sql, full_refresh)]
    steps += [_stage(sql, target, table, max_errors) for table in STAGED]
    steps += [_checkpoint("staging"), _transform(sql, full_refresh), _checkpoint("warehouse"),
              Step("report: row counts of every table (read-only SELECT COUNT(*))", [])]
    return "\n".join(_header(target) + [line for step in steps for line in _render(step)])


def _target(config: str | None, source: str | None, warehouse_url: str | None) -> Target:
    """Engine, schema and source URIs, chosen as `open_runtime` chooses them."""
    settings = load_settings(config, resolve_password=False) if config else None
    engine = "redshift" if settings and not warehouse_url else "postgres"
    if source:
        uris = _source_uris(S3Location.parse(source))
    elif settings:
        uris = {"log_data": settings.log_data, "song_data": settings.song_data,
                "log_jsonpath": settings.log_jsonpath}
    else:
        uris = _source_uris(S3Location(EMULATOR_BUCKET))
    region = settings.region if settings else EMULATOR_REGION
    return Target(engine, settings.schema if settings else "public", uris, region, settings,
                  warehouse_url)


def _header(target: Target) -> list[str]:
    if target.engine == "redshift":
        engine = "Redshift"
        where = target.settings.host or f"cluster {target.settings.cluster_identifier}"
    else:
        engine, where = "PostgreSQL", target.warehouse_url or "the embedded PostgreSQL"
    return [
        f"-- Sparkify ELT dry run: every SQL statement of one run on {engine}, in order.",
        "-- Nothing was executed: no database connection, no AWS call.",
        f"-- target: {where} (schema {target.schema}); region {target.region}",
        (f"-- events: {prefix_uri(target.uris['log_data'])} "
         f"(JSONPaths {target.uris['log_jsonpath']})"),
        f"-- songs:  {prefix_uri(target.uris['song_data'])}",
        f"-- each connection first runs: SET search_path TO {target.schema}",
    ]


def _lock(sql: SqlLibrary, target: Target) -> Step:
    if target.engine == "redshift":
        entries = [Entry("lock/create", sql.text("lock/create")),
                   Entry("lock/set_timeout", sql.text("lock/set_timeout",
                                                      timeout_ms=str(RedshiftWarehouse.lock_probe_ms))),
                   Entry("lock/acquire", sql.text("lock/acquire")),
                   note("lock", "on a timeout another run holds the lock: wait with "
                                "statement_timeout 0; the transaction stays open until the end")]
    else:
        key = quote_literal(f"sparkify-elt:{target.schema}")
        entries = [Entry("lock/try_acquire", sql.text("lock/try_acquire", key=key)),
                   Entry("lock/acquire", sql.text("lock/acquire", key=key)),
                   note("lock", "acquire runs only when try_acquire returned false")]
    return Step("lock: one connection holds the ELT lock for the whole run", entries)


def _create_tables(sql: SqlLibrary, schema: str) -> Step:
    entries = [Entry("create schema", f"CREATE SCHEMA IF NOT EXISTS {schema}")]
    entries += [Entry(f"ddl/{table}", sql.text(f"ddl/{table}")) for table in TABLES]
    return Step("create tables: one transaction", entries)


def _select_new(sql: SqlLibrary, full_refresh: bool) -> Step:
    if full_refresh:
        return Step("select objects: --full-refresh loads every object, the ledger is not read",
                    [])
    return Step("select objects: those new or changed since the ledger saw them",
                [Entry("ledger/loaded_objects", sql.text("ledger/loaded_objects"))])


def _stage(sql: SqlLibrary, target: Target, table: str, max_errors: int) -> Step:
    """Clear, load, record tolerated errors, analyze: one transaction per staging table."""
    load = _redshift_copy(sql, target, table, max_errors) if target.engine == "redshift" \
        else _postgres_copy(target, table)
    tolerated = ("INSERT INTO load_errors (run_id, table_name, source_key, line_number, reason, "
                 "raw_text) VALUES ..., one row per tolerated record") if max_errors else \
        "nothing to insert: with --max-errors 0 a bad record fails the load"
    entries = [
        Entry(f"staging/clear_{table}", sql.text(f"staging/clear_{table}")),
        *load,
        Entry("staging/clear_load_errors",
              sql.text("staging/clear_load_errors", table=quote_literal(table))),
        note("load_errors", tolerated),
        Entry("staging/analyze", sql.text("staging/analyze", table=table)),
    ]
    return Step(f"stage {table}: one transaction on its own connection; the two staging "
                "tables load concurrently", entries)


def _redshift_copy(sql: SqlLibrary, target: Target, table: str, max_errors: int) -> list[Entry]:
    settings, (prefix_key, _) = target.settings, STAGED[table]
    source, manifest = prefix_uri(target.uris[prefix_key]), bool(settings.manifest_prefix)
    if manifest:
        source = manifest_uri(settings.manifest_prefix, RUN_ID, table)
        entries = [note("manifest", f"an S3 PUT of {source} listing the keys to load, each "
                                    "mandatory")]
    else:
        entries = [note("prefix", f"COPY reads {source} only when it holds exactly the objects "
                                  "to load; otherwise the run stops and asks for [S3] "
                                  "MANIFEST_PREFIX")]
    role = settings.role_arn or f"<ROLE_ARN of IAM_ROLE_NAME {settings.iam_role_name}>"
    jsonpaths = target.uris["log_jsonpath"] if table == "staging_events" else ""
    params = copy_params(source=source, manifest=manifest, role=role, region=target.region,
                         jsonpaths=jsonpaths, max_errors=max_errors)
    return entries + [
        Entry(f"staging/copy_{table}", sql.text(f"staging/copy_{table}", **params)),
        Entry("staging/last_copy", sql.text("staging/last_copy")),
        note("rejected records", "after a failed COPY (or with --max-errors > 0), read on a "
                                 "separate connection from staging/copy_errors.sql, else "
                                 "staging/copy_errors_stl.sql"),
    ]


def _postgres_copy(target: Target, table: str) -> list[Entry]:
    prefix_key, staging = STAGED[table]
    how = "through the JSONPaths file" if table == "staging_events" else \
        "by key name, case-insensitively"
    columns = ", ".join(staging.column_names)
    return [
        note("client-side parsing", f"each selected .json object under "
                                    f"{prefix_uri(target.uris[prefix_key])} is read and "
                                    f"mapped {how}, then streamed to the COPY"),
        Entry(f"copy {table}", f"COPY {table} ({columns}) FROM STDIN"),
    ]


def _transform(sql: SqlLibrary, full_refresh: bool) -> Step:
    entries = [Entry("refresh/clear_star", sql.text("refresh/clear_star"))] if full_refresh else []
    entries += [Entry(name, sql.text(name)) for name in TRANSFORM_STEPS]
    entries += [Entry("ledger/forget_objects", sql.text("ledger/forget_objects")),
                Entry("ledger/record_objects", sql.text("ledger/record_objects")),
                note("ledger parameters", "each %s is filled by the client with the loaded "
                                          "objects, 1000 at a time")]
    entries += [Entry("staging/analyze", sql.text("staging/analyze", table=table))
                for table in STAR_TABLES]
    return Step("transform: one transaction; any failure rolls the star and ledger back", entries)


def _checkpoint(name: str) -> Step:
    """The Great Expectations gate: read-only queries GX builds from expectations/*.yml."""
    return Step(f"check {name}: the '{name}' quality checkpoint (read-only queries generated "
                "by Great Expectations; --quality warn only reports a failure)", [])


def _render(step: Step) -> list[str]:
    lines = ["", f"-- ==== {step.title} ===="]
    for entry in step.entries:
        lines += ["", f"-- {entry.label}", f"{entry.text};"] if entry.sql else \
            ["", f"-- {entry.label}: {entry.text}"]
    return lines
