"""Redshift's load-error views in the stand-in: what its COPYs rejected, kept in this process.

Redshift keeps a COPY's rejected records whatever becomes of its transaction, and any session
reads them from SYS_LOAD_ERROR_DETAIL (or STL_LOAD_ERRORS on a provisioned cluster). The
stand-in keeps them here and, before a statement that names either view, fills a temporary
table of that name in the reading session (PostgreSQL looks in pg_temp first), with
Redshift's columns and their widths: file_name is character(256), so a longer key is cut as on
Redshift. https://docs.aws.amazon.com/redshift/latest/dg/SYS_LOAD_ERROR_DETAIL.html,
https://docs.aws.amazon.com/redshift/latest/dg/r_STL_LOAD_ERRORS.html
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timezone

from sparkify.local.standin.sqltext import code_only

_QUERY_IDS = itertools.count(1001)
_LOCK = threading.Lock()
_REJECTED: list["Rejected"] = []


def next_query_id() -> int:
    with _LOCK:
        return next(_QUERY_IDS)


def _cut(text: str, size: int) -> str:
    """`text` cut to at most `size` UTF-8 bytes (Redshift's CHAR widths count bytes)."""
    return text.encode("utf-8", "replace")[:size].decode("utf-8", "ignore")


@dataclass(frozen=True)
class Rejected:
    query_id: int
    session_id: int
    table: str
    file_name: str
    line_number: int
    column_name: str
    column_type: str
    column_length: str
    position: int
    error_code: int
    error_message: str
    raw_line: str
    raw_field_value: str
    start_time: datetime

    def sys_row(self) -> tuple:
        return (self.query_id, self.session_id, self.table, self.start_time,
                _cut(self.file_name, 256), self.line_number, _cut(self.column_name, 127),
                _cut(self.column_type, 10), _cut(self.column_length, 10), self.position,
                self.error_code, _cut(self.error_message, 512))

    def stl_row(self) -> tuple:
        return (self.query_id, self.session_id, self.start_time, _cut(self.file_name, 256),
                self.line_number, _cut(self.column_name, 127), _cut(self.column_type, 10),
                _cut(self.column_length, 10), self.position, _cut(self.raw_line, 1024),
                _cut(self.raw_field_value, 1024), self.error_code, _cut(self.error_message, 100))


def record(rejected: list[Rejected]) -> None:
    with _LOCK:
        _REJECTED.extend(rejected)


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


VIEWS = {
    "sys_load_error_detail": (
        "query_id BIGINT, session_id INTEGER, table_name VARCHAR(256), start_time TIMESTAMP, "
        "file_name CHARACTER(256), line_number BIGINT, column_name CHARACTER(127), "
        "column_type CHARACTER(10), column_length CHARACTER(10), position INTEGER, "
        "error_code INTEGER, error_message CHARACTER(512)", Rejected.sys_row),
    "stl_load_errors": (
        "query INTEGER, session INTEGER, starttime TIMESTAMP, filename CHARACTER(256), "
        "line_number BIGINT, colname CHARACTER(127), type CHARACTER(10), col_length CHARACTER(10), "
        "position INTEGER, raw_line CHARACTER(1024), raw_field_value CHARACTER(1024), "
        "err_code INTEGER, err_reason CHARACTER(100)", Rejected.stl_row),
}


def views_named(sql: str) -> list[str]:
    code = code_only(sql).lower()
    return [name for name in VIEWS if re.search(rf"\b{name}\b", code)]


def fill_views(cursor, names: list[str]) -> None:
    """Temporary tables of these views' names in the cursor's session, holding every rejected
    record so far (Redshift shows a user their own; here one user runs the loads)."""
    with _LOCK:
        rejected = list(_REJECTED)
    for name in names:
        columns, row_of = VIEWS[name]
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ({columns})")
        cursor.execute(f"DELETE FROM pg_temp.{name}")
        rows = [row_of(r) for r in rejected]
        if rows:
            marks = "(" + ", ".join(["%s"] * len(rows[0])) + ")"
            cursor.execute(f"INSERT INTO pg_temp.{name} VALUES " + ", ".join([marks] * len(rows)),
                           [value for row in rows for value in row])
