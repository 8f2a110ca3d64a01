"""Failure notifications (automations/notifications.yaml, `python -m sparkify.notify`) against a
real Prefect server, with its triggers and actions services on, in its own process, and a
webhook receiver on loopback: the server's own actions service POSTs to it through a
CustomWebhookNotificationBlock. Each run is the real command, in its own process."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from uuid import UUID

import psycopg2
import pytest

from sparkify.notify.rules import OWNER_TAG, load_rules
from sparkify.warehouse.postgres import PostgresWarehouse
from tests.conftest import PROJECT_ROOT, event, small_dataset, song, write_dataset
from tests.prefect_server import running_prefect_server

BLOCK = "custom-webhook/sparkify-test-alerts"
RULES = {rule.name for rule in load_rules(UUID(int=0))}
NOTIFY_WITHIN = 90  # seconds from the end of a run to the POST; it came within 1 s here, loaded


# -- a Prefect server, a webhook receiver, the block between them -------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Triggers (which also runs the actions) on; the services these tests do not need off,
    which leaves the two cores to the runs."""
    with running_prefect_server(
            tmp_path_factory.mktemp("prefect-home"),
            PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED="true",
            PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED="true",
            PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false",
            PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED="false",
            PREFECT_SERVER_SERVICES_FOREMAN_ENABLED="false",
            PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_ENABLED="false",
            PREFECT_SERVER_SERVICES_CANCELLATION_CLEANUP_ENABLED="false",
            PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL="1") as env:
        yield env


class Receiver:
    """An HTTP server on loopback that keeps the JSON body of every POST."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._arrived:
                    receiver.bodies.append(json.loads(body))
                    receiver._arrived.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_port}/hook"
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

    def wait_for(self, text: str, timeout: float = NOTIFY_WITHIN) -> dict:
        """The first POST whose subject or body contains `text`."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                found = [b for b in self.bodies if text in b["subject"] + b["body"]]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                assert left > 0, f"no notification naming {text!r} within {timeout}s: {self.bodies}"
                self._arrived.wait(left)

    def naming(self, text: str) -> list[dict]:
        with self._arrived:
            return [b for b in self.bodies if text in b["subject"] + b["body"]]

    def close(self) -> None:
        self._http.shutdown()


@pytest.fixture(scope="module")
def receiver():
    found = Receiver()
    yield found
    found.close()


@contextmanager
def api(env):
    """A client of the test's server, in this process."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: env["PREFECT_API_URL"]}):
        with get_client(sync_client=True) as client:
            yield client


@pytest.fixture(scope="module")
def block(server, receiver) -> str:
    """The notification block the config names: a custom webhook to the receiver."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.settings import PREFECT_API_URL, temporary_settings

    hook = CustomWebhookNotificationBlock(name="sparkify-test", url=receiver.url,
                                          json_data={"subject": "{{subject}}", "body": "{{body}}"})
    with temporary_settings({PREFECT_API_URL: server["PREFECT_API_URL"]}):
        hook.save(BLOCK.split("/")[1], overwrite=True)
    return BLOCK


def notify_setup(env, block: str = BLOCK) -> subprocess.CompletedProcess:
    """The documented command, in its own process."""
    return subprocess.run([sys.executable, "-m", "sparkify.notify"], cwd=PROJECT_ROOT,
                          env={**env, "SPARKIFY_NOTIFY_BLOCK": block}, capture_output=True,
                          text=True, timeout=120)


