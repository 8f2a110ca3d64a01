"""prefect.yaml: valid schedules, loadable entrypoints, and the ELT deployment run for real
by a process worker against a real local Prefect server."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from tests.conftest import PROJECT_ROOT, event, query, song, write_dataset
from tests.prefect_server import PREFECT, running_prefect_server

PREFECT_YAML = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text())
DEPLOYMENTS = PREFECT_YAML["deployments"]


def test_every_cron_is_valid_and_every_entrypoint_loads():
    from prefect.client.schemas.schedules import CronSchedule
    from prefect.flows import load_flow_from_entrypoint

    assert {d["name"] for d in DEPLOYMENTS} >= {"elt-hourly", "backfill", "provision", "teardown",
                                                "validate-nightly"}
    for deployment in DEPLOYMENTS:
        for schedule in deployment.get("schedules") or []:
            CronSchedule(cron=schedule["cron"], timezone=schedule.get("timezone"))  # validates
        path, _, name = deployment["entrypoint"].partition(":")
        loaded = load_flow_from_entrypoint(str(PROJECT_ROOT / path) + ":" + name)
        assert loaded.name, deployment["entrypoint"]
        assert set(deployment.get("parameters") or {}) <= set(loaded.parameters.properties)
    with pytest.raises(ValueError):
        CronSchedule(cron="0 * * *")  # the check above can fail
    assert next(d for d in DEPLOYMENTS if d["name"] == "elt-hourly")["schedules"][0]["cron"] == \
        "0 * * * *"


def test_no_literal_secret_in_prefect_yaml():
    text = (PROJECT_ROOT / "prefect.yaml").read_text().lower()
    assert "password:" not in text and "postgresql://" not in text and "aws_secret" not in text


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """A real Prefect server on loopback, with its own home; yields the CLI environment."""
    with running_prefect_server(tmp_path_factory.mktemp("prefect-home")) as env:
        yield env


def _prefect(env, *args: str) -> str:
    done = subprocess.run([PREFECT, *args], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_deploy_all_and_run_the_elt_deployment_with_a_process_worker(
        prefect_server, tmp_path, warehouse_url):
    env = prefect_server
    write_dataset(tmp_path, {"2018-11-01": [event(userId="1", song="A", artist="X"),
                                            event(userId="2", itemInSession=1, page="Home")]},
                  {"TRAAAAA1": [song("SO1", "A", "AR1", "X")]})
    _prefect(env, "work-pool", "create", "sparkify-process", "--type", "process")
    _prefect(env, "--no-prompt", "deploy", "--all")
    worker = subprocess.Popen([PREFECT, "worker", "start", "--pool", "sparkify-process"],
                              cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        parameters = {"config": None, "data": str(tmp_path), "warehouse_url": warehouse_url}
        state = _run_deployment(env, "sparkify-elt/elt-hourly", parameters)
    finally:
        _stop(worker)
    assert state == "COMPLETED"
    assert query(warehouse_url, "SELECT COUNT(*) FROM songplay") == [(1,)]
    assert query(warehouse_url, "SELECT COUNT(*) FROM users") == [(2,)]
    assert query(warehouse_url, "SELECT song_id FROM songplay") == [("SO1",)]


def _stop(worker: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after 60 s: once in a whole-suite run (load from the tests before
    it) the worker outlived the 60 s after the run had completed; it must not outlive the test."""
    worker.terminate()
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=30)


def _run_deployment(env, name: str, parameters: dict) -> str:
    """Trigger a deployment through the API and wait for its final state."""
    script = (
        "import json, sys\n"
        "from prefect.deployments import run_deployment\n"
        "run = run_deployment(sys.argv[1], parameters=json.loads(sys.argv[2]), timeout=600)\n"
        "print(run.state.type.value)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, name, json.dumps(parameters)],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=700)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]
