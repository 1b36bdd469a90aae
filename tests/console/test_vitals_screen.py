"""The vital-signs screen in a real console: live figures from the cache, the breakdown by
street on a click, and the evaluation ranking fetched from the real server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from console.conftest import Loop
from console.test_detail import post
from support.server import ServerProcess
from support.waiting import until

pytestmark = pytest.mark.timeout(180)


def test_vital_signs_follow_the_cache_and_break_down_by_street(
    server: ServerProcess, qloop: Loop, consoles: Any
) -> None:
    async def scenario() -> None:
        console = await consoles("officer")
        await until(lambda: console.sync.state.value == "online", what="online")
        dashboard = console.vitals.panel.dashboard
        for n in range(3):
            await asyncio.to_thread(post, server, n)
        await until(lambda: dashboard.value("open_backlog") == 3, timeout=20, what="the backlog tile at 3")
        dashboard.tileClicked.emit("open_backlog")
        dashboard.breakdownRequested.emit("open_backlog")
        await until(lambda: dashboard.breakdown_code == "open_backlog", what="the breakdown shown")

    qloop.run(scenario())


def test_the_evaluation_tab_ranks_what_the_server_computes(server: ServerProcess, qloop: Loop, consoles: Any) -> None:
    async def scenario() -> None:
        for n in range(2):
            await asyncio.to_thread(post, server, n)
        await asyncio.to_thread(post, server, 5, street="310107005")
        console = await consoles("officer")
        panel = console.vitals.panel
        panel.tabs.setCurrentIndex(1)
        table = panel.evaluation
        await until(lambda: table.model.rowCount() > 0, timeout=20, what="evaluation rows")
        assert "refused" not in panel.evaluation_status.text()
        street_operator = await consoles("changshou")
        own = street_operator.vitals.panel
        own.tabs.setCurrentIndex(1)
        await until(lambda: own.evaluation.model.rowCount() > 0, timeout=20, what="the street's rows")
        keys = {row["key"] for row in own.evaluation.model.rows}
        assert "310107005" not in keys

    qloop.run(scenario())


def test_the_report_button_writes_the_pdf_with_progress(server: ServerProcess, qloop: Loop, consoles: Any) -> None:
    async def scenario() -> None:
        for n in range(3):
            await asyncio.to_thread(post, server, n)
        console = await consoles("officer")
        controller = console.vitals
        path = await controller.make_report()
        assert path is not None and path.exists() and path.stat().st_size > 10_000
        assert path.with_suffix(".html").read_text(encoding="utf-8").count('id="evaluation"') == 1
        assert str(path) in controller.panel.evaluation_status.text()
        # A street operator is told why not: the report covers the whole district.
        street = await consoles("changshou")
        assert await street.vitals.make_report() is None
        assert "whole district" in street.vitals.panel.evaluation_status.text()

    qloop.run(scenario(), timeout=60)
