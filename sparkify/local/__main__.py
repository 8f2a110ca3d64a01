"""`sparkify local query "SQL"` or `psql` (or `python -m sparkify.local ...`): use the
embedded warehouse after a run. `sparkify local redshift-standin --data DIR [--warehouse-url
URL] [ELT options]`: the ELT through the Redshift engine against the stand-in
(docs/redshift-standin.md)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

STANDIN = "redshift-standin"


def main(argv: list[str], prog: str = "python -m sparkify.local") -> int:
    if argv[:1] == [STANDIN]:
        return redshift_standin(argv[1:], prog=f"{prog} {STANDIN}")
    import pgserver

    from sparkify.local.postgres import PGDATA_DIR, EmbeddedPostgres

    parser = argparse.ArgumentParser(prog=prog)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("query", help="run one SQL statement and print the rows").add_argument("sql")
    commands.add_parser("psql", help="an interactive psql on the embedded database")
    commands.add_parser("url", help="print the libpq URL (valid while the server runs)")
    commands.add_parser(STANDIN, help="the ELT through the Redshift engine against a strict "
                                      "PostgreSQL (--help for its options)", add_help=False)
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


def redshift_standin(argv: list[str], prog: str) -> int:
    """The ELT's own command line, run with the Redshift engine against the stand-in."""
    from flows import main as elt_command
    from sparkify import cli

    parser = elt_command.build_parser()
    parser.prog = prog
    parser.description = ("The ELT through the Redshift engine (its SQL, COPY from S3, error "
                          "views, lock) against a PostgreSQL made as strict as Redshift; with "
                          "--warehouse-url, that database and login as they are.")
    return cli.run_command(lambda args: elt_command.main(args, redshift_standin=True), parser,
                           argv)


if __name__ == "__main__":
    from sparkify import cli

    cli.exit_command(main(sys.argv[1:]))
