"""The pipeline on an older PostgreSQL with its default settings: Debian's own server package
(15 on Debian 12), which is what `--warehouse-url` meets on many machines.

The embedded server is PostgreSQL 16, which accepts things 15 refuses (a subquery in FROM
without an alias: the quality gate's custom rules once failed there). `.ci/run` installs
Debian's `postgresql`; elsewhere these tests skip, saying why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg2
import pytest

from sparkify.quality.gate import QualityGate
from sparkify.quality.targets import postgres_target
from tests.conftest import small_dataset
from tests.loading import stage_and_transform, star_snapshot

DEBIAN_POSTGRES = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))


def _as_postgres(*command: str) -> list[str]:
    """The server refuses to run as root: as root, run it as the package's `postgres` user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


@pytest.fixture(scope="module")
def older_postgres_url():
    older = [initdb for initdb in DEBIAN_POSTGRES if int(initdb.parts[-3]) < 16]
    if not older:
        pytest.skip("no Debian PostgreSQL older than 16 under /usr/lib/postgresql "
                    "(apt-get install postgresql; .ci/run does)")
    bin_dir = older[-1].parent
    root = Path(tempfile.mkdtemp(prefix="sparkify-older-pg-"))  # pytest's are root's alone
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    data, socket = root / "data", root
    subprocess.run(_as_postgres(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust",
                                "-U", "postgres"), check=True, capture_output=True)
    subprocess.run(_as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l",
                                str(root / "log"), "-o", f"-k {socket} -c listen_addresses=''",
                                "start"), check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@/postgres?host={socket}"
    finally:
        subprocess.run(_as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                    "stop"), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _version(url: str) -> int:
    conn = psycopg2.connect(url)
    try:
        return conn.server_version // 10000
    finally:
        conn.close()


def test_the_transform_and_both_quality_gates_run_on_an_older_default_server(
        older_postgres_url, tmp_path):
    assert _version(older_postgres_url) < 16
    stage_and_transform(older_postgres_url, small_dataset(tmp_path))
    assert {table: len(rows) for table, rows in star_snapshot(older_postgres_url).items()} == {
        "songplay": 2, "users": 2, "song": 2, "artist": 2, "time": 2, "user_level_history": 2}

    with QualityGate(postgres_target(older_postgres_url), data_docs_dir=None) as gate:
        checked = [gate.run("staging"), gate.run("warehouse")]
    failed = [o for report in checked for o in report.outcomes if not o.passed]
    assert not failed, failed
