"""PostgreSQL (embedded or by URL): rows parsed client-side and streamed into COPY FROM STDIN."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import psycopg2
from pydantic import SecretStr

from sparkify.errors import ConfigError, WarehouseError, first_line
from sparkify.local.postgres import PGDATA_DIR, EmbeddedPostgres
from sparkify.quality.targets import QualityTarget, postgres_target
from sparkify.secrets import redact
from sparkify.model import TABLE_FILLED_BY
from sparkify.sqllib import quote_ident, quote_literal
from sparkify.staging.loader import CopyStream, copy_text
from sparkify.store import ObjectStore, SourceObject
from sparkify.warehouse.base import (
    Progress, StageResult, StagingSource, Warehouse, WarehouseTarget, error_budget,
    log_statement,
)
from sparkify.warehouse.connection import Cursor


class PostgresWarehouse(Warehouse):
    engine = "postgres"
    reads_local_emulator = True

    @classmethod
    def target_from_url(cls, url: SecretStr, schema: str, *, dry_run: bool) -> WarehouseTarget:
        if not url.get_secret_value().startswith(("postgresql://", "postgres://")):
            raise ConfigError("--warehouse-url must be a postgresql:// URL")
        return WarehouseTarget(cls.engine, None if dry_run else url, schema,
                               redact(url.get_secret_value()))

    @classmethod
    def embedded_target(cls, services: ExitStack, schema: str, *,
                        dry_run: bool) -> WarehouseTarget:
        """The embedded PostgreSQL, started for the command (not on a dry run)."""
        where = f"the embedded PostgreSQL in {PGDATA_DIR}"
        if dry_run:
            return WarehouseTarget(cls.engine, None, schema, where)
        embedded = services.enter_context(EmbeddedPostgres())
        return WarehouseTarget(cls.engine, SecretStr(embedded.url), schema, where)

    def quality_target(self) -> QualityTarget:
        return postgres_target(self.dsn.get_secret_value(), self.schema)

    def run_step(self, cur: Cursor, name: str) -> int:
        """A step that fills an empty table inserts with the table's indexes dropped, and
        builds them again after (PostgreSQL's advice for bulk loads): a first load or a full
        refresh. At 1M events, songplay's insert took 5.9-7.1 s keeping its three indexes up
        row by row, and 3.2-3.9 s without them plus 0.9-1.1 s building them after."""
        table = TABLE_FILLED_BY.get(name)
        if table is None or not self._is_empty(cur, table):
            return self.run(cur, name)
        self.run(cur, "bulk/table_indexes", table_literal=quote_literal(quote_ident(table)))
        drop, build = cur.fetchone() or (None, None)
        if drop:
            self._run_generated(cur, "bulk/drop_indexes", drop, table)
        rows = self.run(cur, name)
        if build:
            self._run_generated(cur, "bulk/build_indexes", build, table)
        return rows

    def _is_empty(self, cur: Cursor, table: str) -> bool:
        self.run(cur, "bulk/is_empty", table=quote_ident(table))
        row = cur.fetchone()
        return bool(row and row[0])

    def _run_generated(self, cur: Cursor, label: str, sql: str, table: str) -> None:
        """A statement bulk/table_indexes.sql wrote from the catalog (timed as `run` does)."""
        started = time.perf_counter()
        try:
            cur.execute(sql, label=label)
        except psycopg2.Error as exc:
            raise WarehouseError(f"{label} ({sql}) failed: {first_line(exc)}") from exc
        log_statement(f"{label} ({table})", 0, started)

    def _read_one_snapshot(self, cur: Cursor) -> None:
        self.run(cur, "session/read_only_snapshot")

    @contextmanager
    def exclusive(self, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """A session-level advisory lock, held by a connection of its own until it closes."""
        key = quote_literal(f"sparkify-elt:{self.schema}")
        conn = self.connect()
        conn.set_autocommit()
        try:
            with conn.cursor() as cur:
                self.run(cur, "lock/try_acquire", key=key)
                if not cur.fetchone()[0]:
                    if on_wait:
                        on_wait()
                    self.run(cur, "lock/acquire", key=key)
            yield
        finally:
            conn.close()  # closing the session releases the lock

    def _load(self, cur: Cursor, table: str, source: StagingSource, store: ObjectStore,
              result: StageResult, *, max_errors: int, run_id: str,
              progress: Progress | None) -> None:
        def on_object(obj: SourceObject, rows: int) -> None:
            result.rows_by_key[obj.key] = rows
            result.rows += rows
            if progress:
                progress(len(result.rows_by_key), result.rows)

        chunks = copy_text(store, source.objects, source.mapper,
                           error_budget(result, max_errors), on_object,
                           on_unmapped=result.unmapped_keys.setdefault)
        stream = CopyStream(chunks)
        columns = ", ".join(source.mapper.table.column_names)
        statement = self.sql.text("staging/copy_from_stdin", table=table, columns=columns)
        try:
            cur.copy_from_stdin(statement, stream, label="staging/copy_from_stdin")
        except psycopg2.Error:
            if stream.error:  # psycopg2 wraps errors raised while reading: show the cause,
                # keeping its own (a lost S3 connection there is what the retry policy reads)
                raise stream.error from stream.error.__cause__
            raise
        finally:
            chunks.close()  # stops GETs and the parse thread now, not when garbage-collected
