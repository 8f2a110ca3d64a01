"""`python -m sparkify.s3_emulator --port N`: moto's S3 server on loopback, S3 alone.

`python -m moto.server` serves every AWS service behind one dispatcher that, for each
request, matches the host against the URL patterns of all of them, and logs a line per
request. Measured on 9,801 small GETs, those two cost a third of the emulator's CPU, and the
emulator's CPU is what bounds a local load of many small song objects. So this serves moto's
own S3 application directly, with moto's request handler, minus the per-request log line.
"""

from __future__ import annotations

import argparse
import signal
import sys

from moto.moto_server.werkzeug_app import MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


class QuietRequestHandler(MotoRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sparkify.s3_emulator", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple(args.host, args.port, create_backend_app("s3"), threaded=True,
               request_handler=QuietRequestHandler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
