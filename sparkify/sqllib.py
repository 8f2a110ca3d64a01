"""SQL statements live in files under sql/; this is the one place that picks an engine's version,
and quotes values and names for them.

Lookup of a statement name such as `ddl/songplay`: first `sql/<engine>/<name>.sql` (the
engine's own dialect), then `sql/<name>.sql` (shared by every engine). Engine differences are
therefore files, never conditionals in the pipeline code.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

SQL_ROOT = Path(__file__).resolve().parents[1] / "sql"
DIALECTS = ("postgres", "redshift")  # the overlays under sql/

def quote_literal(value: str) -> str:
    """A standard SQL string literal: each ' doubled. PostgreSQL reads a backslash in it as an
    ordinary character (standard_conforming_strings, on by default since 9.1)."""
    return "'" + str(value).replace("'", "''") + "'"


def quote_redshift_literal(value: str) -> str:
    """A Redshift string literal: Redshift reads a backslash in a literal as an escape, so
    backslashes are doubled as well as quotes, as its own QUOTE_LITERAL does
    (https://docs.aws.amazon.com/redshift/latest/dg/r_QUOTE_LITERAL.html)."""
    return quote_literal(str(value).replace("\\", "\\\\"))


def quote_ident(name: str) -> str:
    """A SQL identifier, double-quoted (settings are also checked as plain names on load)."""
    return '"' + str(name).replace('"', '""') + '"'


class SqlLibrary:
    """Reads statements for one engine, falling back to the shared ones."""

    def __init__(self, engine: str, root: Path = SQL_ROOT) -> None:
        if engine not in DIALECTS:
            raise ValueError(f"unknown engine {engine!r}; expected one of {DIALECTS}")
        self.engine = engine
        self.root = root

    def path(self, name: str) -> Path:
        for candidate in (self.root / self.engine / f"{name}.sql", self.root / f"{name}.sql"):
            if candidate.is_file():
                return candidate
        raise FileNotFoundError(f"no SQL file for {name!r} ({self.engine})")

    def text(self, name: str, **params: str) -> str:
        """The statement, with `{param}` placeholders filled in (values already quoted)."""
        sql = _read(self.path(name)).strip().rstrip(";")
        return sql.format(**params) if params else sql


@lru_cache(maxsize=None)
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")
