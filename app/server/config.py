"""Where the server keeps its data, and what it needs at start."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.storage.server_store import ServerStore

INTAKE_KEY_FILE = "intake.key"


@dataclass(frozen=True)
class ServerConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8770
    db_url: str | None = None
    catalog_path: Path | None = None
    session_ttl_s: float = 12 * 3600.0
    call_grace_s: float = 15.0
    """How long a console whose connection dropped keeps its talk groups, floor and rooms."""
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


class StoreNotOpened(RuntimeError):
    """The store a command beside the server needs is missing or cannot be opened; the
    message says why, for a person."""


def open_existing_store(config: ServerConfig) -> ServerStore:
    """The server's store for a command run beside it (``cityops evaluate``, ``report``): it
    must exist already (this never creates an empty one), be of this version and open."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.storage.server_store import ServerStore, StoreVersionError

    if not config.db_url and not (config.data_dir / "cityops.db").is_file():
        raise StoreNotOpened(
            f"no server store in {config.data_dir} (cityops.db is missing); give the server's --data-dir,"
            " or its --db URL"
        )
    try:
        return ServerStore(config.store_url)
    except StoreVersionError as exc:
        raise StoreNotOpened(str(exc)) from None
    except SQLAlchemyError as exc:
        where = config.store_url.split("@")[-1]
        raise StoreNotOpened(
            f"cannot open the store at {where}: {exc.__class__.__name__}: {getattr(exc, 'orig', None) or exc}"
        ) from None


def write_secret(path: Path, secret: str) -> None:
    """Write a secret readable by its owner only (0600), created that way, never widened."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret + "\n")
    os.chmod(path, 0o600)
