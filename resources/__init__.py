"""Data files: catalog, styles, translations, the browser guest's call page."""

from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent
CATALOG_PATH = RESOURCES / "catalog.yaml"
ALARM_RULES_PATH = RESOURCES / "alarm_rules.yaml"
INDICATORS_PATH = RESOURCES / "indicators.yaml"
#: The call page a browser guest opens (``call.html``, ``call.js``, ``call.css``).
WEB_DIR = RESOURCES / "web"
