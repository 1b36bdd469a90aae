"""Pytest fixture for a real PostgreSQL server, started once per test session.

Enable it from the top-level ``tests/conftest.py`` (pytest only honours
``pytest_plugins`` there)::

    pytest_plugins = ["support.pg_fixture"]

then ask for ``postgres_url`` and mark the test::

    @pytest.mark.postgres
    def test_round_trip(postgres_url: str) -> None:
        engine = sqlalchemy.create_engine(postgres_url)
        ...

``postgres_url`` is a SQLAlchemy URL, ``postgresql+psycopg://cityops@127.0.0.1:PORT/cityops``,
of a throwaway cluster (see ``support.postgres``) that is started the first time a test
asks for it and stopped and deleted at the end of the session. The database is shared
by the whole session: tests that need a clean schema must create and drop their own
(e.g. a schema per test, or drop_all/create_all). When the PostgreSQL server is not
installed the fixture errors ("run make setup"); it never skips.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.postgres import throwaway_postgres


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of a throwaway PostgreSQL database for this test session."""
    with throwaway_postgres() as url:
        yield url