def notify_setup_here(env, monkeypatch, capsys, block: str = BLOCK) -> tuple[int, str, str]:
    """The same command in this process (a new one costs seconds of imports): exit code,
    stdout, stderr."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from sparkify import cli
    from sparkify.notify.__main__ import build_parser, main

    monkeypatch.setenv("SPARKIFY_NOTIFY_BLOCK", block)
    capsys.readouterr()
    with temporary_settings({PREFECT_API_URL: env["PREFECT_API_URL"]}):
        code = cli.run_command(main, build_parser(), [])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def applied(server, block):
    done = notify_setup(server)
    assert done.returncode == 0, done.stderr
    return server


def run_command(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def latest_run(env, flow_name: str):
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    with api(env) as client:
        runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
                                     sort=FlowRunSort.START_TIME_DESC, limit=1)
    assert runs, f"no run of {flow_name}"
    return runs[0]


def quality_events(env, flow_run_id, timeout: float = 60) -> list:
    """The sparkify.quality.failed events of one flow run, once the server has stored any."""
    from prefect.events.filters import EventAnyResourceFilter, EventFilter, EventNameFilter

    wanted = EventFilter(event=EventNameFilter(name=["sparkify.quality.failed"]),
                         any_resource=EventAnyResourceFilter(id=[f"prefect.flow-run.{flow_run_id}"]))
    deadline = time.monotonic() + timeout
    while True:
        with api(env) as client:
            events = client.read_events(wanted, limit=10).events  # the server allows <= 50
        if events or time.monotonic() > deadline:
            return events
        time.sleep(0.5)


def ui_link(env, flow_run_id) -> str:
    return env["PREFECT_API_URL"].removesuffix("/api") + f"/runs/flow-run/{flow_run_id}"


def duplicated_users(url: str) -> str:
    """The star's tables, with user 7 twice in `users`: the warehouse gate's user_id is unique
    fails, on any run, since a run rebuilds only the users it loads. User 7 has an event in the
    history, or the warehouse would be taken for an earlier version's and rebuilt."""
    PostgresWarehouse(url).create_tables()
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn, conn.cursor() as cur:
        cur.execute("ALTER TABLE users DROP CONSTRAINT users_pkey")
        cur.execute("INSERT INTO users VALUES ('7', 'Ann', 'Lee', 'F', 'free'), "
                    "('7', 'Ann', 'Lee', 'F', 'free')")
        cur.execute("INSERT INTO user_events (user_id, session_id, item_in_session, ts, is_play, "
                    "level) VALUES ('7', 1, 0, 1541105830796, FALSE, 'free')")
    conn.close()
    return url


# -- applying the rules -------------------------------------------------------------------------


def test_applying_twice_leaves_one_automation_per_rule_updated(server, block, monkeypatch,
                                                               capsys):
    from prefect.events.schemas.automations import AutomationCore

    first = notify_setup(server)
    assert first.returncode == 0, first.stderr
    code, second, _ = notify_setup_here(server, monkeypatch, capsys)
    assert code == 0
    for name in RULES:
        assert f"updated automation '{name}'" in second
    assert f"{len(RULES)} notification rules on {server['PREFECT_API_URL']}, sending to {BLOCK}" \
        in second

    with api(server) as client:
        block_id = client.read_block_document_by_name(BLOCK.split("/")[1], "custom-webhook").id
        automations = client.read_automations()
        assert sorted(a.name for a in automations) == sorted(RULES)
        assert all(a.enabled and a.actions[0].block_document_id == block_id for a in automations)
        # by hand: a second copy of a rule, the first copy paused, a rule no longer in the file,
        # and someone else's automation
        kept = automations[0]
        rule = kept.model_dump(exclude={"id", "owner_resource"})
        client.create_automation(AutomationCore.model_validate(rule))
        client.pause_automation(kept.id)
        client.create_automation(AutomationCore.model_validate({**rule, "name": "sparkify-retired"}))
        client.create_automation(AutomationCore.model_validate(
            {**rule, "name": "not-ours", "tags": ["other-team"]}))

    code, third, _ = notify_setup_here(server, monkeypatch, capsys)
    assert code == 0
    assert "removed automation 'sparkify-retired'" in third
    assert f"removed automation '{kept.name}'" in third  # the extra copy
    with api(server) as client:
        automations = client.read_automations()
        assert sorted(a.name for a in automations) == sorted(RULES | {"not-ours"})
        assert all(a.enabled for a in automations)
        assert kept.id in {a.id for a in automations}  # updated in place: the oldest copy stays
        assert all(OWNER_TAG in a.tags for a in automations if a.name in RULES)
        client.delete_automation(next(a.id for a in automations if a.name == "not-ours"))


