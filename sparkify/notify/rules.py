"""The notification rules of automations/*.yaml, made into Prefect automations for one block."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

import yaml

from sparkify.errors import ConfigError
from sparkify.paths import PROJECT_ROOT

if TYPE_CHECKING:
    from prefect.events.schemas.automations import AutomationCore

AUTOMATIONS_DIR = PROJECT_ROOT / "automations"
# Tagged automations are this project's: one whose rule left the files is removed on apply.
OWNER_TAG = "sparkify-notify"
NOTIFY_ACTION = "send-notification"


def rule_files(directory: Path = AUTOMATIONS_DIR) -> list[Path]:
    return sorted(directory.glob("*.yaml"))


def load_rules(block_id: UUID, directory: Path = AUTOMATIONS_DIR) -> list[AutomationCore]:
    """Every rule of every file, each send-notification action aimed at `block_id`."""
    rules = [rule for path in rule_files(directory) for rule in _rules_of(path, block_id)]
    if not rules:
        raise ConfigError(f"{directory}: no automation rules in *.yaml")
    names = [rule.name for rule in rules]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ConfigError(f"{directory}: rule names must be unique: {', '.join(duplicated)}")
    return rules


def _rules_of(path: Path, block_id: UUID) -> list[AutomationCore]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    entries = document.get("automations") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: needs a list 'automations'")
    return [_rule(entry, f"{path}, rule {number}", block_id)
            for number, entry in enumerate(entries, start=1)]


def _rule(entry: dict, where: str, block_id: UUID) -> AutomationCore:
    from prefect.events.schemas.automations import AutomationCore
    from pydantic import ValidationError

    if not isinstance(entry, dict) or not entry.get("name"):
        raise ConfigError(f"{where}: needs a 'name'")
    where = f"{where} ({entry['name']})"
    actions = entry.get("actions") or []
    if not any(isinstance(a, dict) and a.get("type") == NOTIFY_ACTION for a in actions):
        raise ConfigError(f"{where}: needs a '{NOTIFY_ACTION}' action")
    for action in actions:
        if isinstance(action, dict) and action.get("type") == NOTIFY_ACTION:
            if "block_document_id" in action:
                raise ConfigError(f"{where}: no block_document_id here; the block comes from "
                                  "[NOTIFY] BLOCK")
            action["block_document_id"] = str(block_id)
    tags = list(dict.fromkeys([*(entry.get("tags") or []), OWNER_TAG]))
    try:
        rule = AutomationCore.model_validate({**entry, "tags": tags})
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        raise ConfigError(f"{where}: {field}: {error['msg']}") from None
    # Every field set, so that an update through the API (which sends only the fields set) puts
    # back all of them, defaults too; except owner_resource, which an update must not send.
    return AutomationCore.model_validate(rule.model_dump(mode="json", exclude={"owner_resource"}))
