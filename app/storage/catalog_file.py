"""Reading the catalog file."""

from __future__ import annotations

from pathlib import Path

import yaml

from app.domain.catalog import Catalog, CatalogError, load_catalog
from resources import CATALOG_PATH


def read_catalog(path: Path | None = None) -> Catalog:
    """The catalog from ``path`` (the shipped one by default), checked; CatalogError names
    the file and every problem in it."""
    path = path or CATALOG_PATH
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError([f"{path}: {exc}"]) from None
    if not isinstance(raw, dict):
        raise CatalogError([f"{path}: expected a mapping at the top"])
    try:
        return load_catalog(raw)
    except CatalogError as exc:
        raise CatalogError([f"{path}:", *exc.problems]) from None
