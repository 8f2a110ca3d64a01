"""`python -m benchmarks.delay_proxy --port P --upstream-port U --delay-ms 30`: a loopback TCP
proxy that hands every byte of the upstream's answers to the client `delay` later than it came.

What a GET to real S3 from outside AWS costs is mostly the round trip and the server's own time,
about 30 ms: this puts that in front of the local S3 emulator. Requests go upstream at once;
each chunk of an answer is held until `delay` after it arrived, in order, so every response
(and a connection's first bytes) comes `delay` late while any number of requests overlap, as
on a long network path. It runs in a process of its own, so its CPU is not the client's.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

CHUNK = 1 << 16


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    loop = asyncio.get_running_loop()
    held: asyncio.Queue = asyncio.Queue()

    async def forward() -> None:
        while True:
            due, data = await held.get()
            if (wait := due - loop.time()) > 0:
                await asyncio.sleep(wait)
            if not data:
                break
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(forward())
    try:
        while data := await reader.read(CHUNK):
            held.put_nowait((loop.time() + delay, data))
    except (ConnectionError, OSError):
        pass
    held.put_nowait((loop.time() + delay, b""))
    try:
        await sender
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def _serve(port: int, upstream_port: int, delay: float) -> None:
    async def handle(client_reader, client_writer) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(_pipe(client_reader, up_writer, 0.0),
                             _pipe(up_reader, client_writer, delay))

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.delay_proxy")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream-port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=30.0)
    args = parser.parse_args(argv)
    try:
        asyncio.run(_serve(args.port, args.upstream_port, args.delay_ms / 1000))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
