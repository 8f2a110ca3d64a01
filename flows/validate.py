"""Run the Great Expectations checkpoints `staging` and `warehouse` on the warehouse as it is.

Run it as `python flows/validate.py [--warehouse-url URL | --config FILE]` (see --help) or as
the `validate` Prefect deployment. Exits 1 when an expectation fails, listing each with its table.
"""

from __future__ import annotations

import argparse

from prefect import flow
from pydantic import SecretStr

from sparkify import cli
from sparkify.errors import QualityGateError
from sparkify.quality.report import QualityReport
from sparkify.runtime import open_runtime
from tasks.quality import check_staging, check_warehouse


@flow(name="sparkify-validate")
def validate(warehouse_url: SecretStr | None = None,
             config: str | None = None) -> list[QualityReport]:
    """Run both checkpoints, even when the first fails; the run fails if any expectation does."""
    with open_runtime("validate", config=config, warehouse_url=warehouse_url) as runtime:
        reports = [check_staging(runtime, "warn"), check_warehouse(runtime, "warn")]
    failed = [report for report in reports if not report.success]
    if failed:
        error = QualityGateError("; ".join(report.failure_message() for report in failed))
        error.reports = reports  # for the command line, which lists each failure on its own line
        raise error
    return reports


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flows/validate.py", description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--warehouse-url", metavar="URL",
                        help="validate this PostgreSQL (postgresql://...), not the embedded one")
    target.add_argument("--config", metavar="FILE", help="dwh.cfg: validate its Redshift cluster")
    cli.add_common_arguments(parser)
    return parser


def main(args: argparse.Namespace) -> int:
    url = SecretStr(args.warehouse_url) if args.warehouse_url else None
    try:
        reports = validate(warehouse_url=url, config=args.config)
    except QualityGateError as exc:
        reports = getattr(exc, "reports", None)
        if reports is None or args.debug:
            raise
        print_reports(reports)
        return 1
    print_reports(reports)
    return 0


def print_reports(reports: list[QualityReport]) -> None:
    """A summary line per checkpoint, then one line per failed expectation, and the Data Docs."""
    for report in reports:
        print(report.summary())
    for report in reports:
        for outcome in report.failures:
            print(f"FAILED {report.checkpoint}: {outcome.table}: {outcome.rule}"
                  + (f" ({outcome.observed})" if outcome.observed else ""))
    docs = next((report.data_docs for report in reports if report.data_docs), None)
    if docs:
        print(f"Data Docs: {docs}")


if __name__ == "__main__":
    cli.exit_command(cli.run_command(main, build_parser()))
