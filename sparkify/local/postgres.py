"""pgserver's embedded PostgreSQL: the local profile's warehouse."""

from __future__ import annotations

import warnings
from pathlib import Path

from sparkify.errors import WarehouseError
from sparkify.paths import STATE_DIR

PGDATA_DIR = STATE_DIR / "pgdata"
EMBEDDED_DATABASE = "sparkify"

# Settings of the embedded server for bulk loads, applied without a restart (PostgreSQL's
# "Populating a Database"). With the default 1 GB, a 1M-event load forces checkpoints in the
# middle of the transform, each followed by full-page images of every page touched again. The
# cost is disk: pg_wal may keep up to this much between checkpoints.
BULK_LOAD_SETTINGS = {"max_wal_size": "4GB"}

# pgserver asks platformdirs for a runtime dir it does not use; the warning is only noise.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


class EmbeddedPostgres:
    """pgserver's PostgreSQL, its data kept in `data_dir` so the result can be queried later."""

    def __init__(self, data_dir: Path = PGDATA_DIR, database: str = EMBEDDED_DATABASE) -> None:
        self.data_dir = Path(data_dir)
        self.database = database
        self._server = None

    def start(self) -> "EmbeddedPostgres":
        import pgserver

        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._server = pgserver.get_server(self.data_dir, cleanup_mode="stop")
        except Exception as exc:
            raise WarehouseError(f"cannot start the embedded PostgreSQL in {self.data_dir}: "
                                 f"{str(exc).splitlines()[0] if str(exc) else exc!r}") from exc
        self._ensure_database()
        return self

    def _ensure_database(self) -> None:
        import psycopg2

        conn = psycopg2.connect(self._server.get_uri())
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,))
            if not cur.fetchone():
                # C collation: strings sort by their bytes, as on Redshift, whatever this
                # machine's locale (https://docs.aws.amazon.com/redshift/latest/dg/c_collation_sequences.html)
                cur.execute(f'CREATE DATABASE "{self.database}" TEMPLATE template0 '
                            "LC_COLLATE 'C'")
            _apply_settings(cur, BULK_LOAD_SETTINGS)
        conn.close()

    @property
    def url(self) -> str:
        """A libpq URL through the server's Unix socket (the data directory)."""
        return f"postgresql://postgres@/{self.database}?host={self.data_dir}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None

    def __enter__(self) -> "EmbeddedPostgres":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _apply_settings(cur, settings: dict[str, str]) -> None:
    """ALTER SYSTEM what differs from `settings` (sizes, each reloadable), then reload."""
    changed = False
    for name, value in settings.items():
        cur.execute("SELECT pg_size_bytes(current_setting(%s)) = pg_size_bytes(%s)", (name, value))
        if not cur.fetchone()[0]:
            cur.execute(f"ALTER SYSTEM SET {name} = %s", (value,))
            changed = True
    if changed:
        cur.execute("SELECT pg_reload_conf()")
