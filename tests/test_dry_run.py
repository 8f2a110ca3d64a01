"""--dry-run drives the real flow with a warehouse that records each statement instead of
sending it: its output equals the golden files, and lists the statements a real run sends.

After a deliberate change to any SQL file, regenerate the golden files with
`UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_dry_run.py` and review the diff.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import small_dataset, upload_dataset, write_config

from flows import main as main_flow
from sparkify import cli

PROJECT_ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden"
ROLE_ARN = "arn:aws:iam::123456789012:role/sparkify-redshift-s3-read"
HOST = "sparkify.abc123.us-west-2.redshift.amazonaws.com"


def run_main(capsys, *args: str) -> str:
    code = cli.run_command(main_flow.main, main_flow.build_parser(), list(args))
    out, err = capsys.readouterr()
    assert code == 0, err[-3000:]
    return out


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), \
        f"the dry run differs from {path}: regenerate with UPDATE_GOLDEN=1 and review the diff"


def statements(text: str) -> list[str]:
    """Each statement or transaction end of a dry run or SQL log, without the notes."""
    entries = [entry.strip() for entry in re.split(r"\n\n+", text)]
    return [entry for entry in entries
            if re.match(r"-- [\w/]+ \(connection \d+", entry) or re.match(r"(COMMIT|ROLLBACK);", entry)]


# ---- PostgreSQL ----------------------------------------------------------------------------

def test_the_postgres_dry_run_matches_its_golden_file_with_the_url_password_masked(tmp_path):
    """The command as a user runs it, in its own process: no password in any output."""
    data = small_dataset(tmp_path / "data")
    url = "postgresql://sparkify:Url-secret-9@db.example.com:5432/sparkify"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPARKIFY_", "PREFECT_API"))}
    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "flows/main.py"), "--data",
                             str(data), "--warehouse-url", url, "--dry-run"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300, check=False)

    assert result.returncode == 0, result.stderr[-3000:]
    assert "Url-secret-9" not in result.stdout + result.stderr
    assert "postgresql://sparkify:****@db.example.com:5432/sparkify" in result.stdout
    assert_golden("dry_run_postgres.sql", result.stdout.replace(str(data), "<data>"))


def test_the_dry_run_lists_the_statements_a_real_run_sends_in_its_order(
        prefect_harness, tmp_path, warehouse_url, capsys, monkeypatch):
    data = small_dataset(tmp_path / "data")
    sql_log = tmp_path / "sent.sql"
    monkeypatch.setenv("SPARKIFY_SQL_LOG", str(sql_log))
    run_main(capsys, "--data", str(data), "--warehouse-url", warehouse_url)
    monkeypatch.delenv("SPARKIFY_SQL_LOG")

    planned = statements(run_main(capsys, "--data", str(data), "--warehouse-url", warehouse_url,
                                  "--dry-run"))
    sent = statements(sql_log.read_text(encoding="utf-8"))

    # what the catalog answers (the indexes a first load drops and builds again) only a real
    # run can know: the dry run says where they go, and the real run must send them there
    assert any(entry.startswith("-- bulk/drop_indexes") and "DROP CONSTRAINT songplay_pkey" in entry
               for entry in sent)
    generated = re.compile(r"(-- bulk/(?:drop|build)_indexes \(connection \d+\)).*", re.DOTALL)
    planned, sent = ([generated.sub(r"\1", entry) for entry in entries] for entries in (planned, sent))
    assert len(sent) > 60 and any("COPY staging_events" in s for s in sent)
    assert planned == sent


def test_a_dry_run_touches_nothing(prefect_harness, tmp_path, warehouse_url, capsys):
    from conftest import query

    run_main(capsys, "--data", str(small_dataset(tmp_path / "data")), "--warehouse-url",
             warehouse_url, "--dry-run")

    assert query(warehouse_url, "SELECT COUNT(*) FROM information_schema.tables "
                                "WHERE table_schema = 'public'") == [(0,)]


# ---- Redshift --------------------------------------------------------------------------------

@pytest.fixture
def redshift_config(aws, tmp_path):
    """dwh.cfg for a cluster whose endpoint and role are known, sources in moto's S3."""
    upload_dataset(aws.client("s3"), "sparkify-golden", small_dataset(tmp_path / "data"))
    return golden_config(aws.config)


