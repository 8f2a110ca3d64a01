"""SQL statements live in files under sql/; this is the one place that picks an engine's version.

Lookup of a statement name such as `ddl/songplay`: first `sql/<engine>/<name>.sql` (the
engine's own dialect), then `sql/<name>.sql` (shared by every engine). Engine differences are
therefore files, never conditionals in the pipeline code.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

SQL_ROOT = Path(__file__).resolve().parents[1] / "sql"
ENGINES = ("postgres", "redshift")

# Creation order: staging and bookkeeping first, then dimensions, then the fact.
TABLES = (
    "staging_events", "staging_songs", "load_errors", "load_ledger",
    "users", "user_level_history", "artist", "song", "time", "songplay",
    "song_records", "user_events",
)
VIEWS = ("staged_user_events",)  # created after the tables
STAR_TABLES = ("songplay", "users", "song", "artist", "time", "user_level_history")

# The transform, in order: the history (every distinct song record and user event ever staged)
# and the star tables, whose rows of the keys this load touches are deleted and recomputed by
# the SELECT a full load runs (songplay's are updated in place, so a play keeps its
# songplay_id). The touched plays are computed before this load's events join the history.
TRANSFORM_STEPS = (
    "star/song_records", "star/song_records_analyze",
    "star/artist_remove_restaged", "star/artist",
    "star/song_remove_restaged", "star/song",
    "star/touched_plays",
    "star/user_events", "star/touched_users",
    "star/users_remove_touched", "star/users",
    "star/user_level_history_remove_touched", "star/user_level_history",
    "star/songplay_update", "star/songplay",
    "star/time_remove_unused", "star/time",
)

# The steps that each fill one table, and the table: it is empty on a first load and after a
# full refresh, when PostgreSQL builds its indexes after the insert instead of row by row
# (PostgresWarehouse.run_step).
TABLE_FILLED_BY = {
    "star/user_events": "user_events",
    "star/songplay": "songplay",
    "star/time": "time",
}


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
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r}; expected one of {ENGINES}")
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

    def ddl(self, table: str) -> str:
        return self.text(f"ddl/{table}")


@lru_cache(maxsize=None)
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")
