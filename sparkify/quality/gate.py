"""The gate: one GX Data Context on one warehouse, running the checkpoints of expectations/."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from sparkify.errors import ConfigError, WarehouseError, innermost_line
from sparkify.paths import STATE_DIR
from sparkify.quality.report import QualityReport, outcome
from sparkify.quality.suites import EXPECTATIONS_DIR, CheckpointFile, SuiteFile
from sparkify.quality.targets import QualityTarget
from sparkify.sqllib import SqlLibrary

# Before great_expectations is imported (lazily, below): no usage statistics.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

_IMPORT_LOCK = threading.Lock()
DATA_DOCS_DIR = STATE_DIR / "data_docs"
DATA_SOURCE_NAME = "sparkify_warehouse"
DOCS_SITE_NAME = "sparkify"
# A checkpoint first runs for its verdict alone (BOOLEAN_ONLY): GX then skips the query per
# expectation that samples unexpected values, a scan of the table even when it finds none.
# Only when something did not pass does it run again with SUMMARY: counts and a sample of
# unexpected values for the messages, without fetching every failing row.
VERDICT_FORMAT = {"result_format": "BOOLEAN_ONLY"}
DETAILED_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 5}


def import_great_expectations():
    """great_expectations, imported with scipy.stats deferred to its first use.

    GX imports scipy.stats for three expectations this project does not use (KL divergence and
    two KS tests): 0.6-0.9 s of the 2.7-3.6 s GX's import took here, paid by every run that
    checks anything. A LazyLoader module stands in for it and loads it on first attribute use.
    One thread at a time: the background import and a checkpoint may both get here first.
    """
    with _IMPORT_LOCK:
        if "great_expectations" not in sys.modules and "scipy.stats" not in sys.modules:
            _defer_module("scipy.stats")
        return importlib.import_module("great_expectations")


def _defer_module(name: str) -> None:
    spec = importlib.util.find_spec(name)  # imports its parent package (scipy: light)
    if spec is None or spec.loader is None:
        return
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    setattr(sys.modules[parent], child, module)
    spec.loader.exec_module(module)


def import_great_expectations_in_background() -> None:
    """Start importing great_expectations (2-3 s of module loading) on a daemon thread, so that
    the first checkpoint, which runs after staging, finds it loaded. A checkpoint that starts
    earlier waits for that import to end; it never sees a half-imported module."""
    threading.Thread(target=import_great_expectations, name="import-great-expectations",
                     daemon=True).start()


class QualityGate:
    """One GX Data Context on one warehouse: built on first use, then any checkpoint, any times.

    Data Docs are built by `publish_docs()`, once for every checkpoint run since the last one,
    not by each checkpoint: GX's UpdateDataDocsAction rebuilds the index and the suite pages
    for each suite it validated, which took three quarters of a checkpoint on the sample
    (2-3 s of a staging gate the transform waits for).

    A context manager; `close()` releases the connection pool.
    """

    def __init__(self, target: QualityTarget, *, expectations_dir: Path = EXPECTATIONS_DIR,
                 data_docs_dir: Path | None = DATA_DOCS_DIR) -> None:
        self.target = target
        self.expectations_dir = Path(expectations_dir)
        self.data_docs_dir = Path(data_docs_dir) if data_docs_dir else None
        self._context = None
        self._datasource = None
        self._batches: dict[str, Any] = {}
        self._suites: dict[str, Any] = {}
        self._tables: dict[str, str] = {}  # suite name -> table
        self._positions: dict[str, int] = {}  # expectation id -> its place in the suite file
        self._checkpoints: dict[tuple[str, bool], tuple[Any, CheckpointFile]] = {}
        self._unpublished: list[Any] = []  # GX identifiers of results and suites not in the docs

    def __repr__(self) -> str:
        return f"QualityGate({self.target.describe()})"

    @property
    def data_docs_index(self) -> Path | None:
        return self.data_docs_dir / "index.html" if self.data_docs_dir else None

    def run(self, checkpoint: str) -> QualityReport:
        """Run one checkpoint on the tables as they are now; failures are in the report. It runs
        for its verdict, then once more in detail when anything did not pass (VERDICT_FORMAT)."""
        started = time.perf_counter()
        result = self._run_checkpoint(checkpoint, detailed=False)
        if not result.success:
            result = self._run_checkpoint(checkpoint, detailed=True)
        spec = self._checkpoints[checkpoint, True][1]
        results = sorted(  # in the order of the checkpoint and suite files, for reviewers
            ((suite_result.suite_name, expectation_result)
             for suite_result in result.run_results.values()
             for expectation_result in suite_result.results),
            key=lambda pair: (spec.suites.index(pair[0]),
                              self._positions.get(pair[1].expectation_config.id, 0)))
        outcomes = tuple(outcome(self._tables[suite], result) for suite, result in results)
        self._note_unpublished(result)
        docs = str(self.data_docs_index) if self.data_docs_dir else None
        return QualityReport(checkpoint, outcomes, time.perf_counter() - started, docs)

    def _run_checkpoint(self, checkpoint: str, *, detailed: bool):
        gx_checkpoint, _ = self._checkpoint(checkpoint, detailed)
        try:
            return gx_checkpoint.run()
        except Exception as exc:
            raise WarehouseError(f"quality checkpoint '{checkpoint}' could not run on "
                                 f"{self.target.describe()}: {innermost_line(exc)}") from exc

    def publish_docs(self) -> str | None:
        """Build the Data Docs of the checkpoints run since the last call; the index page."""
        if not self.data_docs_dir:
            return None
        if self._unpublished:
            self._context.build_data_docs(site_names=[DOCS_SITE_NAME],
                                          resource_identifiers=self._unpublished)
            self._unpublished = []
        return str(self.data_docs_index)

    def _note_unpublished(self, result) -> None:
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
        )

        self._unpublished.extend(result.run_results)
        self._unpublished.extend(ExpectationSuiteIdentifier(name=suite.suite_name)
                                 for suite in result.run_results.values())

    def release_connections(self) -> None:
        """Close pooled connections; the context stays, and reconnects on the next run."""
        if self._datasource is not None:
            self._datasource.get_engine().dispose()

    def close(self) -> None:
        self.release_connections()
        self._context = self._datasource = None
        self._batches, self._suites, self._tables, self._checkpoints = {}, {}, {}, {}
        self._positions, self._unpublished = {}, []

    def __enter__(self) -> QualityGate:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- building the GX objects ------------------------------------------------------------

    def _checkpoint(self, name: str, detailed: bool):
        """The GX checkpoint of `name` with the results in detail or the verdict alone; both
        share the validation definitions."""
        if (name, detailed) not in self._checkpoints:
            gx = import_great_expectations()
            spec = CheckpointFile.load(self.expectations_dir / "checkpoints" / f"{name}.yml")
            context = self._ensure_context()
            validations = [self._validation(name, suite) for suite in spec.suites]
            for detail, result_format in ((True, DETAILED_FORMAT), (False, VERDICT_FORMAT)):
                gx_checkpoint = context.checkpoints.add(gx.Checkpoint(
                    name=f"{name}.detailed" if detail else name,
                    validation_definitions=validations, actions=[],
                    result_format=result_format))
                self._checkpoints[name, detail] = (gx_checkpoint, spec)
        return self._checkpoints[name, detailed]

    def _validation(self, checkpoint: str, suite_name: str):
        import great_expectations as gx

        suite_file = SuiteFile.load(self.expectations_dir / f"{suite_name}.yml")
        if suite_name not in self._suites:
            suite = gx.ExpectationSuite(name=suite_name)
            for expectation in suite_file.build(self.target.schema):
                suite.add_expectation(expectation)
            if len(suite.expectations) != len(suite_file.expectations):
                raise ConfigError(f"{suite_file.path}: an expectation is listed twice")
            self._suites[suite_name] = self._context.suites.add(suite)
            self._tables[suite_name] = suite_file.table
            self._positions.update(
                (e.id, n) for n, e in enumerate(self._suites[suite_name].expectations))
        return self._context.validation_definitions.add(gx.ValidationDefinition(
            name=f"{checkpoint}.{suite_name}", data=self._batch(suite_file.table),
            suite=self._suites[suite_name]))

    def _batch(self, table: str):
        if table not in self._batches:
            self._require_table(table)
            asset = self._datasource.add_table_asset(table, table_name=table,
                                                     schema_name=self.target.schema)
            self._batches[table] = asset.add_batch_definition_whole_table("whole table")
        return self._batches[table]

    def _require_table(self, table: str) -> None:
        """One clear error for a table that is not there (information_schema: both engines)."""
        import sqlalchemy

        query = sqlalchemy.text(SqlLibrary(self.target.kind).text("quality/table_exists"))
        try:
            with self._datasource.get_engine().connect() as conn:
                exists = conn.execute(query, {"schema": self.target.schema,
                                              "table": table}).scalar()
        except Exception as exc:
            raise WarehouseError(f"cannot inspect {self.target.describe()}: "
                                 f"{innermost_line(exc)}") from exc
        if not exists:
            raise WarehouseError(f"table {self.target.schema}.{table} does not exist on "
                                 f"{self.target.describe()}: run the ELT (flows/main.py) first")

    def _ensure_context(self):
        if self._context is None:
            gx = import_great_expectations()
            from great_expectations.data_context.types.base import ProgressBarsConfig

            # GX pins this logger at INFO, which announces a temporary docs directory per context.
            logging.getLogger("great_expectations.data_context.types.base").setLevel(
                logging.WARNING)
            context = gx.get_context(mode="ephemeral")
            # GX draws tqdm bars on stderr for every metric batch: keep the run's output clean.
            context.variables.progress_bars = ProgressBarsConfig(globally=False)
            for site in list(context.list_data_docs_sites()):  # the default is in a temp dir
                context.delete_data_docs_site(site)
            if self.data_docs_dir:
                from sparkify.quality.docs_view import site_config

                context.add_data_docs_site(DOCS_SITE_NAME, site_config(self.data_docs_dir))
            # GX's data source factory for the engine: add_postgres or add_redshift.
            add_data_source = getattr(context.data_sources, f"add_{self.target.kind}")
            try:
                self._datasource = add_data_source(
                    DATA_SOURCE_NAME,
                    connection_string=self.target.connection_string.get_secret_value())
            except Exception as exc:
                raise WarehouseError(f"quality checks cannot connect to "
                                     f"{self.target.describe()}: {innermost_line(exc)}") from exc
            self._context = context
        return self._context