def golden_config(path: Path, **more: str) -> Path:
    return write_config(path, **{"HOST": HOST, "ROLE_ARN": ROLE_ARN, "INGRESS_CIDR": "",
                                 "LOG_DATA": "s3://sparkify-golden/log_data",
                                 "LOG_JSONPATH": "s3://sparkify-golden/log_json_path.json",
                                 "SONG_DATA": "s3://sparkify-golden/song_data", **more})


def test_the_redshift_dry_run_matches_its_golden_file(prefect_harness, redshift_config, capsys):
    assert_golden("dry_run_redshift.sql", run_main(capsys, "--config", str(redshift_config),
                                                   "--dry-run"))


def test_the_plan_follows_the_manifest_error_budget_and_full_refresh_options(
        prefect_harness, redshift_config, capsys):
    golden_config(redshift_config, MANIFEST_PREFIX="s3://sparkify-golden/manifests")

    text = run_main(capsys, "--config", str(redshift_config), "--dry-run", "--max-errors", "5",
                    "--full-refresh")

    assert re.search(r"FROM 's3://sparkify-golden/manifests/[0-9a-f-]{36}/staging_events\.manifest'"
                     r"\n", text)
    assert text.count("\nMANIFEST\n") == 2
    assert text.count("not written on a dry run") == 2  # the manifests: listed, not written
    assert text.count(f"IAM_ROLE '{ROLE_ARN}'") == 2
    assert text.count("MAXERROR 6") == 2  # fails at 6 errors: tolerates 5, as locally
    assert "-- refresh/clear_star (connection" in text
    assert "-- ledger/loaded_objects" not in text  # a full refresh does not read the ledger


def test_a_max_errors_redshift_cannot_honour_stops_the_dry_run_before_any_statement(
        prefect_harness, redshift_config, capsys):
    code = cli.run_command(main_flow.main, main_flow.build_parser(),
                           ["--config", str(redshift_config), "--dry-run", "--max-errors",
                            "100000"])

    out, err = capsys.readouterr()
    assert code == 1
    assert err.strip().splitlines()[-1] == (
        "error: --max-errors 100000: at most 99999 on Redshift, whose COPY fails at MAXERROR "
        "errors and takes MAXERROR up to 100000")
    assert "(connection" not in out  # no statement, not even the lock


def test_a_mixed_prefix_is_one_copy_per_compression_kind_each_through_its_manifest(
        prefect_harness, aws, tmp_path, capsys):
    import gzip

    import zstandard

    data = small_dataset(tmp_path / "mixed")
    day, track = (data / "log_data/2018/11/2018-11-01-events.json",
                  data / "song_data/A/A/A/TRAAAAA1.json")
    day.with_name(day.name + ".gz").write_bytes(gzip.compress(day.read_bytes()))
    track.with_name(track.name[:-5] + ".json.zst").write_bytes(
        zstandard.ZstdCompressor().compress(track.read_bytes()))
    day.unlink()
    track.unlink()
    upload_dataset(aws.client("s3"), "sparkify-golden", data)
    config = golden_config(aws.config, MANIFEST_PREFIX="s3://sparkify-golden/manifests")

    text = run_main(capsys, "--config", str(config), "--dry-run")

    copies = re.findall(r"\nCOPY (staging_\w+) \(.*?\)\nFROM '([^']+)'\n.*?\n(MANIFEST)\n(.*?)\n"
                        r"REGION", text, flags=re.DOTALL)
    run = r"manifests/[0-9a-f-]{36}/"
    assert [(table, re.sub(run, "manifests/<run>/", uri), manifest, option)
            for table, uri, manifest, option in copies] == [
        ("staging_events", "s3://sparkify-golden/manifests/<run>/staging_events.manifest",
         "MANIFEST", "-- not compressed (.json)"),
        ("staging_events", "s3://sparkify-golden/manifests/<run>/staging_events.gzip.manifest",
         "MANIFEST", "GZIP"),
        ("staging_songs", "s3://sparkify-golden/manifests/<run>/staging_songs.manifest",
         "MANIFEST", "-- not compressed (.json)"),
        ("staging_songs", "s3://sparkify-golden/manifests/<run>/staging_songs.zstd.manifest",
         "MANIFEST", "ZSTD")]
    assert text.count("not written on a dry run") == 4  # each manifest: noted, not written


