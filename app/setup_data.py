"""``cityops setup-data``: derive what the repository does not carry — compiled translations
now, map layers later. Fast when everything is up to date: ``make`` runs it every time."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

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


def main(_args: argparse.Namespace) -> int:
    for path in build_translations():
        print(f"built {path.relative_to(RESOURCES.parent)}")
    return 0
