"""The Sparkify ELT: discover -> stage -> check staging + transform -> check warehouse -> report.

The staging checks run beside the transform, which commits only once they have passed. The
last step renders the analytics report (.sparkify/report/index.html); a run that fails
before it leaves the previous page as it was.

Run it as `python flows/main.py [options]` (see --help) or as the `elt` Prefect deployment.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Literal

from prefect import flow
from prefect.logging import get_run_logger
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote
from pydantic import SecretStr

from sparkify import cli
from sparkify.runtime import open_runtime
from tasks.discovery import discover_sources, seed_emulator, select_new_objects
from tasks.quality import check_staging, check_warehouse
from tasks.analytics import collect_figures, figures_of, render_report
from tasks.reporting import (
    RunSummary, StepClock, check_error_budget, finish_run, summarize_run,
)
from tasks.staging import check_max_errors, create_tables, stage_sources
from tasks.transform import transform_star


@flow(name="sparkify-elt")
def elt(
    data: str | None = None,
    source: str | None = None,
    warehouse_url: SecretStr | None = None,
    config: str | None = None,
    max_errors: int = 0,
    quality: Literal["fail", "warn"] = "fail",
    full_refresh: bool = False,
    start: date | None = None,
    end: date | None = None,
    dry_run: bool = False,
    redshift_standin: bool = False,
) -> RunSummary:
    """Load what is new in the S3 sources and fold it into the star schema.

    `dry_run`: the same steps, with a warehouse that prints each statement instead of sending
    it and an object store that never writes. `redshift_standin`: through the Redshift engine,
    against the stand-in (python -m sparkify.local redshift-standin).
    """
    # quote(): the object lists go to tasks as they are. Unquoted, Prefect walks every item of
    # a parameter looking for futures: 0.3 s per call at 10,000 song objects, 3 s at 100,000.
    clock = StepClock()
    run_id = str(flow_run.get_id() or "local")
    with open_runtime("elt", config=config, data=data, source=source,
                      warehouse_url=warehouse_url, dry_run=dry_run,
                      redshift_standin=redshift_standin) as runtime:
        check_max_errors(runtime, max_errors)
        if runtime.seed_dir:
            with clock.step("seed emulator"):
                seed_emulator(runtime)
        with clock.step("discover"):
            found = discover_sources(runtime, start, end)
        with runtime.warehouse().exclusive(on_wait=_say_waiting):
            with clock.step("create tables"):
                create_tables(runtime)
            with clock.step("select new"):
                to_load = select_new_objects(runtime, quote(found), full_refresh)
            if to_load.is_empty:
                get_run_logger().info("nothing new to load: every source object is in the ledger")
                return _report_and_summarize(runtime, [], [], clock)
            with clock.step("stage"):
                staged = stage_sources(runtime, quote(to_load), max_errors, run_id)
                check_error_budget(quote(staged), max_errors)
            with clock.step("transform"):
                # The staging gate runs beside the transform, which commits only once the gate
                # has passed: a failed gate rolls it back and the star tables stay as they were.
                staging_gate = check_staging.submit(runtime, quality)
                transform_star(runtime, quote(to_load), quote(staged), full_refresh, run_id,
                               before_commit=staging_gate.result)
            clock.record("check staging (beside transform)", staging_gate.result().seconds)
            with clock.step("check warehouse (report's questions beside)"):
                # The report's questions read the committed star while the checks do: a
                # failed check still fails the run before any page is written.
                asked = collect_figures.submit(runtime)
                checked = [staging_gate.result(), check_warehouse(runtime, quality, run_id)]
                figures = figures_of(runtime, asked)
            return _report_and_summarize(runtime, staged, checked, clock, figures)


def _report_and_summarize(runtime, staged: list, checked: list, clock: StepClock,
                          figures=None) -> RunSummary:
    """The last steps: count the tables, render the report, publish the run's summary."""
    summary = summarize_run(runtime, quote(staged))
    with clock.step("report"):
        page = render_report(runtime, summary.rows, quote(checked), quote(figures))
    return finish_run(summary, clock, page)


def _say_waiting() -> None:
    get_run_logger().warning("another ELT run is loading this warehouse: waiting for it to finish")


class _ElParser(argparse.ArgumentParser):
    """Refuses inconsistent options as argparse refuses a bad one: before any server starts."""

    def parse_args(self, *args, **kwargs) -> argparse.Namespace:
        parsed = super().parse_args(*args, **kwargs)
        if parsed.max_errors < 0:
            self.error("--max-errors must be 0 or more")
        if (parsed.start is None) != (parsed.end is None):
            self.error("a backfill needs both --start and --end")
        if parsed.full_refresh and parsed.start:
            self.error("--full-refresh reloads everything: it cannot be combined with --start/--end")
        return parsed


def build_parser() -> argparse.ArgumentParser:
    parser = _ElParser(prog="flows/main.py", description=__doc__.splitlines()[0])
    parser.add_argument("--data", metavar="DIR",
                        help="source directory in the S3 layout (song_data/, log_data/); "
                             "default: the project's generated sample")
    parser.add_argument("--source", metavar="S3_URI",
                        help="read from this S3 location (s3://bucket[/prefix]) instead")
    parser.add_argument("--warehouse-url", metavar="URL",
                        help="load into this PostgreSQL (postgresql://...) instead of the embedded one")
    parser.add_argument("--config", metavar="FILE", help="dwh.cfg: the AWS profile")
    parser.add_argument("--max-errors", metavar="N", type=int, default=0,
                        help="tolerate up to N malformed source records, kept in load_errors")
    parser.add_argument("--quality", choices=("fail", "warn"), default="fail",
                        help="what a failed quality check does (default: fail)")
    parser.add_argument("--full-refresh", action="store_true",
                        help="rebuild the star from every source object, ignoring the ledger")
    parser.add_argument("--start", metavar="DATE", type=date.fromisoformat,
                        help="backfill: load the log objects from this day (YYYY-MM-DD) ...")
    parser.add_argument("--end", metavar="DATE", type=date.fromisoformat,
                        help="... to this day, inclusive")
    parser.add_argument("--dry-run", action="store_true",
                        help="print every SQL statement, secrets redacted, and touch nothing")
    cli.add_common_arguments(parser)
    return parser


def main(args: argparse.Namespace, redshift_standin: bool = False) -> int:
    summary = elt(
        data=args.data, source=args.source,
        warehouse_url=SecretStr(args.warehouse_url) if args.warehouse_url else None,
        config=args.config, max_errors=args.max_errors, quality=args.quality,
        full_refresh=args.full_refresh, start=args.start, end=args.end, dry_run=args.dry_run,
        redshift_standin=redshift_standin,
    )
    print("\n-- end of the dry run: nothing was executed" if args.dry_run else summary.text())
    return 0


if __name__ == "__main__":
    cli.exit_command(cli.run_command(main, build_parser()))
