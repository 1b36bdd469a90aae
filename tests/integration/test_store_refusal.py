"""A write the database refuses: the writer rolls the batch back and the intake answers 503
with the store's reason; nothing of it is acknowledged or kept."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import httpx

from integration.conftest import CHANGSHOU, report, scaled
from support.server import running_server


def test_a_refused_write_is_a_503_with_the_reason(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        headers = {"X-API-Key": server.key}
        with httpx.Client(base_url=server.url, timeout=scaled(10)) as http:
            assert http.post("/api/reports", json=report(1, CHANGSHOU), headers=headers).status_code == 201
            with closing(sqlite3.connect(tmp_path / "cityops.db")) as db:  # the store breaks under the server
                db.execute("DROP TABLE reports")
                db.commit()
            response = http.post("/api/reports", json=report(2, CHANGSHOU), headers=headers)
            assert response.status_code == 503
            body = response.json()
            assert body["error"] == "store_unavailable" and "refused the write" in body["message"]
            assert http.get("/healthz").json()["incidents"] == 1, "the refused report left nothing behind"