# ---- hostile settings: refused when they load, or quoted as Redshift reads them -------------

# \' ends a Redshift literal whose quotes are only doubled; no space before a ';', which
# would start an inline comment in dwh.cfg
BREAKOUT = "\\'; DROP TABLE users; --"


HOSTILE = {"ROLE_ARN": "arn:aws:iam::123456789012:role/x" + BREAKOUT,
           "LOG_DATA": "s3://sparkify-golden/log_data" + BREAKOUT,
           "LOG_JSONPATH": "s3://sparkify-golden/log_json_path.json" + BREAKOUT,
           "MANIFEST_PREFIX": "s3://sparkify-golden/manifests" + BREAKOUT}


def hostile_refusal(config: Path, key: str) -> str:
    section = "DWH" if key == "ROLE_ARN" else "S3"
    return f"error: {config}: [{section}] {key} = {HOSTILE[key]!r} is not "


def test_the_dry_run_command_refuses_a_hostile_role_arn_before_anything_connects(tmp_path):
    """The command as a user runs it, in its own process, with AWS pointed at a closed port:
    one line naming the setting, no statement printed, nothing reached."""
    config = golden_config(tmp_path / "dwh.cfg", ROLE_ARN=HOSTILE["ROLE_ARN"])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPARKIFY_", "PREFECT_API"))}
    env.update(AWS_ENDPOINT_URL="http://127.0.0.1:9", AWS_ACCESS_KEY_ID="k",
               AWS_SECRET_ACCESS_KEY="s")
    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "flows/main.py"), "--config",
                             str(config), "--dry-run"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300, check=False)

    assert result.returncode == 1
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert error.startswith(hostile_refusal(config, "ROLE_ARN"))
    assert "Traceback" not in result.stderr
    assert "COPY" not in result.stdout and "DROP" not in result.stdout


@pytest.mark.parametrize("key", list(HOSTILE))
def test_a_dry_run_with_a_hostile_setting_refuses_it_in_one_line(
        prefect_harness, tmp_path, capsys, monkeypatch, key):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing may be reached
    config = golden_config(tmp_path / "dwh.cfg", **{key: HOSTILE[key]})

    code = cli.run_command(main_flow.main, main_flow.build_parser(),
                           ["--config", str(config), "--dry-run"])

    out, err = capsys.readouterr()
    assert code == 1
    assert err.strip().splitlines()[-1].startswith(hostile_refusal(config, key))
    assert "COPY" not in out and "DROP" not in out


def test_a_quote_in_a_source_prefix_stays_inside_its_literal_in_the_dry_run(
        prefect_harness, aws, tmp_path, capsys):
    small_dataset(tmp_path / "data" / "it's")
    upload_dataset(aws.client("s3"), "sparkify-golden", tmp_path / "data")
    config = golden_config(aws.config, LOG_DATA="s3://sparkify-golden/it's/log_data",
                           LOG_JSONPATH="s3://sparkify-golden/it's/log_json_path.json",
                           SONG_DATA="s3://sparkify-golden/it's/song_data")

    text = run_main(capsys, "--config", str(config), "--dry-run")

    assert "\nFROM 's3://sparkify-golden/it''s/log_data/'\n" in text
    assert "\nFORMAT AS JSON 's3://sparkify-golden/it''s/log_json_path.json'\n" in text
    assert "\nFROM 's3://sparkify-golden/it''s/song_data/'\n" in text


def test_copy_is_told_the_sources_region_while_the_aws_calls_keep_the_cluster_s(
        prefect_harness, redshift_config, capsys):
    """[S3] REGION is COPY's REGION; [AWS] REGION stays the region of every AWS call."""
    from sparkify.runtime import open_runtime

    golden_config(redshift_config, S3__REGION="eu-west-1")

    text = run_main(capsys, "--config", str(redshift_config), "--dry-run")

    assert text.count("\nREGION 'eu-west-1'\n") == 2 and "REGION 'us-west-2'" not in text
    assert "\n-- profile aws; region us-west-2; sources in eu-west-1\n" in text
    with open_runtime("elt", config=str(redshift_config), dry_run=True) as runtime:
        assert runtime.client("redshift").meta.region_name == "us-west-2"
        assert runtime.store().inner.client.meta.region_name == "eu-west-1"
