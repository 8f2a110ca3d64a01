"""A failed Redshift COPY in words a user can act on: which permission, region or file is wrong.

Redshift's own messages name an S3 exception or a JSONPath rule; each pattern below is one
cause, with what to do about it. Anything else keeps Redshift's first line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sparkify.aws.provision.iam import REDSHIFT_PRINCIPALS


@dataclass(frozen=True)
class CopyContext:
    table: str
    source: str  # the prefix or manifest COPY read
    role: str
    region: str
    jsonpaths: str = ""


_ROLE = re.compile(r"not authorized to (get credentials of|assume IAM) role", re.IGNORECASE)
_DENIED = re.compile(r"S3ServiceException:\s*Access Denied|Status 403", re.IGNORECASE)
_REGION = re.compile(r"PermanentRedirect|Status 301|must be addressed using the specified "
                     r"endpoint|bucket is in this region", re.IGNORECASE)
_JSONPATHS = re.compile(r"JSONPath|jsonpaths", re.IGNORECASE)


def explain(message: str, context: CopyContext) -> str | None:
    """One line naming the cause of a failed COPY, or None when it is none of the known ones."""
    where = f"COPY {context.table} from {context.source}"
    if _ROLE.search(message):
        return (f"{where}: Redshift cannot use the IAM role {context.role}: attach it to the "
                f"cluster or namespace and let it trust {' and '.join(REDSHIFT_PRINCIPALS)} "
                "(flows/provision.py does both)")
    if _DENIED.search(message):
        return (f"{where}: access denied: the IAM role {context.role} needs s3:GetObject and "
                "s3:ListBucket on the source bucket (flows/provision.py grants them; "
                "S3_POLICY = managed grants read on every bucket)")
    if _REGION.search(message):
        return (f"{where}: the bucket is not in region {context.region}: set [S3] REGION to the "
                "bucket's region (COPY's REGION; the JSONPaths file and MANIFEST_PREFIX must be "
                "in that region too)")
    if context.jsonpaths and _JSONPATHS.search(message):
        reason = re.split(r"(?i)\berror:\s*", message)[-1].strip()
        return (f"{where}: the JSONPaths file {context.jsonpaths} is invalid ({reason}): it "
                "must be {\"jsonpaths\": [...]} with one '$.key' per staging column")
    return None
