"""Every statement the Redshift engine sends, checked against what Redshift's documentation
lists as unsupported from PostgreSQL (sparkify/local/standin/unsupported.py cites each page):
the dry runs of both deployments (cluster and serverless, with the error budget and a full
refresh) and the statements a stand-in run sent (SPARKIFY_SQL_LOG)."""

from __future__ import annotations

import re

import pytest
from conftest import small_dataset, upload_dataset
from pydantic import SecretStr
from test_dry_run import golden_config, run_main, statements

from flows.main import elt
from sparkify.local.standin.unsupported import RULES, describe, lint


def broken(text: str) -> list[str]:
    """Each statement of a dry run or SQL log that breaks a rule, with the rules it breaks."""
    found = []
    for entry in statements(text):
        if entry.startswith(("COMMIT", "ROLLBACK")):
            continue
        rules = lint(entry)
        if rules:
            found.append(f"{entry.splitlines()[0]}: {describe(rules)}")
    return found


def test_every_rule_names_a_page_of_redshifts_documentation():
    assert all(re.match(r"https://docs\.aws\.amazon\.com/redshift/latest/dg/\w", r.source)
               for r in RULES)


def test_the_lint_sees_what_it_must_and_not_inside_literals_or_comments():
    assert [r.feature for r in lint("INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING")] == [
        "ON CONFLICT (upsert)"]
    assert lint("SELECT 'ON CONFLICT', \"returning\" FROM t -- TRUNCATE t\n") == []


@pytest.mark.parametrize("deployment", ["cluster", "serverless"])
def test_no_statement_of_a_redshift_dry_run_uses_what_redshift_lacks(
        prefect_harness, aws, tmp_path, capsys, deployment):
    upload_dataset(aws.client("s3"), "sparkify-golden", small_dataset(tmp_path / "data"))
    config = golden_config(aws.config, DEPLOYMENT=deployment,
                           MANIFEST_PREFIX="s3://sparkify-golden/manifests")

    plain = run_main(capsys, "--config", str(config), "--dry-run")
    refresh = run_main(capsys, "--config", str(config), "--dry-run", "--max-errors", "3",
                       "--full-refresh")

    assert len(statements(plain)) > 60 and "refresh/clear_star" in refresh
    assert broken(plain) + broken(refresh) == []


@pytest.mark.slow
def test_no_statement_a_stand_in_run_sent_uses_what_redshift_lacks(
        prefect_harness, tmp_path, standin_db, monkeypatch):
    sent = tmp_path / "sent.sql"
    monkeypatch.setenv("SPARKIFY_SQL_LOG", str(sent))
    url = standin_db.login_url(standin_db.issue_password(3600))

    elt(data=str(small_dataset(tmp_path / "data")), warehouse_url=SecretStr(url),
        redshift_standin=True, max_errors=3)

    text = sent.read_text(encoding="utf-8")
    assert "COPY staging_events" in text and "star/songplay" in text
    assert broken(text) == []