@pytest.mark.parametrize("setting, message", [
    ("custom-webhook/nowhere", "[NOTIFY] BLOCK = 'custom-webhook/nowhere': no such block on the "
                               "Prefect server at http://127.0.0.1:"),
    ("", "[NOTIFY] BLOCK is empty: name the Prefect notification block"),
    ("sparkify-test-alerts", "[NOTIFY] BLOCK = 'sparkify-test-alerts': expected "
                             "<block-type-slug>/<block-name>"),
    ("secret/sparkify-test-secret", "[NOTIFY] BLOCK = 'secret/sparkify-test-secret': a secret "
                                    "block cannot send notifications"),
])
def test_a_bad_block_setting_is_one_line_naming_it(server, block, monkeypatch, capsys, setting,
                                                   message):
    from prefect.blocks.system import Secret
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: server["PREFECT_API_URL"]}):
        Secret(value="not-a-webhook").save("sparkify-test-secret", overwrite=True)
    code, out, err = notify_setup_here(server, monkeypatch, capsys, setting)
    assert code == 1
    assert err.startswith("error: " + message), err
    assert len(err.strip().splitlines()) == 1, err
    assert "not-a-webhook" not in out + err


# -- a failure, a POST ----------------------------------------------------------------------------


def test_a_failed_elt_run_posts_the_run_and_its_error(applied, receiver, tmp_path, warehouse_url):
    data = write_dataset(tmp_path, {"2018-11-01": [event(userId="1"), b"{not json"]},
                         {"TRAAAAA1": [song("SO1", "A", "AR1", "X")]})
    done = run_command(applied, "flows/main.py", "--data", str(data),
                       "--warehouse-url", warehouse_url)
    assert done.returncode == 1
    assert "malformed record" in done.stderr

    run = latest_run(applied, "sparkify-elt")
    assert run.state.is_failed()
    posted = receiver.wait_for(str(run.id))
    assert posted["subject"] == f"Sparkify: sparkify-elt run {run.name} Failed"
    assert f"Flow run {run.name} ({run.id}) of sparkify-elt" in posted["body"]
    assert "2018-11-01-events.json line 2: not valid JSON" in posted["body"]
    assert f"Run: {ui_link(applied, run.id)}" in posted["body"]
    assert "Quality results" not in posted["body"]  # no gate ran


def test_a_failed_gate_in_validate_posts_the_failed_expectations_once(
        applied, receiver, warehouse_url):
    done = run_command(applied, "flows/validate.py", "--warehouse-url",
                       duplicated_users(warehouse_url))
    assert done.returncode == 1
    assert "FAILED warehouse: users: user_id is unique" in done.stdout

    run = latest_run(applied, "sparkify-validate")
    posted = receiver.wait_for(str(run.id))
    assert posted["subject"] == f"Sparkify: sparkify-validate run {run.name} Failed"
    assert "quality checkpoint 'warehouse' failed: " in posted["body"]
    assert "users: user_id is unique (2 unexpected of 2 values" in posted["body"]
    assert "sparkify-quality-warehouse" in posted["body"]
    # validate runs its gates in mode warn, then fails: the gate's event reached the server...
    (gate_event,) = quality_events(applied, run.id)
    assert gate_event.resource["sparkify.quality.mode"] == "warn"
    time.sleep(3)  # ... and had its chance to fire sparkify-quality-warned, which must not
    assert len(receiver.naming(str(run.id))) == 1, receiver.naming(str(run.id))


def test_a_failed_gate_in_warn_mode_posts_the_gate_and_the_run_goes_on(
        applied, receiver, tmp_path, warehouse_url):
    done = run_command(applied, "flows/main.py", "--data", str(small_dataset(tmp_path)),
                       "--warehouse-url", duplicated_users(warehouse_url), "--quality", "warn")
    assert done.returncode == 0, done.stderr

    run = latest_run(applied, "sparkify-elt")
    assert run.state.is_completed()
    posted = receiver.wait_for(str(run.id))
    assert posted["subject"] == (f"Sparkify: quality checkpoint 'warehouse' failed in "
                                 f"sparkify-elt run {run.name} (warn mode)")
    (gate_event,) = quality_events(applied, run.id)
    failed = gate_event.payload["failed"]  # a duplicated user breaks users' rules, and others
    assert {"table": "users", "rule": "user_id is unique",
            "observed": "2 unexpected of 4 values, e.g. '7', '7'"} in failed
    assert f"Failed {len(failed)} of " in posted["body"]
    assert "\n- users: user_id is unique (2 unexpected of 4 values, e.g. '7', '7')\n" \
        in posted["body"]
    assert f"Run: {ui_link(applied, run.id)}" in posted["body"]
    assert "artifact sparkify-quality-warehouse" in posted["body"]
    assert [r.role for r in gate_event.related if r.id.startswith("prefect.artifact.")] == ["artifact"]
