"""moto's S3 server (sparkify.local.s3_server) in its own process on a free loopback port."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import boto3

from sparkify.errors import SourceError
from sparkify.local.lifeline import Lifeline
from sparkify.paths import PROJECT_ROOT

EMULATOR_BUCKET = "sparkify-local"
EMULATOR_REGION = "us-west-2"
SEED_PATH = "/_sparkify/seed"  # sparkify.local.s3_server: the whole seeding in one request
SEED_TIMEOUT_SECONDS = 3600  # 10M events are 2.3 GB of files


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def emulator_session() -> boto3.session.Session:
    """A boto3 session with the emulator's throwaway credentials (never the user's)."""
    return boto3.session.Session(aws_access_key_id="emulator", aws_secret_access_key="emulator",
                                 region_name=EMULATOR_REGION)


class S3Emulator:
    """moto's S3 server (sparkify.local.s3_server) in its own process on a free loopback port; a
    context manager. The process ends with the one that started it, however that one ends
    (sparkify/local/lifeline.py)."""

    def __init__(self, port: int | None = None, startup_timeout: float = 30.0) -> None:
        self.port = port or free_port()
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen | None = None
        self._lifeline = Lifeline()

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs (benchmarks read its CPU time)."""
        return self._process.pid if self._process else None

    def command(self) -> list[str]:
        return [sys.executable, "-m", "sparkify.local.s3_server", "--port", str(self.port)]

    def start(self) -> "S3Emulator":
        self._process = self._lifeline.popen(
            self.command(),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "true",
                 "PYTHONPATH": os.pathsep.join(
                     p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p)},
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._lifeline.close()
                raise SourceError(f"the S3 emulator exited at start (code {self._process.returncode})")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise SourceError(f"the S3 emulator did not start within {self.startup_timeout:.0f}s")

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._lifeline.close()
        self._process = None

    def __enter__(self) -> "S3Emulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def files_below(root: Path) -> tuple[list[Path], list[str]]:
    """The regular files below `root`, by their path under it (symbolic links followed, to
    files and to directories alike), and what was not followed: a link to a directory above it
    (a loop) and a link to nothing, each as "relative/path (why)"."""
    files: list[Path] = []
    not_followed: list[str] = []

    def walk(directory: Path, above: frozenset) -> None:
        for entry in sorted(os.scandir(directory), key=lambda entry: entry.name):
            path = Path(entry.path)
            try:
                found = os.stat(path)  # through any link
            except OSError:
                not_followed.append(f"{path.relative_to(root).as_posix()} (a link to nothing)")
                continue
            if stat.S_ISDIR(found.st_mode):
                if (found.st_dev, found.st_ino) in above:
                    not_followed.append(f"{path.relative_to(root).as_posix()} (a link to a "
                                        "directory above it)")
                else:
                    walk(path, above | {(found.st_dev, found.st_ino)})
            elif stat.S_ISREG(found.st_mode):
                files.append(path)

    top = os.stat(root)
    walk(root, frozenset({(top.st_dev, top.st_ino)}))
    return files, not_followed


@dataclass(frozen=True)
class Seeded:
    files: int
    default_jsonpaths: bool  # added because the directory has no log_json_path.json
    not_followed: list[str]  # see files_below


def seed(endpoint_url: str, root: Path) -> Seeded:
    """Upload the files under `root` (files_below) into the emulator's bucket."""
    from sparkify.aws.s3 import S3ObjectStore
    from sparkify.staging.schema import DEFAULT_JSONPATHS

    request = urllib.request.Request(
        endpoint_url + SEED_PATH, method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"root": str(root.resolve()), "bucket": EMULATOR_BUCKET,
                         "region": EMULATOR_REGION}).encode())
    try:
        with urllib.request.urlopen(request, timeout=SEED_TIMEOUT_SECONDS) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = json.loads(exc.read() or b"{}").get("error", exc.reason)
        raise SourceError(f"seeding the S3 emulator from {root} failed: {detail}") from None
    except OSError as exc:
        raise SourceError(f"seeding the S3 emulator from {root} failed: {exc}") from exc
    store = S3ObjectStore(EMULATOR_REGION, endpoint_url, emulator_session())
    add_default = not (root / "log_json_path.json").is_file()
    if add_default:
        store.put(EMULATOR_BUCKET, "log_json_path.json", DEFAULT_JSONPATHS, "application/json")
    return Seeded(answer["files"], add_default, answer["not_followed"])
