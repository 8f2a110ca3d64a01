"""Which source objects load, by extension, and how each kind is decompressed.

The one definition of the loadable extensions: discovery lists them, the client-side loader
decompresses them as it reads, and Redshift's COPY gets the matching option (GZIP, ZSTD, BZIP2).
Any other object under a source prefix is not loaded.
"""

from __future__ import annotations

import bz2
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from sparkify.errors import SourceError


@dataclass(frozen=True)
class Compression:
    name: str  # what the messages and the dry run call it
    suffix: str  # the key's ending
    copy_option: str  # Redshift COPY's option ("" for plain JSON)

    def decompressor(self):
        """A fresh streaming decompressor: `.decompress(piece)` for each piece, in order."""
        return _DECOMPRESSORS[self.name]()


PLAIN = Compression("plain", ".json", "")
GZIP = Compression("gzip", ".json.gz", "GZIP")
ZSTD = Compression("zstd", ".json.zst", "ZSTD")
BZIP2 = Compression("bzip2", ".json.bz2", "BZIP2")
KINDS = (PLAIN, GZIP, ZSTD, BZIP2)
LOADABLE_SUFFIXES = tuple(kind.suffix for kind in KINDS)  # for str.endswith
SUFFIX_PATTERN = "(?:" + "|".join(s.replace(".", r"\.") for s in LOADABLE_SUFFIXES) + ")"


def compression_of(key: str) -> Compression:
    """The kind of a loadable key; a SourceError for any other key."""
    for kind in KINDS:
        if key.endswith(kind.suffix):
            return kind
    raise SourceError(f"{key}: not a loadable object (expected one of "
                      f"{', '.join(LOADABLE_SUFFIXES)})")


def decompressed(pieces: Iterable[bytes], kind: Compression, where: str) -> bytes:
    """The object's text from its pieces as they arrive, decompressed as they come in
    (a plain object is joined as it is). A corrupt or truncated object is a one-line error."""
    if kind is PLAIN:
        return b"".join(pieces)
    out: list[bytes] = []
    decompressor = kind.decompressor()
    try:
        for piece in pieces:
            out.append(decompressor.decompress(piece))
        out.append(decompressor.finish())
    except (OSError, EOFError, ValueError, zlib.error, _zstd_error()) as exc:
        raise SourceError(f"cannot decompress {where} as {kind.name}: "
                          f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    return b"".join(out)


def _zstd_error() -> type[Exception]:
    import zstandard

    return zstandard.ZstdError


class _Members:
    """One streaming decompressor over concatenated members (multi-member gzip, multi-stream
    bzip2, multi-frame zstd: what concatenating compressed files gives), each decoded whole;
    `finish` fails when the data stops inside a member."""

    def __init__(self, new_member) -> None:
        self._new_member = new_member
        self._inner = new_member()
        self._inside = False

    def decompress(self, data: bytes) -> bytes:
        out = []
        while data:
            self._inside = True
            out.append(self._inner.decompress(data))
            if not self._inner.eof:
                break
            data, self._inner, self._inside = self._inner.unused_data, self._new_member(), False
        return b"".join(out)

    def finish(self) -> bytes:
        if self._inside:
            raise EOFError("the compressed data ends inside its last member (truncated?)")
        return b""


def _zstd_member():
    import zstandard

    return zstandard.ZstdDecompressor().decompressobj()


_DECOMPRESSORS = {
    "gzip": lambda: _Members(lambda: zlib.decompressobj(wbits=47)),  # 32 + 15: a gzip header
    "bzip2": lambda: _Members(bz2.BZ2Decompressor),
    "zstd": lambda: _Members(_zstd_member),
}

