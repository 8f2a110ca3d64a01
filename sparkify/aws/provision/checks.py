"""Settings that provision refuses before any AWS call, since they would fail half-way."""

from __future__ import annotations

import re

from sparkify.aws.provision.network import ingress_network
from sparkify.config import PASSWORD_ENV, Settings
from sparkify.errors import ConfigError

# Redshift's master password rules, checked before anything is created.
PASSWORD_RULE = re.compile(r"^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)[!#-&(-.0-?A-\[\]-~]{8,64}$")


def check_settings(settings: Settings) -> None:
    """Refuse, before any AWS call, settings that would fail or be unsafe half-way."""
    if settings.ingress_cidr or settings.deployment == "cluster":  # a private workgroup needs none
        ingress_network(settings)
    if settings.s3_policy not in ("inline", "managed"):
        raise ConfigError(f"[DWH] S3_POLICY = {settings.s3_policy!r}: expected inline or managed")
    if settings.cluster_type not in ("multi-node", "single-node"):
        raise ConfigError(f"[DWH] CLUSTER_TYPE = {settings.cluster_type!r}: expected "
                          "multi-node or single-node")
    if settings.cluster_type == "multi-node" and settings.num_nodes < 2:
        raise ConfigError("[DWH] NUM_NODES must be 2 or more for a multi-node cluster")
    if settings.deployment == "serverless" and not (
            settings.base_capacity == 4 or 8 <= settings.base_capacity <= 512
            and settings.base_capacity % 8 == 0):
        raise ConfigError(f"[DWH] BASE_CAPACITY = {settings.base_capacity}: expected 4, or 8 to "
                          "512 in steps of 8 (RPUs)")
    if settings.manage_admin_password:
        return  # AWS generates the admin password: there is none to check
    if not settings.db_password:
        raise ConfigError(f"MANAGE_ADMIN_PASSWORD = false, but no admin password: set "
                          f"{PASSWORD_ENV} (or [DWH] DB_PASSWORD)")
    if not PASSWORD_RULE.match(settings.db_password):
        raise ConfigError("the database password does not meet Redshift's rules: 8-64 printable "
                          "ASCII characters with an upper-case letter, a lower-case letter and a "
                          "digit, and none of ' \" \\ / @ or space")
