"""`python -m sparkify.local.s3_server --port N`: moto's S3 server on loopback, S3 alone.

`python -m moto.server` serves every AWS service behind one dispatcher that matches each
request's host against the URL patterns of all of them, logs a line per request, and runs on
Werkzeug's development server, which closes the connection after every response. A local
load of many small song objects is bound by that per-request cost. So this serves moto's own
S3 application alone, through a2wsgi on uvicorn (already Prefect's server), which keeps
connections alive. Measured on 9,801 GETs of song objects with 8 threads: 27.6 s with
`moto.server`, 13.8 s here; seeding them, 41 s and 30 s.

Seeding is one request, `POST /_sparkify/seed` with {"root", "bucket", "region"}: the server
puts every file under `root` into its own S3 backend, without an HTTP request, a signature and
a parse per file on both sides (325 files of the sample: 2-4 s by PUTs, 0.1 s so).

A plain GET of an object (path-style, no query, range, condition or checksum asked, a standard
object of an unversioned bucket) is answered from moto's backend with the headers moto's own
handler gives it (`FakeKey.response_dict`, metadata, `Accept-Ranges`, a request id), without
the WSGI round trip, moto's dispatch and its per-request parsing: 2.2-2.5 ms of the emulator's
CPU per GET that way, 0.34-0.42 ms so (`make bench-gets`). A plain ListObjectsV2 (a prefix,
continuation tokens, pages, URL-encoded keys: what boto3's paginator asks) is listed by moto's
backend, with its tokens, and its XML is written here: 9,801 keys in 0.8 s where moto's generic
serializer took 1.8-2.0 s. Every other request, a missing key and an unsigned one included,
goes to moto.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import string
import sys
from pathlib import Path
from urllib.parse import parse_qs, quote
from xml.sax.saxutils import escape

import uvicorn
from a2wsgi import WSGIMiddleware
from moto.moto_server.werkzeug_app import create_backend_app

from sparkify.local.emulator import SEED_PATH, files_below
from sparkify.local.lifeline import end_with_parent

ID_LETTERS = string.ascii_letters + string.digits
REQUEST_THREADS = 16  # moto's S3 handlers are synchronous; a2wsgi runs them on this many threads


def seed_backend(root: Path, bucket: str, region: str) -> dict:
    """Put every file below `root` (links followed: files_below) into moto's S3 backend, keyed
    by its path under `root`: {"files": how many, "not_followed": [...]}."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.exceptions import MissingBucket
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    try:
        backend.get_bucket(bucket)
    except MissingBucket:
        backend.create_bucket(bucket, region)
    files, not_followed = files_below(root)
    for path in files:
        backend.put_object(bucket, path.relative_to(root).as_posix(), path.read_bytes())
    return {"files": len(files), "not_followed": not_followed}


# A request with any of these headers is not a plain GET (tests/test_s3_server.py)
NOT_PLAIN = frozenset({b"range", b"if-match", b"if-none-match", b"if-modified-since",
                       b"if-unmodified-since", b"x-amz-checksum-mode", b"x-amz-expected-bucket-owner",
                       b"x-amz-server-side-encryption-customer-algorithm"})
LOOPBACK_HOSTS = (b"127.0.0.1", b"localhost", b"[::1]")  # no bucket in the host: path-style


def plain_object(scope) -> tuple[str, str] | None:
    """(bucket, key) of a plain path-style GET, else None."""
    if scope.get("query_string") or not _plain_get(scope):
        return None
    bucket, _, key = scope["path"].lstrip("/").partition("/")
    return (bucket, key) if bucket and key else None


def _plain_get(scope) -> bool:
    """A signed path-style GET without any header that asks for more than the object."""
    if scope["method"] != "GET":
        return False
    signed = False
    for name, value in scope["headers"]:
        if name in NOT_PLAIN or (name == b"host" and value.rsplit(b":", 1)[0] not in LOOPBACK_HOSTS):
            return False
        signed = signed or (name == b"authorization" and value.startswith(b"AWS4-HMAC-SHA256 "))
    return signed  # moto refuses an unsigned one (403)


LISTING_PARAMETERS = frozenset({"list-type", "prefix", "continuation-token", "max-keys",
                                "encoding-type"})


def plain_listing(scope) -> tuple[str, dict[str, str]] | None:
    """(bucket, parameters) of a plain path-style ListObjectsV2 (boto3's paginator sends
    prefix, continuation-token and encoding-type=url), else None."""
    raw_query = scope.get("query_string", b"")
    if not _plain_get(scope) or not raw_query.isascii() or b"+" in raw_query:  # "+": moto's own way
        return None
    query = parse_qs(raw_query.decode(), keep_blank_values=True)
    if any(len(values) != 1 for values in query.values()) or not set(query) <= LISTING_PARAMETERS:
        return None
    parameters = {name: values[0] for name, values in query.items()}
    bucket = scope["path"].strip("/")
    if parameters.get("list-type") != "2" or not bucket or "/" in bucket \
            or parameters.get("encoding-type", "url") != "url" \
            or not parameters.get("max-keys", "1000").isdigit():
        return None
    return bucket, parameters


