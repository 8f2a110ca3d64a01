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
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

import uvicorn
from a2wsgi import WSGIMiddleware
from moto.moto_server.werkzeug_app import create_backend_app

from sparkify.local.emulator import SEED_PATH

REQUEST_THREADS = 16  # moto's S3 handlers are synchronous; a2wsgi runs them on this many threads


def seed_backend(root: Path, bucket: str, region: str) -> int:
    """Put every file under `root` into moto's S3 backend, keyed by its relative path."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.exceptions import MissingBucket
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    try:
        backend.get_bucket(bucket)
    except MissingBucket:
        backend.create_bucket(bucket, region)
    count = 0
    for path in sorted(root.rglob("*")):
        if path.is_file():
            backend.put_object(bucket, path.relative_to(root).as_posix(), path.read_bytes())
            count += 1
    return count


class SeedRoute:
    """The S3 app, plus the one seeding request above."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] != SEED_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        try:
            request = json.loads(body)
            count = await asyncio.to_thread(seed_backend, Path(request["root"]),
                                            request["bucket"], request["region"])
            status, answer = 200, {"files": count}
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
    app = SeedRoute(WSGIMiddleware(create_backend_app("s3"), workers=REQUEST_THREADS))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False,
                timeout_graceful_shutdown=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
