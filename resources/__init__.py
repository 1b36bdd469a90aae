"""Data files: catalog, styles, translations."""

from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent
CATALOG_PATH = RESOURCES / "catalog.yaml"
ALARM_RULES_PATH = RESOURCES / "alarm_rules.yaml"
INDICATORS_PATH = RESOURCES / "indicators.yaml"
