"""The dry run's stand-ins: a statement log, a store that never writes, a gate that only notes.

`--dry-run` runs the real flow. Its warehouse has no connection: each statement goes to the
`StatementLog`, which prints it (secrets masked) and answers queries as an empty warehouse
would. So the output is, by construction, the statements in the order a real run sends them.
A real run can keep the same log (`SPARKIFY_SQL_LOG=FILE`): the statements it sent.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from typing import TextIO

from sparkify.quality.report import QualityReport
from sparkify.quality.suites import EXPECTATIONS_DIR, CheckpointFile, SuiteFile
from sparkify.secrets import redact
from sparkify.store import ObjectStore, S3Location, SourceObject

# What an empty warehouse answers: the lock is free, the ledger is empty, COPY loaded nothing.
DRY_RUN_ANSWERS: dict[str, list[tuple]] = {
    "lock/try_acquire": [(True,)],
    "staging/last_copy": [(0, None)],
}


@dataclass(frozen=True)
class Entry:
    label: str  # the statement file, or "COMMIT", "ROLLBACK", "note"
    text: str
    connection: int = 0


class StatementLog:
    """Every statement and note of a run, in order, written to `out` as it comes.

    Work that runs beside the main thread (the staging gate beside the transform) is held
    back and written just before the main thread's next COMMIT, which in a real run cannot
    come before that work is done: so the output is the same from one run to the next.
    """

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.entries: list[Entry] = []
        self._beside: list[Entry] = []
        self._lock = threading.Lock()
        self._connections = itertools.count(1)

    def connection_opened(self) -> int:
        with self._lock:
            return next(self._connections)

    def header(self, lines: list[str]) -> None:
        self._write(["-- Sparkify ELT dry run: every SQL statement of one run, in the order a "
                     "real run sends them.", "-- Nothing was executed and nothing written.",
                     *lines])

    def statement(self, connection: int, label: str, sql: str, params: str) -> None:
        about = f"; parameters: {params}" if params else ""
        self._add(Entry(label, f"-- {label} (connection {connection}{about})\n{sql.strip()};",
                        connection))

    def event(self, connection: int, what: str) -> None:
        self._add(Entry(what, f"{what}; -- connection {connection}", connection))

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
            if threading.current_thread() is not threading.main_thread():
                self._beside.append(entry)
                return
            if entry.label == "COMMIT":
                self._emit_beside()
            self._emit(entry)

    def _emit_beside(self) -> None:
        if self._beside:
            self._write(["", "-- ---- beside the transaction above, on another thread ----"])
            for entry in self._beside:
                self._emit(entry)
            self._write(["", "-- ---- end of the work beside it ----"])
            self._beside = []

    def _emit(self, entry: Entry) -> None:
        self.entries.append(entry)
        self._write(["", entry.text])

    def _write(self, lines: list[str]) -> None:
        self.out.write(redact("\n".join(lines)) + "\n")
        self.out.flush()


class ReadOnlyStore(ObjectStore):
    """Lists and reads through the real store; a write is only noted."""

    def __init__(self, inner: ObjectStore, log: StatementLog) -> None:
        self.inner = inner
        self.log = log

    def list_objects(self, location: S3Location, suffix: str = ".json") -> list[SourceObject]:
        return self.inner.list_objects(location, suffix)

    def head(self, bucket: str, key: str) -> SourceObject | None:
        return self.inner.head(bucket, key)

    def read(self, bucket: str, key: str) -> bytes:
        return self.inner.read(bucket, key)

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

    def release_connections(self) -> None:
        """Nothing to release: a dry run opens no connection."""

    def close(self) -> None:
        """Nothing to close."""
