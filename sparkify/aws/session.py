"""AWS sessions, clients and one-line error text, shared by S3, Redshift and provisioning."""

from __future__ import annotations

import os

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, NoCredentialsError

from sparkify.errors import ConfigError, first_line
from sparkify.secrets import register_secret

CREDENTIALS_BLOCK_ENV = "SPARKIFY_AWS_CREDENTIALS_BLOCK"
# Standard retry mode: exponential backoff with jitter on throttling and transient errors.
AWS_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})
ACCESS_DENIED_CODES = frozenset({
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess",
    "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "AuthFailure",
})


def aws_session() -> boto3.session.Session:
    """The standard credential chain, or the prefect-aws block named by the environment."""
    register_secret(os.environ.get("AWS_SECRET_ACCESS_KEY"))
    block = os.environ.get(CREDENTIALS_BLOCK_ENV, "").strip()
    if not block:
        return boto3.session.Session()
    try:
        from prefect_aws import AwsCredentials

        credentials = AwsCredentials.load(block)
    except Exception as exc:  # noqa: BLE001  (missing block, no Prefect API, no prefect-aws)
        raise ConfigError(f"cannot load the AwsCredentials block '{block}' named by "
                          f"{CREDENTIALS_BLOCK_ENV}: {first_line(exc)}") from None
    if credentials.aws_secret_access_key is not None:
        register_secret(credentials.aws_secret_access_key.get_secret_value())
    return credentials.get_boto3_session()


def aws_client(service: str, region: str):
    """A boto3 client with standard retries; AWS_ENDPOINT_URL (an emulator) is honoured."""
    return aws_session().client(service, region_name=region, config=AWS_CONFIG)


def error_code(exc: BaseException) -> str:
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


def describe_aws_error(exc: BaseException) -> str:
    """One line for an AWS failure; access problems say so first."""
    if isinstance(exc, NoCredentialsError):
        return ("no AWS credentials found: configure the standard chain (aws configure, "
                f"AWS_PROFILE, environment) or set {CREDENTIALS_BLOCK_ENV}")
    if isinstance(exc, ClientError):
        code = error_code(exc)
        message = (exc.response.get("Error", {}).get("Message") or "").strip()
        message = message.splitlines()[0] if message else code
        return f"access denied ({code}: {message})" if code in ACCESS_DENIED_CODES \
            else f"{code}: {message}"
    return first_line(exc)
