"""What Redshift's staging COPYs read and with which options: prefixes, manifests, one COPY per
compression kind, and the values of the COPY files' placeholders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from sparkify.errors import ConfigError
from sparkify.sqllib import quote_redshift_literal
from sparkify.staging.compression import KINDS, PLAIN, Compression, compression_of
from sparkify.store import SourceObject

NO_MANIFEST = "-- no MANIFEST: COPY loads every object under the prefix"
NOT_COMPRESSED = "-- not compressed (.json)"
# COPY's MAXERROR n: the load fails once it returns n errors or more, 0 and 1 both fail at the
# first error, and n is at most 100000
# (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-load.html#copy-maxerror).
MAXERROR_LIMIT = 100_000
MAX_TOLERATED = MAXERROR_LIMIT - 1  # the most --max-errors a COPY can tolerate


@dataclass(frozen=True)
class CopySource:
    """What one COPY reads: a prefix or a manifest, of objects of one compression kind."""

    uri: str
    manifest: bool
    kind: Compression


def prefix_uri(uri: str) -> str:
    """A COPY prefix ends in '/', so log_data never also matches log_data_old/."""
    return uri.rstrip("/") + "/"


def manifest_uri(manifest_prefix: str, run_id: str, table: str, kind: Compression = PLAIN) -> str:
    name = table if kind is PLAIN else f"{table}.{kind.name}"
    return f"{manifest_prefix.rstrip('/')}/{run_id}/{name}.manifest"


def copy_params(*, source: str, manifest: bool, role: str, region: str, jsonpaths: str,
                max_errors: int, compression: Compression = PLAIN) -> dict[str, str]:
    """The values of a staging COPY file's placeholders, as Redshift literals."""
    return {
        "source": quote_redshift_literal(source),
        "manifest": "MANIFEST" if manifest else NO_MANIFEST,
        "compression": compression.copy_option or NOT_COMPRESSED,
        "role_arn": quote_redshift_literal(role),
        "region": quote_redshift_literal(region),
        "jsonpaths": quote_redshift_literal(jsonpaths),
        "max_errors": str(maxerror(max_errors)),
    }


def maxerror(max_errors: int) -> int:
    """COPY's MAXERROR that tolerates exactly `max_errors` rejected records, as --max-errors
    does on PostgreSQL: MAXERROR N fails at N errors, so N + 1 (and 0 for none)."""
    if not 0 <= max_errors <= MAX_TOLERATED:
        raise ConfigError(f"--max-errors {max_errors}: at most {MAX_TOLERATED} on Redshift, whose "
                          f"COPY fails at MAXERROR errors and takes MAXERROR up to "
                          f"{MAXERROR_LIMIT}")
    return max_errors + 1 if max_errors else 0


def manifest_document(objects: Sequence[SourceObject]) -> bytes:
    """A COPY manifest of exactly these objects; a missing one fails the load."""
    entries = [{"url": obj.uri, "mandatory": True} for obj in objects]
    return orjson.dumps({"entries": entries}, option=orjson.OPT_INDENT_2)


def by_compression(objects: Sequence[SourceObject]) -> list[tuple[Compression, list[SourceObject]]]:
    """The objects grouped by compression kind (one COPY each), kinds in a fixed order."""
    groups = {kind: [obj for obj in objects if compression_of(obj.key) is kind] for kind in KINDS}
    return [(kind, group) for kind, group in groups.items() if group]
