"""Great Expectations quality gates: the suites in expectations/, run as checkpoints.

The reviewable source is one YAML file per table (`expectations/<table>.yml`) and one per
checkpoint (`expectations/checkpoints/<name>.yml`). A `QualityGate` turns them into GX 1.x
objects in an ephemeral Data Context (a data source, per table a table asset with a whole-table
batch definition, an ExpectationSuite and a ValidationDefinition, per checkpoint a Checkpoint)
and runs them. Nothing persists but the Data Docs, built into `.sparkify/data_docs/`.

PostgreSQL and Redshift differ only in the GX data source, chosen in `_DATA_SOURCES` from a
`QualityTarget`; suites, checkpoints and results are shared.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, unquote

import yaml
from pydantic import SecretStr
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from sparkify.errors import ConfigError, WarehouseError, first_line
from sparkify.local import PROJECT_ROOT, STATE_DIR
from sparkify.secrets import redact, register_secret

if TYPE_CHECKING:
    from sparkify.config import Settings
    from sparkify.profiles import RuntimeSpec

# Before great_expectations is imported (lazily, below): no usage statistics.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def import_great_expectations_in_background() -> None:
    """Start importing great_expectations (2-3 s of module loading) on a daemon thread, so that
    the first checkpoint, which runs after staging, finds it loaded. A checkpoint that starts
    earlier waits on Python's import lock; it never sees a half-imported module."""
    threading.Thread(target=importlib.import_module, args=("great_expectations",),
                     name="import-great-expectations", daemon=True).start()


EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
DATA_DOCS_DIR = STATE_DIR / "data_docs"
CHECKPOINTS = ("staging", "warehouse")
DATA_SOURCE_NAME = "sparkify_warehouse"
DOCS_SITE_NAME = "sparkify"
# SUMMARY: counts and a sample of unexpected values, without fetching every failing row.
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 5}
# GX's data source factory per warehouse engine: the one place the engines differ here.
_DATA_SOURCES = {"postgres": "add_postgres", "redshift": "add_redshift"}
_EXPECTATION_KEYS = {"type", "kwargs", "description", "severity", "meta", "notes"}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# -- the suite and checkpoint files ---------------------------------------------------------


@dataclass(frozen=True)
class SuiteFile:
    """One table's expectations, as written in expectations/<table>.yml."""

    table: str
    expectations: tuple[dict[str, Any], ...]
    path: Path

    @classmethod
    def load(cls, path: Path) -> SuiteFile:
        data = _read_yaml(path)
        table, entries = data.get("table"), data.get("expectations")
        if not isinstance(table, str) or not _IDENTIFIER.match(table):
            raise ConfigError(f"{path}: 'table' must name one table")
        if not isinstance(entries, list) or not entries:
            raise ConfigError(f"{path}: 'expectations' must be a non-empty list")
        for number, entry in enumerate(entries, start=1):
            _check_entry(entry, f"{path}, expectation {number}")
        return cls(table, tuple(entries), path)

    def build(self, schema: str) -> list:
        """The expectations as GX objects, with `{schema}` filled into their SQL."""
        from great_expectations.expectations.expectation_configuration import (
            ExpectationConfiguration,
        )

        import sparkify.expectations  # noqa: F401  (registers expect_no_unexpected_rows)

        built = []
        for number, entry in enumerate(self.expectations, start=1):
            entry = {**entry, "kwargs": _fill_schema(entry.get("kwargs", {}), schema)}
            try:  # fail on a typo now: GX's own suite loader would only log and skip it
                built.append(ExpectationConfiguration(**entry).to_domain_obj())
            except Exception as exc:
                raise ConfigError(f"{self.path}, expectation {number} ({entry['type']}): "
                                  f"{_first_line(exc)}") from exc
        return built


