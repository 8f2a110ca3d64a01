"""`python -m sparkify.local query "SQL"` or `psql`: use the embedded warehouse after a run."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from sparkify.local.postgres import PGDATA_DIR, EmbeddedPostgres


def main(argv: list[str]) -> int:
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
    sys.exit(main(sys.argv[1:]))
