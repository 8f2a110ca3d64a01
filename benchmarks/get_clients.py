"""The S3 clients `benchmarks/gets.py` compares, each fetching a list of keys with a given
number of requests in flight and returning the bytes it read.

Each is built once per measurement (`make(endpoint, bucket, concurrency)` returns a function of
the keys), so that connection pools and signers are set up before the clock starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from sparkify.local.emulator import EMULATOR_REGION

ACCESS_KEY = SECRET_KEY = "emulator"
Fetch = Callable[[Sequence[str]], int]


def boto3_threads(endpoint: str, bucket: str, concurrency: int) -> Fetch:
    """boto3's get_object on a thread pool (what S3ObjectStore.read does), one pool slot a thread."""
    import boto3
    from botocore.config import Config

    from sparkify.aws.session import AWS_CONFIG

    session = boto3.session.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    client = session.client("s3", region_name=EMULATOR_REGION, endpoint_url=endpoint,
                            config=AWS_CONFIG.merge(Config(max_pool_connections=concurrency)))

    def get(key: str) -> int:
        return len(client.get_object(Bucket=bucket, Key=key)["Body"].read())

    return _threaded(get, concurrency)


def urllib3_signed(endpoint: str, bucket: str, concurrency: int) -> Fetch:
    """urllib3's PoolManager on a thread pool, each GET signed by botocore's S3 SigV4 signer."""
    import urllib3
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    signer = S3SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", EMULATOR_REGION)
    pool = urllib3.PoolManager(maxsize=concurrency, block=True, retries=False)

    def get(key: str) -> int:
        request = AWSRequest(method="GET", url=f"{endpoint}/{bucket}/{key}")
        signer.add_auth(request)
        response = pool.request("GET", request.url, headers=dict(request.headers.items()))
        if response.status != 200:
            raise OSError(f"GET {key}: HTTP {response.status}")
        return len(response.data)

    return _threaded(get, concurrency)


def _obstore(endpoint: str, bucket: str, concurrency: int):
    from obstore.store import S3Store

    def credentials() -> dict:
        return {"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY, "token": None,
                "expires_at": None}

    return S3Store(bucket, endpoint=endpoint, region=EMULATOR_REGION,
                   virtual_hosted_style_request=False, credential_provider=credentials,
                   client_options={"allow_http": True,
                                   "pool_max_idle_per_host": str(concurrency)})


def obstore_async(endpoint: str, bucket: str, concurrency: int) -> Fetch:
    """obstore's get_async on one asyncio loop, at most `concurrency` GETs in flight."""
    import obstore

    store = _obstore(endpoint, bucket, concurrency)

    async def fetch_all(keys: Sequence[str]) -> int:
        gate = asyncio.Semaphore(concurrency)

        async def get(key: str) -> int:
            async with gate:
                result = await obstore.get_async(store, key)
                return len(await result.bytes_async())

        return sum(await asyncio.gather(*(get(key) for key in keys)))

    return lambda keys: asyncio.run(fetch_all(keys))


def obstore_threads(endpoint: str, bucket: str, concurrency: int) -> Fetch:
    """obstore's blocking get (it releases the GIL) on a thread pool."""
    import obstore

    store = _obstore(endpoint, bucket, concurrency)
    return _threaded(lambda key: len(obstore.get(store, key).bytes()), concurrency)


def sparkify_store(endpoint: str, bucket: str, concurrency: int) -> Fetch:
    """What a load does: the store Runtime.store() picks, through the loader's fetch_in_order."""
    from sparkify.aws.obstore_reads import ObstoreS3Store
    from sparkify.local.emulator import emulator_session
    from sparkify.staging.loader import fetch_in_order
    from sparkify.store import SourceObject

    store = ObstoreS3Store(EMULATOR_REGION, endpoint, emulator_session())

    def fetch_all(keys: Sequence[str]) -> int:
        objects = [SourceObject(bucket, key, "", 300) for key in keys]
        return sum(len(body) for _, body in fetch_in_order(store, objects, workers=concurrency))

    return fetch_all


def _threaded(get: Callable[[str], int], concurrency: int) -> Fetch:
    def fetch_all(keys: Sequence[str]) -> int:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            return sum(pool.map(get, keys))

    return fetch_all


CLIENTS: dict[str, Callable[[str, str, int], Fetch]] = {
    "boto3 threads": boto3_threads,
    "urllib3 + SigV4 threads": urllib3_signed,
    "obstore async": obstore_async,
    "obstore threads": obstore_threads,
    "sparkify store (fetch_in_order)": sparkify_store,
}
