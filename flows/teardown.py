"""Tear down what provision created: the cluster (or workgroup, then namespace), the ingress
rule and security group, the role.

Run it as `python flows/teardown.py --config dwh.cfg`. Whatever is already gone is skipped, so
it is safe to run twice. A final snapshot is taken only when [DWH] FINAL_SNAPSHOT names one.
"""

from __future__ import annotations

import argparse

from prefect import flow

from sparkify import cli
from sparkify.aws.provision.outcome import Summary, teardown_summary
from sparkify.runtime import open_runtime
from tasks.provisioning import (
    delete_role, delete_role_policies, delete_security_group, delete_warehouse, revoke_ingress_rules,
)


@flow(name="sparkify-teardown")
def teardown(config: str) -> Summary:
    """Delete the warehouse, then its ingress rules and security group, then the IAM role."""
    with open_runtime("provision", config=config) as runtime:
        warehouse = delete_warehouse(runtime)
        ingress = revoke_ingress_rules(runtime)
        group = delete_security_group(runtime)
        policies = delete_role_policies(runtime)
        role = delete_role(runtime)
        return teardown_summary([*warehouse, ingress, group, policies, role],
                                runtime.deployment.still_billed())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flows/teardown.py", description=__doc__.splitlines()[0])
    parser.add_argument("--config", metavar="FILE", required=True, help="dwh.cfg: the AWS profile")
    cli.add_common_arguments(parser)
    return parser


def main(args: argparse.Namespace) -> int:
    print(teardown(config=args.config).text())
    return 0


if __name__ == "__main__":
    cli.exit_command(cli.run_command(main, build_parser()))
