"""The stand-in's psycopg2 classes: each statement the Redshift engine sends is checked against
what Redshift lacks, translated to PostgreSQL's syntax, and a COPY from S3 is run by the
stand-in itself (copy_runner.py). The engine's own cursor (sparkify.warehouse.connection)
records the Redshift text before it gets here, so a SQL log shows what Redshift would receive.
"""

from __future__ import annotations

import psycopg2
import psycopg2.extensions

from sparkify.local.standin import catalog
from sparkify.local.standin.copy_runner import CopyRun
from sparkify.local.standin.copy_statement import CopySyntaxError, is_s3_copy, parse_copy
from sparkify.local.standin.json_records import Column
from sparkify.local.standin.translate import LastCopy, translate
from sparkify.local.standin.unsupported import describe, lint

_COLUMNS = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
FROM pg_attribute AS a
WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""


class UnsupportedOnRedshift(psycopg2.ProgrammingError):
    """The statement uses what Redshift's documentation lists as unsupported."""


class StandInSession:
    """What one session of the stand-in knows beyond PostgreSQL: where S3 is, its last COPY."""

    def __init__(self, s3, bucket_region: str) -> None:
        self.s3 = s3
        self.bucket_region = bucket_region
        self.last_copy = LastCopy()


class StandInConnection(psycopg2.extensions.connection):
    standin: StandInSession


class StandInCursor(psycopg2.extensions.cursor):
    def execute(self, query, vars=None):
        text = query.decode("utf-8") if isinstance(query, bytes) else query
        broken = lint(text)
        if broken:
            raise UnsupportedOnRedshift(f"Redshift does not support {describe(broken)}")
        if is_s3_copy(text):
            return self._copy(text)
        views = catalog.views_named(text)
        if views:
            catalog.fill_views(_Raw(self), views)
        return super().execute(translate(text, self.connection.standin.last_copy), vars)

    def _copy(self, text: str) -> None:
        session = self.connection.standin
        try:
            command = parse_copy(text)
        except CopySyntaxError as exc:
            return self._fail(str(exc))
        columns = self._columns(command.table, command.columns)
        if isinstance(columns, str):
            return self._fail(columns)
        run = CopyRun(command, session.s3, session.bucket_region, self.connection.get_backend_pid())
        names = ", ".join(column.name for column in columns)
        outcome = run.run(columns, lambda stream: self._load(command.table, names, stream))
        session.last_copy = outcome.last_copy
        if outcome.failure:
            self._fail(outcome.failure)

    def _columns(self, table: str, listed: tuple[str, ...]) -> tuple[Column, ...] | str:
        super().execute(_COLUMNS, (table,))
        found = {name: Column(name, kind, not_null) for name, kind, not_null in self.fetchall()}
        if not found:
            return f'relation "{table}" does not exist'
        missing = [name for name in listed if name not in found]
        if missing:
            return f'column "{missing[0]}" of relation "{table}" does not exist'
        return tuple(found[name] for name in (listed or found))

    def _load(self, table: str, names: str, stream) -> int:
        self.copy_expert(f"COPY {table} ({names}) FROM STDIN", stream, size=1 << 20)
        return max(self.rowcount, 0)

    def _fail(self, message: str) -> None:
        """Raise `message` inside PostgreSQL, which aborts the transaction as Redshift does."""
        quoted = message.replace("'", "''")
        super().execute("DO $standin$ BEGIN RAISE EXCEPTION USING ERRCODE = 'XX000', MESSAGE = "
                        f"'{quoted}'; END $standin$")


class _Raw:
    """The cursor without the stand-in's checks, for the stand-in's own statements."""

    def __init__(self, cursor: StandInCursor) -> None:
        self.cursor = cursor

    def execute(self, sql: str, params=None) -> None:
        psycopg2.extensions.cursor.execute(self.cursor, sql, params)


def connect(dsn: str, session: StandInSession, **options) -> StandInConnection:
    conn = psycopg2.connect(dsn, connection_factory=StandInConnection,
                            cursor_factory=StandInCursor, **options)
    conn.standin = session
    return conn
