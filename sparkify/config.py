"""The dwh.cfg schema: every setting with its type, default, description and whether it is secret.

Values come, in increasing precedence, from the defaults below, the dwh.cfg file
(ConfigParser) and the environment (`SPARKIFY_<SECTION>_<KEY>`). The database password is
needed only with AUTH = password or MANAGE_ADMIN_PASSWORD = false; then, when still empty, it
falls back to `SPARKIFY_DB_PASSWORD` and then to a Prefect Secret block.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from sparkify.errors import ConfigError
from sparkify.formats import CheckedStr, Identifier, Region, RoleArn, S3Uri, label
from sparkify.secrets import register_secret

PASSWORD_ENV = "SPARKIFY_DB_PASSWORD"
PASSWORD_SECRET_BLOCK = "sparkify-db-password"


@dataclass(frozen=True)
class Setting:
    section: str
    key: str
    default: Any
    description: str
    kind: type = str
    secret: bool = False
    choices: tuple[str, ...] = ()  # the values allowed, when only some are
    name: str = ""  # its field of Settings, when not the key in lower case

    @property
    def env_var(self) -> str:
        return f"SPARKIFY_{self.section}_{self.key}"

    @property
    def field(self) -> str:
        return self.name or self.key.lower()


SCHEMA: tuple[Setting, ...] = (
    Setting("AWS", "REGION", "us-west-2", "AWS region of the cluster or workgroup, and of every "
            "AWS call (IAM, EC2, Redshift).", Region),
    Setting(
        "DWH", "DEPLOYMENT", "cluster",
        "cluster: a provisioned cluster (CLUSTER_IDENTIFIER, CLUSTER_TYPE, NUM_NODES, "
        "NODE_TYPE); serverless: a Redshift Serverless namespace and workgroup (NAMESPACE, "
        "WORKGROUP, BASE_CAPACITY).", choices=("cluster", "serverless"),
    ),
    Setting(
        "DWH", "AUTH", "iam",
        "iam: temporary database credentials from IAM, requested for each run and never "
        "stored (GetClusterCredentials for DB_USER; on Serverless, GetCredentials for the "
        "caller's IAM identity); password: DB_USER and DB_PASSWORD.",
        choices=("iam", "password"),
    ),
    Setting("DWH", "CLUSTER_IDENTIFIER", "sparkify", "Name of the Redshift cluster."),
    Setting("DWH", "CLUSTER_TYPE", "multi-node", "single-node or multi-node."),
    Setting("DWH", "NUM_NODES", 4, "Number of compute nodes (multi-node only).", int),
    Setting("DWH", "NODE_TYPE", "ra3.large", "Redshift node type (dc2 is end-of-life)."),
    Setting("DWH", "DB_NAME", "sparkify", "Database created in the cluster."),
    Setting("DWH", "NAMESPACE", "sparkify", "Serverless: the namespace (database, admin user, "
            "IAM role)."),
    Setting("DWH", "WORKGROUP", "sparkify", "Serverless: the workgroup (compute and endpoint)."),
    Setting("DWH", "BASE_CAPACITY", 4, "Serverless: base capacity in RPUs; 4 is the least AWS "
            "allows (then 8 to 512 in steps of 8).", int),
    Setting("DWH", "DB_USER", "sparkify", "Admin user of the cluster or namespace."),
    Setting(
        "DWH", "MANAGE_ADMIN_PASSWORD", True,
        "Provision: AWS generates the admin password and keeps it in Secrets Manager "
        "(ManageMasterPassword, manageAdminPassword); false: DB_PASSWORD is the admin password.",
        bool,
    ),
    Setting(
        "DWH", "DB_PASSWORD", "",
        f"Only for AUTH = password or MANAGE_ADMIN_PASSWORD = false; empty: taken from "
        f"{PASSWORD_ENV} or the Prefect Secret block '{PASSWORD_SECRET_BLOCK}'.",
        secret=True,
    ),
    Setting("DWH", "PORT", 5439, "Port the cluster listens on.", int),
    Setting("DWH", "SCHEMA", "public", "Schema that holds the staging and star tables "
            "(letters, digits and _, not starting with a digit).", Identifier),
    Setting("DWH", "IAM_ROLE_NAME", "sparkify-redshift-s3-read", "Role Redshift assumes to read S3."),
    Setting(
        "DWH", "S3_POLICY", "inline",
        "inline: least-privilege s3:Get*/s3:List* on the source bucket; "
        "managed: the AmazonS3ReadOnlyAccess policy.",
    ),
    Setting("DWH", "INGRESS_CIDR", "", "The one CIDR allowed to reach the cluster port."),
    Setting(
        "DWH", "ALLOW_PUBLIC_INGRESS", False,
        "Allow INGRESS_CIDR = 0.0.0.0/0 (refused unless true).", bool,
    ),
    Setting("DWH", "PUBLICLY_ACCESSIBLE", True, "Give the cluster a public endpoint.", bool),
    Setting("DWH", "AVAILABLE_TIMEOUT", 1800, "Seconds to wait for the cluster to be available.", int),
    Setting("DWH", "FINAL_SNAPSHOT", "", "Teardown: name of a final snapshot (empty: none)."),
    Setting("DWH", "HOST", "", "Cluster endpoint; empty: looked up from CLUSTER_IDENTIFIER."),
    Setting("DWH", "ROLE_ARN", "", "Role ARN; empty: looked up from IAM_ROLE_NAME.", RoleArn),
    Setting(
        "S3", "REGION", "",
        "Region of the source buckets: COPY's REGION option, and where this machine lists "
        "them. COPY then reads every file in it: LOG_JSONPATH and MANIFEST_PREFIX must be "
        "in buckets of that region too. Empty: [AWS] REGION.", Region, name="source_region",
    ),
    Setting("S3", "LOG_DATA", "s3://udacity-dend/log_data", "Prefix of the event logs.", S3Uri),
    Setting(
        "S3", "LOG_JSONPATH", "s3://udacity-dend/log_json_path.json",
        "JSONPaths file that maps events to staging_events columns.", S3Uri,
    ),
    Setting("S3", "SONG_DATA", "s3://udacity-dend/song_data", "Prefix of the song metadata.",
            S3Uri),
    Setting(
        "S3", "MANIFEST_PREFIX", "",
        "Writable s3:// prefix for COPY manifests, in a bucket of the sources' region. Needed "
        "on Redshift for incremental runs and --start/--end backfills, which load some "
        "objects of a prefix, not all of it.", S3Uri,
    ),
    Setting(
        "NOTIFY", "BLOCK", "",
        "Prefect notification block that failures are sent to, as <block-type-slug>/<name> "
        "(e.g. custom-webhook/sparkify-alerts, slack-webhook/sparkify-alerts; see "
        "`prefect block ls`). The webhook URL lives in the block. Applied by make notify-setup.",
    ),
)


@dataclass(frozen=True)
class Settings:
    region: str
    deployment: str
    auth: str
    cluster_identifier: str
    cluster_type: str
    num_nodes: int
    node_type: str
    db_name: str
    namespace: str
    workgroup: str
    base_capacity: int
    db_user: str
    manage_admin_password: bool
    db_password: str
    port: int
    schema: str
    iam_role_name: str
    s3_policy: str
    ingress_cidr: str
    allow_public_ingress: bool
    publicly_accessible: bool
    available_timeout: int
    final_snapshot: str
    host: str
    role_arn: str
    source_region: str  # [S3] REGION, [AWS] REGION when empty
    log_data: str
    log_jsonpath: str
    song_data: str
    manifest_prefix: str
    block: str  # [NOTIFY] BLOCK

    @property
    def needs_password(self) -> bool:
        """Whether a command may need DB_PASSWORD: to log in, or to create the admin user."""
        return self.auth == "password" or not self.manage_admin_password

    def __repr__(self) -> str:  # never show the password
        shown = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "db_password"}
        return f"Settings({shown}, db_password=****)"


def _coerce(setting: Setting, raw: Any, origin: str) -> Any:
    if not isinstance(raw, str):
        return raw
    raw = raw.strip()
    try:
        if setting.kind is bool:
            if raw.lower() in {"1", "true", "yes", "on"}:
                return True
            if raw.lower() in {"", "0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        value = setting.kind(raw) if raw or setting.kind is str else setting.default
    except ValueError:
        expected = setting.kind.EXPECTED if issubclass(setting.kind, CheckedStr) else \
            f"a valid {setting.kind.__name__.lower()}"
        raise ConfigError(
            f"{origin}: [{setting.section}] {setting.key} = {raw!r} is not {expected}"
        ) from None
    if setting.choices and value not in setting.choices:
        raise ConfigError(f"{origin}: [{setting.section}] {setting.key} = {raw!r}: expected "
                          f"{' or '.join(setting.choices)}")
    return value


def read_parser(path: Path) -> configparser.ConfigParser:
    """Read dwh.cfg; `;` and `#` start inline comments, as in the documented layout."""
    parser = configparser.ConfigParser(inline_comment_prefixes=(";", "#"), interpolation=None)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as exc:
        raise ConfigError(f"{path}: {str(exc).splitlines()[0]}") from None
    return parser


def load_settings(path: str | Path | None = None, env: dict[str, str] | None = None,
                  resolve_password: bool = True) -> Settings:
    """Settings from defaults, then the dwh.cfg at `path` (if any), then the environment.

    `resolve_password=False` leaves an empty password empty (no Prefect block look-up), for
    commands that must touch nothing, such as --dry-run.
    """
    env = dict(os.environ) if env is None else env
    parser = read_parser(Path(path)) if path else configparser.ConfigParser()
    values: dict[str, Any] = {}
    for setting in SCHEMA:
        value, origin = setting.default, "default"
        if parser.has_option(setting.section, setting.key):
            value, origin = parser.get(setting.section, setting.key), str(path)
        if setting.env_var in env:
            value, origin = env[setting.env_var], setting.env_var
        values[setting.field] = _coerce(setting, value, origin)
    settings = Settings(**values)
    if not settings.source_region:
        settings = replace(settings, source_region=settings.region)
    if not settings.db_password and settings.needs_password and resolve_password:
        settings = replace(settings, db_password=env.get(PASSWORD_ENV) or
                           _password_from_prefect_block())
    register_secret(settings.db_password)
    return settings


def _password_from_prefect_block() -> str:
    """The Prefect Secret block, when a Prefect API is configured and holds one."""
    if not os.environ.get("PREFECT_API_URL"):
        return ""
    try:
        from prefect.blocks.system import Secret

        return Secret.load(PASSWORD_SECRET_BLOCK).get()
    except Exception:  # no block, or no API: the password stays empty and the caller says so
        return ""


def example_file() -> str:
    """The text of dwh.cfg.example, generated from the schema so the two never drift."""
    lines = [
        "; Sparkify ELT configuration (the AWS profile). Copy to dwh.cfg, which git ignores.",
        "; Every key can be overridden by the environment variable SPARKIFY_<SECTION>_<KEY>.",
        "; AWS access keys never go here: they come from the standard AWS credential chain",
        "; (environment, ~/.aws, instance role) or a prefect-aws AwsCredentials block.",
    ]
    section = None
    for setting in SCHEMA:
        if setting.section != section:
            section = setting.section
            lines += ["", f"[{section}]"]
        default = setting.default
        if isinstance(default, bool):
            default = str(default).lower()
        secret = " (secret)" if setting.secret else ""
        lines.append(f"; {setting.description}{secret} [{label(setting.kind)}]")
        lines.append(f"{setting.key} = {'' if setting.secret else default}")
    return "\n".join(lines) + "\n"
