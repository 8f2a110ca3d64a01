"""The local S3 emulator's plain-GET path answers as moto's own S3 handler does.

A real emulator process (sparkify.local.s3_server); requests signed by botocore's SigV4. The
fast path serves a plain GET; the same GET with an `If-Match` of the object's own ETag is not
plain, so moto answers it: the two answers must be the same but for the request id.
"""

from __future__ import annotations

import http.client

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from sparkify.local.emulator import S3Emulator, emulator_session
from sparkify.local.s3_server import plain_listing, plain_object

BUCKET = "fast-gets"
PER_REQUEST = {"date", "server", "x-amzn-requestid"}


@pytest.fixture(scope="module")
def emulator():
    with S3Emulator() as emu:
        session = emulator_session()
        s3 = session.client("s3", endpoint_url=emu.endpoint_url)
        s3.create_bucket(Bucket=BUCKET,
                         CreateBucketConfiguration={"LocationConstraint": s3.meta.region_name})
        s3.put_object(Bucket=BUCKET, Key="song_data/A/x y+é.json", Body=b'{"a": 1}\n')
        s3.put_object(Bucket=BUCKET, Key="typed.json", Body=b"{}", ContentType="application/json",
                      Metadata={"owner": "sparkify"})
        yield emu, session, s3.meta.region_name


def get(emulator, path: str, headers: dict | None = None, signed: bool = True):
    emu, session, region = emulator
    request = AWSRequest("GET", emu.endpoint_url + path, headers=dict(headers or {}))
    if signed:
        SigV4Auth(session.get_credentials(), "s3", region).add_auth(request)
    conn = http.client.HTTPConnection(emu.endpoint_url.split("//")[1], timeout=10)
    try:
        conn.request("GET", path, headers=dict(request.headers.items()))
        answer = conn.getresponse()
        headers = {k.lower(): v for k, v in answer.getheaders()}
        return answer.status, headers, answer.read()
    finally:
        conn.close()


def without_per_request(headers: dict) -> dict:
    return {k: v for k, v in headers.items() if k not in PER_REQUEST}


@pytest.mark.parametrize("path", ["/fast-gets/song_data/A/x%20y%2B%C3%A9.json", "/fast-gets/typed.json"])
def test_a_plain_get_is_answered_as_moto_answers_it(emulator, path):
    status, headers, body = get(emulator, path)
    moto_status, moto_headers, moto_body = get(emulator, path, {"If-Match": headers["etag"]})
    assert (status, body) == (moto_status, moto_body) == (200, moto_body)
    assert without_per_request(headers) == without_per_request(moto_headers)
    assert len(headers["x-amzn-requestid"]) == len(moto_headers["x-amzn-requestid"])


def test_what_is_not_a_plain_get_of_a_stored_object_goes_to_moto(emulator):
    status, _, body = get(emulator, "/fast-gets/missing.json")
    assert status == 404 and b"<Code>NoSuchKey</Code>" in body
    status, headers, body = get(emulator, "/fast-gets/typed.json", {"Range": "bytes=0-0"})
    assert (status, body, headers["content-range"]) == (206, b"{", "bytes 0-0/2")
    assert get(emulator, "/fast-gets/typed.json", signed=False)[0] == 403


def _scope(path="/b/k.json", query=b"", **headers) -> dict:
    return {"method": "GET", "path": path, "query_string": query,
            "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in
                        {"host": "127.0.0.1:9000", "authorization": "AWS4-HMAC-SHA256 Credential=x",
                         **headers}.items()]}


def test_only_a_signed_path_style_get_without_query_range_or_condition_is_plain():
    assert plain_object(_scope()) == ("b", "k.json")
    assert plain_object(_scope(path="/b/song_data/A/k.json")) == ("b", "song_data/A/k.json")
    assert plain_object(_scope(query=b"versionId=1")) is None
    assert plain_object(_scope(range="bytes=0-1")) is None
    assert plain_object(_scope(if_none_match='"x"')) is None
    assert plain_object(_scope(host="b.localhost:9000")) is None  # virtual-hosted: moto decides
    assert plain_object(_scope(authorization="")) is None
    assert plain_object(_scope(path="/b")) is None
    assert plain_object({**_scope(), "method": "HEAD"}) is None


# ---- listings -------------------------------------------------------------------------------

LISTED = "listed"


