"""Running the server process."""

from __future__ import annotations

import asyncio
import logging

import uvicorn

from app.server.api import create_app
from app.server.config import ServerConfig

#: Snapshot chunks are a few MB; commands are small and checked by the protocol itself.
WS_MAX_SIZE = 16 * 1024 * 1024


def uvicorn_config(config: ServerConfig, log_level: str = "warning") -> uvicorn.Config:
    return uvicorn.Config(
        create_app(config),
        host=config.host,
        port=config.port,
        ws="websockets-sansio",
        ws_max_size=WS_MAX_SIZE,
        ws_per_message_deflate=False,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=3,
    )


def run(config: ServerConfig, log_level: str = "warning") -> None:
    """Serve until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aioice").setLevel(logging.WARNING)
    server = uvicorn.Server(uvicorn_config(config, log_level))
    asyncio.run(server.serve())
