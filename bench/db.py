"""The bench database: created empty before a run and dropped after it (psycopg, loopback)."""

from __future__ import annotations

import psycopg
from psycopg import sql

SERVER = "postgres://postgres@127.0.0.1:5432"
NAME = "ladder_bench"


def url(name: str = NAME) -> str:
    return f"{SERVER}/{name}"


def _admin() -> psycopg.Connection:
    return psycopg.connect(url("postgres"), autocommit=True)


def drop(name: str = NAME) -> None:
    with _admin() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def create(name: str = NAME) -> str:
    drop(name)
    with _admin() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url(name)
