"""Shared fixtures: a real PostgreSQL (embedded, or SPARKIFY_TEST_DATABASE_URL), a fresh
database per test, Prefect's test harness, and helpers that write source data sets."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterable

import re
import secrets
import shutil
import string
import sys
import tempfile
import urllib.request
from dataclasses import dataclass

import boto3
import orjson
import psycopg2
import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# The commands the tests start keep a local Prefect server per PREFECT_HOME: in a home of the
# suite's own, never the user's ~/.prefect (whose server other commands may be using), which
# pytest_sessionfinish stops and removes; not for 30 minutes if the suite is stopped first.
SUITE_PREFECT_HOME = Path(tempfile.mkdtemp(prefix="sparkify-test-prefect-"))
os.environ["PREFECT_HOME"] = str(SUITE_PREFECT_HOME)
os.environ.setdefault("SPARKIFY_PREFECT_IDLE_MINUTES", "5")

from sparkify.config import example_file  # noqa: E402
from sparkify.local.emulator import S3Emulator  # noqa: E402
from tests.databases import Databases  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_SAMPLE = PROJECT_ROOT.parent / "shared" / "data" / "udacity-sample"
requires_shared_sample = pytest.mark.skipif(
    not SHARED_SAMPLE.is_dir(),
    reason=f"the real sample is not at {SHARED_SAMPLE} (../shared is absent in this checkout)",
)


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def postgres_server_url(tmp_path_factory) -> Iterable[str]:
    """A maintenance-database URL of a real PostgreSQL server."""
    external = os.environ.get("SPARKIFY_TEST_DATABASE_URL")
    if external:
        yield external
        return
    from sparkify.local.postgres import EmbeddedPostgres

    # pgserver's socket lives in the data directory: keep its path short.
    data_dir = Path("/tmp") / f"sparkify-test-pg-{os.getpid()}"
    try:
        with EmbeddedPostgres(data_dir=data_dir, database="postgres") as server:
            yield server.url
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def databases(postgres_server_url) -> Iterable[Databases]:
    """Fresh, empty databases for one test (`databases.create()`), dropped afterwards."""
    made = Databases(postgres_server_url)
    yield made
    made.drop_all()


@pytest.fixture(scope="module")
def module_databases(postgres_server_url) -> Iterable[Databases]:
    """The same for the tests of one module."""
    made = Databases(postgres_server_url)
    yield made
    made.drop_all()


@pytest.fixture
def warehouse_url(databases) -> str:
    """A fresh, empty database for one test, dropped afterwards."""
    return databases.create()


def query(url: str, sql: str, params=None) -> list[tuple]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


# ---- the layers: `make test-fast` leaves the slow tests out ------------------------------

# A test is slow when it needs one of these: whole Prefect flow runs, a Prefect server, moto's
# AWS server, the Redshift stand-in's PostgreSQL.
SLOW_FIXTURES = {"prefect_harness", "moto_url", "aws", "standin_data_dir"}
# ... or when its module runs commands in processes of their own, a browser, or servers.
SLOW_MODULES = {
    "test_aws", "test_aws_iam", "test_bench_smoke", "test_busy_machine", "test_child_processes",
    "test_crash_reruns", "test_deployments", "test_dry_run", "test_interrupts",
    "test_local_prefect", "test_markup", "test_notifications", "test_older_postgres",
    "test_prefect_api_lost", "test_report", "test_s3_server",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1]
        if module in SLOW_MODULES or SLOW_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)


# ---- writing source data sets ------------------------------------------------------------

EVENT_DEFAULTS = {
    "artist": None, "auth": "Logged In", "firstName": "Ann", "gender": "F", "itemInSession": 0,
    "lastName": "Lee", "length": None, "level": "free", "location": "Austin, TX", "method": "PUT",
    "page": "NextSong", "registration": 1540919166796.0, "sessionId": 1, "song": None,
    "status": 200, "ts": 1541105830796, "userAgent": "Mozilla/5.0", "userId": "1",
}


def event(**fields) -> dict:
    """An event with realistic defaults; keys as in the source (camelCase)."""
    return {**EVENT_DEFAULTS, **fields}


def song(song_id: str, title: str, artist_id: str, artist_name: str, duration: float = 200.0,
         **fields) -> dict:
    record = {"num_songs": 1, "artist_id": artist_id, "artist_latitude": None,
              "artist_longitude": None, "artist_location": "", "artist_name": artist_name,
              "song_id": song_id, "title": title, "duration": duration, "year": 2000}
    return {**record, **fields}


def _line(record) -> bytes:
    return record if isinstance(record, bytes) else orjson.dumps(record)


def write_dataset(root: Path, events: dict[str, list], songs: dict[str, list],
                  jsonpaths: bool = True, newline: bytes = b"\n") -> Path:
    """Write `{day: [event, ...]}` to log_data/ and `{track: [song, ...]}` to song_data/.

    Records may be dicts (serialized) or raw bytes (written as they are, for malformed lines).
    """
    for day, records in events.items():
        path = root / "log_data" / day[:4] / day[5:7] / f"{day}-events.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(newline.join(_line(r) for r in records) + newline)
    for track, records in songs.items():
        path = root / "song_data" / track[2] / track[3] / track[4] / f"{track}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\n".join(_line(r) for r in records) + b"\n")
    if jsonpaths:
        from sparkify.staging.schema import DEFAULT_JSONPATHS

        (root / "log_json_path.json").write_bytes(DEFAULT_JSONPATHS)
    return root


# ---- AWS: moto's server on loopback ------------------------------------------------------

REGION = "us-west-2"
CIDR = "203.0.113.7/32"


class MotoServer(S3Emulator):
    """moto's server with every service (IAM, EC2, Redshift, S3), in its own process."""

    def command(self) -> list[str]:
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]


