"""What a checkpoint found: one outcome per expectation, and the report the run shows."""

from __future__ import annotations

from dataclasses import dataclass

from sparkify.errors import innermost_line
from sparkify.text import inert, shown


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's result: its table, its rule in words, pass or fail, what was seen."""

    table: str
    rule: str
    expectation: str
    passed: bool
    severity: str
    observed: str

    @property
    def blocking(self) -> bool:
        """A failure that fails the gate (severity critical); warnings are only reported."""
        return not self.passed and self.severity == "critical"

    @property
    def label(self) -> str:
        return f"{self.table}: {self.rule}"


@dataclass(frozen=True)
class QualityReport:
    """What one checkpoint run found."""

    checkpoint: str
    outcomes: tuple[ExpectationOutcome, ...]
    seconds: float
    data_docs: str | None = None

    @property
    def success(self) -> bool:
        return not self.failures

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.blocking]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.passed and not o.blocking]

    @property
    def tables(self) -> list[str]:
        return list(dict.fromkeys(o.table for o in self.outcomes))

    def summary(self) -> str:
        """One line: the verdict, the counts, the seconds, and any warnings."""
        verdict = "passed" if self.success else f"FAILED ({len(self.failures)} failed)"
        passed = sum(o.passed for o in self.outcomes)
        line = (f"quality checkpoint '{self.checkpoint}' {verdict}: {passed} of "
                f"{len(self.outcomes)} expectations passed on {len(self.tables)} tables "
                f"in {self.seconds:.2f}s")
        if self.warnings:
            line += "; warning: " + "; ".join(_failure_text(o) for o in self.warnings)
        return line

    def failure_message(self) -> str:
        """One line naming every failed expectation with its table."""
        return (f"quality checkpoint '{self.checkpoint}' failed: "
                + "; ".join(_failure_text(o) for o in self.failures))

    def artifact_rows(self) -> list[dict[str, str]]:
        return [{"table": o.table, "expectation": o.rule, "result": "pass" if o.passed else "fail",
                 "severity": o.severity, "observed": o.observed, "type": o.expectation}
                for o in self.outcomes]


def _failure_text(outcome: ExpectationOutcome) -> str:
    return f"{outcome.label} ({outcome.observed})" if outcome.observed else outcome.label


def outcome(table: str, result) -> ExpectationOutcome:
    config = result.expectation_config
    severity = getattr(config, "severity", None) or "critical"
    error = _exception_message(result.exception_info)
    return ExpectationOutcome(
        table=table,
        rule=config.description or config.type,
        expectation=config.type,
        passed=bool(result.success) and not error,
        severity=getattr(severity, "value", str(severity)),
        observed=f"error: {error}" if error else _observed(config.type, result.result or {}),
    )


def _observed(expectation: str, result: dict) -> str:
    """What was seen, in a few words: a count of unexpected rows or values and a sample."""
    if expectation in ("expect_no_unexpected_rows", "unexpected_rows_expectation"):
        count = result.get("observed_value") or 0
        return f"{count} unexpected row{'' if count == 1 else 's'}"
    if "unexpected_count" in result:
        count, total = result.get("unexpected_count") or 0, result.get("element_count")
        text = f"{count} unexpected" + (f" of {total} values" if total is not None else "")
        sample = result.get("partial_unexpected_list") or []
        if count and sample:
            text += ", e.g. " + ", ".join(_short(shown(value)) for value in sample[:3])
        return text
    missing = (result.get("details") or {}).get("mismatched", {}).get("missing")
    if missing:
        return "missing: " + ", ".join(map(str, missing))
    value = result.get("observed_value")
    if isinstance(value, (list, tuple)):
        return f"{len(value)} columns"
    return "" if value is None else _short(inert(str(value)))


def _exception_message(info: dict | None) -> str:
    """GX keeps a caught exception either flat or keyed by the metric that raised it."""
    if not info:
        return ""
    candidates = [info] + [v for v in info.values() if isinstance(v, dict)]
    for candidate in candidates:
        if candidate.get("raised_exception"):
            return _short(inert(innermost_line(candidate.get("exception_message") or "error")), 200)
    return ""


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"



