"""Helpers for the stand-in's tests: a session as the Redshift engine opens one, S3 objects."""

from __future__ import annotations

import uuid

import orjson

from sparkify.local.emulator import EMULATOR_REGION, emulator_session
from sparkify.local.standin.session import StandInSession, connect


def s3_client(endpoint: str):
    return emulator_session().client("s3", endpoint_url=endpoint, region_name=EMULATOR_REGION)


def new_bucket(endpoint: str) -> str:
    name = f"b-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": EMULATOR_REGION})
    return name


def put(endpoint: str, bucket: str, key: str, body: bytes | list) -> str:
    if isinstance(body, list):
        body = b"".join((line if isinstance(line, bytes) else orjson.dumps(line)) + b"\n"
                        for line in body)
    s3_client(endpoint).put_object(Bucket=bucket, Key=key, Body=body)
    return f"s3://{bucket}/{key}"


def session(db, endpoint: str):
    """A stand-in session as the strict login, autocommit off (as the engine's)."""
    return connect(db.login_url(db.issue_password(600)),
                   StandInSession(s3_client(endpoint), EMULATOR_REGION))


def copy_sql(table: str, columns: str, source: str, json_option: str = "auto ignorecase",
             extra: str = "", max_errors: int = 0) -> str:
    return (f"COPY {table} ({columns}) FROM '{source}' IAM_ROLE 'arn:aws:iam::0:role/r' "
            f"FORMAT AS JSON '{json_option}' {extra} REGION '{EMULATOR_REGION}' "
            f"COMPUPDATE OFF STATUPDATE OFF MAXERROR {max_errors}")
