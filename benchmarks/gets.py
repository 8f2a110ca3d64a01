"""Many small objects: `make bench-gets` or `python benchmarks/gets.py [--objects 3000]`.

Starts the project's S3 emulator, puts song objects made by the project's generator (one song,
~270 bytes, per object, as in song_data), then measures each client of
benchmarks/get_clients.py at each concurrency: wall GETs/s and the client's CPU per GET (this
process's CPU time, every thread included; the emulator and the proxy run in processes of their
own, whose CPU is reported apart). Then the same through benchmarks/delay_proxy.py, which adds
30 ms to every response (a GET to real S3 from outside AWS). Rounds interleave the clients so
that the load of a shared machine falls on all of them; the table gives each one's best round.
Prints a table and writes every round, with the machine, commit and load average, to
benchmarks/results/gets-<UTC date>-<short sha>.json; `--summary FILE` prints that table again.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.get_clients import CLIENTS  # noqa: E402
from benchmarks.record import git_commit, machine, results_path  # noqa: E402
from benchmarks.summary import RESULTS_DIR  # noqa: E402

BUCKET = "bench-gets"
TARGETS = {"gets_per_s_at_30ms": 300.0, "cpu_ms_per_get_at_0ms": 1.0}


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of another process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def seed(endpoint: str, objects: int) -> list[str]:
    from sparkify.aws.s3 import S3ObjectStore
    from sparkify.local.emulator import EMULATOR_REGION, emulator_session
    from sparkify.local.generator import Ids, build_catalogue, write_songs
    from sparkify.store import S3Location

    rng = random.Random(42)
    ids = Ids(rng)
    store = S3ObjectStore(EMULATOR_REGION, endpoint, emulator_session())
    with tempfile.TemporaryDirectory() as tmp:
        write_songs(Path(tmp), rng, ids, build_catalogue(rng, ids, objects))
        store.upload_tree(tmp, BUCKET)
    return [obj.key for obj in store.list_objects(S3Location(BUCKET))]


class DelayProxy:
    def __init__(self, upstream_port: int, delay_ms: float) -> None:
        from sparkify.local.emulator import free_port

        self.port = free_port()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.delay_proxy", "--port", str(self.port),
             "--upstream-port", str(upstream_port), "--delay-ms", str(delay_ms)], cwd=ROOT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the delay proxy did not start")

    @property
    def pid(self) -> int:
        return self._process.pid

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)


def measure(client: str, endpoint: str, keys: list[str], concurrency: int,
            others: dict[str, int]) -> dict:
    fetch = CLIENTS[client](endpoint, BUCKET, concurrency)
    fetch(keys[:concurrency * 2])  # connections open, signer and pools warm
    other_cpu = {name: _cpu_of(pid) for name, pid in others.items()}
    load = os.getloadavg()[0]
    cpu, wall = time.process_time(), time.perf_counter()
    got = fetch(keys)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"client": client, "concurrency": concurrency, "gets": len(keys), "bytes": got,
            "wall_s": round(wall, 3), "gets_per_s": round(len(keys) / wall, 1),
            "client_cpu_ms_per_get": round(cpu * 1000 / len(keys), 3),
            **{f"{name}_cpu_ms_per_get": round((_cpu_of(pid) - other_cpu[name]) * 1000 / len(keys), 3)
               for name, pid in others.items()},
            "load_1m_before": round(load, 2), "load_1m_after": round(os.getloadavg()[0], 2)}


def best(rows: list[dict]) -> list[dict]:
    """Per (delay, client, concurrency): the fastest round's GETs/s and the least CPU per GET."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["delay_ms"], row["client"], row["concurrency"]), []).append(row)
    return [{"delay_ms": d, "client": c, "concurrency": n,
             "gets_per_s": max(r["gets_per_s"] for r in group),
             "client_cpu_ms_per_get": min(r["client_cpu_ms_per_get"] for r in group),
             "emulator_cpu_ms_per_get": min(r["emulator_cpu_ms_per_get"] for r in group),
             "rounds": len(group)}
            for (d, c, n), group in groups.items()]


def table(summary: list[dict]) -> str:
    by_key = {(r["client"], r["concurrency"], r["delay_ms"]): r for r in summary}
    delays = sorted({r["delay_ms"] for r in summary})
    lines = ["| client | in flight | " + " | ".join(
        f"GETs/s at {d:g} ms | client CPU ms/GET at {d:g} ms" for d in delays) + " |",
             "|---|---|" + "---|---|" * len(delays)]
    for client, n in dict.fromkeys((r["client"], r["concurrency"]) for r in summary):
        cells = []
        for d in delays:
            row = by_key.get((client, n, d))
            cells += [f"{row['gets_per_s']:,.0f}", f"{row['client_cpu_ms_per_get']:.2f}"] \
                if row else ["", ""]
        lines.append(f"| {client} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=3000)
    parser.add_argument("--concurrency", default="8,32,64")
    parser.add_argument("--delays-ms", default="0,30")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--out", type=Path,
                        help="the JSON file (default benchmarks/results/gets-<UTC date>-<short sha>.json)")
    parser.add_argument("--summary", type=Path, metavar="RESULTS_JSON",
                        help="print the table of an earlier run's file and exit")
    args = parser.parse_args(argv)
    if args.summary:
        print(table(json.loads(args.summary.read_text())["summary"]))
        return 0
    from sparkify.local.emulator import S3Emulator

    levels = [int(n) for n in args.concurrency.split(",")]
    delays = [float(d) for d in args.delays_ms.split(",")]
    clients = [c.strip() for c in args.clients.split(",")]
    rows: list[dict] = []
    about_machine, commit = machine(), git_commit()
    with S3Emulator() as emulator:
        started = time.perf_counter()
        keys = seed(emulator.endpoint_url, args.objects)
        print(f"{len(keys)} song objects put in {time.perf_counter() - started:.1f}s; "
              f"load average {os.getloadavg()}", flush=True)
        proxies = {d: DelayProxy(emulator.port, d) for d in delays if d > 0}
        try:
            for number in range(args.rounds):
                for delay in delays:
                    proxy = proxies.get(delay)
                    endpoint = f"http://127.0.0.1:{proxy.port}" if proxy else emulator.endpoint_url
                    others = {"emulator": emulator.pid,
                              **({"proxy": proxy.pid} if proxy else {})}
                    for client in clients:
                        for n in levels:
                            row = {"round": number + 1, "delay_ms": delay,
                                   **measure(client, endpoint, keys, n, others)}
                            rows.append(row)
                            print(json.dumps(row), flush=True)
        finally:
            for proxy in proxies.values():
                proxy.stop()
    summary = best(rows)
    print(table(summary))
    about_machine["load_average_after"] = os.getloadavg()
    out = args.out or results_path(RESULTS_DIR, commit["sha"], prefix="gets-")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": about_machine, "commit": commit, "objects": len(keys),
                               "targets": TARGETS, "summary": summary, "rounds": rows}, indent=1) + "\n")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
