"""What one provisioning step reports, and the summary that provision and teardown print."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from sparkify.aws.session import describe_aws_error
from sparkify.errors import ProvisioningError

CREATED, REUSED, GONE, AVAILABLE = "created", "exists, reused", "already gone", "available"
NO_INGRESS = "none: no INGRESS_CIDR, so not publicly accessible"
UNCHANGED = frozenset({REUSED, GONE, AVAILABLE, NO_INGRESS})


@dataclass(frozen=True)
class Outcome:
    """What one step found or did to one resource; `value` carries an ARN, id or endpoint."""

    resource: str
    action: str
    value: str = ""

    @property
    def changed(self) -> bool:
        return self.action not in UNCHANGED


@dataclass(frozen=True)
class Summary:
    """The printed result of provision or teardown."""

    title: str
    steps: list[Outcome]
    footer: list[str]

    def text(self) -> str:
        width = max(len(step.resource) for step in self.steps)
        lines = [self.title] + [f"  {s.resource:<{width}}  {s.action}" for s in self.steps]
        return "\n".join(lines + [""] + self.footer)


def provision_summary(steps: list[Outcome], *, role_arn: str, endpoint: str, config: str,
                      cost: str) -> Summary:
    """What provision did, the endpoint and role ARN, and what to run next."""
    footer = [] if any(s.changed for s in steps) else \
        ["nothing changed: every resource already existed as configured", ""]
    footer += [f"endpoint: {endpoint}", f"role ARN: {role_arn}", "",
               f"next:     python flows/main.py --config {config}",
               f"cost:     {cost}; until python flows/teardown.py --config {config}"]
    return Summary("Sparkify on AWS: provisioned", steps, footer)


def teardown_summary(steps: list[Outcome], still_billed: str) -> Summary:
    """What teardown deleted, and, last, what AWS still bills (a kept final snapshot)."""
    footer = ["deleted: nothing is left that bills by the hour"] if any(s.changed for s in steps) \
        else ["nothing to delete: everything was already gone"]
    return Summary("Sparkify on AWS: torn down", steps, footer + [still_billed])


@contextmanager
def aws_step(what: str) -> Iterator[None]:
    """Turn an AWS failure into one ProvisioningError line naming the step."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise ProvisioningError(f"{what}: {describe_aws_error(exc)}") from exc
