"""The warehouse interface: create tables, stage, run the transform, query, lock.

`Warehouse` holds everything the engines share (connections, the SQL files, the ledger, the
staging template); `PostgresWarehouse` and `RedshiftWarehouse` fill in what differs: how a
staging table is loaded and how the run lock is taken. SQL text comes from `SqlLibrary`,
which picks each engine's files.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

import psycopg2
import psycopg2.errors
from pydantic import SecretStr

from sparkify.aws.credentials import Logins
from sparkify.errors import MalformedRecordError, WarehouseError, first_line
from sparkify.quality.targets import QualityTarget
from sparkify.secrets import redact
from sparkify.model import HISTORY_TABLES, STAR_TABLES, TABLES, TRANSFORM_STEPS, VIEWS
from sparkify.sqllib import SqlLibrary, quote_ident, quote_literal
from sparkify.staging.lines import LoadError
from sparkify.staging.mappers import RowMapper
from sparkify.store import ObjectStore, SourceObject
from sparkify.warehouse.connection import Connection, Cursor, Recorder

log = logging.getLogger("sparkify.warehouse")
STATEMENT_TIMED = "%s: %s rows in %.2fs"  # the debug record of a statement (make bench reads it)


def log_statement(name: str, rows: int, started: float) -> None:
    """One statement's rows and seconds since `started` (perf_counter), at debug level."""
    log.debug(STATEMENT_TIMED, name, rows, time.perf_counter() - started)
CONNECT_TIMEOUT_SECONDS = 15
LEDGER_BATCH = 1000  # keys per DELETE ... IN: Redshift limits a statement's size
Progress = Callable[[int, int], None]  # (objects done, rows so far)


@dataclass
class StageResult:
    table: str
    objects: int = 0
    rows: int = 0
    errors: list[LoadError] = field(default_factory=list)
    rows_by_key: dict[str, int] = field(default_factory=dict)  # for the load ledger
    seconds: float = 0.0
    unmapped_keys: dict[str, str] = field(default_factory=dict)  # key -> where first seen
    changed_after_load: dict[str, int] = field(default_factory=dict)  # statement -> rows it changed


@dataclass(frozen=True)
class StagingSource:
    """What to stage into one table: the discovered objects and how their lines map to rows."""

    objects: Sequence[SourceObject]
    mapper: RowMapper  # how a line becomes a row when parsed client-side (PostgreSQL)
    prefix_uri: str  # where the objects were listed (server-side COPY, Redshift)
    jsonpaths_uri: str = ""  # events only


@dataclass(frozen=True)
class WarehouseTarget:
    """Where the warehouse is, as the runtime resolved it: its engine, DSN (None on a dry run:
    nothing connects), schema, a description safe to print, and what a server-side load needs."""

    engine: str
    dsn: SecretStr | None
    schema: str
    where: str
    role_arn: str = ""
    region: str = ""
    manifest_prefix: str = ""
    login: str = ""  # how it logs in, safe to print (Redshift)
    logins: Logins | None = None  # renewable credentials (Redshift, AUTH = iam)
    s3_endpoint: str = ""  # the S3 emulator a stand-in's COPY reads

    def describe(self) -> str:
        return f"{self.where} (schema {self.schema})"


