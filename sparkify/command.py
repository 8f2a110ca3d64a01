"""`sparkify <command> [options]`: one entry point for every command of the project.

Each subcommand is the command line of a flow (`sparkify run` is `python flows/main.py`) or of
a tool module, with the same options; it is imported only when it runs, so `sparkify --help`
answers at once.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NamedTuple


class Command(NamedTuple):
    module: str
    summary: str


COMMANDS = {
    "run": Command("flows.main", "the ELT: stage the sources, build the star, check it, report"),
    "validate": Command("flows.validate", "the quality checkpoints on the warehouse as it is"),
    "report": Command("flows.report", "the analytics report of the warehouse as it is"),
    "provision": Command("flows.provision", "AWS: the IAM role, security group and Redshift"),
    "teardown": Command("flows.teardown", "AWS: delete what provision made"),
    "notify": Command("sparkify.notify.__main__",
                      "apply the failure-notification rules to the Prefect server"),
    "local": Command("sparkify.local.__main__",
                     "the embedded warehouse (query, psql, url) and the Redshift stand-in"),
}

# Commands whose module parses its own subcommands: they get the remaining arguments as they are.
PASS_THROUGH = {"local"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sparkify", description=__doc__.splitlines()[0],
        epilog="`sparkify <command> --help` lists a command's options.")
    commands = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    for name, command in COMMANDS.items():
        commands.add_parser(name, help=command.summary, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        build_parser().parse_args(argv)  # prints the help, or names the unknown command; exits
    name, rest = argv[0], argv[1:]
    module = importlib.import_module(COMMANDS[name].module)
    prog = f"sparkify {name}"
    if name in PASS_THROUGH:
        return module.main(rest, prog=prog)
    from sparkify import cli

    parser = module.build_parser()
    parser.prog = prog
    return cli.run_command(module.main, parser, rest)


def entry_point() -> None:
    """The console script `sparkify` (pyproject.toml)."""
    from sparkify import cli

    cli.exit_command(main())
