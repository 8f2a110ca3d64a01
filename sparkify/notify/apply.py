"""Put the notification rules on a Prefect server: one automation per rule, created or updated."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from sparkify.errors import ConfigError, SparkifyError
from sparkify.notify.rules import AUTOMATIONS_DIR, OWNER_TAG, load_rules

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient


class NotifySetupError(SparkifyError):
    """The Prefect server is unreachable or refused a rule."""


@dataclass(frozen=True)
class Applied:
    """What applying did to one automation."""

    name: str
    action: str  # created, updated, removed (a duplicate, or a rule no longer in the files)
    automation_id: UUID

    def line(self) -> str:
        return f"{self.action} automation '{self.name}' ({self.automation_id})"


def api_url() -> str:
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        raise ConfigError("PREFECT_API_URL is not set: point it at the Prefect server that runs "
                          "the Sparkify deployments (an automation needs a lasting server)")
    return url


def apply_rules(block: str, directory: Path = AUTOMATIONS_DIR) -> list[Applied]:
    """Create or update each rule by name on the server at PREFECT_API_URL, sending to `block`."""
    from prefect.client.orchestration import get_client

    url = api_url()
    with get_client(sync_client=True) as client:
        try:
            rules = load_rules(notification_block_id(client, block, url), directory)
            existing = _oldest_first(client)
            done = [_upsert(client, rule, [a for a in existing if a.name == rule.name])
                    for rule in rules]
            names = {rule.name for rule in rules}
            stale = [a for a in existing if OWNER_TAG in a.tags and a.name not in names]
            return [entry for entries in done for entry in entries] + [
                _remove(client, automation) for automation in stale]
        except SparkifyError:
            raise
        except Exception as exc:
            raise NotifySetupError(f"Prefect server at {url}: {_reason(exc)}") from exc


def notification_block_id(client: SyncPrefectClient, block: str, url: str) -> UUID:
    """The id of the block named `<block-type-slug>/<name>`, which must be able to notify."""
    from prefect.exceptions import ObjectNotFound

    setting = f"[NOTIFY] BLOCK = {block!r}"
    slug, _, name = block.strip().partition("/")
    if not block.strip():
        raise ConfigError("[NOTIFY] BLOCK is empty: name the Prefect notification block to send "
                          "to, e.g. custom-webhook/sparkify-alerts (or set SPARKIFY_NOTIFY_BLOCK)")
    if not slug or not name or "/" in name:
        raise ConfigError(f"{setting}: expected <block-type-slug>/<block-name>, as "
                          "`prefect block ls` lists it, e.g. slack-webhook/sparkify-alerts")
    try:
        document = client.read_block_document_by_name(name, slug, include_secrets=False)
    except ObjectNotFound:
        raise ConfigError(f"{setting}: no such block on the Prefect server at {url} "
                          "(create it first: docs/quality.md, Notifications)") from None
    capabilities = document.block_schema.capabilities if document.block_schema else []
    if "notify" not in capabilities:
        raise ConfigError(f"{setting}: a {slug} block cannot send notifications; use a "
                          "notification block such as custom-webhook or slack-webhook")
    return document.id


def _upsert(client: SyncPrefectClient, rule, same_name: list) -> list[Applied]:
    if not same_name:
        return [Applied(rule.name, "created", client.create_automation(rule))]
    kept, *duplicates = same_name  # the oldest keeps its id, and the links to it
    client.update_automation(kept.id, rule)
    return [Applied(rule.name, "updated", kept.id)] + [
        _remove(client, automation) for automation in duplicates]


def _oldest_first(client: SyncPrefectClient) -> list:
    from prefect.client.schemas.sorting import AutomationSort

    return client.read_automations(sort=AutomationSort.CREATED_DESC)[::-1]


def _remove(client: SyncPrefectClient, automation) -> Applied:
    client.delete_automation(automation.id)
    return Applied(automation.name, "removed", automation.id)


def _reason(exc: BaseException) -> str:
    """One line: the server's own complaint when it gave one (a 422 names the bad field)."""
    from prefect.exceptions import PrefectHTTPStatusError

    if isinstance(exc, PrefectHTTPStatusError):
        try:
            detail = exc.response.json().get("detail")
        except ValueError:
            detail = None
        return f"HTTP {exc.response.status_code}: {detail or exc.response.text}"[:500]
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__
