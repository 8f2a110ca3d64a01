"""Price classes provision prints before it creates anything billable (on-demand list prices in
US regions when this was written: an order of magnitude, not a quote)."""

from __future__ import annotations

PRICES_AS_OF = "US on-demand list prices, 2025"
PER_NODE_HOUR = {"ra3.large": 0.543, "ra3.xlplus": 1.086, "ra3.4xlarge": 3.26,
                 "ra3.16xlarge": 13.04, "dc2.large": 0.25, "dc2.8xlarge": 4.80}
PER_RPU_HOUR = 0.375
SNAPSHOT_STORAGE = "backup storage, about US$0.024 per GB-month"


def cluster_price(node_type: str, nodes: int) -> str:
    """'about US$2.17 per hour (4 x US$0.543 per node-hour), from creation until deletion'."""
    rate = PER_NODE_HOUR.get(node_type)
    if rate is None:
        return f"{nodes} x {node_type}: see the Redshift pricing page for its node-hour price"
    return (f"about US${nodes * rate:.2f} per hour ({nodes} x US${rate:.3f} per node-hour, "
            f"{PRICES_AS_OF}), billed from creation until deletion, queries or not")


def serverless_price(base_rpus: int) -> str:
    """What a workgroup of `base_rpus` costs while it works, and that it costs nothing idle."""
    return (f"about US${base_rpus * PER_RPU_HOUR:.2f} per hour of queries at the base "
            f"{base_rpus} RPUs (US${PER_RPU_HOUR:.3f} per RPU-hour, {PRICES_AS_OF}), billed per "
            "second with a 60-second minimum, only while queries run; nothing while idle")
