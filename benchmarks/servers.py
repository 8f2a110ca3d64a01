"""The PostgreSQL servers the benchmark runs on, both from pgserver's binaries.

- `embedded`: the project's own server, started as sparkify/local/postgres.py starts it, with
  its settings for bulk loads (its data kept in .sparkify/bench/pgdata/).
- `default`: a fresh `initdb` data directory (.sparkify/bench/pgdata-default-<pid>/, one per
  bench process, so a test and a bench never share it) started with no setting changed:
  PostgreSQL's defaults, as a warehouse nobody tuned (max_wal_size 1GB, shared_buffers 128MB,
  work_mem 4MB). Only where it listens is given: no TCP address, a Unix socket of its own
  (beside the data directory) on a port of its own. Stopped and removed when the run ends.

The ELT reaches either through `--warehouse-url`, a fresh database per run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import psycopg2

SERVERS = ("embedded", "default")
START_TIMEOUT = 120


@contextmanager
def running(name: str, work_dir: Path) -> Iterator[str]:
    """The server `name` started; yields the URL of its `postgres` database."""
    if name == "embedded":
        from sparkify.local.postgres import EmbeddedPostgres

        with EmbeddedPostgres(data_dir=work_dir / "pgdata", database="postgres") as server:
            yield server.url
    elif name == "default":
        with default_server(work_dir) as url:
            yield url
    else:
        raise ValueError(f"unknown server {name!r} (choose from {', '.join(SERVERS)})")


@contextmanager
def default_server(work_dir: Path) -> Iterator[str]:
    """A PostgreSQL of pgserver's binaries on a fresh data directory of this process's own
    (work_dir/pgdata-default-<pid>), every setting its default; stopped and removed afterwards,
    its log kept in work_dir/runs/default-server.log."""
    from pgserver._commands import POSTGRES_BIN_PATH
    from pgserver.utils import find_suitable_port

    user = _system_user()
    work_dir = work_dir.resolve()
    _remove_leftovers(work_dir, POSTGRES_BIN_PATH, user)
    data_dir = work_dir / f"{DEFAULT_DIR_PREFIX}{os.getpid()}"
    socket_dir = _socket_dir(data_dir)
    data_dir.mkdir(parents=True)
    socket_dir.mkdir()
    if user:
        _let_run(user, data_dir, socket_dir, POSTGRES_BIN_PATH)
    try:
        # pgserver's own initdb arguments: trust on the local socket, UTF-8.
        _pg(POSTGRES_BIN_PATH / "initdb", ["-D", str(data_dir), "--auth=trust", "--auth-local=trust",
                                           "--encoding=utf8", "-U", "postgres"], user)
        port = find_suitable_port()
        _pg(POSTGRES_BIN_PATH / "pg_ctl", ["-D", str(data_dir), "-w", "-t", str(START_TIMEOUT),
                                           "-o", f"-h '' -k {socket_dir} -p {port}",
                                           "-l", str(data_dir / "log"), "start"], user)
        yield f"postgresql://postgres@/postgres?host={socket_dir}&port={port}"
    finally:
        _stop(POSTGRES_BIN_PATH, data_dir, user)
        if (data_dir / "log").is_file():
            (work_dir / "runs").mkdir(exist_ok=True)
            shutil.copy(data_dir / "log", work_dir / "runs" / "default-server.log")
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.rmtree(socket_dir, ignore_errors=True)


DEFAULT_DIR_PREFIX = "pgdata-default-"


def _socket_dir(data_dir: Path) -> Path:
    """Beside the data directory: initdb wants that one empty."""
    return data_dir.with_name(data_dir.name + "-socket")


def _remove_leftovers(work_dir: Path, bin_path: Path, user: str | None) -> None:
    """Default servers' directories whose bench process has ended (a crash, a kill -9)."""
    for data_dir in work_dir.glob(f"{DEFAULT_DIR_PREFIX}*"):
        owner = data_dir.name.removeprefix(DEFAULT_DIR_PREFIX)
        if not owner.isdigit() or _alive(int(owner)):
            continue
        _stop(bin_path, data_dir, user)
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.rmtree(_socket_dir(data_dir), ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _system_user() -> str | None:
    """PostgreSQL refuses to run as root: as root, pgserver's own user runs it (pgserver makes it)."""
    if os.geteuid() != 0:
        return None
    from pgserver.utils import ensure_user_exists

    ensure_user_exists("pgserver")
    return "pgserver"


def _let_run(user: str, data_dir: Path, socket_dir: Path, bin_path: Path) -> None:
    """What pgserver does before it runs PostgreSQL as its own user: the data directory is
    theirs, and they can reach it and read and run the binaries."""
    import stat

    from pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions

    ensure_prefix_permissions(data_dir)
    ensure_prefix_permissions(bin_path)
    ensure_folder_permissions(bin_path, stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH)
    ensure_folder_permissions(bin_path.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
    for path in (data_dir, socket_dir):
        shutil.chown(path, user, user)


def _pg(program: Path, args: list[str], user: str | None) -> None:
    done = subprocess.run([str(program), *args], user=user, capture_output=True, text=True,
                          timeout=START_TIMEOUT + 30, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise SystemExit(f"{program.name} failed (exit {done.returncode}): "
                         f"{detail[-1] if detail else 'no output'}")


def _stop(bin_path: Path, data_dir: Path, user: str | None) -> None:
    if (data_dir / "postmaster.pid").exists():
        subprocess.run([str(bin_path / "pg_ctl"), "-D", str(data_dir), "-w", "-m", "fast", "stop"],
                       user=user, capture_output=True, timeout=START_TIMEOUT, check=False)


def fresh_database(server_url: str, name: str) -> str:
    """An empty database `name` (dropped first if there), C collation as the embedded
    warehouse's; its URL."""
    admin = psycopg2.connect(server_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 LC_COLLATE 'C'")
    admin.close()
    return database_url(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    admin = psycopg2.connect(server_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def database_url(server_url: str, name: str) -> str:
    base, _, query = server_url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def describe(server_url: str) -> dict:
    """The server's version and the settings that bound a bulk load, as it runs."""
    conn = psycopg2.connect(server_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW server_version")
            version = cur.fetchone()[0]
            cur.execute("SELECT name, setting, unit, source FROM pg_settings WHERE name = ANY(%s)",
                        (list(REPORTED_SETTINGS),))
            settings = {name: {"setting": setting, "unit": unit, "source": source}
                        for name, setting, unit, source in cur.fetchall()}
    finally:
        conn.close()
    return {"version": version, "settings": settings}


def write_counters(server_url: str) -> dict:
    """The server's WAL position and checkpoint counts so far (cluster-wide: on the bench's
    servers, only the run at hand writes). Their difference over a step is the WAL it wrote and
    the checkpoints it caused (`requested`: max_wal_size reached) or met (`timed`)."""
    conn = psycopg2.connect(server_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint, checkpoints_req,"
                        " checkpoints_timed FROM pg_stat_bgwriter")
            wal, requested, timed = cur.fetchone()
    finally:
        conn.close()
    return {"wal_bytes": wal, "checkpoints_requested": requested, "checkpoints_timed": timed}


def counted(before: dict, after: dict) -> dict:
    return {key: after[key] - before[key] for key in before}


REPORTED_SETTINGS = ("max_wal_size", "shared_buffers", "work_mem", "maintenance_work_mem",
                     "effective_cache_size", "synchronous_commit", "fsync", "wal_level",
                     "checkpoint_timeout", "max_parallel_workers_per_gather")
