"""Render the analytics report (.sparkify/report/index.html) from the warehouse as it is.

Run it as `python flows/report.py [--warehouse-url URL | --config FILE]` (see --help) or as the
`report` Prefect deployment. The ELT renders the same page as its last step.
"""

from __future__ import annotations

import argparse

from prefect import flow
from pydantic import SecretStr

from sparkify import cli
from sparkify.runtime import open_runtime
from tasks.analytics import render_report
from tasks.reporting import count_rows


@flow(name="sparkify-report")
def report(warehouse_url: SecretStr | None = None, config: str | None = None) -> str:
    """Count the tables and render the page; returns its path. Runs no quality check."""
    with open_runtime("validate", config=config, warehouse_url=warehouse_url) as runtime:
        rows = count_rows(runtime)
        return render_report(runtime, rows, None)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flows/report.py", description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--warehouse-url", metavar="URL",
                        help="report on this PostgreSQL (postgresql://...), not the embedded one")
    target.add_argument("--config", metavar="FILE", help="dwh.cfg: report on its Redshift cluster")
    cli.add_common_arguments(parser)
    return parser


def main(args: argparse.Namespace) -> int:
    url = SecretStr(args.warehouse_url) if args.warehouse_url else None
    print(f"Sparkify report rendered.\nreport: {report(warehouse_url=url, config=args.config)}")
    return 0


if __name__ == "__main__":
    cli.exit_command(cli.run_command(main, build_parser()))