@pytest.fixture(scope="module")
def listed(emulator):
    """A bucket of 7 keys, odd characters included, for pages of 3."""
    emu, session, region = emulator
    s3 = session.client("s3", endpoint_url=emu.endpoint_url)
    s3.create_bucket(Bucket=LISTED, CreateBucketConfiguration={"LocationConstraint": region})
    for key in ("song_data/a b.json", "song_data/x&y<z>.json", "song_data/é+ü.json",
                "song_data/A/1.json", "song_data/A/2.json", "log_data/1.json", "top.json"):
        s3.put_object(Bucket=LISTED, Key=key, Body=b"{}")
    return s3


def pages(emulator, query: str, moto: bool) -> list[bytes]:
    """The bodies of every page of a listing, following its continuation tokens."""
    import re
    from urllib.parse import quote

    bodies, token = [], None
    while True:
        path = f"/{LISTED}?{query}" + (f"&continuation-token={quote(token, safe='')}" if token else "")
        status, headers, body = get(emulator, path + ("&start-after=" if moto else ""))
        assert status == 200 and headers["content-type"] == "application/xml"
        bodies.append(body)
        found = re.search(rb"<NextContinuationToken>(.*?)</NextContinuationToken>", body)
        if not found:
            return bodies
        token = found.group(1).decode()


@pytest.mark.parametrize("query", ["list-type=2&prefix=song_data%2F&max-keys=3&encoding-type=url",
                                   "list-type=2&max-keys=3", "list-type=2&prefix=none%2F",
                                   "list-type=2&prefix=song_data%2F%C3%A9&encoding-type=url"])
def test_a_plain_listing_is_answered_as_moto_answers_it(emulator, listed, query):
    """The same listing with an empty start-after (which moto ignores) goes to moto."""
    fast, moto = pages(emulator, query, moto=False), pages(emulator, query, moto=True)
    assert [b.decode() for b in fast] == [b.decode() for b in moto]


def test_boto3_pages_through_the_fast_listing(listed):
    paginator = listed.get_paginator("list_objects_v2")
    keys = [item["Key"] for page in paginator.paginate(Bucket=LISTED, Prefix="song_data/",
                                                       PaginationConfig={"PageSize": 2})
            for item in page["Contents"]]
    assert keys == ["song_data/A/1.json", "song_data/A/2.json", "song_data/a b.json",
                    "song_data/x&y<z>.json", "song_data/é+ü.json"]


def test_only_a_plain_listing_takes_the_fast_path():
    assert plain_listing(_scope(path="/b", query=b"list-type=2&prefix=a%2F")) == \
        ("b", {"list-type": "2", "prefix": "a/"})
    assert plain_listing(_scope(path="/b", query=b"prefix=a")) is None  # ListObjects (v1)
    assert plain_listing(_scope(path="/b", query=b"list-type=2&delimiter=%2F")) is None
    assert plain_listing(_scope(path="/b", query=b"list-type=2&fetch-owner=true")) is None
    assert plain_listing(_scope(path="/b", query=b"list-type=2&prefix=a+b")) is None
    assert plain_listing(_scope(path="/b", query=b"list-type=2&max-keys=x")) is None
    assert plain_listing(_scope(path="/b/k", query=b"list-type=2")) is None
    assert plain_listing(_scope(path="/b", query=b"list-type=2", authorization="")) is None


def test_the_fast_listing_is_written_here_not_by_moto():
    """In this process, against moto's backend: listing_body answers (it does not hand the
    request to moto), and with moto's own bytes for the same pages."""
    import boto3
    from moto import mock_aws

    from sparkify.local.s3_server import listing_body

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=LISTED)
        for number in range(5):
            s3.put_object(Bucket=LISTED, Key=f"song_data/{number} &.json", Body=b"{}")
        bodies: list[bytes] = []
        s3.meta.events.register("before-parse.s3.ListObjectsV2",
                                lambda response_dict, **_: bodies.append(response_dict["body"]))
        first = s3.list_objects_v2(Bucket=LISTED, Prefix="song_data/", MaxKeys=3)
        s3.list_objects_v2(Bucket=LISTED, Prefix="song_data/", MaxKeys=3,
                           ContinuationToken=first["NextContinuationToken"])
        parameters = {"list-type": "2", "prefix": "song_data/", "max-keys": "3",
                      "encoding-type": "url"}
        assert listing_body(LISTED, parameters) == bodies[0]
        assert listing_body(LISTED, {**parameters, "continuation-token":
                                     first["NextContinuationToken"]}) == bodies[1]
        assert listing_body(LISTED, {**parameters, "continuation-token": "unknown"}) is None
        assert listing_body("no-such-bucket", parameters) is None
