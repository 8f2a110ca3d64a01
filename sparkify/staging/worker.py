"""A parse worker process: `python -c "from sparkify.staging.worker import main; main()"`."""

from __future__ import annotations

import pickle
import sys

from sparkify.staging.lines import python_chunk


def main() -> None:
    """Fed by sparkify.staging.loader over pipes.

    Reads a pickled RowMapper, then (chunk, source) pairs until end of input,
    and answers each with a pickled CopyChunk, in order. The chunks are those the compiled
    parser gave back (or every chunk, without it), so only the Python paths are tried.
    """
    reader, writer = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but results on the pipe
    mapper = pickle.load(reader)
    while True:
        try:
            chunk, source = pickle.load(reader)
        except EOFError:
            return
        pickle.dump(python_chunk(chunk, source, mapper), writer, protocol=5)
        writer.flush()
