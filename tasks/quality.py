"""Quality gates: the GX checkpoints `staging` (beside the transform) and `warehouse` (after)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Literal
from uuid import UUID

from prefect.events import emit_event
from prefect.logging import get_run_logger
from prefect.runtime import flow_run

from sparkify.errors import QualityGateError
from sparkify.notify.events import quality_failed_event
from sparkify.quality.report import QualityReport
from sparkify.runtime import Runtime
from tasks.artifacts import publish_table
from tasks.retries import io_task

QualityMode = Literal["fail", "warn"]


@io_task
def check_staging(runtime: Runtime, mode: QualityMode = "fail") -> QualityReport:
    """Validate the staging tables; mode "fail" stops the flow before the transform commits.

    The transform waits for this verdict: the Data Docs are built now only if it is a
    failure, and otherwise with the warehouse checkpoint's."""
    return run_checkpoint(runtime, "staging", mode, docs_when_passed=False)


@io_task
def check_warehouse(runtime: Runtime, mode: QualityMode = "fail",
                    loaded_by: str | None = None) -> QualityReport:
    """Validate the star tables and reconcile them with staging; mode "fail" fails the run.
    Then the Data Docs of both checkpoints.

    `loaded_by`: the run id of the load just committed. When the checkpoint fails in mode
    "fail", that load's objects leave the ledger, so the next run does not find "nothing new"
    while the data that failed is still there: it loads them again and checks again."""
    on_failure = (lambda: _forget_the_load(runtime, loaded_by)) if loaded_by else None
    return run_checkpoint(runtime, "warehouse", mode, docs_when_passed=True,
                          before_failing=on_failure)


def _forget_the_load(runtime: Runtime, run_id: str) -> None:
    forgotten = runtime.warehouse().forget_run(run_id)
    get_run_logger().warning(
        "the warehouse checkpoint failed: the %d source objects this run loaded are taken out "
        "of load_ledger, so the next run loads and checks them again", forgotten)


def run_checkpoint(runtime: Runtime, checkpoint: str, mode: QualityMode,
                   docs_when_passed: bool,
                   before_failing: Callable[[], None] | None = None) -> QualityReport:
    """Run one checkpoint, publish its artifact and summary line, then fail or warn
    (`before_failing` is called first when it fails the run)."""
    if mode not in ("fail", "warn"):
        raise ValueError(f"quality mode must be 'fail' or 'warn', not {mode!r}")
    logger = get_run_logger()
    gate = _gate_of_this_flow_run(runtime)
    try:
        report = gate.run(checkpoint)
    finally:
        gate.release_connections()
    artifact_id = publish(report)
    logger.info(report.summary())
    if docs_when_passed or not report.success:
        docs = gate.publish_docs()
        if docs:
            logger.info("Data Docs: %s", docs)
    if not report.success:
        # In both modes: the event is on record, and in mode warn it is what notifies.
        emit_event(**quality_failed_event(report, mode, artifact_key(report), artifact_id))
        if mode == "fail":
            if before_failing is not None:
                before_failing()
            raise QualityGateError(report.failure_message())
        logger.warning("%s (quality mode warn: not stopping)", report.failure_message())
    return report


def publish(report: QualityReport) -> UUID:
    """A keyed table artifact per checkpoint: one row per expectation, so the UI keeps history."""
    verdict = "passed" if report.success else f"failed {len(report.failures)}"
    return publish_table(
        key=artifact_key(report),
        rows=report.artifact_rows(),
        description=f"GX checkpoint '{report.checkpoint}': {verdict} of "
                    f"{len(report.outcomes)} expectations in {report.seconds:.2f}s",
    )


def artifact_key(report: QualityReport) -> str:
    return f"sparkify-quality-{report.checkpoint}"


# Both checkpoints of a flow run share one GX context, so the Data Docs index it builds lists
# both; a new flow run (which resolves a new runtime) starts a fresh one.
_gates: dict[tuple[str, int], object] = {}
_gates_lock = threading.Lock()


def _gate_of_this_flow_run(runtime: Runtime):
    key = (str(flow_run.get_id()), id(runtime))
    with _gates_lock:
        if key not in _gates:
            for previous in _gates.values():
                previous.close()
            _gates.clear()
            _gates[key] = runtime.quality_gate()
        return _gates[key]
