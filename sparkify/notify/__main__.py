"""Apply the notification rules of automations/ to the Prefect server at PREFECT_API_URL.

`python -m sparkify.notify [--config FILE]` (make notify-setup): one automation per rule,
created or updated by name, each sending to the block named by [NOTIFY] BLOCK.
"""

from __future__ import annotations

import argparse

from sparkify import cli
from sparkify.config import load_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sparkify.notify",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--config", metavar="FILE",
                        help="dwh.cfg holding [NOTIFY] BLOCK (or set SPARKIFY_NOTIFY_BLOCK)")
    cli.add_common_arguments(parser)
    return parser


def main(args: argparse.Namespace) -> int:
    from sparkify.notify.apply import api_url, apply_rules

    block = load_settings(args.config, resolve_password=False).block
    applied = apply_rules(block)
    for entry in applied:
        print(entry.line())
    rules = sum(entry.action != "removed" for entry in applied)
    print(f"{rules} notification rules on {api_url()}, sending to {block.strip()}")
    return 0


if __name__ == "__main__":
    cli.exit_command(cli.run_command(main, build_parser()))
