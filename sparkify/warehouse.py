"""The warehouse the pipeline loads: PostgreSQL (embedded or by URL) or Redshift.

Both speak the PostgreSQL protocol through psycopg2 and share everything but the load step:
PostgreSQL is fed by `COPY ... FROM STDIN` from rows parsed here, Redshift runs a server-side
`COPY` from S3. SQL text comes from `SqlLibrary`, which picks each engine's files.
"""

from __future__ import annotations

import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Self

import psycopg2
import psycopg2.extras

from sparkify.errors import MalformedRecordError, WarehouseError, first_line
from sparkify.records import CopyChunk, LoadError, RowMapper, copy_chunk, line_chunks
from sparkify.secrets import redact
from sparkify.sqllib import STAR_TABLES, TABLES, SqlLibrary, quote_literal
from sparkify.storage import S3ObjectStore, SourceObject

log = logging.getLogger("sparkify.warehouse")
FETCH_WORKERS = 8
FETCH_AHEAD_BYTES = 192 << 20  # bodies fetched but not yet parsed (beyond the one being parsed)
# Parsing JSON is the staging bottleneck: bodies this big are cut into line chunks parsed by
# worker processes while this one feeds COPY; smaller ones are parsed here, in order.
PARSE_WORKERS = min(2, os.cpu_count() or 1)
PARSE_CHUNK_BYTES = 2 << 20
PARALLEL_MIN_BYTES = 1 << 20


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
            raise WarehouseError(f"cannot connect to {redact(self.dsn)}: {first_line(exc)}") from exc
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
            raise WarehouseError(f"{self}: {first_line(exc)}") from exc
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
            raise WarehouseError(f"{name}.sql failed: {first_line(exc)}") from exc
        log.debug("%s: %s rows in %.2fs", name, cur.rowcount, time.perf_counter() - started)
        return max(cur.rowcount, 0)

    def query(self, sql: str) -> list[tuple]:
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall()
        except psycopg2.Error as exc:
            raise WarehouseError(f"{self}: {first_line(exc)}") from exc
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
                raise MalformedRecordError(malformed_message(error, max_errors))

        with self.transaction() as cur:
            self.run(cur, f"staging/clear_{table}")
            chunks = self._copy_chunks(source, store, on_error, result, progress)
            stream = _CopyStream(chunks)
            columns = ", ".join(source.mapper.table.column_names)
            try:
                cur.copy_expert(f"COPY {table} ({columns}) FROM STDIN", stream, size=1 << 20)
            except psycopg2.Error:
                if stream.error:  # psycopg2 wraps errors raised while reading: show the cause
                    raise stream.error from None
                raise
            finally:
                chunks.close()  # stops GETs and parse workers now, not when garbage-collected
            self._record_errors(cur, table, result.errors, run_id)
            self.run(cur, "staging/analyze", table=table)
        result.seconds = time.perf_counter() - started
        log.debug("%s: %d rows from %d objects in %.2fs", table, result.rows, result.objects,
                  result.seconds, extra={"stage_result": result})
        return result

    def _copy_chunks(self, source: StagingSource, store: S3ObjectStore,
                     on_error: Callable[[LoadError], None], result: StageResult,
                     progress: Callable[[int, int], None] | None) -> Iterator[bytes]:
        """COPY text in source order; errors reach `on_error` in source order too."""
        done = object_rows = 0
        with _ParsePool(source.mapper, PARSE_WORKERS) as pool:
            bodies = fetch_in_order(store, source.objects)
            pieces = _parsed_pieces(bodies, source.mapper, pool)
            try:
                for obj, piece in pieces:
                    if piece is None:  # the end of one object
                        done += 1
                        result.rows_by_key[obj.key], object_rows = object_rows, 0
                        if progress:
                            progress(done, result.rows)
                        continue
                    for error in piece.errors:
                        on_error(error)
                    object_rows += piece.rows
                    result.rows += piece.rows
                    if piece.data:
                        yield piece.data
            finally:  # on failure: cancel queued chunks and GETs before the pool stops
                pieces.close()
                bodies.close()

    def _record_errors(self, cur, table: str, errors: list[LoadError], run_id: str) -> None:
        self.run(cur, "staging/clear_load_errors", table=quote_literal(table))
        if errors:
            psycopg2.extras.execute_values(
                cur,
                "INSERT INTO load_errors (run_id, table_name, source_key, line_number, reason,"
                " raw_text) VALUES %s",
                [(run_id, table, e.source_key, e.line_number, e.reason, e.raw_text) for e in errors],
            )


def malformed_message(error: LoadError, max_errors: int) -> str:
    limit = "any malformed record is fatal (--max-errors 0)" if max_errors == 0 else \
        f"more than --max-errors {max_errors} malformed records"
    return f"malformed record in {error.describe()}; {limit}"


