"""The client-side loader: source objects to a stream of COPY text, in source order.

GETs run ahead of the parser (bounded by count and bytes), bodies are cut into line chunks
parsed by a thread of this process (compiled, see sparkify/staging/native.py) while the main
thread feeds the COPY; a chunk the compiled parser gives back goes to worker processes (the
Python paths), and the rows and errors come out exactly as a serial parse gives them.
PostgreSQL's staging reads this stream into `COPY ... FROM STDIN`; Redshift loads server-side
and never uses it.
"""

from __future__ import annotations

import os
import pickle
import queue
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Self

from sparkify.errors import WarehouseError
from sparkify.paths import PROJECT_ROOT
from sparkify.staging.ahead import read_ahead
from sparkify.staging.compression import PLAIN, compression_of, decompressed
from sparkify.staging.lines import CopyChunk, LoadError, line_chunks, plain_chunk, python_chunk
from sparkify.staging.mappers import RowMapper
from sparkify.store import GETS_IN_FLIGHT, ObjectStore, SourceObject

FETCH_WORKERS = GETS_IN_FLIGHT
FETCH_AHEAD_BYTES = 192 << 20  # bodies fetched but not yet parsed (beyond the one being parsed)
# Bodies this big are cut into line chunks; a chunk the compiled parser gives back (or every
# chunk, without it) is parsed by worker processes; smaller bodies are parsed here, in order.
PARSE_WORKERS = min(2, os.cpu_count() or 1)
PARSE_CHUNK_BYTES = 2 << 20
PARALLEL_MIN_BYTES = 1 << 20
PARSED_AHEAD = 4  # chunks parsed and not yet fed to COPY
# A compressed object's text is several times its listed size (JSON logs compress 5-10x):
# the fetch-ahead budget counts it at this multiple, so decompressed bodies stay within it.
COMPRESSED_EXPANSION = 8


def copy_text(store: ObjectStore, objects: Sequence[SourceObject], mapper: RowMapper,
              on_error: Callable[[LoadError], None],
              on_object: Callable[[SourceObject, int], None],
              on_unmapped: Callable[[str, str], None] = lambda key, where: None,
              ) -> Iterator[bytes]:
    """COPY text of the objects' rows in source order. Each bad line reaches `on_error`, each
    finished object `on_object(object, its rows)`, and each key no column maps
    `on_unmapped(key, "file line N")`, in source order too."""
    object_rows = 0
    with _ParsePool(mapper, PARSE_WORKERS) as pool:
        bodies = fetch_in_order(store, objects)
        pieces = _parsed_pieces(bodies, mapper, pool)
        # the thread pays where the compiled parser does the work; many small Python-parsed
        # objects (songs) would only hand each piece over between threads
        ahead = read_ahead(pieces, PARSED_AHEAD, name="staging-parse") \
            if mapper.typed is not None and mapper.typed.native is not None else pieces
        try:
            for obj, piece in ahead:
                if piece is None:  # the end of one object
                    on_object(obj, object_rows)
                    object_rows = 0
                    continue
                for error in piece.errors:
                    on_error(error)
                for key, line in piece.unmapped_keys:
                    on_unmapped(key, f"{obj.uri} line {line}")
                object_rows += piece.rows
                if piece.data:
                    yield piece.data
        finally:  # on failure: cancel queued chunks and GETs before the pool stops
            ahead.close()  # after its thread, if any, has stopped and closed `pieces`
            pieces.close()
            bodies.close()


def read_source(store: ObjectStore, obj: SourceObject) -> bytes:
    """The text of one source object, decompressed while it streams in when its key says so."""
    return decompressed(store.stream(obj.bucket, obj.key), compression_of(obj.key), obj.uri)


def _budgeted_size(obj: SourceObject) -> int:
    return obj.size if compression_of(obj.key) is PLAIN else obj.size * COMPRESSED_EXPANSION


