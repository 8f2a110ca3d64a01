"""Settings that end up inside SQL are checked when they are loaded, before anything connects."""

from __future__ import annotations

import pytest
from conftest import query, small_dataset

from flows import main as main_flow
from sparkify import cli
from sparkify.config import load_settings
from sparkify.errors import ConfigError

HOSTILE = "public; CREATE TABLE pwned(x int); INSERT INTO pwned VALUES (1); --"


@pytest.mark.parametrize("value", [HOSTILE, "1schema", 'a"b', "sch ema", "x" * 64])
def test_a_schema_that_is_not_a_plain_identifier_is_refused_naming_the_setting(value):
    with pytest.raises(ConfigError, match=r"\[DWH\] SCHEMA = .* is not a valid identifier"):
        load_settings(None, env={"SPARKIFY_DWH_SCHEMA": value})


def test_plain_identifiers_are_accepted():
    assert load_settings(None, env={"SPARKIFY_DWH_SCHEMA": "analytics_2"}).schema == "analytics_2"


def test_a_hostile_schema_stops_the_run_before_any_statement(
        prefect_harness, tmp_path, warehouse_url, capsys, monkeypatch):
    monkeypatch.setenv("SPARKIFY_DWH_SCHEMA", HOSTILE)

    code = cli.run_command(main_flow.main, main_flow.build_parser(),
                           ["--data", str(small_dataset(tmp_path)), "--warehouse-url", warehouse_url])

    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err[-1].startswith("error: SPARKIFY_DWH_SCHEMA: [DWH] SCHEMA = ")
    assert err[-1].endswith("is not a valid identifier")
    assert query(warehouse_url, "SELECT COUNT(*) FROM information_schema.tables "
                                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')") \
        == [(0,)]


# ---- every setting that becomes a COPY literal is checked for its format ---------------------

BREAKOUT = "\\' ; DROP TABLE users; --"  # \' closes a literal whose quotes are only doubled


@pytest.mark.parametrize("section, key, bad, expected", [
    ("DWH", "ROLE_ARN", "arn:aws:iam::123456789012:role/x" + BREAKOUT, "an IAM role ARN"),
    ("DWH", "ROLE_ARN", "sparkify-redshift-s3-read", "an IAM role ARN"),
    ("DWH", "ROLE_ARN", "arn:aws:iam::1234:role/x", "an IAM role ARN"),
    ("S3", "LOG_DATA", "s3://bucket/log_data" + BREAKOUT, "an s3://bucket/key URI"),
    ("S3", "LOG_DATA", "udacity-dend/log_data", "an s3://bucket/key URI"),
    ("S3", "SONG_DATA", "s3://bucket/song data", "an s3://bucket/key URI"),
    ("S3", "LOG_JSONPATH", 's3://bucket/"paths".json', "an s3://bucket/key URI"),
    ("S3", "MANIFEST_PREFIX", "s3://bucket/m" + BREAKOUT, "an s3://bucket/key URI"),
    ("S3", "MANIFEST_PREFIX", "s3://Bucket_Name/m", "an s3://bucket/key URI"),
    ("AWS", "REGION", "us-west-2" + BREAKOUT, "an AWS region name"),
    ("AWS", "REGION", "US West", "an AWS region name"),
], ids=lambda value: value if value in {"ROLE_ARN", "LOG_DATA", "SONG_DATA", "LOG_JSONPATH",
                                         "MANIFEST_PREFIX", "REGION"} else None)
def test_a_setting_in_the_wrong_format_is_refused_naming_it(section, key, bad, expected):
    with pytest.raises(ConfigError) as raised:
        load_settings(None, env={f"SPARKIFY_{section}_{key}": bad})

    assert str(raised.value).startswith(f"SPARKIFY_{section}_{key}: [{section}] {key} = {bad!r} "
                                        f"is not {expected}")
    assert "\n" not in str(raised.value)


def test_settings_in_their_formats_are_accepted():
    settings = load_settings(None, env={
        "SPARKIFY_DWH_ROLE_ARN": "arn:aws-us-gov:iam::123456789012:role/service/sparkify+s3.read",
        "SPARKIFY_S3_LOG_DATA": "s3://my.bucket-1/it's/log_data(2018)/",
        "SPARKIFY_S3_MANIFEST_PREFIX": "s3://my-bucket/sparkify/manifests",
        "SPARKIFY_AWS_REGION": "us-gov-west-1",
    })

    assert (settings.role_arn, settings.log_data, settings.manifest_prefix, settings.region) == (
        "arn:aws-us-gov:iam::123456789012:role/service/sparkify+s3.read",
        "s3://my.bucket-1/it's/log_data(2018)/", "s3://my-bucket/sparkify/manifests",
        "us-gov-west-1")
    assert load_settings(None, env={}).role_arn == ""  # empty: looked up from IAM_ROLE_NAME


def test_a_source_in_the_wrong_format_is_refused_before_anything_starts():
    from sparkify.runtime import open_runtime

    with pytest.raises(ConfigError, match=r"^--source .*DROP TABLE users.* is not an "
                                          r"s3://bucket/key URI"):
        with open_runtime("elt", source="s3://bucket/x" + BREAKOUT, dry_run=True):
            pass


# ---- the sources' region: COPY's REGION, apart from the region of the AWS calls --------------

def test_the_sources_region_defaults_to_the_aws_region_and_can_differ_from_it():
    assert load_settings(None, env={"SPARKIFY_AWS_REGION": "eu-central-1"}).source_region == \
        "eu-central-1"
    settings = load_settings(None, env={"SPARKIFY_S3_REGION": "us-east-1"})
    assert (settings.region, settings.source_region) == ("us-west-2", "us-east-1")
    with pytest.raises(ConfigError, match=r"^SPARKIFY_S3_REGION: \[S3\] REGION = 'Oregon' is "
                                          r"not an AWS region name"):
        load_settings(None, env={"SPARKIFY_S3_REGION": "Oregon"})
