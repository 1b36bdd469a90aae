"""Set-up-time derivation of the map layers that :mod:`app.domain.district` loads.

A build tool like :mod:`app.setup_data`: it runs when ``cityops setup-data`` does, never while
the console or the server is running.
"""

from __future__ import annotations

from app.geodata.build import BUILD_VERSION, GeoDataError, build_geodata, current_build

__all__ = ["BUILD_VERSION", "GeoDataError", "build_geodata", "current_build"]
