"""The object store on S3 through boto3, against AWS or an S3 emulator."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from sparkify.aws.session import AWS_CONFIG, describe_aws_error as _describe
from sparkify.errors import SourceError
from sparkify.store import GETS_IN_FLIGHT, ObjectStore, S3Location, SourceObject, Suffix

BOTO_CONFIG = AWS_CONFIG.merge(Config(max_pool_connections=GETS_IN_FLIGHT))  # the concurrent GETs


class S3ObjectStore(ObjectStore):
    """S3 with boto3; `endpoint_url` points it at an S3 emulator."""

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

    def list_objects(self, location: S3Location, suffix: Suffix = ".json") -> list[SourceObject]:
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
        try:
            return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise SourceError(f"cannot read s3://{bucket}/{key}: {_describe(exc)}") from exc

    def stream(self, bucket: str, key: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        try:
            body = self.client.get_object(Bucket=bucket, Key=key)["Body"]
            yield from body.iter_chunks(chunk_size)
        except (ClientError, BotoCoreError) as exc:
            raise SourceError(f"cannot read s3://{bucket}/{key}: {_describe(exc)}") from exc

    def head(self, bucket: str, key: str) -> SourceObject | None:
        try:
            meta = self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise SourceError(f"cannot read s3://{bucket}/{key}: {_describe(exc)}") from exc
        except BotoCoreError as exc:
            raise SourceError(f"cannot read s3://{bucket}/{key}: {_describe(exc)}") from exc
        return SourceObject(bucket, key, meta["ETag"].strip('"'), meta["ContentLength"])

    def put(self, bucket: str, key: str, body: bytes, content_type: str) -> None:
        try:
            self.client.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
        except (ClientError, BotoCoreError) as exc:
            raise SourceError(f"cannot write s3://{bucket}/{key}: {_describe(exc)}") from exc

    def ensure_bucket(self, bucket: str) -> None:
        try:
            self.client.head_bucket(Bucket=bucket)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in {"404", "NoSuchBucket", "NotFound"}:
                raise SourceError(f"bucket not found: s3://{bucket}") from exc
            if code in {"301", "PermanentRedirect"}:
                raise SourceError(
                    f"bucket s3://{bucket} is not in region {self.region}: set [S3] REGION to "
                    "the bucket's"
                ) from exc
            raise SourceError(f"cannot reach s3://{bucket}: {_describe(exc)}") from exc
        except BotoCoreError as exc:
            raise SourceError(f"cannot reach s3://{bucket}: {_describe(exc)}") from exc

    def upload_tree(self, root, bucket: str, prefix: str = "") -> int:
        """Upload every file below `root` (used to seed the emulator); returns the file count."""
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
