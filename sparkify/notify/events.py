"""The Prefect event a failed quality gate emits: what the rule sparkify-quality-warned matches."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sparkify.quality.report import QualityReport

QUALITY_FAILED = "sparkify.quality.failed"
MODE_LABEL = "sparkify.quality.mode"
MAX_LISTED_FAILURES = 20  # keeps the event far below the server's size limit


def quality_failed_event(report: QualityReport, mode: str, artifact_key: str,
                         artifact_id: UUID | None) -> dict[str, Any]:
    """emit_event's arguments for a failed checkpoint; the flow and task runs are added by
    Prefect from the run context, so the rule can name and link them."""
    related = []
    if artifact_id:
        related.append({"prefect.resource.id": f"prefect.artifact.{artifact_id}",
                        "prefect.resource.role": "artifact",
                        "prefect.resource.name": artifact_key})
    return {
        "event": QUALITY_FAILED,
        "resource": {"prefect.resource.id": f"sparkify.quality-checkpoint.{report.checkpoint}",
                     "prefect.resource.name": report.checkpoint,
                     MODE_LABEL: mode},
        "related": related,
        "payload": {
            "message": report.failure_message()[:2000],
            "failed": [{"table": o.table, "rule": o.rule, "observed": o.observed}
                       for o in report.failures[:MAX_LISTED_FAILURES]],
            "failed_count": len(report.failures),
            "expectations": len(report.outcomes),
            "artifact_key": artifact_key,
        },
    }
