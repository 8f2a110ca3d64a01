"""Shared command-line behaviour: quiet Prefect set-up, one-line errors, --debug tracebacks."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import logging
import os
import sys
from typing import Callable, NoReturn

from sparkify import interrupts, local_prefect
from sparkify.errors import first_line
from sparkify.secrets import redact
from sparkify.text import printable

# Before Prefect is imported: no telemetry from a throwaway local server.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
local_prefect.configure_local_prefect()


class _OneLineRecords(logging.Filter):
    """Without --debug, log records keep their first line and lose their traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info or record.exc_text:
            record.exc_info, record.exc_text = None, None
        message = record.getMessage()
        record.msg, record.args = printable(redact(message.splitlines()[0] if message else message)), None
        return True


def quiet_logging(debug: bool) -> None:
    """Keep Prefect's progress lines; drop tracebacks and third-party noise unless --debug."""
    if debug:
        return
    one_line = _OneLineRecords()
    for name in list(logging.root.manager.loggerDict) + [""]:
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            handler.addFilter(one_line)
    for noisy in ("docket", "great_expectations", "botocore", "urllib3", "prefect.server",
                  "uvicorn", "httpx"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debug", action="store_true", help="full tracebacks on failure")


def run_command(main: Callable[[argparse.Namespace], int], parser: argparse.ArgumentParser,
                argv: list[str] | None = None) -> int:
    """Parse, run, and turn any failure into one line on stderr and a non-zero exit."""
    args = parser.parse_args(argv)
    import prefect  # noqa: F401  (configures Prefect's logging, which quiet_logging adjusts)

    quiet_logging(args.debug)
    code, line, stopped = 1, None, False
    with contextlib.ExitStack() as command:
        try:
            # The kept local server first: with its URL set, no temporary server is isolated.
            command.enter_context(local_prefect.local_api())
            command.enter_context(interrupts.ctrl_c_stops_the_run())
            code = main(args)
        except KeyboardInterrupt:
            stopped = True
        except Exception as exc:
            # After a Ctrl-C, what fails while the run unwinds is its consequence (a call to a
            # stopped Prefect API, say): the outcome stays "interrupted".
            if args.debug and not interrupts.interrupted():
                raise
            line = f"error: {one_line(exc)}"
    if interrupts.interrupted():  # the run has unwound: exit now, 130
        interrupts.exit_now()
    if stopped:
        return interrupts.report()
    if line:
        print(line, file=sys.stderr)
    return code


def one_line(exc: BaseException) -> str:
    return printable(first_line(str(exc))) if str(exc).strip() else exc.__class__.__name__


def exit_command(code: int) -> NoReturn:
    """End a command with `code`: send what Prefect still queues (logs, events), run the atexit
    handlers, flush the output, then exit without the interpreter's teardown of every loaded
    module, which writes nothing and took 1.8-2.6 s with Prefect and GX loaded (of a 6 s run
    that finds nothing new)."""
    interrupts.drain_prefect_queues()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more to say
            pass
    os._exit(code)
