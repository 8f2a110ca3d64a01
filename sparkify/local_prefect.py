"""Prefect settings for local runs: a temporary API server that starts on a busy machine.

With no PREFECT_API_URL, each command (flows/main.py, provision, teardown, validate) starts
its own temporary ("ephemeral") Prefect server as a subprocess on ~/.prefect/prefect.db and
stops it at exit. Prefect waits PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS for it,
default 20 (counted as 0.1 s per health poll: 24 s of wall time at load 10). The start is
almost all Python imports, so it grows with the load (Prefect 3.9.1, 2 cores, wall seconds):

    load 1-7, no busy loops:             5-7 s, up to 18 s  (15 s creating a new prefect.db)
    load 3-4, 2 busy loops on the cores: 14-20 s (33 s new): 2 of 3 ELT runs timed out
    load 7-10, busy loops:               48-88 s (87 s new)

hence 120: with it 6 of 6 ELT runs with both cores busy (load 7-10) and 7 of 8 pairs of
simultaneous runs on one prefect.db finished. The cost: a server that cannot start at all
is reported after 2 minutes instead of 20 s.

Measured and left alone:
- background services: an ephemeral server already runs only the task run recorder (which
  writes the task runs the UI shows: it must stay), the event persister, triggers and the
  event stream; scheduler, late runs, foreman, repossessor, cancellation cleanup and pause
  expirations never start in it. Turning triggers and the event persister off too changed
  neither the start (5-6 s) nor an ELT run's CPU time (23-27 s).
- PREFECT_SERVER_DATABASE_MIGRATE_ON_START=false: no faster, and a new or upgraded
  prefect.db needs the migrations.
- two runs at once on one prefect.db: no "database is locked" (Prefect sets a 60 s SQLite
  busy timeout). But on a brand-new prefect.db both servers migrate it at once; the loser
  exits and Prefect starts it again, which doubles its start: the one failed pair above
  (load 10). Run once alone first, or `prefect server database upgrade -y`.

Every run stays in ~/.prefect/prefect.db, which `prefect server start` serves, with the UI,
at http://127.0.0.1:4200.
"""

from __future__ import annotations

import os

STARTUP_TIMEOUT_SECONDS = "120"


def configure_local_prefect() -> None:
    """Set the defaults above for the temporary server; call it before importing Prefect.

    They are environment defaults: a user's own environment variables win (a value in a
    Prefect profile or prefect.toml does not), and with a PREFECT_API_URL there is no
    temporary server to configure.
    """
    if os.environ.get("PREFECT_API_URL"):
        return
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS",
                          STARTUP_TIMEOUT_SECONDS)
