"""The local profile's stand-ins: moto's S3 server on loopback and an embedded PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import boto3

from sparkify.errors import SourceError, WarehouseError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
STATE_DIR = PROJECT_ROOT / ".sparkify"
PGDATA_DIR = STATE_DIR / "pgdata"
EMULATOR_BUCKET = "sparkify-local"
EMULATOR_REGION = "us-west-2"
EMBEDDED_DATABASE = "sparkify"

# pgserver asks platformdirs for a runtime dir it does not use; the warning is only noise.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def emulator_session() -> boto3.session.Session:
    """A boto3 session with the emulator's throwaway credentials (never the user's)."""
    return boto3.session.Session(aws_access_key_id="emulator", aws_secret_access_key="emulator",
                                 region_name=EMULATOR_REGION)


class S3Emulator:
    """moto's S3 server (sparkify.s3_emulator) in its own process on a free loopback port; a
    context manager."""

    def __init__(self, port: int | None = None, startup_timeout: float = 30.0) -> None:
        self.port = port or free_port()
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "sparkify.s3_emulator", "--port", str(self.port)]

    def start(self) -> "S3Emulator":
        self._process = subprocess.Popen(
            self.command(),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "true"},
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise SourceError(f"the S3 emulator exited at start (code {self._process.returncode})")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise SourceError(f"the S3 emulator did not start within {self.startup_timeout:.0f}s")

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._process = None

    def __enter__(self) -> "S3Emulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


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
                cur.execute(f'CREATE DATABASE "{self.database}"')
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


def _main(argv: list[str]) -> int:
    """`python -m sparkify.local query "SQL"` or `psql`: use the embedded warehouse after a run."""
    import argparse

    import pgserver

    parser = argparse.ArgumentParser(prog="python -m sparkify.local")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("query", help="run one SQL statement and print the rows").add_argument("sql")
    commands.add_parser("psql", help="an interactive psql on the embedded database")
    commands.add_parser("url", help="print the libpq URL (valid while the server runs)")
    args = parser.parse_args(argv)
    if not (PGDATA_DIR / "PG_VERSION").exists():
        print(f"error: no embedded warehouse in {PGDATA_DIR} yet: run `make run` first",
              file=sys.stderr)
        return 1
    with EmbeddedPostgres() as embedded:
        if args.command == "url":
            print(embedded.url)
            return 0
        psql = Path(pgserver.__file__).parent / "pginstall" / "bin" / "psql"
        command = [str(psql), "-h", str(embedded.data_dir), "-U", "postgres", embedded.database]
        if args.command == "query":
            command += ["-c", args.sql]
        return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
