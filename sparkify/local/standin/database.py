"""The stand-in's PostgreSQL, made as strict as Redshift where PostgreSQL can be.

pgserver's PostgreSQL in a data directory of its own, and in it one database and one login:
- SERIALIZABLE by default: Redshift's isolation for clusters made before SNAPSHOT became the
  default (https://docs.aws.amazon.com/redshift/latest/dg/c_serial_isolation.html);
- C collation, UTF-8: Redshift compares and sorts strings by their bytes
  (https://docs.aws.amazon.com/redshift/latest/dg/c_collation_sequences.html), time zone UTC;
- a login that may use and create in schema public but not create in the database (no CREATE
  SCHEMA), as Redshift Serverless's IAM identities log in, with a password (scram-sha-256,
  not the trust pgserver sets up) that expires: IAM's temporary credentials, which
  `issue_password` hands out like GetClusterCredentials does.
"""

from __future__ import annotations

import secrets
import warnings
from pathlib import Path

import psycopg2

from sparkify.errors import WarehouseError
from sparkify.paths import STATE_DIR

STANDIN_PGDATA = STATE_DIR / "standin-pgdata"
DATABASE = "sparkify_redshift"
LOGIN = "sparkify_loader"
ADMIN = "postgres"
_HBA_MARK = "# sparkify redshift stand-in: the login needs its password"

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


class StrictPostgres:
    """A context manager: the server started, the database and login made (once)."""

    def __init__(self, data_dir: Path = STANDIN_PGDATA, database: str = DATABASE,
                 login: str = LOGIN) -> None:
        self.data_dir = Path(data_dir)
        self.database = database
        self.login = login
        self._server = None

    def __enter__(self) -> "StrictPostgres":
        import pgserver

        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._server = pgserver.get_server(self.data_dir, cleanup_mode="stop")
        except Exception as exc:
            raise WarehouseError(f"cannot start the stand-in's PostgreSQL in {self.data_dir}: "
                                 f"{str(exc).splitlines()[0] if str(exc) else exc!r}") from exc
        self._require_passwords()
        self._make_strict()
        return self

    def __exit__(self, *exc) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None

    def admin_url(self, database: str | None = None) -> str:
        return f"postgresql://{ADMIN}@/{database or self.database}?host={self.data_dir}"

    def login_url(self, password: str) -> str:
        return f"postgresql://{self.login}:{password}@/{self.database}?host={self.data_dir}"

    def issue_password(self, seconds: int) -> str:
        """A new password for the login, valid `seconds` from now (the old one stops working)."""
        password = secrets.token_urlsafe(24)
        self._admin(f"ALTER ROLE {self.login} PASSWORD %s "
                    f"VALID UNTIL %s", (password, _in_seconds(seconds)), database="postgres")
        return password

    def _require_passwords(self) -> None:
        """pgserver trusts every local login: the stand-in's login must give its password."""
        hba = self.data_dir / "pg_hba.conf"
        text = hba.read_text(encoding="utf-8")
        if _HBA_MARK in text:
            return
        hba.write_text(f"{_HBA_MARK}\nlocal all {ADMIN} trust\nlocal all {self.login} "
                       f"scram-sha-256\n{text}", encoding="utf-8")
        self._admin("SELECT pg_reload_conf()", database="postgres")

    def _make_strict(self) -> None:
        if not self._admin("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,),
                           database="postgres"):
            self._admin(f'CREATE DATABASE "{self.database}" TEMPLATE template0 ENCODING \'UTF8\' '
                        "LC_COLLATE 'C' LC_CTYPE 'C'", database="postgres")
        if not self._admin("SELECT 1 FROM pg_roles WHERE rolname = %s", (self.login,),
                           database="postgres"):
            self._admin(f"CREATE ROLE {self.login} LOGIN", database="postgres")
        for statement in (
                f"ALTER DATABASE \"{self.database}\" SET default_transaction_isolation = 'serializable'",
                f"ALTER DATABASE \"{self.database}\" SET timezone = 'UTC'",
                f'REVOKE CREATE ON DATABASE "{self.database}" FROM PUBLIC',
                f'REVOKE CREATE ON DATABASE "{self.database}" FROM {self.login}',
                f'GRANT CONNECT, TEMPORARY ON DATABASE "{self.database}" TO {self.login}'):
            self._admin(statement, database="postgres")
        self._admin(f"GRANT USAGE, CREATE ON SCHEMA public TO {self.login}")

    def _admin(self, sql: str, params=None, database: str | None = None) -> list[tuple]:
        conn = psycopg2.connect(self.admin_url(database))
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()


def _in_seconds(seconds: int) -> str:
    from datetime import datetime, timedelta, timezone

    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).isoformat()
