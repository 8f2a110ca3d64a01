"""A directory in the S3 layout as an object store: the sources read straight from disk.

For the fast test layer and the benchmark's staging measurements: the staging code runs as in a
real load, without the S3 emulator or Prefect. Keys are paths relative to the directory; the
bucket name is only carried along.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sparkify.errors import SourceError
from sparkify.store import ObjectStore, S3Location, SourceObject, Suffix

LOCAL_BUCKET = "local"


class LocalObjectStore(ObjectStore):
    def __init__(self, root: Path, bucket: str = LOCAL_BUCKET) -> None:
        self.root = Path(root)
        self.bucket = bucket

    def list_objects(self, location: S3Location, suffix: Suffix = ".json") -> list[SourceObject]:
        base = self.root / location.prefix
        paths = sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else []
        keys = (p.relative_to(self.root).as_posix() for p in paths)
        return [self._entry(key) for key in keys if key.endswith(suffix)]

    def head(self, bucket: str, key: str) -> SourceObject | None:
        return self._entry(key) if (self.root / key).is_file() else None

    def read(self, bucket: str, key: str) -> bytes:
        try:
            return (self.root / key).read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read {self.root / key}: {exc.strerror}") from exc

    def put(self, bucket: str, key: str, body: bytes, content_type: str) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)

    def ensure_bucket(self, bucket: str) -> None:
        if not self.root.is_dir():
            raise SourceError(f"no directory {self.root}")

    def _entry(self, key: str) -> SourceObject:
        body = (self.root / key).read_bytes()
        return SourceObject(self.bucket, key, hashlib.md5(body).hexdigest(), len(body))
