"""The object store the pipeline reads from: S3 through boto3, against AWS or an emulator."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from sparkify.aws import describe_aws_error as _describe
from sparkify.errors import SourceError

# Standard retry mode: exponential backoff with jitter on throttling and transient errors.
BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=32)


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


class S3ObjectStore:
    """Lists and reads objects with boto3; `endpoint_url` points it at an S3 emulator."""

    def __init__(self, region: str | None = None, endpoint_url: str | None = None,
                 session: boto3.session.Session | None = None) -> None:
        self.region = region
        self.endpoint_url = endpoint_url
        self._session = session

    @cached_property
    def client(self):
        session = self._session or boto3.session.Session()
        return session.client("s3", region_name=self.region, endpoint_url=self.endpoint_url,
                              config=BOTO_CONFIG)

    def list_objects(self, location: S3Location, suffix: str = ".json") -> list[SourceObject]:
        """Every object under the prefix whose key ends with `suffix`, sorted by key."""
        prefix = location.prefix.rstrip("/") + "/" if location.prefix else ""
        paginator = self.client.get_paginator("list_objects_v2")
        found: list[SourceObject] = []
        try:
            for page in paginator.paginate(Bucket=location.bucket, Prefix=prefix):
                found += [
                    SourceObject(location.bucket, item["Key"], item["ETag"].strip('"'), item["Size"])
                    for item in page.get("Contents", [])
                    if item["Key"].endswith(suffix)
                ]
        except (ClientError, BotoCoreError) as exc:
            raise SourceError(f"cannot list {location.uri}: {_describe(exc)}") from exc
        return sorted(found, key=lambda obj: obj.key)

    def read(self, bucket: str, key: str) -> bytes:
        """The whole body of one object (source objects are files of a few MB at most)."""
        try:
            return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise SourceError(f"cannot read s3://{bucket}/{key}: {_describe(exc)}") from exc

    def head(self, bucket: str, key: str) -> SourceObject | None:
        """The object's listing entry, or None when it does not exist."""
        try:
            meta = self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise SourceError(f"cannot read s3://{bucket}/{key}: {_describe(exc)}") from exc
        except BotoCoreError as exc:
            raise SourceError(f"cannot read s3://{bucket}/{key}: {_describe(exc)}") from exc
        return SourceObject(bucket, key, meta["ETag"].strip('"'), meta["ContentLength"])

    def ensure_bucket(self, bucket: str) -> None:
        try:
            self.client.head_bucket(Bucket=bucket)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in {"404", "NoSuchBucket", "NotFound"}:
                raise SourceError(f"bucket not found: s3://{bucket}") from exc
            if code in {"301", "PermanentRedirect"}:
                raise SourceError(
                    f"bucket s3://{bucket} is not in region {self.region}: set [AWS] REGION"
                ) from exc
            raise SourceError(f"cannot reach s3://{bucket}: {_describe(exc)}") from exc
        except BotoCoreError as exc:
            raise SourceError(f"cannot reach s3://{bucket}: {_describe(exc)}") from exc

    def upload_tree(self, root, bucket: str, prefix: str = "") -> int:
        """Upload every file below `root` (used to seed the emulator); returns the file count."""
        from concurrent.futures import ThreadPoolExecutor
        from pathlib import Path

        root = Path(root)
        self._create_bucket(bucket)
        files = [p for p in sorted(root.rglob("*")) if p.is_file()]

        def put(path: Path) -> None:
            # one streamed PUT per file: upload_file's transfer threads would overflow the
            # client's connection pool
            key = f"{prefix.rstrip('/')}/{path.relative_to(root).as_posix()}".lstrip("/")
            with path.open("rb") as body:
                self.client.put_object(Bucket=bucket, Key=key, Body=body)

        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(put, files))
        return len(files)

    def _create_bucket(self, bucket: str) -> None:
        kwargs = {}
        if self.region and self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            self.client.create_bucket(Bucket=bucket, **kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in {
                "BucketAlreadyOwnedByYou", "BucketAlreadyExists"
            }:
                raise
