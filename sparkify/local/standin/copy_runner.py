"""The stand-in's COPY: reads the S3 emulator as Redshift reads S3, loads PostgreSQL.

With exactly the options the statement carries: a prefix (every key that starts with it) or a
MANIFEST (its entries, a missing mandatory one fails the load); GZIP, ZSTD or BZIP2 (every file
must be of that kind); REGION (a bucket elsewhere fails the load, as S3's redirect does);
FORMAT AS JSON 'auto' | 'auto ignorecase' | a JSONPaths file; MAXERROR: "If the load returns
the error_count number of errors or greater, the load fails"
(https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-load.html). A failed load
raises inside PostgreSQL, so its transaction is aborted as Redshift's is, and leaves its
rejected records in the error views (catalog.py) and its query id to PG_LAST_COPY_ID().
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import zstandard
from botocore.exceptions import ClientError

from sparkify.local.standin import catalog
from sparkify.local.standin.copy_statement import CopyCommand
from sparkify.local.standin.json_records import Column, RecordError, convert, pick, records
from sparkify.local.standin.translate import LastCopy

_DECOMPRESS = {
    "GZIP": gzip.decompress,
    "BZIP2": bz2.decompress,
    "ZSTD": lambda data: zstandard.ZstdDecompressor().stream_reader(
        io.BytesIO(data), read_across_frames=True).read(),
}
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class CopyFailure(Exception):
    """The whole COPY fails, with Redshift's kind of message."""


@dataclass(frozen=True)
class Outcome:
    last_copy: LastCopy
    failure: str = ""  # the message the COPY fails with, if it does


