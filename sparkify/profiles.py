"""The one factory that picks the local or AWS implementation of the store and the warehouse.

A `RuntimeSpec` is plain, picklable data (no clients, no plaintext secrets), so flows can hand
it to tasks; each task builds its own client and connection from it.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from pydantic import SecretStr

from sparkify.aws import aws_session
from sparkify.config import load_settings
from sparkify.errors import ConfigError
from sparkify.local import (
    EMULATOR_BUCKET, EMULATOR_REGION, STATE_DIR, EmbeddedPostgres, S3Emulator, emulator_session,
)
from sparkify.storage import S3Location, S3ObjectStore
from sparkify.warehouse import Warehouse

DEFAULT_SAMPLE_DIR = STATE_DIR / "sample"
LOCAL_PROFILE, AWS_PROFILE = "local", "aws"
WAREHOUSE_URL_ENV = "SPARKIFY_WAREHOUSE_URL"  # a PostgreSQL target for deployments, kept out of parameters


@dataclass(frozen=True)
class RuntimeSpec:
    profile: str
    engine: str
    log_data: str
    song_data: str
    log_jsonpath: str
    region: str
    schema: str = "public"
    warehouse_url: SecretStr | None = None
    config_path: str | None = None
    s3_endpoint: str | None = None
    emulator: bool = False

    def store(self) -> S3ObjectStore:
        session = emulator_session() if self.emulator else aws_session()
        return S3ObjectStore(region=self.region, endpoint_url=self.s3_endpoint, session=session)

    def warehouse(self) -> Warehouse:
        if self.engine == "redshift":
            from sparkify.redshift import RedshiftWarehouse

            return RedshiftWarehouse.from_settings(load_settings(self.config_path))
        return Warehouse(self.warehouse_url.get_secret_value(), schema=self.schema)


def _source_uris(root: S3Location) -> dict[str, str]:
    return {
        "log_data": root.child("log_data").uri,
        "song_data": root.child("song_data").uri,
        "log_jsonpath": root.child("log_json_path.json").uri,
    }


@contextmanager
def open_runtime(*, data_dir: str | None = None, source: str | None = None,
                 warehouse_url: SecretStr | None = None, config: str | None = None,
                 ) -> Iterator[tuple[RuntimeSpec, S3Emulator | None]]:
    """Start what the chosen profile needs and yield its spec (and the emulator, if any).

    - `config` (dwh.cfg): the AWS profile, sources from its [S3] section, Redshift target.
    - otherwise the local profile: an S3 emulator seeded from `data_dir` (or `source` on real
      S3), the embedded PostgreSQL unless `warehouse_url` (or SPARKIFY_WAREHOUSE_URL) names another.
    """
    if warehouse_url is None and os.environ.get(WAREHOUSE_URL_ENV):
        warehouse_url = SecretStr(os.environ[WAREHOUSE_URL_ENV])
    settings = load_settings(config) if config else None
    if source and data_dir:
        raise ConfigError("--data and --source are alternatives: give one")
    if source:
        uris, region = _source_uris(S3Location.parse(source)), (settings.region if settings else None)
    elif settings and not data_dir:
        uris, region = {"log_data": settings.log_data, "song_data": settings.song_data,
                        "log_jsonpath": settings.log_jsonpath}, settings.region
    else:
        uris, region = _source_uris(S3Location(EMULATOR_BUCKET)), EMULATOR_REGION

    with _warehouse(settings, config, warehouse_url) as (engine, url):
        emulator = None if (source or (settings and not data_dir)) else S3Emulator()
        if emulator is None:
            yield RuntimeSpec(AWS_PROFILE if settings else LOCAL_PROFILE, engine, region=region,
                              schema=settings.schema if settings else "public",
                              warehouse_url=url, config_path=config, **uris), None
            return
        if engine == "redshift":
            raise ConfigError("--data seeds a local S3 emulator, which Redshift cannot read: "
                              "use --source or the [S3] section with --config")
        with emulator:
            yield RuntimeSpec(LOCAL_PROFILE, engine, region=region, warehouse_url=url,
                              s3_endpoint=emulator.endpoint_url, emulator=True, **uris), emulator


@contextmanager
def _warehouse(settings, config: str | None, warehouse_url: SecretStr | None):
    if warehouse_url is not None:
        url = warehouse_url.get_secret_value()
        if not url.startswith(("postgresql://", "postgres://")):
            raise ConfigError("--warehouse-url must be a postgresql:// URL")
        yield "postgres", warehouse_url
    elif settings is not None:
        yield "redshift", None
    else:
        with EmbeddedPostgres() as embedded:
            yield "postgres", SecretStr(embedded.url)


def default_data_dir() -> Path:
    """The project's own generated sample, written on first use."""
    from sparkify.generator import GeneratorSpec, generate

    marker = DEFAULT_SAMPLE_DIR / ".complete"
    if not marker.exists():
        generate(DEFAULT_SAMPLE_DIR, GeneratorSpec())
        marker.touch()
    return DEFAULT_SAMPLE_DIR
