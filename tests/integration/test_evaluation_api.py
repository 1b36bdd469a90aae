"""综合评价 end to end: reports through the intake API, the closed loop driven from street consoles,
then ``GET /api/evaluation`` for the district and for a street operator, and ``cityops evaluate``
on the same data directory, against a real server subprocess (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.domain.localtime import SHANGHAI
from app.domain.model import Action
from comms.client import login
from integration.conftest import CAOYANG, CHANGSHOU, PASSWORD, post_report, report, scaled
from support.server import REPO_ROOT, ServerProcess
from support.waiting import until

pytestmark = pytest.mark.timeout(180)

SMOKE = "fire.smoke_alarm"  # sensor alarms of it are registered on intake (emergency standard)
GARBAGE = "appearance.garbage_overflow"  # citizen reports of it wait for an operator


def _days() -> tuple[str, str]:
    """Yesterday and tomorrow in Shanghai: the period holds today's cases even across midnight."""
    today = datetime.now(SHANGHAI).date()
    return (today - timedelta(days=1)).isoformat(), (today + timedelta(days=1)).isoformat()


async def _evaluation(server: ServerProcess, token: str | None, **params: str) -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=scaled(20)) as http:
        return await http.get(f"{server.url}/api/evaluation", params=params, headers=headers)


async def _drive(console: Any, incident_id: int, *steps: Action) -> None:
    await until(lambda: console.record(incident_id), what=f"incident {incident_id} in the console")
    for action in steps:
        receipt = await console.service.submit(incident_id, action, "测试")
        settled = await asyncio.wait_for(receipt.result, scaled(10))
        assert settled.accepted, (incident_id, action, settled.reason)


async def _scenario(server: ServerProcess, consoles: Any) -> None:
    """Changshou: one case through the whole loop, one sent back for rework, one registered by
    the operator and waiting, one report never registered. Caoyang: one case waiting, one found
    invalid. All within their time limits while the test runs."""
    ids = []
    for n, (street, category, source) in enumerate(
        [
            (CHANGSHOU, SMOKE, "sensor"),
            (CHANGSHOU, SMOKE, "sensor"),
            (CHANGSHOU, GARBAGE, "citizen"),
            (CHANGSHOU, GARBAGE, "citizen"),
            (CAOYANG, SMOKE, "sensor"),
            (CAOYANG, SMOKE, "sensor"),
        ]
    ):
        ids.append((await post_report(server, report(n, street, category=category, source=source)))["incident_id"])
    changshou = await consoles(server, "changshou")
    caoyang = await consoles(server, "caoyang")
    loop = (Action.DISPATCH, Action.ACCEPT, Action.FEEDBACK)
    await _drive(changshou, ids[0], *loop, Action.VERIFY)
    await _drive(changshou, ids[1], *loop, Action.REWORK)
    await _drive(changshou, ids[2], Action.REGISTER)
    await _drive(caoyang, ids[5], Action.INVALIDATE)


#: What the scenario gives by street (only the figures that do not depend on the routing).
CHANGSHOU_FIGURES = {
    "registered": 3,  # the two alarms and the registered garbage report
    "due_to_close": 1,  # the closed case; the others are within their limits
    "closed": 1,
    "closed_on_time": 1,
    "due_to_handle": 2,  # both alarms were handled (one then sent back)
    "handled": 2,
    "handled_on_time": 2,
    "reworked": 1,
    "overdue": 0,
    "overdue_open": 0,
    "close_rate": 1.0,
    "on_time_close_rate": 1.0,
    "handle_rate": 1.0,
    "on_time_handle_rate": 1.0,
    "rework_rate": 0.5,  # 1 reworked / 2 handled
}
CAOYANG_FIGURES = {
    "registered": 1,  # the invalid one counts nowhere
    "due_to_close": 0,
    "closed": 0,
    "handled": 0,
    "close_rate": None,  # nothing due yet: no rate, not 0 %
    "on_time_close_rate": None,
    "handle_rate": None,
    "rework_rate": None,
    "avg_handle_s": None,
}


