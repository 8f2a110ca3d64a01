"""The client-side loader: source objects to a stream of COPY text, in source order.

GETs run ahead of the parser (bounded by count and bytes); bodies are cut into line chunks,
parsed (sparkify/staging/lines.py: the compiled parser, and the reference for the lines it
gives back) by a thread of this process while the main thread feeds the COPY. PostgreSQL's
staging reads this stream into `COPY ... FROM STDIN`; Redshift loads server-side and never
uses it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

from sparkify.staging.ahead import read_ahead
from sparkify.staging.compression import PLAIN, compression_of, decompressed
from sparkify.staging.lines import CopyChunk, LoadError, copy_chunk, line_chunks
from sparkify.staging.mappers import RowMapper
from sparkify.store import GETS_IN_FLIGHT, ObjectStore, SourceObject

FETCH_WORKERS = GETS_IN_FLIGHT
FETCH_AHEAD_BYTES = 192 << 20  # bodies fetched but not yet parsed (beyond the one being parsed)
PARSE_CHUNK_BYTES = 2 << 20
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
    bodies = fetch_in_order(store, objects)
    pieces = _parsed_pieces(bodies, mapper)
    # the thread pays where the compiled parser does the work, without the GIL; the reference
    # alone would only hand each piece over between threads
    ahead = read_ahead(pieces, PARSED_AHEAD, name="staging-parse") \
        if mapper.native is not None else pieces
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
    finally:  # on failure: stop parsing, then cancel queued GETs
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
                   ) -> Iterator[tuple[SourceObject, CopyChunk | None]]:
    """Each body's CopyChunks in order, their lines numbered within the object, then
    (object, None)."""
    for obj, body in bodies:
        lines_before = 0
        for chunk in line_chunks(body, PARSE_CHUNK_BYTES):
            piece = copy_chunk(chunk, obj.uri, mapper)
            yield obj, piece.shifted(lines_before)
            lines_before += piece.line_breaks
        yield obj, None


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
