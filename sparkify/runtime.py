"""Where a command runs, resolved once: the one place that picks profile, engine and credentials.

`open_runtime(...)` reads the settings, starts what the local profile needs (the S3 emulator,
the embedded PostgreSQL), picks the Redshift deployment (cluster or serverless) and makes its
look-ups (endpoint, role ARN, temporary credentials) once, and yields an immutable `Runtime`.
Flows hand it to their tasks, which only build clients from it: `store()`, `warehouse()`,
`quality_gate()`, `report_page()`, `client(service)`. With `dry_run` the same flow runs
against a warehouse that records and prints each statement instead of sending it, an object
store that lists and reads but never writes, and a report page that is rendered but not written.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Literal

import boto3
from pydantic import SecretStr

from sparkify.aws.deployments import Deployment, deployment_of
from sparkify.aws.obstore_reads import ObstoreS3Store
from sparkify.aws.session import AWS_CONFIG, aws_session
from sparkify.config import Settings, load_settings
from sparkify.dry_run import DryRunGate, NotedPage, ReadOnlyStore, StatementLog
from sparkify.errors import ConfigError
from sparkify.formats import S3Uri
from sparkify.local.emulator import EMULATOR_BUCKET, EMULATOR_REGION, S3Emulator, emulator_session
from sparkify.store import ObjectStore, S3Location
from sparkify.warehouse.base import Warehouse, WarehouseTarget
from sparkify.warehouse.engines import ENGINES

LOCAL, AWS, STANDIN = "local", "aws", "redshift-standin"
WAREHOUSE_URL_ENV = "SPARKIFY_WAREHOUSE_URL"  # a PostgreSQL target for deployments, kept out of parameters
SQL_LOG_ENV = "SPARKIFY_SQL_LOG"  # a file that receives every statement a real run sends
Purpose = Literal["elt", "validate", "provision"]


@dataclass(frozen=True)
class Sources:
    log_data: str
    song_data: str
    log_jsonpath: str

    @classmethod
    def under(cls, root: S3Location) -> Sources:
        return cls(root.child("log_data").uri, root.child("song_data").uri,
                   root.child("log_json_path.json").uri)


@dataclass(frozen=True)
class Runtime:
    """One command's resolved world. Holds no client or connection, only what builds them."""

    profile: str
    settings: Settings
    region: str
    deployment: Deployment  # the Redshift deployment of the settings (used on the AWS profile)
    sources: Sources | None = None  # None for validate, provision, teardown
    target: WarehouseTarget | None = None  # None for provision, teardown
    s3_endpoint: str | None = None  # the local emulator's
    seed_dir: str | None = None  # what the flow seeds the emulator with
    dry_run: bool = False
    recorder: StatementLog | None = None  # prints the dry run; SPARKIFY_SQL_LOG of a real run
    source_region: str = ""  # the S3 sources' ([S3] REGION); empty: `region`

    def session(self) -> boto3.session.Session:
        return emulator_session() if self.s3_endpoint else aws_session()

    def client(self, service: str):
        """A boto3 client with standard retries (AWS_ENDPOINT_URL, an emulator, is honoured)."""
        return self.session().client(service, region_name=self.region, config=AWS_CONFIG)

    def store(self) -> ObjectStore:
        # boto3 lists and writes; obstore fetches the bodies, at a fraction of boto3's CPU per GET
        store = ObstoreS3Store(region=self.source_region or self.region,
                               endpoint_url=self.s3_endpoint, session=self.session())
        return ReadOnlyStore(store, self.recorder) if self.dry_run else store

    def warehouse(self) -> Warehouse:
        return ENGINES[self.target.engine].from_target(self.target, recorder=self.recorder)

    def quality_gate(self):
        """The GX gate on this warehouse (a gate that only notes its checkpoints, on a dry run)."""
        if self.dry_run:
            return DryRunGate(self.recorder)
        from sparkify.quality.gate import QualityGate

        return QualityGate(self.warehouse().quality_target())

    def report_page(self):
        """Writes the report page (a writer that only notes the page, on a dry run)."""
        from sparkify.analytics.page import PageWriter

        return NotedPage(self.recorder) if self.dry_run else PageWriter()

    def describe(self) -> list[str]:
        """Where the run goes, for the dry run's header."""
        lines = [f"-- profile {self.profile}; region {self.region}"]
        if self.source_region and self.source_region != self.region:
            lines[0] += f"; sources in {self.source_region}"
        if self.target is not None:
            lines.append(f"-- target: {self.target.describe()}")
            if self.target.login:
                lines.append(f"-- login: {self.target.login}")
        if self.sources is not None:
            lines += [f"-- events: {self.sources.log_data} (JSONPaths {self.sources.log_jsonpath})",
                      f"-- songs:  {self.sources.song_data}"]
        return lines


