"""Fresh databases on a test PostgreSQL server: the one way the suite makes and drops them."""

from __future__ import annotations

import uuid

import psycopg2


def database_url(server_url: str, name: str) -> str:
    """`server_url` (a libpq URL, maybe with ?host=/socket/dir) pointing at database `name`."""
    base, _, query = server_url.partition("?")
    base = base.rsplit("/", 1)[0] + "/" + name
    return f"{base}?{query}" if query else base


def admin(server_url: str, statement: str) -> None:
    """One statement outside a transaction (CREATE or DROP DATABASE)."""
    conn = psycopg2.connect(server_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


def create_database(server_url: str, name: str) -> str:
    """An empty database `name` (dropped first if there); its URL."""
    drop_database(server_url, name)
    admin(server_url, f'CREATE DATABASE "{name}"')
    return database_url(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Databases:
    """Fresh, empty databases on one server, all dropped by `drop_all`."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self._made: list[str] = []

    def create(self, name: str | None = None) -> str:
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        self._made.append(name)
        return create_database(self.server_url, name)

    def drop_all(self) -> None:
        for name in reversed(self._made):
            drop_database(self.server_url, name)
        self._made.clear()
