"""The ``district_map`` fixture: the map layers, built once into the default directory.

Registered in ``tests/conftest.py``, so any test can ask for it. The first session on a machine
builds the layers into :func:`app.domain.district.default_geo_dir` (``data/geo``, or
``$CITYOPS_GEO_DIR``) as ``cityops setup-data`` would, in a couple of seconds; later sessions find
them up to date and only load them. Nothing is imported at collection time, so test runs that
never use the fixture (and ``-p support.no_qt`` runs) pay nothing for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from app.domain.district import DistrictMap


@pytest.fixture(scope="session")
def district_map() -> DistrictMap:
    """Putuo's layers: boundary, neighbours, streets and the unit grid."""
    from app.domain.district import default_geo_dir, load_district
    from app.geodata import build_geodata

    folder = default_geo_dir()
    build_geodata(folder)
    return load_district(folder)
