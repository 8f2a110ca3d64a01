"""A local Prefect API server: `python -m sparkify.local.prefect_server --fd N [--idle-minutes M]`.

Prefect's own temporary-server app and settings (the task run recorder and event services, no
scheduler, no UI), served on the listening socket N that the command starting it bound
(sparkify/local_prefect.py). With --idle-minutes it is the kept server and stops itself after M
minutes without a request; without, it is a command's own and ends with that command.
"""

from __future__ import annotations

import argparse
import os
import socket
import threading
import time

from sparkify.local.lifeline import end_with_parent

# As Prefect's temporary server has them (prefect.server.api.server.SubprocessASGIServer).
SERVER_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
CHECK_EVERY_SECONDS = 5.0


class IdleClock:
    """An ASGI wrapper that notes the time of the last HTTP request."""

    def __init__(self, app) -> None:
        self.app = app
        self.last_request = time.monotonic()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            self.last_request = time.monotonic()
        await self.app(scope, receive, send)


def stop_when_idle(server, clock: IdleClock, idle_seconds: float) -> None:
    while not server.started and not server.should_exit:  # idle from when it serves
        time.sleep(0.2)
    clock.last_request = time.monotonic()
    while not server.should_exit:
        time.sleep(min(CHECK_EVERY_SECONDS, idle_seconds))
        if time.monotonic() - clock.last_request >= idle_seconds:
            server.should_exit = True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sparkify.local.prefect_server")
    parser.add_argument("--fd", type=int, required=True, help="the listening socket to serve on")
    parser.add_argument("--idle-minutes", type=float, help="stop after this long without a request")
    args = parser.parse_args(argv)
    end_with_parent()  # a command's own server (sparkify/local/lifeline.py); nothing for the kept one
    os.environ.update(SERVER_ENV)

    import uvicorn
    from prefect.server.api.server import create_app

    app = IdleClock(create_app()) if args.idle_minutes else create_app()
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="on"))
    if args.idle_minutes:
        threading.Thread(target=stop_when_idle, args=(server, app, args.idle_minutes * 60),
                         daemon=True, name="idle-stop").start()
    server.run(sockets=[socket.socket(fileno=args.fd)])


if __name__ == "__main__":
    main()
