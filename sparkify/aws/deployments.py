"""What a Redshift deployment is: a provisioned cluster or a Serverless workgroup.

The runtime picks one from [DWH] DEPLOYMENT, once; everything that differs between the two is
here: how the endpoint is found, which API gives temporary credentials, what provision creates
and deletes, what it costs. `client(service)` builds a boto3 client (the runtime's).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from sparkify.aws.credentials import CREDENTIALS_SECONDS, CredentialsCall
from sparkify.aws.provision import cluster, network, pricing, serverless
from sparkify.aws.provision.outcome import Outcome, aws_step
from sparkify.aws.redshift import cluster_endpoint, workgroup_endpoint
from sparkify.config import Settings

Clients = Callable[[str], Any]


class Deployment(ABC):
    kind: str

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    # -- what a run needs ----------------------------------------------------------------

    @property
    @abstractmethod
    def name(self) -> str:
        """'cluster sparkify', 'workgroup sparkify': for messages."""

    @abstractmethod
    def endpoint(self, client: Clients) -> tuple[str, int]:
        """(host, port), from settings or looked up."""

    @abstractmethod
    def credentials_call(self) -> CredentialsCall:
        """The request for this run's temporary database credentials (AUTH = iam)."""

    # -- what provision and teardown do ----------------------------------------------------

    @abstractmethod
    def exists(self, client: Clients) -> bool:
        """Whether the billable part already exists (then provision creates nothing billable)."""

    @abstractmethod
    def price(self) -> str:
        """What provision would create, and its price class per hour."""

    @abstractmethod
    def vpc_id(self, client: Clients) -> str:
        """The VPC of its security group."""

    def check_creation(self, client: Clients) -> None:
        """Refuse, before anything is created, what its creation would fail on half-way."""

    @abstractmethod
    def ensure(self, client: Clients, role_arn: str, group_id: str, log) -> list[Outcome]:
        """Create or reuse it, with the role and the security group attached."""

    @abstractmethod
    def wait_until_available(self, client: Clients, interval: float, log) -> Outcome:
        """Wait until it serves queries; `value` is the endpoint."""

    @abstractmethod
    def delete(self, client: Clients, interval: float, log) -> list[Outcome]:
        """Delete it and wait until it is gone; safe when it is already gone."""

    def still_billed(self) -> str:
        """What teardown leaves that AWS still bills."""
        snapshot = self.settings.final_snapshot
        return (f"still billed: the final snapshot {snapshot} ({pricing.SNAPSHOT_STORAGE}) "
                "until you delete it") if snapshot else "still billed: nothing"


class ClusterDeployment(Deployment):
    kind = "cluster"

    @property
    def name(self) -> str:
        return f"cluster {self.settings.cluster_identifier}"

    def endpoint(self, client: Clients) -> tuple[str, int]:
        return cluster_endpoint(self.settings, client)

    def credentials_call(self) -> CredentialsCall:
        s = self.settings
        return CredentialsCall("redshift", "GetClusterCredentials", {
            "ClusterIdentifier": s.cluster_identifier, "DbUser": s.db_user, "DbName": s.db_name,
            "DurationSeconds": CREDENTIALS_SECONDS, "AutoCreate": False},
            permission=f"redshift:GetClusterCredentials on dbuser:{s.cluster_identifier}/"
                       f"{s.db_user} and dbname:{s.cluster_identifier}/{s.db_name}")

    def exists(self, client: Clients) -> bool:
        with aws_step(self.name):
            return cluster.describe_cluster(client("redshift"),
                                            self.settings.cluster_identifier) is not None

    def price(self) -> str:
        nodes = cluster.node_count(self.settings)
        return (f"Redshift {self.name}, {nodes} x {self.settings.node_type}: "
                f"{pricing.cluster_price(self.settings.node_type, nodes)}")

    def vpc_id(self, client: Clients) -> str:
        found = cluster.describe_cluster(client("redshift"), self.settings.cluster_identifier)
        return (found or {}).get("VpcId") or network.default_vpc(client("ec2"), self.settings.region)

    def ensure(self, client: Clients, role_arn: str, group_id: str, log) -> list[Outcome]:
        return [cluster.ensure_cluster(client("redshift"), self.settings, role_arn, group_id,
                                       log=log)]

    def wait_until_available(self, client: Clients, interval: float, log) -> Outcome:
        return cluster.wait_until_available(client("redshift"), self.settings, interval=interval,
                                            log=log)

    def delete(self, client: Clients, interval: float, log) -> list[Outcome]:
        return [cluster.delete_cluster(client("redshift"), self.settings, interval=interval,
                                       log=log)]


class ServerlessDeployment(Deployment):
    kind = "serverless"

    @property
    def name(self) -> str:
        return f"workgroup {self.settings.workgroup}"

    def endpoint(self, client: Clients) -> tuple[str, int]:
        return workgroup_endpoint(self.settings, client)

    def credentials_call(self) -> CredentialsCall:
        s = self.settings
        return CredentialsCall(
            "redshift-serverless", "GetCredentials",
            {"workgroupName": s.workgroup, "dbName": s.db_name,
             "durationSeconds": CREDENTIALS_SECONDS},
            user_field="dbUser", password_field="dbPassword", expiration_field="expiration",
            permission=f"redshift-serverless:GetCredentials on workgroup {s.workgroup}")

    def exists(self, client: Clients) -> bool:
        with aws_step(self.name):
            return serverless.get_workgroup(client("redshift-serverless"),
                                            self.settings.workgroup) is not None

    def price(self) -> str:
        return (f"Redshift Serverless namespace {self.settings.namespace} and {self.name}: "
                f"{pricing.serverless_price(self.settings.base_capacity)}")

    def vpc_id(self, client: Clients) -> str:
        return network.default_vpc(client("ec2"), self.settings.region)

    def check_creation(self, client: Clients) -> None:
        with aws_step("subnets of the default VPC"):
            network.check_workgroup_subnets(client("ec2"), self.vpc_id(client),
                                            self.settings.region)

    def ensure(self, client: Clients, role_arn: str, group_id: str, log) -> list[Outcome]:
        rs = client("redshift-serverless")
        subnets = network.default_subnets(client("ec2"), self.vpc_id(client))
        return [serverless.ensure_namespace(rs, self.settings, role_arn),
                serverless.ensure_workgroup(rs, self.settings, group_id, subnets, log=log)]

    def wait_until_available(self, client: Clients, interval: float, log) -> Outcome:
        return serverless.wait_until_available(client("redshift-serverless"), self.settings,
                                               interval=interval, log=log)

    def delete(self, client: Clients, interval: float, log) -> list[Outcome]:
        rs = client("redshift-serverless")
        return [serverless.delete_workgroup(rs, self.settings, interval=interval, log=log),
                serverless.delete_namespace(rs, self.settings, interval=interval, log=log)]


DEPLOYMENTS: dict[str, type[Deployment]] = {cls.kind: cls for cls in (ClusterDeployment,
                                                                       ServerlessDeployment)}


def deployment_of(settings: Settings) -> Deployment:
    return DEPLOYMENTS[settings.deployment](settings)
