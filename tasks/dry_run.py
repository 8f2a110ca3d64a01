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
from sparkify.redshift import copy_params, manifest_uri, prefix_uri
from sparkify.secrets import redact
from sparkify.sqllib import STAR_TABLES, TABLES, TRANSFORM_STEPS, SqlLibrary, quote_literal
from sparkify.storage import S3Location

STAGED = {"staging_events": ("log_data", STAGING_EVENTS), "staging_songs": ("song_data", STAGING_SONGS)}
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
    engine: str
    schema: str
    uris: dict[str, str]
    region: str
    settings: Settings | None
    warehouse_url: str | None


def print_plan(config: str | None, source: str | None, warehouse_url: str | None,
               max_errors: int = 0) -> None:
    """Print the SQL of the run these options describe, redacted; touches nothing."""
    print(redact(plan_text(config, source, warehouse_url, max_errors)))


def plan_text(config: str | None, source: str | None, warehouse_url: str | None,
              max_errors: int = 0) -> str:
    """The whole plan as text: a header, then each step's statements in run order."""
    target = _target(config, source, warehouse_url)
    sql = SqlLibrary(target.engine)
    steps = [_create_tables(sql, target.schema)]
    steps += [_stage(sql, target, table, max_errors) for table in STAGED]
    steps.append(_transform(sql))
    return "\n".join(_header(target) + [line for step in steps for line in _render(step)])


def _target(config: str | None, source: str | None, warehouse_url: str | None) -> Target:
    """Engine, schema and source URIs, chosen as `open_runtime` chooses them."""
    settings = load_settings(config) if config else None
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
    engine = "Redshift" if target.engine == "redshift" else "PostgreSQL"
    if target.engine == "redshift":
        where = target.settings.host or f"cluster {target.settings.cluster_identifier}"
    else:
        where = target.warehouse_url or "the embedded PostgreSQL"
    return [
        f"-- Sparkify ELT dry run: every SQL statement of one run on {engine}, in order.",
        "-- Nothing was executed: no database connection, no AWS call.",
        f"-- target: {where} (schema {target.schema}); region {target.region}",
        f"-- events: {prefix_uri(target.uris['log_data'])} "
        f"(JSONPaths {target.uris['log_jsonpath']})",
        f"-- songs:  {prefix_uri(target.uris['song_data'])}",
        f"-- each connection first runs: SET search_path TO {target.schema}",
    ]


def _create_tables(sql: SqlLibrary, schema: str) -> Step:
    entries = [Entry("create schema", f"CREATE SCHEMA IF NOT EXISTS {schema}")]
    entries += [Entry(f"ddl/{table}", sql.text(f"ddl/{table}")) for table in TABLES]
    return Step("create tables: one transaction", entries)


def _stage(sql: SqlLibrary, target: Target, table: str, max_errors: int) -> Step:
    """Clear, load, record tolerated errors, analyze: one transaction per staging table."""
    load = _redshift_copy(sql, target, table, max_errors) if target.engine == "redshift" \
        else _postgres_copy(target, table)
    entries = [
        Entry(f"staging/clear_{table}", sql.text(f"staging/clear_{table}")),
        *load,
        Entry("staging/clear_load_errors",
              sql.text("staging/clear_load_errors", table=quote_literal(table))),
        note("load_errors", "INSERT INTO load_errors (run_id, table_name, source_key, "
                            "line_number, reason, raw_text) VALUES ..., one row per tolerated "
                            "record" if max_errors else
                            "nothing to insert: with --max-errors 0 a bad record fails the load"),
        Entry("staging/analyze", sql.text("staging/analyze", table=table)),
    ]
    return Step(f"stage {table}: one transaction on its own connection; the two staging "
                "tables load concurrently", entries)


def _redshift_copy(sql: SqlLibrary, target: Target, table: str, max_errors: int) -> list[Entry]:
    settings, (prefix_key, _) = target.settings, STAGED[table]
    entries: list[Entry] = []
    source, manifest = prefix_uri(target.uris[prefix_key]), bool(settings.manifest_prefix)
    if manifest:
        source = manifest_uri(settings.manifest_prefix, RUN_ID, table)
        entries.append(note("manifest", f"an S3 PUT of {source} listing the discovered keys, "
                                        "each mandatory"))
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
        note("client-side parsing", f"each .json object under "
                                    f"{prefix_uri(target.uris[prefix_key])} is read and "
                                    f"mapped {how}, then streamed to the COPY"),
        Entry(f"copy {table}", f"COPY {table} ({columns}) FROM STDIN"),
    ]


def _transform(sql: SqlLibrary) -> Step:
    entries = [Entry(name, sql.text(name)) for name in TRANSFORM_STEPS]
    entries += [Entry("staging/analyze", sql.text("staging/analyze", table=table))
                for table in STAR_TABLES]
    return Step("transform: one transaction; any failure rolls every star table back", entries)


def _render(step: Step) -> list[str]:
    lines = ["", f"-- ==== {step.title} ===="]
    for entry in step.entries:
        lines += ["", f"-- {entry.label}: {entry.text}"] if not entry.sql else \
            ["", f"-- {entry.label}", f"{entry.text};"]
    return lines