@contextmanager
def open_runtime(purpose: Purpose, *, config: str | None = None, data: str | None = None,
                 source: str | None = None, warehouse_url: SecretStr | None = None,
                 dry_run: bool = False, redshift_standin: bool = False) -> Iterator[Runtime]:
    """Resolve the profile of one command and start what it needs; stops it all on exit.

    - `config` (dwh.cfg): the AWS profile: sources from its [S3] section (or `source`), the
      Redshift target, looked up once.
    - otherwise the local profile: an S3 emulator seeded from `data` (or `source` on real S3),
      the embedded PostgreSQL unless `warehouse_url` (or SPARKIFY_WAREHOUSE_URL) names another.
    - `redshift_standin`: the local profile through the Redshift engine, against the stand-in's
      strict PostgreSQL (or `warehouse_url`'s database and login as they are).
    """
    if warehouse_url is None and os.environ.get(WAREHOUSE_URL_ENV):
        warehouse_url = SecretStr(os.environ[WAREHOUSE_URL_ENV])
    if warehouse_url is not None and config and purpose == "validate":
        raise ConfigError("--warehouse-url and --config are alternatives: give one")
    if source and data:
        raise ConfigError("--data and --source are alternatives: give one")
    if source and not S3Uri.PATTERN.match(source):  # it reaches COPY's FROM as a literal
        raise ConfigError(f"--source {source!r} is not {S3Uri.EXPECTED}")
    if redshift_standin and (config or source):
        raise ConfigError("the Redshift stand-in reads the local S3 emulator: give --data, "
                          "not --config or --source")
    settings = load_settings(config, resolve_password=not dry_run)
    profile = STANDIN if redshift_standin else AWS if config else LOCAL
    with ExitStack() as services:
        region = settings.region if (config or source) else EMULATOR_REGION
        source_region = settings.source_region if (config or source) else EMULATOR_REGION
        base = Runtime(profile, settings, region, deployment_of(settings))
        if purpose == "provision":
            yield base
            return
        if redshift_standin:
            target, sources, endpoint, seed = _standin(base, data, warehouse_url, dry_run,
                                                       services)
        else:
            target = _target(base, purpose, config, warehouse_url, dry_run, services)
            sources, endpoint, seed = None, None, None
            if purpose == "elt":
                sources, endpoint, seed = _sources(base, target, config, data, source, services)
        recorder = _recorder(dry_run, services)
        runtime = Runtime(profile, settings, region, base.deployment, sources, target, endpoint,
                          seed, dry_run, recorder, source_region)
        if dry_run:
            recorder.header(runtime.describe())
        yield runtime
        if recorder is not None:
            recorder.flush()


def _recorder(dry_run: bool, services: ExitStack) -> StatementLog | None:
    """The dry run prints every statement; a real run writes them to SPARKIFY_SQL_LOG, if set."""
    if dry_run:
        return StatementLog(sys.stdout)
    path = os.environ.get(SQL_LOG_ENV)
    return StatementLog(services.enter_context(open(path, "a", encoding="utf-8"))) if path else None


def _target(base: Runtime, purpose: Purpose, config: str | None,
            warehouse_url: SecretStr | None, dry_run: bool, services: ExitStack) -> WarehouseTarget:
    schema = base.settings.schema
    if warehouse_url is not None:
        return ENGINES["postgres"].target_from_url(warehouse_url, schema, dry_run=dry_run)
    if config:
        return ENGINES["redshift"].target_from_settings(base.settings, base.deployment,
                                                        base.client, dry_run=dry_run,
                                                        loads=purpose == "elt")
    return ENGINES["postgres"].embedded_target(services, schema, dry_run=dry_run)


def _sources(base: Runtime, target: WarehouseTarget, config: str | None, data: str | None,
             source: str | None, services: ExitStack) -> tuple[Sources, str | None, str | None]:
    """(sources, the emulator's endpoint, the directory to seed it with)."""
    if source:
        return Sources.under(S3Location.parse(source)), None, None
    if config and not data:
        settings = base.settings
        return Sources(settings.log_data, settings.song_data, settings.log_jsonpath), None, None
    if not ENGINES[target.engine].reads_local_emulator:
        raise ConfigError("--data seeds a local S3 emulator, which Redshift cannot read: "
                          "use --source or the [S3] section with --config")
    from sparkify.local.generator import default_sample

    emulator = services.enter_context(S3Emulator())
    return (Sources.under(S3Location(EMULATOR_BUCKET)), emulator.endpoint_url,
            data or str(default_sample()))


def _standin(base: Runtime, data: str | None, warehouse_url: SecretStr | None, dry_run: bool,
             services: ExitStack) -> tuple[WarehouseTarget, Sources, str, str]:
    """The S3 emulator seeded from `data`, and the Redshift engine's target on the stand-in."""
    from sparkify.local.generator import default_sample

    endpoint = services.enter_context(S3Emulator()).endpoint_url
    target = ENGINES[STANDIN].standin_target(
        services, base.settings.schema, endpoint, warehouse_url=warehouse_url,
        manifest_prefix=base.settings.manifest_prefix, dry_run=dry_run)
    return (target, Sources.under(S3Location(EMULATOR_BUCKET)), endpoint,
            data or str(default_sample()))
