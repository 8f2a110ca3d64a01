"""The connections and cursors the warehouse code uses: psycopg2 underneath, a recorder beside.

Nothing outside `sparkify.warehouse` touches a psycopg2 cursor. A `Connection` has a raw
psycopg2 connection, a `Recorder`, or both:
- raw only: a real run;
- recorder only: the dry run, which sends nothing and answers each query from the recorder;
- both: a real run whose statements are also recorded (the test that the dry run lists the
  statements in the order a real run sends them).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any, Protocol

import psycopg2.extras


class Recorder(Protocol):
    def connection_opened(self) -> int:
        """The number the recorder gives a new connection (1, 2, ... per run)."""

    def statement(self, connection: int, label: str, sql: str, params: str) -> None:
        """One statement sent on `connection`; `params` describes its parameters, if any."""

    def event(self, connection: int, what: str) -> None:
        """COMMIT or ROLLBACK on `connection`."""

    def answer(self, label: str) -> list[tuple]:
        """The rows a query would return, when nothing is executed."""

    def flush(self) -> None:
        """Write what other threads recorded (their work is done)."""


class Connection:
    """One warehouse session; `cursor()` gives the statements' cursor."""

    def __init__(self, raw: Any | None, recorder: Recorder | None) -> None:
        self.raw = raw
        self.recorder = recorder
        self.number = recorder.connection_opened() if recorder is not None else 0

    @contextmanager
    def cursor(self) -> Iterator[Cursor]:
        if self.raw is None:
            yield Cursor(None, self)
            return
        with self.raw.cursor() as raw_cursor:
            yield Cursor(raw_cursor, self)

    def commit(self) -> None:
        self._event("COMMIT")
        if self.raw is not None:
            self.raw.commit()

    def rollback(self) -> None:
        self._event("ROLLBACK")
        if self.raw is not None:
            self.raw.rollback()

    def set_autocommit(self) -> None:
        if self.raw is not None:
            self.raw.autocommit = True

    @property
    def closed(self) -> bool:
        return bool(self.raw is not None and self.raw.closed)

    @property
    def backend_pid(self) -> int:
        return self.raw.get_backend_pid() if self.raw is not None else 0

    def close(self) -> None:
        if self.raw is not None:
            self.raw.close()

    def _event(self, what: str) -> None:
        if self.recorder is not None:
            self.recorder.event(self.number, what)


class Cursor:
    """execute, insert_rows and copy_from_stdin, each recorded before it is sent."""

    def __init__(self, raw: Any | None, connection: Connection) -> None:
        self.raw = raw
        self.connection = connection
        self._answer: list[tuple] = []

    def execute(self, sql: str, params: Sequence | None = None, *, label: str = "") -> int:
        """Send one statement; returns the rows it touched (0 when nothing is executed)."""
        self._record(label, sql, _describe(params))
        if self.raw is None:
            self._answer = list(self.connection.recorder.answer(label))
            return 0
        self.raw.execute(sql, params)
        return max(self.raw.rowcount, 0)

    def insert_rows(self, sql: str, rows: Sequence[tuple], *, label: str) -> None:
        """`INSERT ... VALUES %s` for many rows, a page at a time (psycopg2's execute_values)."""
        self._record(label, sql, f"{len(rows)} rows")
        if self.raw is not None and rows:
            psycopg2.extras.execute_values(self.raw, sql, rows, page_size=1000)

    def copy_from_stdin(self, sql: str, stream: IO, *, label: str) -> None:
        """`COPY ... FROM STDIN`, fed from `stream` (never read when nothing is executed)."""
        self._record(label, sql, "")
        if self.raw is not None:
            self.raw.copy_expert(sql, stream, size=1 << 20)

    def fetchone(self) -> tuple | None:
        if self.raw is not None:
            return self.raw.fetchone()
        return self._answer[0] if self._answer else None

    def fetchall(self) -> list[tuple]:
        return self.raw.fetchall() if self.raw is not None else self._answer

    def _record(self, label: str, sql: str, params: str) -> None:
        if self.connection.recorder is not None:
            self.connection.recorder.statement(self.connection.number, label, sql, params)


def _describe(params: Sequence | None) -> str:
    """Parameters in a few words: they can be thousands of keys."""
    if not params:
        return ""
    sizes = [f"{len(p)} values" if isinstance(p, (tuple, list)) else "1 value" for p in params]
    return ", ".join(sizes)
