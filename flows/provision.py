"""Provision the AWS profile: IAM role and S3 policy, security group and ingress rule, and the
Redshift cluster (or, with DEPLOYMENT = serverless, a namespace and workgroup).

Run it as `python flows/provision.py --config dwh.cfg`. Every step creates what is missing and
reuses what exists, so running it again changes nothing and says so.
"""

from __future__ import annotations

import argparse

from prefect import flow

from sparkify import cli
from sparkify.aws.provision.outcome import Summary, provision_summary
from sparkify.runtime import open_runtime
from tasks.provisioning import (
    announce_billable, check_provision_settings, ensure_ingress_rule, ensure_role,
    ensure_role_policy, ensure_security_group, ensure_warehouse, wait_until_available,
)


@flow(name="sparkify-provision")
def provision(config: str) -> Summary:
    """Create or reuse the role, its S3 policy, the security group, the warehouse; wait for it."""
    with open_runtime("provision", config=config) as runtime:
        check_provision_settings(runtime)
        announce_billable(runtime)
        role = ensure_role(runtime)
        policy = ensure_role_policy(runtime, role.value)
        group = ensure_security_group(runtime)
        ingress = ensure_ingress_rule(runtime, group.value)
        warehouse = ensure_warehouse(runtime, role.value, group.value)
        ready = wait_until_available(runtime)
        return provision_summary([role, policy, group, ingress, *warehouse, ready],
                                 role_arn=role.value, endpoint=ready.value, config=config,
                                 cost=runtime.deployment.price())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flows/provision.py", description=__doc__.splitlines()[0])
    parser.add_argument("--config", metavar="FILE", required=True, help="dwh.cfg: the AWS profile")
    cli.add_common_arguments(parser)
    return parser


def main(args: argparse.Namespace) -> int:
    print(provision(config=args.config).text())
    return 0


if __name__ == "__main__":
    cli.exit_command(cli.run_command(main, build_parser()))