@pytest.fixture(scope="session")
def moto_url() -> str:
    """One moto server (every service) on loopback for the session."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")  # AmazonS3ReadOnlyAccess exists
        server = MotoServer().start()
    try:
        yield server.endpoint_url
    finally:
        server.stop()


def moto_api(url: str, path: str, body: bytes = b"") -> None:
    request = urllib.request.Request(url + path, data=body, method="POST",
                                     headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(request, timeout=30).read()


@dataclass
class Aws:
    """The test's AWS: moto's endpoint, a dwh.cfg, and the secrets the test set."""

    endpoint: str
    config: Path
    password: str
    access_key: str
    secret_key: str

    def client(self, service: str):
        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint,
                            aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key)

    @property
    def secrets(self) -> tuple[str, str, str]:
        return self.password, self.access_key, self.secret_key


def write_config(path: Path, **values: str) -> Path:
    """dwh.cfg: the committed example with some keys set; SECTION__KEY names a key that more
    than one section has (S3__REGION)."""
    text = example_file()
    for name, value in values.items():
        section, _, key = name.rpartition("__")
        within = rf"(^\[{section}\]\n(?:(?!\[).*\n)*?)" if section else "(^)"
        text, found = re.subn(rf"{within}{key} = .*$",
                              lambda match: f"{match.group(1)}{key} = {value}", text,
                              flags=re.MULTILINE)
        assert found == 1, name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def aws(moto_url, tmp_path, monkeypatch) -> Aws:
    """An empty moto, fake credentials and a known password in the environment, a dwh.cfg."""
    moto_api(moto_url, "/moto-api/reset")
    for name in list(os.environ):
        if name.startswith("SPARKIFY_") or name in {"AWS_PROFILE", "AWS_SESSION_TOKEN"}:
            monkeypatch.delenv(name)
    found = Aws(
        endpoint=moto_url,
        config=write_config(tmp_path / "dwh.cfg", INGRESS_CIDR=CIDR),
        password="Pw7" + secrets.token_hex(10),  # meets Redshift's rules
        access_key="AKIA" + "".join(secrets.choice(string.ascii_uppercase + string.digits)
                                    for _ in range(16)),
        secret_key=secrets.token_urlsafe(30),
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", found.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", found.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("SPARKIFY_DB_PASSWORD", found.password)
    return found


def upload_dataset(s3, bucket: str, root: Path) -> None:
    """Every file under `root` into a new bucket of moto's S3, keys relative to `root`."""
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        s3.put_object(Bucket=bucket, Key=path.relative_to(root).as_posix(), Body=path.read_bytes())


def small_dataset(root: Path) -> Path:
    """Two days of events and two song files: enough for every step, small enough to read."""
    ts = 1541105830796
    day = [event(userId="1", itemInSession=0, page="Home", ts=ts),
           event(userId="1", itemInSession=1, song="A", artist="X", length=100.0, ts=ts + 1)]
    later = [event(userId="2", sessionId=2, itemInSession=0, song="B", artist="Y",
                   ts=ts + 86_400_000)]
    return write_dataset(root, {"2018-11-01": day, "2018-11-02": later},
                         {"TRAAAAA1": [song("SO1", "A", "AR1", "X", 100.0)],
                          "TRAAAAB2": [song("SO2", "B", "AR2", "Y", 180.0)]})


def pytest_sessionfinish(session, exitstatus):
    """Stop the kept Prefect servers that the suite's commands started, in its homes."""
    from sparkify.local_prefect import STATE_GLOB, stop_kept_server

    base = Path(str(session.config._tmp_path_factory.getbasetemp()))
    for home in {state.parent for state in base.rglob(STATE_GLOB)} | {SUITE_PREFECT_HOME}:
        stop_kept_server(home)
    shutil.rmtree(SUITE_PREFECT_HOME, ignore_errors=True)


# ---- the Redshift stand-in: its strict PostgreSQL, a fresh database per test ---------------

@pytest.fixture(scope="session")
def standin_data_dir() -> Iterable[Path]:
    """The stand-in's PostgreSQL for the session (its socket lives here: a short path)."""
    from sparkify.local.standin.database import StrictPostgres

    data_dir = Path("/tmp") / f"sparkify-standin-{os.getpid()}"
    try:
        with StrictPostgres(data_dir=data_dir, database="standin_first"):
            yield data_dir
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def standin_db(standin_data_dir):
    """A fresh strict database (SERIALIZABLE, C collation, a login without CREATE on it)."""
    from sparkify.local.standin.database import StrictPostgres

    server = StrictPostgres(data_dir=standin_data_dir, database=f"s_{uuid.uuid4().hex[:12]}")
    server.__enter__()  # not __exit__: the session's fixture stops the server
    yield server
    admin = psycopg2.connect(server.admin_url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{server.database}" WITH (FORCE)')
    admin.close()


@pytest.fixture(scope="session")
def s3_emulator_url() -> Iterable[str]:
    with S3Emulator() as emulator:
        yield emulator.endpoint_url