class Warehouse(ABC):
    """Runs the pipeline's SQL files on one PostgreSQL-protocol database.

    `dsn` None sends nothing: every statement goes to the `recorder` only (the dry run).
    """

    engine: str
    reads_local_emulator: bool  # can it load from the local S3 emulator (client-side loads)?
    literal = staticmethod(quote_literal)  # a value as a string literal of this engine's SQL

    def __init__(self, dsn: SecretStr | str | None, schema: str = "public", *,
                 recorder: Recorder | None = None) -> None:
        self.dsn = SecretStr(dsn) if isinstance(dsn, str) else dsn
        self.schema = schema
        self.recorder = recorder
        self.sql = SqlLibrary(self.engine)

    @classmethod
    def from_target(cls, target: WarehouseTarget, recorder: Recorder | None = None) -> Warehouse:
        return cls(target.dsn, target.schema, recorder=recorder)

    @abstractmethod
    def quality_target(self) -> QualityTarget:
        """GX's data source for this warehouse."""

    def __repr__(self) -> str:
        where = redact(self.dsn.get_secret_value()) if self.dsn else "nothing (dry run)"
        return f"{type(self).__name__}({where})"

    # -- connections -----------------------------------------------------------------------

    def connect(self) -> Connection:
        raw = None
        if self.dsn is not None:
            dsn = self.session_dsn()
            try:
                raw = self._open(dsn)
            except psycopg2.Error as exc:
                raise WarehouseError(f"cannot connect to {redact(dsn)}: {first_line(exc)}") from exc
        conn = Connection(raw, self.recorder)
        with conn.cursor() as cur:
            self.run(cur, "session/search_path", schema=quote_ident(self.schema))
        conn.commit()
        return conn

    def session_dsn(self) -> str:
        """The DSN a new session logs in with (an engine may renew its credentials here)."""
        return self.dsn.get_secret_value()

    def _open(self, dsn: str):
        """A psycopg2 connection to `dsn` (an engine may give psycopg2 its own classes)."""
        return psycopg2.connect(dsn, connect_timeout=CONNECT_TIMEOUT_SECONDS)

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """One connection and one transaction: committed on success, rolled back on any error."""
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                yield cur
            conn.commit()
        except BaseException as exc:
            if not conn.closed:  # a dropped connection has nothing left to roll back
                conn.rollback()
            if isinstance(exc, psycopg2.Error):
                raise WarehouseError(f"{self}: {first_line(exc)}") from exc
            raise
        finally:
            conn.close()

    def run(self, cur: Cursor, name: str, params: Sequence | None = None, **fill: str) -> int:
        """Run the statement file `name`; returns the rows it touched."""
        started = time.perf_counter()
        try:
            rows = cur.execute(self.sql.text(name, **fill), params, label=name)
        except psycopg2.Error as exc:
            raise WarehouseError(f"{name}.sql failed: {first_line(exc)}{_hint(exc)}") from exc
        log_statement(name, rows, started)
        return rows

    def run_step(self, cur: Cursor, name: str) -> int:
        """One step of the transform (TRANSFORM_STEPS); an engine may do more around it."""
        return self.run(cur, name)

    def query(self, name: str, **fill: str) -> list[tuple]:
        """The rows of the read-only statement file `name`, on a connection of its own."""
        with self.transaction() as cur:
            self.run(cur, name, **fill)
            return cur.fetchall()

    def query_each(self, names: Iterable[str]) -> dict[str, list[tuple]]:
        """The rows of each read-only statement file, all from one snapshot of the warehouse."""
        with self.transaction() as cur:
            self._read_one_snapshot(cur)
            answers = {}
            for name in names:
                self.run(cur, name)
                answers[name] = cur.fetchall()
            return answers

    def _read_one_snapshot(self, cur: Cursor) -> None:
        """Make the open transaction read one snapshot (Redshift's transactions all do)."""

    # -- schema ----------------------------------------------------------------------------

    def create_tables(self) -> None:
        with self.transaction() as cur:
            self._ensure_schema(cur)
            for name in (*TABLES, *VIEWS):
                self.run(cur, f"ddl/{name}")

    def built_by_earlier_version(self) -> bool:
        """The star lacks the history or the columns this version derives it with."""
        return bool(self.count("ledger/history_missing", schema=self.literal(self.schema)))

    def transform(self, cur: Cursor, *, rebuild: bool, recreate: bool = False,
                  on_step: Callable[[str, int, float], None] | None = None) -> None:
        """Fold the staged rows into the history and the star, in the caller's transaction;
        `rebuild` empties the star, its history and the ledger first (--full-refresh), and
        `recreate` makes their tables again first (a star built by an earlier version).
        `on_step(name, rows, seconds)` hears of each statement."""
        if recreate:
            self.run(cur, "refresh/drop_star")
            for table in (*STAR_TABLES, *HISTORY_TABLES):
                self.run(cur, f"ddl/{table}")
        if rebuild or recreate:
            self.run(cur, "refresh/clear_star")
        for name in TRANSFORM_STEPS:
            started = time.perf_counter()
            rows = self.run_step(cur, name)
            if on_step:
                on_step(name, rows, time.perf_counter() - started)

    def _ensure_schema(self, cur: Cursor) -> None:
        """CREATE SCHEMA only when it is missing: even with IF NOT EXISTS, PostgreSQL and
        Redshift check the CREATE privilege on the database first, which a login that may
        create tables in the schema (Redshift Serverless's IAM identities) lacks."""
        self.run(cur, "ddl/schema_exists", (self.schema,))
        if not cur.fetchone():
            self.run(cur, "ddl/schema", schema=quote_ident(self.schema))

    def analyze_star(self, cur: Cursor) -> None:
        """Refresh planner statistics after a load (cheap, and it keeps the plans honest)."""
        for table in STAR_TABLES:
            self.run(cur, "staging/analyze", table=table)

    @abstractmethod
    def exclusive(self, on_wait: Callable[[], None] | None = None) -> AbstractContextManager[None]:
        """Hold the warehouse's ELT lock for the block; waits while another run holds it."""

    # -- the ledger and counts -------------------------------------------------------------

    def loaded_objects(self) -> dict[str, str]:
        """The load ledger: ETag of every source object loaded, by key."""
        return dict(self.query("ledger/loaded_objects"))

    def record_loaded(self, cur: Cursor, ledger_rows: list[tuple]) -> None:
        """Ledger rows (key, etag, size, rows, run_id, loaded_at), in the caller's transaction."""
        for start in range(0, len(ledger_rows), LEDGER_BATCH):
            batch = ledger_rows[start:start + LEDGER_BATCH]
            self.run(cur, "ledger/forget_objects", (tuple(row[0] for row in batch),))
            cur.insert_rows(self.sql.text("ledger/record_objects"), batch,
                            label="ledger/record_objects")

    def forget_run(self, run_id: str) -> int:
        """Take the objects that run `run_id` loaded out of the ledger; returns how many."""
        with self.transaction() as cur:
            return self.run(cur, "ledger/forget_run", (run_id,))

    def require_tables(self, tables: Sequence[str]) -> None:
        """One clear error when a table is missing (a warehouse the ELT has not loaded yet)."""
        with self.transaction() as cur:
            self.run(cur, "report/existing_tables", (self.schema, tuple(tables)))
            missing = sorted(set(tables) - {name for (name,) in cur.fetchall()})
        if missing:
            raise WarehouseError(f"{self}: no table {', '.join(missing)} in schema {self.schema}: "
                                 "run the ELT (flows/main.py) first")

    def row_counts(self, tables: Iterable[str]) -> dict[str, int]:
        with self.transaction() as cur:
            return {table: self._count(cur, "report/row_count", table=quote_ident(table))
                    for table in tables}

    def count(self, name: str, **fill: str) -> int:
        """The single number the statement file `name` selects (0 when nothing is executed)."""
        with self.transaction() as cur:
            return self._count(cur, name, **fill)

    def _count(self, cur: Cursor, name: str, **fill: str) -> int:
        self.run(cur, name, **fill)
        row = cur.fetchone()
        return int(row[0]) if row else 0

    # -- staging: the template each engine fills in ----------------------------------------

    def stage(self, table: str, source: StagingSource, store: ObjectStore, *,
              max_errors: int, run_id: str, progress: Progress | None = None,
              keep_errors: bool = True) -> StageResult:
        """Replace `table` with the rows of `source`, in one transaction, keeping bad lines in
        load_errors (unless not `keep_errors`: then the caller keeps them, `keep_load_errors`)."""
        started = time.perf_counter()
        result = StageResult(table, objects=len(source.objects))
        with self.transaction() as cur:
            self.run(cur, f"staging/clear_{table}")
            self._load(cur, table, source, store, result, max_errors=max_errors, run_id=run_id,
                       progress=progress)
            for name in source.mapper.table.after_load:
                result.changed_after_load[name] = self.run(cur, name)
            if keep_errors:
                self._record_errors(cur, table, result.errors, run_id)
            self.run(cur, "staging/analyze", table=table)
        result.seconds = time.perf_counter() - started
        log.debug("%s: %d rows from %d objects in %.2fs", table, result.rows, result.objects,
                  result.seconds, extra={"stage_result": result})  # read by make bench
        return result

    def stage_all(self, jobs: Sequence[tuple[str, StagingSource]], store: ObjectStore, *,
                  max_errors: int, run_id: str, progress: Callable[[str], Progress] | None = None,
                  between: Callable[[], None] | None = None) -> list[StageResult]:
        """Stage each (table, source), one after the other: client-side loads share this
        machine's cores and only slow each other down. `between` runs between two loads."""
        results = []
        for number, (table, source) in enumerate(jobs):
            if number and between:
                between()
            results.append(self.stage(table, source, store, max_errors=max_errors, run_id=run_id,
                                      progress=progress(table) if progress else None))
        return results

    def check_max_errors(self, max_errors: int) -> None:
        """Refuse a --max-errors this engine's load cannot tolerate exactly (here: none; the
        client-side load counts every rejected record itself)."""

    @abstractmethod
    def _load(self, cur: Cursor, table: str, source: StagingSource, store: ObjectStore,
              result: StageResult, *, max_errors: int, run_id: str,
              progress: Progress | None) -> None:
        """Fill the cleared `table` from `source`: rows, errors and rows_by_key into `result`."""

    def keep_load_errors(self, results: Sequence[StageResult], run_id: str) -> None:
        """The tolerated records of these loads into load_errors, in one transaction."""
        with self.transaction() as cur:
            for result in results:
                self._record_errors(cur, result.table, result.errors, run_id)

    def _record_errors(self, cur: Cursor, table: str, errors: list[LoadError], run_id: str) -> None:
        self.run(cur, "staging/clear_load_errors", table=self.literal(table))
        if errors:
            cur.insert_rows(self.sql.text("staging/record_load_errors"), [
                (run_id, table, e.source_key, e.line_number, e.reason, e.raw_text) for e in errors
            ], label="staging/record_load_errors")


OWNER_HINT = ("; tables belong to the database user that created them (on Redshift Serverless "
              "with AUTH = iam, each IAM identity is a user of its own): run as that user, or "
              "have it GRANT the privilege to this one")


def _hint(exc: psycopg2.Error) -> str:
    return OWNER_HINT if isinstance(exc, psycopg2.errors.InsufficientPrivilege) else ""


def malformed_message(error: LoadError, max_errors: int) -> str:
    limit = "any malformed record is fatal (--max-errors 0)" if max_errors == 0 else \
        f"more than --max-errors {max_errors} malformed records"
    return f"malformed record in {error.describe()}; {limit}"


def error_budget(result: StageResult, max_errors: int) -> Callable[[LoadError], None]:
    """An `on_error` that keeps each bad record and fails once there are more than allowed."""
    def on_error(error: LoadError) -> None:
        result.errors.append(error)
        if len(result.errors) > max_errors:
            raise MalformedRecordError(malformed_message(error, max_errors))

    return on_error