def _check_entry(entry: Any, where: str) -> None:
    if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
        raise ConfigError(f"{where}: needs a 'type'")
    unknown = sorted(set(entry) - _EXPECTATION_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    if not isinstance(entry.get("description"), str) or not entry["description"].strip():
        raise ConfigError(f"{where}: needs a 'description' (the rule, in words)")
    if not isinstance(entry.get("kwargs", {}), dict):
        raise ConfigError(f"{where}: 'kwargs' must be a mapping")


@dataclass(frozen=True)
class CheckpointFile:
    """A checkpoint, as written in expectations/checkpoints/<name>.yml: the suites it runs."""

    name: str
    description: str
    suites: tuple[str, ...]

    @classmethod
    def load(cls, path: Path) -> CheckpointFile:
        data = _read_yaml(path)
        suites = data.get("suites")
        if data.get("name") != path.stem:
            raise ConfigError(f"{path}: 'name' must be {path.stem!r}, like the file")
        if not isinstance(suites, list) or not suites or not all(
                isinstance(s, str) and _IDENTIFIER.match(s) for s in suites):
            raise ConfigError(f"{path}: 'suites' must list suite (table) names")
        return cls(path.stem, str(data.get("description", "")), tuple(suites))


def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(f"quality file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({_first_line(exc)})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def _fill_schema(value: Any, schema: str) -> Any:
    """`{schema}` in SQL names the warehouse schema; `{batch}` is left for GX to fill."""
    if isinstance(value, str):
        return value.replace("{schema}", schema)
    if isinstance(value, dict):
        return {key: _fill_schema(item, schema) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill_schema(item, schema) for item in value]
    return value


# -- where the checkpoints run ----------------------------------------------------------------


CHECK_WORK_MEM = "256MB"


@dataclass(frozen=True)
class QualityTarget:
    """The GX data source to validate: its kind, its SQLAlchemy URL (secret) and the schema."""

    kind: Literal["postgres", "redshift"]
    connection_string: SecretStr
    schema: str = "public"

    def describe(self) -> str:
        """The URL without its password, for messages."""
        url = make_url(self.connection_string.get_secret_value())
        return redact(unquote(url.render_as_string(hide_password=True)))


def postgres_target(url: str, schema: str = "public") -> QualityTarget:
    """A libpq URL (postgresql://...) in the form GX's PostgreSQL data source accepts.

    GX validates the URL as a DSN that must have a host, which the embedded server's socket
    URL (`postgresql://postgres@/sparkify?host=/path/to/pgdata`) lacks. psycopg2 lets the
    `host` query parameter override the URL's host, so `localhost` is only there to pass the
    check: the connection still goes through the socket.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"not a PostgreSQL URL: {redact(url)}") from None
    if parsed.drivername not in ("postgresql", "postgres", "postgresql+psycopg2"):
        raise ConfigError(f"not a PostgreSQL URL: {redact(url)}")
    parsed = parsed.set(drivername="postgresql+psycopg2")
    if not parsed.host:
        parsed = parsed.set(host="localhost")
    if "options" not in parsed.query:
        # The reconciliation checks hash millions of plays: PostgreSQL's default 4 MB of
        # work_mem made one take 16 minutes at 10M events (58 s with 256 MB).
        parsed = parsed.update_query_dict({"options": f"-c work_mem={CHECK_WORK_MEM}"})
    register_secret(parsed.password)
    return QualityTarget("postgres", SecretStr(_url_text(parsed)), _schema(schema))


def redshift_target(settings: Settings) -> QualityTarget:
    """GX's Redshift data source from dwh.cfg: host, port, database, user, password; TLS on."""
    if not settings.host:
        raise ConfigError("no Redshift endpoint: set [DWH] HOST (or provision the cluster)")
    if not settings.db_password:
        raise ConfigError("no Redshift password: set [DWH] DB_PASSWORD, SPARKIFY_DB_PASSWORD "
                          "or the Prefect Secret block")
    register_secret(settings.db_password)
    url = URL.create("redshift+psycopg2", username=settings.db_user,
                     password=settings.db_password, host=settings.host, port=settings.port,
                     database=settings.db_name, query={"sslmode": "require"})
    return QualityTarget("redshift", SecretStr(_url_text(url)), _schema(settings.schema))


def _url_text(url: URL) -> str:
    """The URL as text, user and password fully percent-quoted: SQLAlchemy leaves characters
    such as spaces as they are, which GX's DSN check rejects."""
    anonymous = URL.create(url.drivername, host=url.host, port=url.port, database=url.database,
                           query=url.query)
    text = anonymous.render_as_string(hide_password=False)
    if not url.username:
        return text
    scheme, rest = text.split("://", 1)
    userinfo = quote(url.username, safe="")
    if url.password:
        userinfo += ":" + quote(str(url.password), safe="")
    return f"{scheme}://{userinfo}@{rest}"


def target_for(spec: RuntimeSpec) -> QualityTarget:
    """The target of a pipeline run: its PostgreSQL URL, or the Redshift of its dwh.cfg."""
    if spec.engine == "redshift":
        from sparkify.config import load_settings

        settings = load_settings(spec.config_path)
        if not settings.host:  # the endpoint of the cluster, as the warehouse looks it up
            from sparkify.redshift import cluster_endpoint

            host, port = cluster_endpoint(settings)
            settings = replace(settings, host=host, port=port)
        return redshift_target(settings)
    if spec.warehouse_url is None:
        raise ConfigError("no warehouse URL to validate")
    return postgres_target(spec.warehouse_url.get_secret_value(), spec.schema)


def _schema(schema: str) -> str:
    if not _IDENTIFIER.match(schema or ""):
        raise ConfigError(f"schema {schema!r} is not a plain SQL identifier")
    return schema


# -- results ----------------------------------------------------------------------------------


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


def _outcome(table: str, result) -> ExpectationOutcome:
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
            text += ", e.g. " + ", ".join(_short(repr(value)) for value in sample[:3])
        return text
    missing = (result.get("details") or {}).get("mismatched", {}).get("missing")
    if missing:
        return "missing: " + ", ".join(map(str, missing))
    value = result.get("observed_value")
    if isinstance(value, (list, tuple)):
        return f"{len(value)} columns"
    return "" if value is None else _short(str(value))


def _exception_message(info: dict | None) -> str:
    """GX keeps a caught exception either flat or keyed by the metric that raised it."""
    if not info:
        return ""
    candidates = [info] + [v for v in info.values() if isinstance(v, dict)]
    for candidate in candidates:
        if candidate.get("raised_exception"):
            return _short(_first_line(candidate.get("exception_message") or "error"), 200)
    return ""


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _first_line(exc: BaseException | str) -> str:
    """The first line of what went wrong, from the innermost cause (GX wraps driver errors)."""
    seen = 0
    while isinstance(exc, BaseException) and exc.__cause__ is not None and seen < 10:
        exc, seen = exc.__cause__, seen + 1
    return first_line(exc)


def _require_dialect(kind: str) -> None:
    if kind == "redshift":
        try:
            import sqlalchemy_redshift  # noqa: F401
        except ImportError:
            raise ConfigError("the Redshift quality checks need the project's [redshift] extra "
                              "(sqlalchemy-redshift): pip install -e '.[redshift]'") from None


# -- the gate ---------------------------------------------------------------------------------


class QualityGate:
    """One GX Data Context on one warehouse: built on first use, then any checkpoint, any times.

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
        self._checkpoints: dict[str, tuple[Any, CheckpointFile]] = {}

    def __repr__(self) -> str:
        return f"QualityGate({self.target.describe()})"

    @property
    def data_docs_index(self) -> Path | None:
        return self.data_docs_dir / "index.html" if self.data_docs_dir else None

    def run(self, checkpoint: str) -> QualityReport:
        """Run one checkpoint on the tables as they are now; failures are in the report."""
        started = time.perf_counter()
        gx_checkpoint, spec = self._checkpoint(checkpoint)
        try:
            result = gx_checkpoint.run()
        except Exception as exc:
            raise WarehouseError(f"quality checkpoint '{checkpoint}' could not run on "
                                 f"{self.target.describe()}: {_first_line(exc)}") from exc
        results = sorted(  # in the order of the checkpoint and suite files, for reviewers
            ((suite_result.suite_name, expectation_result)
             for suite_result in result.run_results.values()
             for expectation_result in suite_result.results),
            key=lambda pair: (spec.suites.index(pair[0]),
                              self._positions.get(pair[1].expectation_config.id, 0)))
        outcomes = tuple(_outcome(self._tables[suite], result) for suite, result in results)
        docs = str(self.data_docs_index) if self.data_docs_dir else None
        return QualityReport(checkpoint, outcomes, time.perf_counter() - started, docs)

    def release_connections(self) -> None:
        """Close pooled connections; the context stays, and reconnects on the next run."""
        if self._datasource is not None:
            self._datasource.get_engine().dispose()

    def close(self) -> None:
        self.release_connections()
        self._context = self._datasource = None
        self._batches, self._suites, self._tables, self._checkpoints = {}, {}, {}, {}
        self._positions = {}

    def __enter__(self) -> QualityGate:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- building the GX objects ------------------------------------------------------------

    def _checkpoint(self, name: str):
        if name not in self._checkpoints:
            import great_expectations as gx

            spec = CheckpointFile.load(self.expectations_dir / "checkpoints" / f"{name}.yml")
            context = self._ensure_context()
            validations = [self._validation(name, suite) for suite in spec.suites]
            actions = []
            if self.data_docs_dir:
                actions.append(gx.checkpoint.UpdateDataDocsAction(
                    name="update_data_docs", site_names=[DOCS_SITE_NAME]))
            gx_checkpoint = context.checkpoints.add(gx.Checkpoint(
                name=name, validation_definitions=validations, actions=actions,
                result_format=RESULT_FORMAT))
            self._checkpoints[name] = (gx_checkpoint, spec)
        return self._checkpoints[name]

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

        query = sqlalchemy.text("SELECT COUNT(*) FROM information_schema.tables"
                                " WHERE table_schema = :schema AND table_name = :table")
        try:
            with self._datasource.get_engine().connect() as conn:
                exists = conn.execute(query, {"schema": self.target.schema,
                                              "table": table}).scalar()
        except Exception as exc:
            raise WarehouseError(f"cannot inspect {self.target.describe()}: "
                                 f"{_first_line(exc)}") from exc
        if not exists:
            raise WarehouseError(f"table {self.target.schema}.{table} does not exist on "
                                 f"{self.target.describe()}: run the ELT (flows/main.py) first")

    def _ensure_context(self):
        if self._context is None:
            import great_expectations as gx
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
                context.add_data_docs_site(DOCS_SITE_NAME, {
                    "class_name": "SiteBuilder",
                    "show_how_to_buttons": False,
                    "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                      "base_directory": str(self.data_docs_dir)},
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                })
            _require_dialect(self.target.kind)
            add_data_source = getattr(context.data_sources, _DATA_SOURCES[self.target.kind])
            try:
                self._datasource = add_data_source(
                    DATA_SOURCE_NAME,
                    connection_string=self.target.connection_string.get_secret_value())
            except Exception as exc:
                raise WarehouseError(f"quality checks cannot connect to "
                                     f"{self.target.describe()}: {_first_line(exc)}") from exc
            self._context = context
        return self._context
