"""ObstoreS3Store against the local S3 emulator (moto's server): reads, streams, the same one-line
errors as boto3's S3ObjectStore, which of them are retried, and the session's credentials."""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.credentials import RefreshableCredentials

from sparkify.aws.obstore_reads import CREDENTIALS_TTL, ObstoreS3Store, SessionCredentials
from sparkify.aws.s3 import S3ObjectStore
from sparkify.errors import SourceError, is_transient
from sparkify.local.emulator import EMULATOR_REGION, S3Emulator, emulator_session, free_port
from sparkify.staging.loader import fetch_in_order
from sparkify.store import S3Location

BUCKET = "reads-bucket"
SONG = b'{"num_songs": 1, "artist_id": "ARD7TVE1187B99BFB1", "title": "A song"}'
BIG = b"".join(b'{"line": %d, "pad": "%s"}\n' % (i, b"x" * 200) for i in range(20_000))


@pytest.fixture(scope="module")
def emulator():
    with S3Emulator() as running:
        boto = S3ObjectStore(EMULATOR_REGION, running.endpoint_url, emulator_session())
        boto._create_bucket(BUCKET)
        for number in range(40):
            boto.put(BUCKET, f"song_data/A/TR{number:03d}.json", SONG + b"%d" % number,
                     "application/json")
        boto.put(BUCKET, "big/events.json", BIG, "application/json")
        boto.put(BUCKET, "big/events.json.gz", gzip.compress(BIG), "application/gzip")
        yield running


def _stores(endpoint: str, session=None):
    session = session or emulator_session()
    return (ObstoreS3Store(EMULATOR_REGION, endpoint, session),
            S3ObjectStore(EMULATOR_REGION, endpoint, session))


def _error(read) -> SourceError:
    with pytest.raises(SourceError) as raised:
        read()
    return raised.value


def test_reads_and_streams_what_boto3_reads(emulator):
    fast, boto = _stores(emulator.endpoint_url)
    assert fast.read(BUCKET, "song_data/A/TR007.json") == SONG + b"7"
    pieces = list(fast.stream(BUCKET, "big/events.json", chunk_size=1 << 20))
    assert len(pieces) > 1 and all(isinstance(piece, bytes) for piece in pieces)
    assert b"".join(pieces) == BIG == boto.read(BUCKET, "big/events.json")


def test_fetches_many_objects_in_order_with_listing_on_boto3(emulator):
    fast, _ = _stores(emulator.endpoint_url)
    objects = fast.list_objects(S3Location(BUCKET), suffix=(".json", ".json.gz"))
    texts = {obj.key: body for obj, body in fetch_in_order(fast, objects)}
    assert list(texts) == [obj.key for obj in objects]
    assert texts["big/events.json.gz"] == BIG  # decompressed while it streams in
    assert texts["song_data/A/TR039.json"] == SONG + b"39"


@pytest.mark.parametrize("bucket, key", [(BUCKET, "song_data/missing.json"),
                                         ("no-such-bucket", "song_data/A/TR001.json")])
def test_a_missing_object_is_boto3s_one_line_error_and_not_retried(emulator, bucket, key):
    fast, boto = _stores(emulator.endpoint_url)
    error = _error(lambda: fast.read(bucket, key))
    assert str(error) == str(_error(lambda: boto.read(bucket, key)))
    assert str(error).startswith(f"cannot read s3://{bucket}/{key}: NoSuch")
    assert "\n" not in str(error) and not is_transient(error)
    assert str(_error(lambda: list(fast.stream(bucket, key)))) == str(error)


def test_an_unreachable_endpoint_is_one_line_and_transient():
    fast, boto = _stores(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    error = _error(lambda: fast.read(BUCKET, "song_data/A/TR001.json"))
    assert str(error) == str(_error(lambda: boto.read(BUCKET, "song_data/A/TR001.json")))
    assert "Could not connect to the endpoint URL" in str(error)
    assert "\n" not in str(error) and is_transient(error)
    assert is_transient(_error(lambda: list(fast.stream(BUCKET, "song_data/A/TR001.json"))))


def test_refused_credentials_are_one_line_and_not_retried(monkeypatch):
    monkeypatch.setenv("INITIAL_NO_AUTH_ACTION_COUNT", "0")  # moto checks every request's key
    with S3Emulator() as checking:
        fast, boto = _stores(checking.endpoint_url)
        error = _error(lambda: fast.read(BUCKET, "song_data/A/TR001.json"))
        assert str(error) == str(_error(lambda: boto.read(BUCKET, "song_data/A/TR001.json")))
    assert "InvalidAccessKeyId" in str(error)
    assert "\n" not in str(error) and not is_transient(error)


def test_a_session_with_a_token_reads(emulator):
    session = boto3.session.Session(aws_access_key_id="temporary", aws_secret_access_key="secret",
                                    aws_session_token="token-1", region_name=EMULATOR_REGION)
    fast, _ = _stores(emulator.endpoint_url, session)
    assert fast.read(BUCKET, "song_data/A/TR001.json") == SONG + b"1"
    assert SessionCredentials(session.get_credentials())() == {
        "access_key_id": "temporary", "secret_access_key": "secret", "token": "token-1",
        "expires_at": None}


def test_temporary_credentials_are_refreshed_as_botocore_refreshes_them():
    issued = []

    def refresh() -> dict:
        issued.append(f"token-{len(issued) + 1}")
        expiry = datetime.now(timezone.utc) + timedelta(hours=1)
        return {"access_key": "AKIA", "secret_key": "secret", "token": issued[-1],
                "expiry_time": expiry.isoformat()}

    soon = (datetime.now(timezone.utc) + timedelta(minutes=5)).isoformat()  # inside botocore's window
    credentials = RefreshableCredentials.create_from_metadata(
        {"access_key": "AKIA", "secret_key": "secret", "token": "token-0", "expiry_time": soon},
        refresh_using=refresh, method="test")
    provided = SessionCredentials(credentials)()
    assert provided["token"] == "token-1"
    assert provided["expires_at"] <= datetime.now(timezone.utc) + CREDENTIALS_TTL


def test_goes_where_boto3_goes_with_aws_endpoint_url(emulator, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator.endpoint_url)  # no endpoint_url given
    fast = ObstoreS3Store(EMULATOR_REGION, session=emulator_session())
    assert fast.read(BUCKET, "song_data/A/TR002.json") == SONG + b"2"
