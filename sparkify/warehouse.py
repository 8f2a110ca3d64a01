"""The warehouse the pipeline loads: PostgreSQL (embedded or by URL) or Redshift.

Both speak the PostgreSQL protocol through psycopg2 and share everything but the load step:
PostgreSQL is fed by `COPY ... FROM STDIN` from rows parsed here, Redshift runs a server-side
`COPY` from S3. SQL text comes from `SqlLibrary`, which picks each engine's files.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Sequence

import psycopg2
import psycopg2.extras

from sparkify.errors import MalformedRecordError, WarehouseError
from sparkify.records import LoadError, RowMapper, copy_lines
from sparkify.secrets import redact
from sparkify.sqllib import STAR_TABLES, TABLES, SqlLibrary, quote_literal
from sparkify.storage import S3ObjectStore, SourceObject

log = logging.getLogger("sparkify.warehouse")
FETCH_WORKERS = 8


@dataclass
class StageResult:
    table: str
    objects: int = 0
    rows: int = 0
    errors: list[LoadError] = field(default_factory=list)
    rows_by_key: dict[str, int] = field(default_factory=dict)  # for the load ledger
    seconds: float = 0.0


@dataclass(frozen=True)
class StagingSource:
    """What to stage into one table: the discovered objects and how their lines map to rows."""

    objects: Sequence[SourceObject]
    mapper: RowMapper  # how a line becomes a row when parsed client-side (PostgreSQL)
    prefix_uri: str  # where the objects were listed (server-side COPY, Redshift)
    jsonpaths_uri: str = ""  # events only


def _first_line(exc: BaseException) -> str:
    text = getattr(exc, "pgerror", None) or str(exc)
    return (text or exc.__class__.__name__).strip().splitlines()[0]


class Warehouse:
    """Runs the pipeline's SQL files on one PostgreSQL-protocol database."""

    engine = "postgres"

    def __init__(self, dsn: str, schema: str = "public") -> None:
        self.dsn = dsn
        self.schema = schema
        self.sql = SqlLibrary(self.engine)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({redact(self.dsn)})"

    # -- connections -----------------------------------------------------------------------

    def connect(self):
        try:
            conn = psycopg2.connect(self.dsn, connect_timeout=15)
        except psycopg2.Error as exc:
            raise WarehouseError(f"cannot connect to {redact(self.dsn)}: {_first_line(exc)}") from exc
        with conn.cursor() as cur:
            cur.execute(f"SET search_path TO {self.schema}")
        conn.commit()
        return conn

    @contextmanager
    def transaction(self) -> Iterator[psycopg2.extensions.cursor]:
        """One connection and one transaction: committed on success, rolled back on any error."""
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                yield cur
            conn.commit()
        except psycopg2.Error as exc:
            conn.rollback()
            raise WarehouseError(f"{self}: {_first_line(exc)}") from exc
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()

    def run(self, cur, name: str, **params: str) -> int:
        """Run the statement file `name`; returns the rows it touched."""
        started = time.perf_counter()
        try:
            cur.execute(self.sql.text(name, **params))
        except psycopg2.Error as exc:
            raise WarehouseError(f"{name}.sql failed: {_first_line(exc)}") from exc
        log.debug("%s: %s rows in %.2fs", name, cur.rowcount, time.perf_counter() - started)
        return max(cur.rowcount, 0)

    def query(self, sql: str) -> list[tuple]:
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall()
        except psycopg2.Error as exc:
            raise WarehouseError(f"{self}: {_first_line(exc)}") from exc
        finally:
            conn.close()

    # -- schema ----------------------------------------------------------------------------

    def create_tables(self) -> None:
        with self.transaction() as cur:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
            for table in TABLES:
                self.run(cur, f"ddl/{table}")

    def analyze_star(self, cur) -> None:
        """Refresh planner statistics after a load (cheap, and it keeps the plans honest)."""
        for table in STAR_TABLES:
            self.run(cur, "staging/analyze", table=table)

    @contextmanager
    def exclusive(self, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """Hold the warehouse's ELT lock for the block; waits while another run holds it."""
        key = quote_literal(f"sparkify-elt:{self.schema}")
        conn = self.connect()
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(self.sql.text("lock/try_acquire", key=key))
                if not cur.fetchone()[0]:
                    if on_wait:
                        on_wait()
                    cur.execute(self.sql.text("lock/acquire", key=key))
            yield
        finally:
            conn.close()  # closing the session releases the lock

    def loaded_objects(self) -> dict[str, str]:
        """The load ledger: ETag of every source object loaded, by key."""
        return dict(self.query(self.sql.text("ledger/loaded_objects")))

    def record_loaded(self, cur, ledger_rows: list[tuple]) -> None:
        """Ledger rows (key, etag, size, rows, run_id, loaded_at), in the caller's transaction."""
        for start in range(0, len(ledger_rows), 1000):
            chunk = ledger_rows[start:start + 1000]
            cur.execute(self.sql.text("ledger/forget_objects"), (tuple(r[0] for r in chunk),))
            psycopg2.extras.execute_values(cur, self.sql.text("ledger/record_objects"), chunk)

    def row_counts(self, tables: Iterable[str]) -> dict[str, int]:
        parts = " UNION ALL ".join(
            f"SELECT {quote_literal(t)}, COUNT(*) FROM {t}" for t in tables
        )
        return {name: int(count) for name, count in self.query(parts)}

    # -- loading ---------------------------------------------------------------------------

    def stage(self, table: str, source: StagingSource, store: S3ObjectStore, *,
              max_errors: int, run_id: str,
              progress: Callable[[int, int], None] | None = None) -> StageResult:
        """Replace `table` with the rows of `source`, in one transaction, keeping bad lines."""
        started = time.perf_counter()
        result = StageResult(table, objects=len(source.objects))

        def on_error(error: LoadError) -> None:
            result.errors.append(error)
            if len(result.errors) > max_errors:
                raise MalformedRecordError(_malformed_message(error, max_errors))

        with self.transaction() as cur:
            self.run(cur, f"staging/clear_{table}")
            stream = _CopyStream(self._copy_chunks(source, store, on_error, result, progress))
            columns = ", ".join(source.mapper.table.column_names)
            try:
                cur.copy_expert(f"COPY {table} ({columns}) FROM STDIN", stream, size=1 << 20)
            except psycopg2.Error:
                if stream.error:  # psycopg2 wraps errors raised while reading: show the cause
                    raise stream.error from None
                raise
            self._record_errors(cur, table, result.errors, run_id)
            self.run(cur, "staging/analyze", table=table)
        result.seconds = time.perf_counter() - started
        return result

    def _copy_chunks(self, source: StagingSource, store: S3ObjectStore,
                     on_error: Callable[[LoadError], None], result: StageResult,
                     progress: Callable[[int, int], None] | None) -> Iterator[bytes]:
        for done, (obj, body) in enumerate(fetch_in_order(store, source.objects), start=1):
            lines = list(copy_lines(body, obj.uri, source.mapper, on_error))
            result.rows += len(lines)
            result.rows_by_key[obj.key] = len(lines)
            if progress:
                progress(done, result.rows)
            yield "".join(lines).encode("utf-8")

    def _record_errors(self, cur, table: str, errors: list[LoadError], run_id: str) -> None:
        self.run(cur, "staging/clear_load_errors", table=quote_literal(table))
        if errors:
            psycopg2.extras.execute_values(
                cur,
                "INSERT INTO load_errors (run_id, table_name, source_key, line_number, reason,"
                " raw_text) VALUES %s",
                [(run_id, table, e.source_key, e.line_number, e.reason, e.raw_text) for e in errors],
            )


def _malformed_message(error: LoadError, max_errors: int) -> str:
    limit = "any malformed record is fatal (--max-errors 0)" if max_errors == 0 else \
        f"more than --max-errors {max_errors} malformed records"
    return f"malformed record in {error.describe()}; {limit}"


def fetch_in_order(store: S3ObjectStore, objects: Sequence[SourceObject],
                   workers: int = FETCH_WORKERS) -> Iterator[tuple[SourceObject, bytes]]:
    """Object bodies in key order, with up to 2 x workers GETs in flight ahead of the reader."""
    pending: deque = deque()
    remaining = iter(objects)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="s3-get") as pool:
        def submit_next() -> None:
            obj = next(remaining, None)
            if obj is not None:
                pending.append((obj, pool.submit(store.read, obj.bucket, obj.key)))

        for _ in range(workers * 2):
            submit_next()
        try:
            while pending:
                obj, future = pending.popleft()
                body = future.result()
                submit_next()
                yield obj, body
        finally:
            for _, future in pending:
                future.cancel()


class _CopyStream:
    """A file-like reader over byte chunks, for psycopg2's copy_expert."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self.error: BaseException | None = None

    def read(self, size: int = -1) -> bytes:
        try:
            for chunk in self._chunks:
                if chunk:
                    return chunk
            return b""
        except BaseException as exc:
            self.error = exc
            raise

    readline = read
