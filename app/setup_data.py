"""``cityops setup-data``: derive what the repository does not carry — compiled translations
and the map layers (:mod:`app.geodata.build`). Fast when everything is up to date: ``make``
runs it every time."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from resources import RESOURCES


def _lrelease() -> str:
    beside = Path(sys.executable).with_name("pyside6-lrelease")
    found = str(beside) if beside.exists() else shutil.which("pyside6-lrelease")
    if not found:
        raise RuntimeError("pyside6-lrelease not found: install the project with make setup")
    return found


def build_translations(folder: Path = RESOURCES / "translations") -> list[Path]:
    """Compile every ``.ts`` whose ``.qm`` is missing or older; returns what was built."""
    built = []
    for ts in sorted(folder.glob("*.ts")):
        qm = ts.with_suffix(".qm")
        if qm.exists() and qm.stat().st_mtime >= ts.stat().st_mtime:
            continue
        subprocess.run([_lrelease(), "-silent", str(ts), "-qm", str(qm)], check=True)
        built.append(qm)
    return built


def build_map_layers(folder: Path) -> dict[str, Any] | None:
    """Build the map layers into ``folder`` unless they are up to date; returns the new
    manifest, or None when nothing was built."""
    # Imported here: shapely and pyproj are not needed for the translations.
    from app.geodata import build_geodata, current_build

    if current_build(folder) is not None:
        return None
    return build_geodata(folder, force=True)


def main(args: argparse.Namespace) -> int:
    for path in build_translations():
        print(f"built {path.relative_to(RESOURCES.parent)}")
    from app.domain.district import default_geo_dir
    from app.geodata import GeoDataError

    folder: Path = getattr(args, "geo_dir", None) or default_geo_dir()
    try:
        manifest = build_map_layers(folder)
    except GeoDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if manifest is not None:
        district, grid, streets = manifest["district"], manifest["grid"], manifest["streets"]
        print(
            f"built map layers in {folder}: {district['name_en']} {district['area_km2']} km², "
            f"{len(manifest['neighbours'])} neighbours, {streets['source']} streets, "
            f"{grid['count']} unit grid cells ({manifest['source']['package']} {manifest['source']['version']})"
        )
    return 0
