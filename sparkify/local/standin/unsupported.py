"""What Redshift's documentation lists as unsupported from PostgreSQL, as rules on SQL text.

Each rule names the feature, the documentation page that lists it, and a pattern on the code of
a statement (literals, quoted names and comments left out). `lint(sql)` gives the rules a
statement breaks. The stand-in refuses such a statement before PostgreSQL runs it (PostgreSQL
would), and the tests run every statement of a dry run of both deployments through it.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from sparkify.local.standin.sqltext import code_only

DOCS = "https://docs.aws.amazon.com/redshift/latest/dg/"
FEATURES = DOCS + "c_unsupported-postgresql-features.html"
FUNCTIONS = DOCS + "c_unsupported-postgresql-functions.html"
DATA_TYPES = DOCS + "c_unsupported-postgresql-datatypes.html"
TRUNCATE = DOCS + "r_TRUNCATE.html"  # "TRUNCATE commits the transaction in which it is run"
ISOLATION = DOCS + "r_BEGIN.html"  # SERIALIZABLE, or SNAPSHOT (a database setting)
INSERT = DOCS + "r_INSERT_30.html"  # no ON CONFLICT, no RETURNING in Redshift's INSERT syntax
SELECT = DOCS + "r_SELECT_synopsis.html"  # DISTINCT, not DISTINCT ON


class Rule(NamedTuple):
    feature: str
    source: str  # the documentation page
    pattern: str


_FUNCTION = r"\b{}\s*\("
RULES = (
    Rule("indexes", FEATURES, r"\bCREATE\s+(?:UNIQUE\s+)?INDEX\b|\bDROP\s+INDEX\b|\bREINDEX\b"),
    Rule("table partitioning", FEATURES, r"\bPARTITION\s+BY\s+(?:RANGE|LIST|HASH)\b|\bPARTITION\s+OF\b"),
    Rule("tablespaces", FEATURES, r"\bTABLESPACE\b"),
    Rule("check constraints", FEATURES, r"\bCHECK\s*\("),
    Rule("exclusion constraints", FEATURES, r"\bEXCLUDE\s+USING\b"),
    Rule("inheritance", FEATURES, r"\bINHERITS\s*\("),
    Rule("collations", FEATURES, r"\bCOLLATE\b"),
    Rule("triggers", FEATURES, r"\b(?:CREATE|DROP)\s+(?:OR\s+REPLACE\s+)?(?:CONSTRAINT\s+)?TRIGGER\b"),
    Rule("sequences", FEATURES, r"\b(?:CREATE|ALTER|DROP)\s+SEQUENCE\b|\b(?:NEXTVAL|CURRVAL|SETVAL)\s*\("),
    Rule("array constructors and subscripts", FEATURES, r"\bARRAY\s*\[|\w\s*\[\s*\d+\s*\]"),
    Rule("row constructors", FEATURES, r"\bROW\s*\("),
    Rule("VALUES lists used as constant tables", FEATURES,
         r"(?:\bFROM|\bJOIN|,)\s*\(\s*VALUES\b|\bUSING\s*\(\s*VALUES\b"),
    Rule("full text search", FEATURES, r"\b(?:TO_TSVECTOR|TO_TSQUERY|PLAINTO_TSQUERY)\s*\(|@@"),
    Rule("unlogged tables", FEATURES, r"\bUNLOGGED\b"),
    Rule("ON CONFLICT (upsert)", INSERT, r"\bON\s+CONFLICT\b"),
    Rule("RETURNING", INSERT, r"\bRETURNING\b"),
    Rule("DISTINCT ON", SELECT, r"\bDISTINCT\s+ON\s*\("),
    Rule("LATERAL", SELECT, r"\bLATERAL\b"),
    Rule("aggregate FILTER clauses", SELECT, r"\bFILTER\s*\(\s*WHERE\b"),
    Rule("TRUNCATE inside a transaction (it commits it)", TRUNCATE, r"\bTRUNCATE\b"),
    Rule("isolation levels other than SERIALIZABLE and SNAPSHOT", ISOLATION,
         r"\bISOLATION\s+LEVEL\s+(?:READ\s+(?:UN)?COMMITTED|REPEATABLE\s+READ)\b"),
    Rule("advisory lock functions", FUNCTIONS, r"\bPG_(?:TRY_)?ADVISORY_\w+\s*\("),
    Rule("access privilege inquiry functions", FUNCTIONS, r"\bHAS_\w+_PRIVILEGE\s*\("),
    Rule("set returning functions (GENERATE_SERIES, GENERATE_SUBSCRIPTS)", FUNCTIONS,
         r"\bGENERATE_(?:SERIES|SUBSCRIPTS)\s*\("),
    Rule("IS DISTINCT FROM", FUNCTIONS, r"\bIS\s+(?:NOT\s+)?DISTINCT\s+FROM\b"),
    Rule("aggregate functions STRING_AGG, ARRAY_AGG, EVERY, XML_AGG", FUNCTIONS,
         r"\b(?:STRING_AGG|ARRAY_AGG|EVERY|XML_AGG|XMLAGG)\s*\("),
    Rule("date/time functions CLOCK_TIMESTAMP, TRANSACTION_TIMESTAMP, PG_SLEEP, JUSTIFY_*",
         FUNCTIONS, r"\b(?:CLOCK_TIMESTAMP|TRANSACTION_TIMESTAMP|PG_SLEEP|JUSTIFY_\w+)\s*\("),
    Rule("math functions DIV, SETSEED, WIDTH_BUCKET", FUNCTIONS, r"\b(?:DIV|SETSEED|WIDTH_BUCKET)\s*\("),
    Rule("string functions BIT_LENGTH, OVERLAY, CONVERT_*, ENCODE, FORMAT, QUOTE_NULLABLE, "
         "REGEXP_MATCHES, REGEXP_SPLIT_*", FUNCTIONS,
         r"\b(?:BIT_LENGTH|OVERLAY|CONVERT_FROM|CONVERT_TO|ENCODE|FORMAT|QUOTE_NULLABLE"
         r"|REGEXP_MATCHES|REGEXP_SPLIT_TO_\w+)\s*\("),
    Rule("the regclass and oid casts", FUNCTIONS, r"::\s*(?:REGCLASS|OID)\b"),
    Rule("data types: arrays, BYTEA, BIT, composite, ENUM, INTERVAL columns, JSON/JSONB, MONEY, "
         "network, SERIAL, UUID, XML, ranges", DATA_TYPES,
         r"(?:\bCREATE\s+TYPE\b|::\s*(?:JSONB?|UUID|BYTEA|XML|MONEY|INET|CIDR)\b"
         r"|\b(?:BIGSERIAL|SMALLSERIAL|SERIAL|JSONB|UUID|BYTEA|MONEY|INET|CIDR|MACADDR|TSVECTOR"
         r"|INT4RANGE|INT8RANGE|NUMRANGE|TSRANGE|TSTZRANGE|DATERANGE)\b"
         r"|\w\s+(?:INTEGER|BIGINT|TEXT|VARCHAR(?:\(\d+\))?)\s*\[\s*\])"),
)
_COMPILED = tuple((rule, re.compile(rule.pattern, re.IGNORECASE)) for rule in RULES)


def lint(sql: str) -> list[Rule]:
    """The rules the statement `sql` breaks (none: Redshift's documentation allows it)."""
    code = code_only(sql)
    return [rule for rule, pattern in _COMPILED if pattern.search(code)]


def describe(broken: list[Rule]) -> str:
    return "; ".join(f"{rule.feature} ({rule.source})" for rule in broken)
