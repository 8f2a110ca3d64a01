"""An iterator's items made by a thread of its own, a few ahead of the reader."""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import TypeVar

T = TypeVar("T")
_END = object()


def read_ahead(items: Generator[T, None, None], depth: int, name: str) -> Iterator[T]:
    """The items of `items`, in order, made up to `depth` ahead by a thread: staging's
    parsing (compiled, without the GIL) runs while the reader waits on PostgreSQL taking the
    previous chunk. An error in the thread is raised here; closing this stops the thread after
    the item it is making, and `items` is closed in the thread that ran it."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand_over(entry: tuple) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def make() -> None:
        try:
            for item in items:
                if not hand_over((item, None)):
                    return
            hand_over((_END, None))
        except BaseException as exc:  # noqa: BLE001 (the reader raises it)
            hand_over((_END, exc))
        finally:
            items.close()

    thread = threading.Thread(target=make, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item, error = ready.get()
            if item is _END:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        thread.join()
