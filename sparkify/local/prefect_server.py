"""The kept local Prefect API server: `python -m sparkify.local.prefect_server --port P --idle-minutes M`.

The same app and services as Prefect's temporary server (SubprocessASGIServer: the task run
recorder and event services, no scheduler, no UI), started once by the first local command and
then used by the later ones (sparkify/local_prefect.py), so a run skips the 5-20 s the start
costs. It stops itself after M minutes without a request.
"""

from __future__ import annotations

import argparse
import os
import threading
import time

# As Prefect's own temporary server has them (prefect.server.api.server._run_uvicorn_command).
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

    def idle_seconds(self) -> float:
        return time.monotonic() - self.last_request


def stop_when_idle(server, clock: IdleClock, idle_seconds: float) -> None:
    while not server.started and not server.should_exit:  # idle from when it serves
        time.sleep(0.2)
    clock.last_request = time.monotonic()
    while not server.should_exit:
        time.sleep(min(CHECK_EVERY_SECONDS, idle_seconds))
        if clock.idle_seconds() >= idle_seconds:
            server.should_exit = True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sparkify.local.prefect_server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--idle-minutes", type=float, required=True)
    parser.add_argument("--home", help="the PREFECT_HOME it serves (to find it among processes)")
    args = parser.parse_args(argv)
    os.environ.update(SERVER_ENV)

    import uvicorn
    from prefect.server.api.server import create_app

    clock = IdleClock(create_app())
    server = uvicorn.Server(uvicorn.Config(clock, host="127.0.0.1", port=args.port,
                                           log_level="error", lifespan="on"))
    threading.Thread(target=stop_when_idle, args=(server, clock, args.idle_minutes * 60),
                     daemon=True, name="idle-stop").start()
    server.run()


if __name__ == "__main__":
    main()
