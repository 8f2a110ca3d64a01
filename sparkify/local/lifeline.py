"""Child processes that end when the process that started them dies, by any signal.

The parent keeps the write end of a pipe and the child inherits the read end; when the parent
dies (`kill -9` included) the kernel closes the write end and the child's read returns: the
child stops itself. Linux's PR_SET_PDEATHSIG would fire when the *thread* that started the
child ends, which in a Prefect run may be a task's worker thread, and exists on Linux only.
A process forked from the parent (not exec'd) would hold the write end too; the run forks none.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

LIFELINE_ENV = "SPARKIFY_LIFELINE_FD"
GRACE_SECONDS = 5.0  # after SIGTERM, before the child ends itself the hard way


class Lifeline:
    """The parent's end: `popen` starts a child that ends with this process (or at `close`)."""

    def __init__(self) -> None:
        self._write_end: int | None = None

    def popen(self, command: list[str], env: dict[str, str], **kwargs) -> subprocess.Popen:
        read_end, write_end = os.pipe()  # neither end inheritable: only the child gets one
        try:
            process = subprocess.Popen(command, env={**env, LIFELINE_ENV: str(read_end)},
                                       pass_fds=(read_end, *kwargs.pop("pass_fds", ())), **kwargs)
        except BaseException:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)
        self._write_end = write_end
        return process

    def close(self) -> None:
        """Let go of the child: it stops itself now if it still runs."""
        if self._write_end is not None:
            os.close(self._write_end)
            self._write_end = None


def end_with_parent() -> None:
    """In a child started by `Lifeline.popen`: SIGTERM to this process when the parent is gone
    (then, if it is still running GRACE_SECONDS later, exit). Nothing for another parent."""
    read_end = os.environ.pop(LIFELINE_ENV, None)
    if read_end is None:
        return

    def watch() -> None:
        try:
            while os.read(int(read_end), 1):  # b"" at end of file: no writer is left
                pass
        except OSError:
            pass
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(GRACE_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()