def fetch_in_order(store: S3ObjectStore, objects: Sequence[SourceObject],
                   workers: int = FETCH_WORKERS, max_bytes: int = FETCH_AHEAD_BYTES,
                   ) -> Iterator[tuple[SourceObject, bytes]]:
    """Object bodies in key order, GETs running ahead of the reader: up to 2 x workers objects
    and, beyond the first, `max_bytes` of listed size, so big objects do not pile up in memory."""
    pending: deque = deque()
    remaining = deque(objects)
    held = 0  # listed bytes of the pending objects and of the one the reader holds
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="s3-get") as pool:
        def fill() -> None:
            nonlocal held
            while remaining and (not pending or (
                    len(pending) < workers * 2 and held + remaining[0].size <= max_bytes)):
                obj = remaining.popleft()
                held += obj.size
                pending.append((obj, pool.submit(store.read, obj.bucket, obj.key)))

        fill()
        try:
            while pending:
                obj, future = pending.popleft()
                body = future.result()
                fill()
                yield obj, body
                del body
                held -= obj.size
        finally:
            for _, future in pending:
                future.cancel()


def _parsed_pieces(bodies: Iterator[tuple[SourceObject, bytes]], mapper: RowMapper,
                   pool: _ParsePool) -> Iterator[tuple[SourceObject, CopyChunk | None]]:
    """Each body's CopyChunks in order, then (object, None); big bodies go to the pool in line
    chunks, with a bounded number in flight, while small ones are parsed here."""
    pending: deque = deque()  # (object, Future | CopyChunk | None), in source order
    in_flight = 2 * pool.workers + 1

    def ready(limit: int) -> Iterator[tuple[SourceObject, CopyChunk | None]]:
        while len(pending) > limit:
            obj, item = pending.popleft()
            yield obj, item.result() if isinstance(item, Future) else item

    try:
        for obj, body in bodies:
            parallel = pool.workers > 0 and len(body) >= PARALLEL_MIN_BYTES
            for first_line, chunk in line_chunks(body, PARSE_CHUNK_BYTES):
                if parallel:
                    pending.append((obj, pool.submit(chunk, obj.uri, first_line)))
                else:
                    pending.append((obj, copy_chunk(chunk, obj.uri, first_line, mapper)))
                yield from ready(in_flight)
            pending.append((obj, None))
            yield from ready(in_flight)
        yield from ready(0)
    finally:
        for _, item in pending:
            if isinstance(item, Future):
                item.cancel()


class _ParsePool:
    """Worker processes running `copy_chunk` (started on first use, stopped on exit).

    Each is a fresh `python -c` that imports only sparkify.records (multiprocessing's spawn
    would re-run the flow script's imports in every worker), fed by a thread of its own over
    pipes: pickled (chunk, source, first line) in, a pickled CopyChunk out.
    """

    def __init__(self, mapper: RowMapper, workers: int) -> None:
        self.mapper = mapper
        self.workers = workers
        self._tasks: queue.SimpleQueue = queue.SimpleQueue()
        self._processes: list[subprocess.Popen] = []
        self._threads: list[threading.Thread] = []

    def submit(self, chunk: bytes, source: str, first_line: int) -> Future:
        if not self._processes:
            self._start()
        future: Future = Future()
        self._tasks.put((future, (chunk, source, first_line)))
        return future

    def _start(self) -> None:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (root, os.environ.get("PYTHONPATH")) if p)}
        for number in range(self.workers):
            process = subprocess.Popen(
                [sys.executable, "-c", "from sparkify.records import _worker_main; _worker_main()"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                start_new_session=True,  # Ctrl-C reaches the pipeline, which stops its workers
            )
            self._processes.append(process)
            try:
                pickle.dump(self.mapper, process.stdin, protocol=5)
            except OSError as exc:
                raise WarehouseError(f"cannot start a parse worker: {exc}") from exc
            thread = threading.Thread(target=self._serve, args=(process,), daemon=True,
                                      name=f"parse-worker-{number}")
            thread.start()
            self._threads.append(thread)

    def _serve(self, process: subprocess.Popen) -> None:
        while (task := self._tasks.get()) is not None:
            future, payload = task
            if not future.set_running_or_notify_cancel():
                continue
            try:
                pickle.dump(payload, process.stdin, protocol=5)
                process.stdin.flush()
                future.set_result(pickle.load(process.stdout))
            except (OSError, EOFError, pickle.UnpicklingError) as exc:
                code = process.poll()
                future.set_exception(WarehouseError(
                    f"a parse worker failed (exit code {code}): {exc.__class__.__name__}"))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        for _ in self._threads:
            self._tasks.put(None)
        for thread in self._threads:
            thread.join()
        for process in self._processes:
            try:
                process.stdin.close()  # the worker ends at end of input
            except OSError:
                pass
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.stdout.close()


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
