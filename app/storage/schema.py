"""Tables. The incidents table has the same columns on the server and in the console's cache:
one record layout (:mod:`app.domain.records`) from the server's disk to the console's board."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)


def incidents_table(metadata: MetaData) -> Table:
    """The incidents table in record layout, with the indexes the board and intake use."""
    table = Table(
        "incidents",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
        Column("version", Integer, nullable=False),
        Column("category", String(64), nullable=False),
        Column("title", Text, nullable=False),
        Column("street", String(16), nullable=False),
        Column("grid", String(16), nullable=False),
        Column("lon", Float, nullable=False),
        Column("lat", Float, nullable=False),
        Column("severity", Integer, nullable=False),
        Column("source", String(16), nullable=False),
        Column("status", String(16), nullable=False),
        Column("unit", String(64), nullable=True),
        Column("reported_at", Float, nullable=False),
        Column("updated_at", Float, nullable=False),
        Column("deadline", Float, nullable=True),
        Column("merged_count", Integer, nullable=False),
        Column("supervised", Integer, nullable=False),
        Column("seq", BigInteger, nullable=False),
        Column("detail", Text, nullable=False),
    )
    # Merging looks for the same category in a narrow band of latitude around a report.
    Index("ix_incidents_category_lat", table.c.category, table.c.lat)
    Index("ix_incidents_street", table.c.street)
    return table
