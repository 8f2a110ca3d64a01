"""The notification rules file and the quality gate's event, without a server: what the server
would accept, what the rules match, and the one-line errors for a bad file."""

from __future__ import annotations

from uuid import uuid4

import pytest

from sparkify.config import load_settings
from sparkify.errors import ConfigError
from sparkify.notify.events import MAX_LISTED_FAILURES, quality_failed_event
from sparkify.notify.rules import AUTOMATIONS_DIR, OWNER_TAG, load_rules
from sparkify.quality.report import ExpectationOutcome, QualityReport


def test_every_rule_is_one_the_server_accepts_sending_to_the_configured_block():
    from prefect.server.events.schemas.automations import AutomationCore as ServerAutomation

    block_id = uuid4()
    rules = {rule.name: rule for rule in load_rules(block_id)}
    assert set(rules) == {"sparkify-run-failed", "sparkify-quality-warned"}
    for rule in rules.values():
        # the server's own model: it also parses every subject and body as a Jinja template
        ServerAutomation.model_validate(rule.model_dump(mode="json"))
        assert [a.block_document_id for a in rule.actions] == [block_id]
        assert OWNER_TAG in rule.tags and rule.enabled


def _trigger(name: str):
    """The rule's trigger as the server's triggers service holds it."""
    from prefect.server.events.schemas.automations import AutomationCore as ServerAutomation

    rule = next(rule for rule in load_rules(uuid4()) if rule.name == name)
    return ServerAutomation.model_validate(rule.model_dump(mode="json")).trigger


def _event(name: str, resource: dict, flow: str):
    from prefect.server.events.schemas.events import ReceivedEvent
    from prefect.types._datetime import now

    return ReceivedEvent(occurred=now("UTC"), event=name, resource=resource, id=uuid4(),
                         related=[{"prefect.resource.id": f"prefect.flow.{uuid4()}",
                                   "prefect.resource.role": "flow",
                                   "prefect.resource.name": flow}])


@pytest.mark.parametrize("state, flow, fires", [
    ("Failed", "sparkify-elt", True), ("Crashed", "sparkify-elt", True),
    ("TimedOut", "sparkify-elt", True), ("Failed", "sparkify-validate", True),
    ("Completed", "sparkify-elt", False), ("Cancelled", "sparkify-elt", False),
    ("Running", "sparkify-validate", False), ("Failed", "sparkify-provision", False),
])
def test_the_run_rule_fires_on_a_failed_or_crashed_elt_or_validate_run_only(state, flow, fires):
    run = {"prefect.resource.id": f"prefect.flow-run.{uuid4()}",
           "prefect.resource.name": "kind-scallop", "prefect.state-name": state}
    assert _trigger("sparkify-run-failed").covers(
        _event(f"prefect.flow-run.{state}", run, flow)) is fires


@pytest.mark.parametrize("mode, flow, fires", [
    ("warn", "sparkify-elt", True),
    ("fail", "sparkify-elt", False),       # the run fails: the run rule tells
    ("warn", "sparkify-validate", False),  # validate fails its run after its gates: likewise
])
def test_the_quality_rule_fires_on_a_failed_gate_in_an_elt_run_in_warn_mode_only(mode, flow, fires):
    gate = quality_failed_event(_report(1), mode, "sparkify-quality-warehouse", None)
    assert _trigger("sparkify-quality-warned").covers(
        _event(gate["event"], gate["resource"], flow)) is fires


def test_the_rules_file_holds_no_block_id_and_no_url():
    text = "".join(path.read_text() for path in AUTOMATIONS_DIR.glob("*.yaml"))
    assert "block_document_id" not in text and "http" not in text.replace("https://", "")


