"""The object store the pipeline reads its sources from: what it lists, reads and writes.

`ObjectStore` is the small interface the pipeline depends on. The runtime builds an
`ObstoreS3Store` (sparkify/aws/obstore_reads.py: boto3 lists and writes, obstore fetches the
bodies) against AWS or the local S3 emulator; the dry run wraps it in a store that lists and
reads but never writes; `LocalObjectStore` (sparkify/local/files.py) reads a directory in the
S3 layout, for the fast tests and the benchmark.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlparse

from sparkify.errors import SourceError

Suffix = str | tuple[str, ...]  # what a listed key must end with (str.endswith)
# GETs a load keeps in flight: a GET to S3 from outside AWS takes ~30 ms, so 300 small objects
# a second need at least 9 at once, more while the server queues them (`make bench-gets`
# measures 32 against 64). The clients' connection pools are sized by this too.
GETS_IN_FLIGHT = 64


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str = ""

    @classmethod
    def parse(cls, uri: str) -> "S3Location":
        parsed = urlparse(uri)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise SourceError(f"not an S3 URI (expected s3://bucket[/prefix]): {uri}")
        return cls(parsed.netloc, parsed.path.lstrip("/"))

    def child(self, name: str) -> "S3Location":
        base = self.prefix.rstrip("/")
        return S3Location(self.bucket, f"{base}/{name}" if base else name)

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass(frozen=True)
class SourceObject:
    """One object of a source prefix, as listed: enough to load it and to record it in a ledger."""

    bucket: str
    key: str
    etag: str
    size: int

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


class ObjectStore(ABC):
    """List, inspect, read and write objects; every failure is a one-line SourceError."""

    @abstractmethod
    def list_objects(self, location: S3Location, suffix: Suffix = ".json") -> list[SourceObject]:
        """Every object under the prefix whose key ends with `suffix` (or one of them), by key."""

    @abstractmethod
    def head(self, bucket: str, key: str) -> SourceObject | None:
        """The object's listing entry, or None when it does not exist."""

    @abstractmethod
    def read(self, bucket: str, key: str) -> bytes:
        """The whole body of one object (source objects are files of a few MB at most)."""

    def stream(self, bucket: str, key: str) -> Iterator[bytes]:
        """The body of one object in pieces, as they arrive (here: in one piece)."""
        yield self.read(bucket, key)

    @abstractmethod
    def put(self, bucket: str, key: str, body: bytes, content_type: str) -> None:
        """Write one object (the COPY manifests of a Redshift load)."""

    @abstractmethod
    def ensure_bucket(self, bucket: str) -> None:
        """A clear error when the bucket is missing, elsewhere or unreachable."""
