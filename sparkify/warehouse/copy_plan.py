"""What Redshift's staging COPYs read and with which options: prefixes, manifests, one COPY per
compression kind, and the values of the COPY files' placeholders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from sparkify.sqllib import quote_redshift_literal
from sparkify.staging.compression import KINDS, PLAIN, Compression, compression_of
from sparkify.store import SourceObject

NO_MANIFEST = "-- no MANIFEST: COPY loads every object under the prefix"
NOT_COMPRESSED = "-- not compressed (.json)"


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
        "max_errors": str(int(max_errors)),
    }


def manifest_document(objects: Sequence[SourceObject]) -> bytes:
    """A COPY manifest of exactly these objects; a missing one fails the load."""
    entries = [{"url": obj.uri, "mandatory": True} for obj in objects]
    return orjson.dumps({"entries": entries}, option=orjson.OPT_INDENT_2)


def by_compression(objects: Sequence[SourceObject]) -> list[tuple[Compression, list[SourceObject]]]:
    """The objects grouped by compression kind (one COPY each), kinds in a fixed order."""
    groups = {kind: [obj for obj in objects if compression_of(obj.key) is kind] for kind in KINDS}
    return [(kind, group) for kind, group in groups.items() if group]
