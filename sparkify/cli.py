"""Shared command-line behaviour: the local Prefect API, Ctrl-C, one-line errors, --debug."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import threading
from typing import Callable, NoReturn

from sparkify import interrupts, local_prefect
from sparkify.errors import first_line
from sparkify.secrets import redact
from sparkify.text import printable

# Set when a run's Prefect API stopped answering: at exit, Prefect would try each event still queued for
# it 11 times (7-8 s each) before the process could end.
_api_gone = threading.Event()


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
    # The stdlib's switch for handler errors: Prefect's sends of logs to an API that has failed
    # print none; the command's last line says what failed.
    logging.raiseExceptions = False
    one_line = _OneLineRecords()
    for name in list(logging.root.manager.loggerDict) + [""]:
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            handler.addFilter(one_line)
    for noisy in ("docket", "great_expectations", "botocore", "urllib3", "prefect.server",
                  "uvicorn", "httpx"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    # A whole event per line when the API has gone (which the command's last line says). A
    # filter: this logger's level is Prefect's setting PREFECT_LOGGING_INTERNAL_LEVEL.
    logging.getLogger("prefect._internal.concurrency").addFilter(
        lambda record: record.levelno >= logging.CRITICAL)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debug", action="store_true", help="full tracebacks on failure")


def run_command(main: Callable[[argparse.Namespace], int], parser: argparse.ArgumentParser,
                argv: list[str] | None = None) -> int:
    """Parse, run, and turn any failure into one line on stderr and a non-zero exit."""
    args = parser.parse_args(argv)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # read when GX is imported, later
    import prefect  # noqa: F401  (configures Prefect's logging, which quiet_logging adjusts)

    quiet_logging(args.debug)
    try:
        # The local API first: the Ctrl-C handling covers the run, not a server's start.
        with local_prefect.local_api(), interrupts.ctrl_c_stops_the_run():
            return main(args)
    except KeyboardInterrupt:
        return interrupts.report()
    except Exception as exc:
        if local_prefect.api_unreachable(exc):
            _api_gone.set()
        # After a Ctrl-C, what fails while the run unwinds is its consequence (a call to a
        # stopped Prefect API, say): the outcome stays "interrupted".
        if interrupts.interrupted():
            return interrupts.report()
        if args.debug:
            raise
        api_failure = local_prefect.api_failure(exc)
        print(f"error: {printable(first_line(api_failure)) if api_failure else one_line(exc)}",
              file=sys.stderr)
        return 1


def one_line(exc: BaseException) -> str:
    return printable(first_line(str(exc))) if str(exc).strip() else exc.__class__.__name__


def exit_command(code: int) -> NoReturn:
    """Exit with `code`. gc.freeze() first: the interpreter's last collection would otherwise
    walk every object Prefect and GX created (0.7-1.8 s, against 0.1 s frozen). When the run's
    Prefect API stopped answering, the output flushed and nothing more: there is nothing to send to."""
    gc.freeze()
    if _api_gone.is_set():
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(code)
    sys.exit(code)