def listing_body(bucket_name: str, parameters: dict[str, str]) -> bytes | None:
    """moto's ListObjectsV2 answer, its keys listed by moto's backend, the XML written here:
    moto's generic serializer took 0.3 s a page of 1,000 keys. None: moto answers."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import FakeBucket, FakeKey, s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    bucket = backend.buckets.get(bucket_name)
    token = parameters.get("continuation-token")
    if type(bucket) is not FakeBucket or (token is not None and token not in backend._pagination_tokens):
        return None
    encoding = parameters.get("encoding-type")
    prefix, max_keys = parameters.get("prefix"), int(parameters.get("max-keys", "1000"))
    keys, truncated, next_token = backend.list_objects_v2(bucket, prefix, None, token, None, max_keys)
    if not all(isinstance(key, FakeKey) for key in keys):
        return None

    def element(name: str, value) -> str:
        text = escape(str(value))
        return f"<{name}>{text}</{name}>" if text else f"<{name}/>"

    contents = "".join(
        "<Contents>" + element("Key", key.safe_name(encoding))
        + element("LastModified", key.last_modified_ISO8601) + element("ETag", key.etag)
        + (element("ChecksumAlgorithm", key.checksum_algorithm) if key.checksum_algorithm else "")
        + element("Size", key.size) + element("StorageClass", key.storage_class) + "</Contents>"
        for key in keys)
    shown_prefix = (quote(prefix) if prefix else "") if encoding == "url" else (prefix or "")
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            + element("IsTruncated", "true" if truncated else "false") + contents
            + element("Name", bucket.name) + element("Prefix", shown_prefix)
            + element("MaxKeys", max_keys) + (element("EncodingType", encoding) if encoding else "")
            + element("KeyCount", len(keys))
            + (element("NextContinuationToken", next_token) if next_token else "")
            + "</ListBucketResult>").encode()


def stored_object(bucket: str, key: str):
    """moto's FakeKey of a standard object of an unversioned bucket, else None."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import FakeKey, s3_backends

    stored = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].buckets.get(bucket)
    if stored is None or stored.is_versioned or stored.cors:
        return None
    found = stored.keys.get(key)
    if not isinstance(found, FakeKey) or found.multipart or found.storage_class != "STANDARD" \
            or found.version_id != "null":
        return None
    return found


def request_id() -> str:
    """An id of moto's form (52 letters and digits). Not a secret: `random`, not `secrets`,
    whose one system call per letter was 32 µs of the 42 µs a plain GET's answer took."""
    return "".join(random.choices(ID_LETTERS, k=52))


def object_response(found) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Headers and body of moto's answer to a plain GET of `found`."""
    body = found.value
    headers = {**found.response_dict, **found.metadata, "Accept-Ranges": "bytes",
               "x-amzn-requestid": request_id(), "access-control-allow-origin": "*"}
    headers.setdefault("content-type", "binary/octet-stream")
    return [(name.lower().encode(), str(value).encode()) for name, value in headers.items()], body


class SeedRoute:
    """The S3 app, plus the one seeding request and the plain GETs above."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif scope["path"] == SEED_PATH and scope["method"] == "POST":
            await self._seed(receive, send)
        elif (wanted := plain_object(scope)) and (found := stored_object(*wanted)) is not None:
            headers, body = object_response(found)
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        elif (wanted := plain_listing(scope)) and (body := listing_body(*wanted)) is not None:
            headers = [(b"content-type", b"application/xml"), (b"server", b"amazon.com"),
                       (b"x-amzn-requestid", request_id().encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        else:
            await self.app(scope, receive, send)

    async def _seed(self, receive, send) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        try:
            request = json.loads(body)
            answer = await asyncio.to_thread(seed_backend, Path(request["root"]),
                                             request["bucket"], request["region"])
            status = 200
        except Exception as exc:  # noqa: BLE001  (the client shows it as one line)
            status, answer = 500, {"error": f"{exc.__class__.__name__}: {exc}"}
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": json.dumps(answer).encode()})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sparkify.local.s3_server",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    end_with_parent()
    app = SeedRoute(WSGIMiddleware(create_backend_app("s3"), workers=REQUEST_THREADS))
    uvicorn.run(app, host=args.host, port=args.port, http="httptools", log_level="warning",
                access_log=False, timeout_graceful_shutdown=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
