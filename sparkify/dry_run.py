"""The dry run's stand-ins: a statement log, a store that never writes, a gate that only notes.

`--dry-run` runs the real flow. Its warehouse has no connection: each statement goes to the
`StatementLog`, which prints it (secrets masked) and answers queries as an empty warehouse
would. So the output is, by construction, the statements in the order a real run sends them.
A real run can keep the same log (`SPARKIFY_SQL_LOG=FILE`): the statements it sent.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from sparkify.quality.report import QualityReport
from sparkify.quality.suites import EXPECTATIONS_DIR, CheckpointFile, SuiteFile
from sparkify.secrets import redact
from sparkify.text import printable
from sparkify.store import ObjectStore, S3Location, SourceObject, Suffix

# What an empty warehouse answers: the lock is free, the ledger is empty, COPY loaded nothing.
DRY_RUN_ANSWERS: dict[str, list[tuple]] = {
    "lock/try_acquire": [(True,)],
    "ddl/schema_exists": [(1,)],  # a new database has its schema (public); another is made first
    "staging/last_copy": [(0, None)],
    "bulk/is_empty": [(True,)],  # a first load
    "bulk/table_indexes": [("-- (dry run) DROP each index of the table, as the catalog has it",
                            "-- (dry run) CREATE each index of the table again, as it was")],
}


@dataclass(frozen=True)
class Entry:
    label: str  # the statement file, or "COMMIT", "ROLLBACK", "note"
    text: str  # with the connection's number where `{connection}` stands, when it has one
    connection: int = 0  # the recorder's own id; numbers are given in the order printed


CONNECTION = "\x00connection\x00"  # where an entry's text takes its connection's number


class StatementLog:
    """Every statement and note of a run, in order, written to `out` as it comes.

    Work that runs beside the main thread (the staging gate beside the transform, Redshift's
    two staging COPYs side by side) is held back, one block per thread, and written just
    before the main thread's next COMMIT (or a `flush`), which in a real run cannot come
    before that work is done. Connections are numbered in the order they are printed: so the
    output is the same from one run to the next.
    """

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.entries: list[Entry] = []
        self._beside: dict[str, list[Entry]] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._numbers: dict[int, int] = {}
        self._last: dict[int, str] = {}  # the latest main-thread label of each connection

    def connection_opened(self) -> int:
        with self._lock:
            return next(self._ids)

    def header(self, lines: list[str]) -> None:
        self._write(["-- Sparkify ELT dry run: every SQL statement of one run, in the order a "
                     "real run sends them.", "-- Nothing was executed and nothing written.",
                     *lines])

    def statement(self, connection: int, label: str, sql: str, params: str) -> None:
        about = f"; parameters: {params}" if params else ""
        self._add(Entry(label, f"-- {label} ({CONNECTION}{about})\n{sql.strip()};", connection))

    def event(self, connection: int, what: str) -> None:
        self._add(Entry(what, f"{what}; -- {CONNECTION}", connection))

    def note(self, text: str) -> None:
        self._add(Entry("note", f"-- {text}"))

    def answer(self, label: str) -> list[tuple]:
        return DRY_RUN_ANSWERS.get(label, [])

    def statements(self) -> list[str]:
        """The labels of the statements and transaction ends, in order (notes left out)."""
        return [entry.label for entry in self.entries if entry.label != "note"]

    def flush(self) -> None:
        with self._lock:
            self._emit_beside()

    def _add(self, entry: Entry) -> None:
        with self._lock:
            thread = threading.current_thread()
            if thread is not threading.main_thread():
                self._beside.setdefault(thread.name, []).append(entry)
                return
            # The COMMIT of a connection's opening SET search_path says nothing about work
            # elsewhere; any other COMMIT cannot come before the work beside it is done.
            if entry.label == "COMMIT" and self._last.get(entry.connection) != "session/search_path":
                self._emit_beside()
            self._last[entry.connection] = entry.label
            self._emit(entry)

    def _emit_beside(self) -> None:
        if len(self._beside) == 1:
            self._write(["", "-- ---- beside the transaction above, on another thread ----"])
            self._emit_all(*self._beside.values())
            self._write(["", "-- ---- end of the work beside it ----"])
        elif self._beside:
            blocks = sorted(self._beside.items())
            for number, (name, entries) in enumerate(blocks, start=1):
                self._write(["", f"-- ---- side by side ({number} of {len(blocks)}, thread "
                                 f"'{name}'): runs at the same time as the other block(s), "
                                 "each in its own session ----"])
                self._emit_all(entries)
            self._write(["", "-- ---- end of the work side by side ----"])
        self._beside = {}

    def _emit_all(self, entries: list[Entry]) -> None:
        for entry in entries:
            self._emit(entry)

    def _emit(self, entry: Entry) -> None:
        if entry.connection and CONNECTION in entry.text:
            number = self._numbers.setdefault(entry.connection, len(self._numbers) + 1)
            entry = Entry(entry.label, entry.text.replace(CONNECTION, f"connection {number}"),
                          entry.connection)
        self.entries.append(entry)
        self._write(["", entry.text])

    def _write(self, lines: list[str]) -> None:
        # A parameter can hold an object key: control characters never reach the terminal.
        text = redact("\n".join(lines))
        self.out.write("\n".join(printable(line, keep="\t") for line in text.split("\n")) + "\n")
        self.out.flush()


class ReadOnlyStore(ObjectStore):
    """Lists and reads through the real store; a write is only noted."""

    def __init__(self, inner: ObjectStore, log: StatementLog) -> None:
        self.inner = inner
        self.log = log

    def list_objects(self, location: S3Location, suffix: Suffix = ".json") -> list[SourceObject]:
        return self.inner.list_objects(location, suffix)

    def head(self, bucket: str, key: str) -> SourceObject | None:
        return self.inner.head(bucket, key)

    def read(self, bucket: str, key: str) -> bytes:
        return self.inner.read(bucket, key)

    def stream(self, bucket: str, key: str) -> Iterator[bytes]:
        return self.inner.stream(bucket, key)

    def put(self, bucket: str, key: str, body: bytes, content_type: str) -> None:
        self.log.note(f"S3 PUT s3://{bucket}/{key} ({len(body):,} bytes of {content_type}): "
                      "not written on a dry run")

    def ensure_bucket(self, bucket: str) -> None:
        self.inner.ensure_bucket(bucket)


class NotedPage:
    """The report page of a dry run: rendered, then only noted, never written."""

    def __init__(self, log: StatementLog) -> None:
        self.log = log

    def write(self, page: str) -> None:
        self.log.note("report: the page is rendered but not saved to .sparkify/report/index.html "
                      "on a dry run")


class DryRunGate:
    """Notes each checkpoint it would run (GX builds its read-only queries from the suites)."""

    def __init__(self, log: StatementLog) -> None:
        self.log = log

    def run(self, checkpoint: str) -> QualityReport:
        spec = CheckpointFile.load(EXPECTATIONS_DIR / "checkpoints" / f"{checkpoint}.yml")
        expectations = sum(len(SuiteFile.load(EXPECTATIONS_DIR / f"{suite}.yml").expectations)
                           for suite in spec.suites)
        self.log.note(f"check {checkpoint}: the Great Expectations checkpoint '{checkpoint}', "
                      f"{expectations} expectations on {', '.join(spec.suites)} (read-only "
                      "queries GX generates; not run on a dry run)")
        return QualityReport(checkpoint, (), 0.0)

    def publish_docs(self) -> None:
        """No Data Docs on a dry run."""

    def release_connections(self) -> None:
        """Nothing to release: a dry run opens no connection."""

    def close(self) -> None:
        """Nothing to close."""
