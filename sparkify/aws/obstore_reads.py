"""S3 reads through obstore (Rust's object_store): the many small GETs of a load, at a
fraction of boto3's client CPU per GET (`make bench-gets`; docs/performance.md).

`ObstoreS3Store` is `S3ObjectStore` with its bodies fetched by obstore: listing, HEAD, PUT and
the bucket check stay on boto3. Both use the same boto3 session's credentials (temporary ones
with their session token, refreshed as botocore refreshes them), region and endpoint (the
local emulator's over http, path-style), and a failure is the same one-line SourceError as
boto3's: a missing key or a refused credential says what S3 said, and is not retried; a
connection that fails, breaks or times out is an I/O error (`is_transient`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from urllib.parse import urlparse

import obstore
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import ClientError, NoCredentialsError
from obstore.exceptions import BaseError as ObstoreError
from obstore.store import S3Store

from sparkify.aws.s3 import S3ObjectStore
from sparkify.aws.session import describe_aws_error
from sparkify.errors import SourceError, first_line
from sparkify.store import GETS_IN_FLIGHT

RETRIES = 4  # after the first attempt: 5 in all, as AWS_CONFIG's standard mode
# Temporary credentials are asked again this often; botocore hands out ones valid for at least
# 10 more minutes (it refreshes them 15 minutes before they expire).
CREDENTIALS_TTL = timedelta(minutes=5)
STREAM_CHUNK = 1 << 20

_CODE = re.compile(r"<Code>([^<]*)</Code>")
_MESSAGE = re.compile(r"<Message>([^<]*)</Message>")
_URL = re.compile(r"Error performing \w+ (\S+)")
# object_store's HttpErrorKinds of a request that never got a whole answer (not Unknown: a
# request it could not build, such as an http endpoint it was not allowed to use)
_IO_KIND = re.compile(r"HttpError \{\s*kind: (Connect|Request|Timeout|Interrupted|Decode)\b")
_IO_MESSAGES = {
    "Connect": "Could not connect to the endpoint URL",
    "Timeout": "Read timeout on endpoint URL",
}
_CLOSED = "Connection was closed before we received a valid response from endpoint URL"


class SessionCredentials:
    """obstore's credential provider over a botocore credential object (static or refreshable)."""

    def __init__(self, credentials) -> None:
        self._credentials = credentials

    def __call__(self) -> dict:
        frozen = self._credentials.get_frozen_credentials()
        expires = (datetime.now(timezone.utc) + CREDENTIALS_TTL
                   if isinstance(self._credentials, RefreshableCredentials) else None)
        return {"access_key_id": frozen.access_key, "secret_access_key": frozen.secret_key,
                "token": frozen.token, "expires_at": expires}


class ObstoreS3Store(S3ObjectStore):
    """S3ObjectStore whose `read` and `stream` go through obstore (one S3Store per bucket)."""

    def __init__(self, region: str | None = None, endpoint_url: str | None = None,
                 session=None) -> None:
        super().__init__(region, endpoint_url, session)
        self._buckets: dict[str, S3Store] = {}
        self._lock = threading.Lock()

    def read(self, bucket: str, key: str) -> bytes:
        try:
            return bytes(obstore.get(self._bucket(bucket), key).bytes())
        except (ObstoreError, OSError) as exc:  # its NotFound, PermissionDenied are OSErrors
            raise _failure(exc, bucket, key)  # noqa: B904  (the cause is set there)

    def stream(self, bucket: str, key: str, chunk_size: int = STREAM_CHUNK) -> Iterator[bytes]:
        try:
            result = obstore.get(self._bucket(bucket), key)
            if result.meta["size"] <= chunk_size:  # most source objects: one piece, no stream
                yield bytes(result.bytes())
                return
            for piece in result.stream(min_chunk_size=chunk_size):
                yield bytes(piece)
        except (ObstoreError, OSError) as exc:
            raise _failure(exc, bucket, key)  # noqa: B904

    def _bucket(self, bucket: str) -> S3Store:
        with self._lock:
            if bucket not in self._buckets:
                self._buckets[bucket] = self._open(bucket)
            return self._buckets[bucket]

    def _open(self, bucket: str) -> S3Store:
        session = self._session
        if session is None:
            import boto3

            session = boto3.session.Session()
        credentials = session.get_credentials()
        if credentials is None:
            raise SourceError(f"cannot read s3://{bucket}: {describe_aws_error(NoCredentialsError())}")
        # where boto3 goes: its endpoint resolution (endpoint_url, AWS_ENDPOINT_URL, the config
        # file) and region, so that both clients of this store always talk to the same S3
        endpoint, region = self.client.meta.endpoint_url, self.client.meta.region_name
        config = {"region": region or "us-east-1"}
        options = {"pool_max_idle_per_host": str(GETS_IN_FLIGHT)}
        if not _is_aws(endpoint):  # an emulator: path-style, plain http allowed
            config |= {"endpoint": endpoint, "virtual_hosted_style_request": False}
            options["allow_http"] = endpoint.startswith("http://")
        return S3Store(bucket, config=config, client_options=options,
                       retry_config={"max_retries": RETRIES},
                       credential_provider=SessionCredentials(credentials))


def _is_aws(endpoint: str) -> bool:
    host = urlparse(endpoint).hostname or ""
    return host.endswith((".amazonaws.com", ".amazonaws.com.cn"))


def _failure(exc: BaseException, bucket: str, key: str) -> SourceError:
    """The one-line SourceError of a failed GET, chained to an I/O error when it is one."""
    where = f"cannot read s3://{bucket}/{key}"
    text = str(exc)
    code = _CODE.search(text)
    if code:  # S3 answered with an error document: as boto3 reports it
        message = _MESSAGE.search(text)
        answer = ClientError({"Error": {"Code": code.group(1),
                                        "Message": message.group(1) if message else ""}},
                             "GetObject")
        error = SourceError(f"{where}: {describe_aws_error(answer)}")
        error.__cause__ = answer
        return error
    kind = _IO_KIND.search(text)
    if kind:
        url = _URL.search(text)
        said = f'{_IO_MESSAGES.get(kind.group(1), _CLOSED)}: "{url.group(1) if url else ""}"'
        io = (TimeoutError if kind.group(1) == "Timeout" else ConnectionError)(said)
        io.__cause__ = exc
        error = SourceError(f"{where}: {said}")
        error.__cause__ = io
        return error
    error = SourceError(f"{where}: {first_line(exc)}")
    error.__cause__ = exc
    return error