class CopyRun:
    """One COPY of one session: `run(columns_of, load)` loads or says why it failed."""

    def __init__(self, command: CopyCommand, s3, bucket_region: str, session_id: int) -> None:
        self.command = command
        self.s3 = s3
        self.bucket_region = bucket_region
        self.session_id = session_id
        self.query_id = catalog.next_query_id()
        self.started = catalog.now()
        self.rejected: list[catalog.Rejected] = []

    def run(self, columns: tuple[Column, ...], load: Callable[[io.StringIO], int]) -> Outcome:
        try:
            lines = list(self._rows(columns))
        except CopyFailure as failure:
            catalog.record(self.rejected)
            return Outcome(LastCopy(0, self.query_id), str(failure))
        catalog.record(self.rejected)
        if self._over_budget():
            return Outcome(LastCopy(0, self.query_id),
                           f"Load into table '{self.command.table}' failed. Check "
                           "'sys_load_error_detail' system table for details.")
        return Outcome(LastCopy(load(io.StringIO("".join(lines))), self.query_id))

    def _over_budget(self) -> bool:
        return bool(self.rejected) and len(self.rejected) >= self.command.max_errors

    def _rows(self, columns: tuple[Column, ...]) -> Iterator[str]:
        mapping = self._mapping(columns)
        for uri in self._files():
            for record in records(self._body(uri)):
                try:
                    if record.error:
                        raise record.error
                    values = [convert(v, c) for v, c in zip(pick(record.value, columns, mapping),
                                                             columns)]
                except RecordError as error:
                    self._reject(uri, record.line_number, record.raw, error)
                    if self._over_budget():
                        return
                    continue
                yield "\t".join(_copy_text(v) for v in values) + "\n"

    def _reject(self, uri: str, line: int, raw: str, error: RecordError) -> None:
        column = error.column
        self.rejected.append(catalog.Rejected(
            self.query_id, self.session_id, self.command.table, uri, line,
            column.name if column else "", column.kind[:10] if column else "",
            str(column.length or "") if column else "", error.position, error.code, str(error),
            raw.encode("utf-8", "replace").decode(), error.value, self.started))

    # -- S3, as COPY reads it ------------------------------------------------------------

    def _mapping(self, columns: tuple[Column, ...]) -> str | tuple[tuple, ...]:
        option = self.command.json
        if not option.startswith("s3://"):
            return option.lower()
        try:
            document = json.loads(self._get(option))
        except ValueError as exc:
            raise CopyFailure(f"Invalid JSONPath format: {option} is not JSON ({exc})") from None
        if not isinstance(document, dict) or "jsonpaths" not in document:
            return "auto"  # "If the name is any string other than "jsonpaths", COPY uses 'auto'"
        paths = document["jsonpaths"]
        if not isinstance(paths, list) or len(paths) != len(columns):
            raise CopyFailure(f"Number of jsonpaths and the number of columns should match. "
                              f"JSONPath size: {len(paths)}, Number of columns in table or "
                              f"column list: {len(columns)}")
        return tuple(_jsonpath(path) for path in paths)

    def _files(self) -> list[str]:
        if self.command.manifest:
            return self._manifest_entries()
        bucket, prefix = _split(self.command.source)
        self._check_region(bucket)
        keys = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys += [item["Key"] for item in page.get("Contents", [])]
        if not keys:
            raise CopyFailure(f"The specified S3 prefix '{prefix}' does not exist")
        return [f"s3://{bucket}/{key}" for key in sorted(keys)]

    def _manifest_entries(self) -> list[str]:
        try:
            entries = json.loads(self._get(self.command.source))["entries"]
        except (ValueError, KeyError, TypeError) as exc:
            raise CopyFailure(f"Manifest file is not in correct json format: {exc}") from None
        files = []
        for entry in entries:
            url = entry.get("url", "")
            if not url.startswith("s3://"):
                raise CopyFailure(f"COPY with MANIFEST parameter requires full path of an S3 "
                                  f"object: {url!r}")  # error 8001
            if entry.get("mandatory") and not self._exists(url):
                raise CopyFailure(f"Manifest file error: mandatory file {url} not found")
            if self._exists(url):
                files.append(url)
        return files

    def _body(self, uri: str) -> bytes:
        data = self._get(uri)
        if not self.command.compression:
            return data
        try:
            return _DECOMPRESS[self.command.compression](data)
        except Exception as exc:  # every codec has its own errors: each is this file's fault
            raise CopyFailure(f"{uri}: not {self.command.compression} data "
                              f"({type(exc).__name__}: {exc})") from None

    def _get(self, uri: str) -> bytes:
        bucket, key = _split(uri)
        self._check_region(bucket)
        try:
            return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise CopyFailure(f"S3ServiceException:{code} for {uri},Status "
                              f"{exc.response.get('ResponseMetadata', {}).get('HTTPStatusCode')}") \
                from None

    def _exists(self, uri: str) -> bool:
        bucket, key = _split(uri)
        try:
            self.s3.head_object(Bucket=bucket, Key=key)
            return True
        except ClientError:
            return False

    def _check_region(self, bucket: str) -> None:
        if self.command.region and self.command.region != self.bucket_region:
            raise CopyFailure(f"S3ServiceException:The bucket you are attempting to access must "
                              f"be addressed using the specified endpoint (bucket {bucket} is in "
                              f"{self.bucket_region}, not {self.command.region}),Status 301,"
                              "Error PermanentRedirect")


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, float):
        return repr(value)
    return str(value).translate(_COPY_ESCAPES)


def _jsonpath(path: str) -> tuple:
    """`$['a']`, `$["a"]`, `$.a` and `[n]` steps; no wildcards or filters (the JSONPaths page:
    https://docs.aws.amazon.com/redshift/latest/dg/copy-usage_notes-copy-from-json.html)."""
    steps, position = [], 1
    if not isinstance(path, str) or not path.startswith("$"):
        raise CopyFailure(f"Invalid JSONPath format: {path!r}")
    step = re.compile(r"\[\s*'([^']*)'\s*\]|\[\s*\"([^\"]*)\"\s*\]|\[\s*(\d+)\s*\]|\.([A-Za-z_]\w*)")
    while position < len(path):
        match = step.match(path, position)
        if not match:
            raise CopyFailure(f"Invalid JSONPath format: {path!r}")
        single, double, index, dotted = match.groups()
        steps.append(int(index) if index is not None else next(
            s for s in (single, double, dotted) if s is not None))
        position = match.end()
    if not steps:
        raise CopyFailure(f"Invalid JSONPath format: {path!r}")
    return tuple(steps)