def _check(row: dict[str, Any], expected: dict[str, Any]) -> None:
    for name, value in expected.items():
        assert row[name] == value, (row["key"], name, row[name], value)


async def test_evaluation_by_street_and_a_street_operators_scope(
    server: ServerProcess, consoles: Any, tmp_path: Path
) -> None:
    await _scenario(server, consoles)
    start, end = _days()
    officer = (await login(server.url, "officer", PASSWORD)).token
    response = await _evaluation(server, officer, start=start, end=end, by="street")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["group_by"] == "street"
    assert body["definitions"]["on_time_close_rate"] == {"term": "按期结案率", "definition": "按期结案数 / 应结案数"}
    rows = {r["key"]: r for r in body["rows"]}
    assert set(rows) == {CHANGSHOU, CAOYANG}
    assert rows[CHANGSHOU]["name"]["zh"] == "长寿路街道"
    _check(rows[CHANGSHOU], CHANGSHOU_FIGURES)
    assert rows[CHANGSHOU]["avg_verify_s"] is not None  # the closed case's
    _check(rows[CAOYANG], CAOYANG_FIGURES)

    # A street operator sees its own street's cases only, whatever the grouping.
    street_token = (await login(server.url, "changshou", PASSWORD)).token
    mine = (await _evaluation(server, street_token, start=start, end=end, by="street")).json()
    assert [r["key"] for r in mine["rows"]] == [CHANGSHOU]
    _check(mine["rows"][0], CHANGSHOU_FIGURES)
    by_unit = (await _evaluation(server, street_token, start=start, end=end, by="unit")).json()
    assert sum(r["registered"] for r in by_unit["rows"]) == 3
    everyone = (await _evaluation(server, officer, start=start, end=end, by="unit")).json()
    assert sum(r["registered"] for r in everyone["rows"]) == 4

    # The command line on the same store gives the same figures.
    out = tmp_path / "evaluation.json"
    command = [sys.executable, "-m", "app.cli", "evaluate", "--data-dir", str(server.data_dir)]
    command += ["--period", f"{start}..{end}", "--by", "street", "--json", str(out)]
    if server.db_url:
        command += ["--db", server.db_url]
    done = await asyncio.to_thread(
        subprocess.run, command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=scaled(60)
    )
    assert done.returncode == 0, done.stderr
    assert "长寿路街道" in done.stdout and "按期结案率" in done.stdout and "50.0%" in done.stdout
    from_cli = json.loads(out.read_text(encoding="utf-8"))
    assert from_cli["rows"] == body["rows"]
    assert from_cli["period"] == body["period"]
    assert from_cli["definitions"] == body["definitions"]


async def test_evaluation_needs_a_session_and_a_good_period(server: ServerProcess) -> None:
    assert (await _evaluation(server, None, start="today")).status_code == 401
    refused = await _evaluation(server, "not-a-token", start="today")
    assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
    token = (await login(server.url, "officer", PASSWORD)).token
    bad = await _evaluation(server, token, start="2026-11-30", end="2026-11-01")
    assert bad.status_code == 422 and "before it starts" in bad.json()["message"]
    assert (await _evaluation(server, token, start="last week")).status_code == 422
    assert (await _evaluation(server, token, start="today", by="grid")).status_code == 422
    today = await _evaluation(server, token, start="today")
    assert today.status_code == 200 and today.json()["rows"] == []
    assert today.json()["period"]["label"] == "today"


def test_the_command_line_says_what_is_wrong(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app.cli", "evaluate", *args],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=scaled(60),
        )

    missing = run("--data-dir", str(tmp_path / "nowhere"), "--period", "today")
    assert missing.returncode == 2 and "no server store" in missing.stderr
    assert not (tmp_path / "nowhere").exists(), "looking must not create a store"
    bad = run("--data-dir", str(tmp_path), "--period", "2026-02-30")
    assert bad.returncode == 2 and "expected today, YYYY-MM-DD" in bad.stderr
