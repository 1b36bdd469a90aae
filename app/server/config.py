"""Where the server keeps its data, and what it needs at start."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

INTAKE_KEY_FILE = "intake.key"


@dataclass(frozen=True)
class ServerConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8770
    db_url: str | None = None
    catalog_path: Path | None = None
    session_ttl_s: float = 12 * 3600.0
    alarm_rules_path: Path | None = None
    """The sensors' alarm rules (default ``resources/alarm_rules.yaml``)."""
    geo_dir: Path | None = None
    """The map layers (:mod:`app.domain.district`); default ``DATA_DIR/geo`` when it holds
    them, else the workstation's (``cityops setup-data``)."""

    @property
    def store_url(self) -> str:
        """The store's SQLAlchemy URL: ``--db``, or a SQLite file in the data directory."""
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(self.data_dir / 'cityops.db').resolve()}"


def write_secret(path: Path, secret: str) -> None:
    """Write a secret readable by its owner only (0600), created that way, never widened."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret + "\n")
    os.chmod(path, 0o600)
