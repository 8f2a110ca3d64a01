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
from sparkify.local.s3_server import plain_object

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