def fetch_in_order(store: ObjectStore, objects: Sequence[SourceObject],
                   workers: int = FETCH_WORKERS, max_bytes: int = FETCH_AHEAD_BYTES,
                   ) -> Iterator[tuple[SourceObject, bytes]]:
    """Object texts in key order, GETs (and decompression) running ahead of the reader: up to
    2 x workers objects and, beyond the first, `max_bytes` of text (listed size, times
    COMPRESSED_EXPANSION for a compressed object), so big objects do not pile up in memory."""
    pending: deque = deque()
    remaining = deque(objects)
    held = 0  # listed bytes of the pending objects and of the one the reader holds
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="s3-get") as pool:
        def fill() -> None:
            nonlocal held
            while remaining and (not pending or (
                    len(pending) < workers * 2
                    and held + _budgeted_size(remaining[0]) <= max_bytes)):
                obj = remaining.popleft()
                held += _budgeted_size(obj)
                pending.append((obj, pool.submit(read_source, store, obj)))

        fill()
        try:
            while pending:
                obj, future = pending.popleft()
                body = future.result()
                fill()
                yield obj, body
                del body
                held -= _budgeted_size(obj)
        finally:
            for _, future in pending:
                future.cancel()


def _parsed_pieces(bodies: Iterator[tuple[SourceObject, bytes]], mapper: RowMapper,
                   pool: _ParsePool) -> Iterator[tuple[SourceObject, CopyChunk | None]]:
    """Each body's CopyChunks in order, then (object, None); big bodies go to the pool in line
    chunks, with a bounded number in flight, while small ones are parsed here."""
    pending: deque = deque()  # (object, Future | CopyChunk | None), in source order
    in_flight = 2 * pool.workers + 1

    lines_before = 0  # of the object being read out, before its next chunk

    def ready(limit: int) -> Iterator[tuple[SourceObject, CopyChunk | None]]:
        nonlocal lines_before
        while len(pending) > limit:
            obj, item = pending.popleft()
            piece = item.result() if isinstance(item, Future) else item
            if piece is None:
                lines_before = 0
            else:
                lines_before, piece = lines_before + piece.line_breaks, piece.shifted(lines_before)
            yield obj, piece

    try:
        for obj, body in bodies:
            parallel = pool.workers > 0 and len(body) >= PARALLEL_MIN_BYTES
            for chunk in line_chunks(body, PARSE_CHUNK_BYTES):  # numbered from 1, shifted in ready()
                piece = plain_chunk(chunk, mapper)
                if piece is not None:
                    pending.append((obj, piece))
                elif parallel:
                    pending.append((obj, pool.submit(chunk, obj.uri)))
                else:
                    pending.append((obj, python_chunk(chunk, obj.uri, mapper)))
                yield from ready(in_flight)
            pending.append((obj, None))
            yield from ready(in_flight)
        yield from ready(0)
    finally:
        for _, item in pending:
            if isinstance(item, Future):
                item.cancel()


class _ParsePool:
    """Worker processes running `python_chunk` (started on first use, stopped on exit).

    Each is a fresh `python -c` that imports only sparkify.staging (multiprocessing's spawn
    would re-run the flow script's imports in every worker), fed by a thread of its own over
    pipes: pickled (chunk, source) in, a pickled CopyChunk out.
    """

    def __init__(self, mapper: RowMapper, workers: int) -> None:
        self.mapper = mapper
        self.workers = workers
        self._tasks: queue.SimpleQueue = queue.SimpleQueue()
        self._processes: list[subprocess.Popen] = []
        self._threads: list[threading.Thread] = []

    def submit(self, chunk: bytes, source: str) -> Future:
        if not self._processes:
            self._start()
        future: Future = Future()
        self._tasks.put((future, (chunk, source)))
        return future

    def _start(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p)}
        for number in range(self.workers):
            process = subprocess.Popen(
                [sys.executable, "-c", "from sparkify.staging.worker import main; main()"],
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


class CopyStream:
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