@pytest.mark.parametrize("text, message", [
    ("automations: [{name: x, trigger: {type: event}, actions: [{type: send-notification, "
     "block_document_id: 00000000-0000-0000-0000-000000000000, body: b}]}]",
     r"rules\.yaml, rule 1 \(x\): no block_document_id here; the block comes from \[NOTIFY\] BLOCK"),
    ("automations: [{name: x, trigger: {type: event}, actions: [{type: do-nothing}]}]",
     r"rules\.yaml, rule 1 \(x\): needs a 'send-notification' action"),
    ("automations: [{name: x, trigger: {type: event, within: -5}, "
     "actions: [{type: send-notification, body: b}]}]",
     r"rules\.yaml, rule 1 \(x\): trigger\.event\.within: "),
    ("automations: [{trigger: {type: event}}]", r"rules\.yaml, rule 1: needs a 'name'"),
    ("automations: {name: x}", r"rules\.yaml: needs a list 'automations'"),
    ("automations: [a: b", r"rules\.yaml: not valid YAML"),
])
def test_a_bad_rules_file_is_one_line_naming_file_and_rule(tmp_path, text, message):
    (tmp_path / "rules.yaml").write_text(text)
    with pytest.raises(ConfigError, match=message) as raised:
        load_rules(uuid4(), tmp_path)
    assert "\n" not in str(raised.value)


def test_two_rules_of_one_name_are_refused(tmp_path):
    rule = "{name: x, trigger: {type: event}, actions: [{type: send-notification, body: b}]}"
    (tmp_path / "a.yaml").write_text(f"automations: [{rule}]")
    (tmp_path / "b.yaml").write_text(f"automations: [{rule}]")
    with pytest.raises(ConfigError, match="rule names must be unique: x"):
        load_rules(uuid4(), tmp_path)


def test_the_block_setting_comes_from_the_file_or_the_environment(tmp_path):
    config = tmp_path / "dwh.cfg"
    config.write_text("[NOTIFY]\nBLOCK = slack-webhook/team\n")
    assert load_settings(config, env={}, resolve_password=False).block == "slack-webhook/team"
    overridden = load_settings(config, env={"SPARKIFY_NOTIFY_BLOCK": "custom-webhook/x"},
                               resolve_password=False)
    assert overridden.block == "custom-webhook/x"
    assert load_settings(None, env={}, resolve_password=False).block == ""


def _report(failures: int) -> QualityReport:
    outcomes = [ExpectationOutcome("users", f"rule {n}", "expect_x", False, "critical", f"{n} rows")
                for n in range(failures)]
    outcomes.append(ExpectationOutcome("song", "ok", "expect_y", True, "critical", ""))
    return QualityReport("warehouse", tuple(outcomes), 1.0)


def test_the_quality_event_names_checkpoint_mode_failures_and_artifact():
    artifact = uuid4()
    event = quality_failed_event(_report(2), "warn", "sparkify-quality-warehouse", artifact)
    assert event["event"] == "sparkify.quality.failed"
    assert event["resource"] == {"prefect.resource.id": "sparkify.quality-checkpoint.warehouse",
                                 "prefect.resource.name": "warehouse",
                                 "sparkify.quality.mode": "warn"}
    assert event["related"] == [{"prefect.resource.id": f"prefect.artifact.{artifact}",
                                 "prefect.resource.role": "artifact",
                                 "prefect.resource.name": "sparkify-quality-warehouse"}]
    assert event["payload"]["failed"] == [{"table": "users", "rule": "rule 0", "observed": "0 rows"},
                                          {"table": "users", "rule": "rule 1", "observed": "1 rows"}]
    assert (event["payload"]["failed_count"], event["payload"]["expectations"]) == (2, 3)
    assert event["payload"]["message"].startswith("quality checkpoint 'warehouse' failed: users: ")


def test_the_quality_event_stays_small_however_many_expectations_fail():
    from prefect.events import Event

    event = quality_failed_event(_report(500), "fail", "sparkify-quality-warehouse", None)
    assert len(event["payload"]["failed"]) == MAX_LISTED_FAILURES
    assert event["payload"]["failed_count"] == 500 and event["related"] == []
    assert len(event["payload"]["message"]) <= 2000
    assert Event(**event).size_bytes < 20_000
