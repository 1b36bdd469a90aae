"""The vital-signs screen: the dashboard of the district's indicators (数字体征), kept live by
the vitals service, with the per-street breakdown on a click; and the unit evaluation
(综合评价) ranking, fetched from the server for the chosen period and grouping."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import msgspec
from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressDialog, QPushButton, QTabWidget, QVBoxLayout, QWidget

from app.domain.catalog import Catalog
from app.domain.localtime import local_day
from app.report.data import ReportData
from app.report.render import render_html, render_pdf
from app.services.vitals import VitalsService, VitalsSnapshot
from widgets.common.tasks import TaskSet
from widgets.vitals.dashboard import VitalsDashboard
from widgets.vitals.evaluation import EvaluationRow, EvaluationTable

log = logging.getLogger(__name__)


class VitalsPanel(QWidget):
    """Tabs: vital signs, evaluation."""

    def __init__(self, catalog: Catalog, language: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("vitalsTabs")
        self.tabs.setDocumentMode(True)
        self.dashboard = VitalsDashboard(catalog, language)
        self.evaluation = EvaluationTable()
        evaluation_page = QWidget()
        page = QVBoxLayout(evaluation_page)
        page.setContentsMargins(0, 0, 0, 0)
        self.evaluation_status = QLabel()
        self.evaluation_status.setObjectName("evaluationStatus")
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 0)
        bar.addWidget(self.evaluation_status, 1)
        self.report_button = QPushButton(self.tr("City health check report…"))
        self.report_button.setObjectName("reportButton")
        self.report_button.setToolTip(
            self.tr("A PDF and HTML report of the period chosen below: vital signs, evaluation, problems by street")
        )
        bar.addWidget(self.report_button)
        page.addLayout(bar)
        page.addWidget(self.evaluation, 1)
        self.tabs.addTab(self.dashboard, self.tr("Vital signs"))
        self.tabs.addTab(evaluation_page, self.tr("Evaluation"))
        layout.addWidget(self.tabs)


class VitalsController(QObject):
    """Feeds the vital-signs screen: snapshots from the vitals service, breakdowns on request,
    evaluation rows from the server's ``/api/evaluation``."""

    def __init__(
        self,
        panel: VitalsPanel,
        service: VitalsService,
        server: str,
        token: Callable[[], str],
        catalog: Catalog,
        reports_dir: Path,
    ) -> None:
        super().__init__()
        self.panel = panel
        self.service = service
        self.server = server.rstrip("/")
        self.token = token
        self.catalog = catalog
        self._tasks = TaskSet()
        self._unsubscribe = service.subscribe(self._on_snapshot)
        panel.dashboard.set_catalogue(service.indicators)
        panel.dashboard.breakdownRequested.connect(lambda code: self._tasks.spawn(self._breakdown(code)))
        panel.evaluation.periodChanged.connect(lambda _s, _e: self._tasks.spawn(self.load_evaluation()))
        panel.evaluation.groupByChanged.connect(lambda _g: self._tasks.spawn(self.load_evaluation()))
        panel.tabs.currentChanged.connect(self._on_tab)
        panel.report_button.clicked.connect(lambda: self._tasks.spawn(self._report()))
        self._evaluation_loaded = False
        #: Where reports are written, and the last one written (for the status line and tests).
        self.reports_dir = reports_dir
        self.last_report: Path | None = None

    def start(self) -> None:
        self.service.start()

    async def stop(self) -> None:
        self._tasks.cancel_all()
        self._unsubscribe()
        await self.service.stop()

    def _on_snapshot(self, snapshot: VitalsSnapshot) -> None:
        dashboard = self.panel.dashboard
        dashboard.update_values(snapshot.values, snapshot.at)
        code = dashboard.breakdown_code
        if code is not None and code in snapshot.by_street:
            dashboard.set_breakdown(code, snapshot.by_street[code])

    async def _breakdown(self, code: str) -> None:
        self.panel.dashboard.set_breakdown(code, await self.service.breakdown(code))

    def _on_tab(self, index: int) -> None:
        if index == 1 and not self._evaluation_loaded:
            self._tasks.spawn(self.load_evaluation())

    async def load_evaluation(self) -> None:
        """Fetch the evaluation for the table's period and grouping; say what went wrong."""
        table, status = self.panel.evaluation, self.panel.evaluation_status
        start, end = table.period()
        status.setText(self.tr("Loading the evaluation…"))
        params = {"start": local_day(start), "end": local_day(end - 1), "by": table.group_by}
        try:
            async with httpx.AsyncClient(timeout=30.0) as http:
                response = await http.get(
                    f"{self.server}/api/evaluation", params=params, headers={"Authorization": f"Bearer {self.token()}"}
                )
        except httpx.HTTPError as exc:
            status.setText(self.tr("Evaluation unavailable: the server cannot be reached (%1)").replace("%1", str(exc)))
            return
        if response.status_code != 200:
            message = _message(response)
            status.setText(self.tr("Evaluation refused: %1").replace("%1", message))
            return
        body = response.json()
        language = self.panel.dashboard.language
        rows: list[EvaluationRow] = []
        for r in body.get("rows", []):
            names = r.get("name") or {}
            label = names.get(language) or names.get("zh") or r.get("key") or self.tr("(no unit)")
            rows.append({"key": str(r.get("key") or ""), "label": str(label), "figures": r})
        table.set_rows(rows)
        self._evaluation_loaded = True
        status.setText(
            self.tr("%1: %n groups", "", len(rows)).replace("%1", str(body.get("period", {}).get("label", "")))
        )

    async def _report(self) -> None:
        await self.make_report()

    async def make_report(self) -> Path | None:
        """Fetch the report's figures for the chosen period from the server, render the PDF
        and HTML beside each other with progress shown, and say where they are."""
        panel, status = self.panel, self.panel.evaluation_status
        start, end = panel.evaluation.period()
        period = f"{local_day(start)}..{local_day(end - 1)}"
        progress = QProgressDialog(self.tr("Gathering the figures…"), self.tr("Cancel"), 0, 100, panel)
        progress.setObjectName("reportProgress")
        progress.setWindowTitle(self.tr("City health check report"))
        progress.setMinimumDuration(0)
        progress.setValue(0)
        panel.report_button.setEnabled(False)
        try:
            try:
                async with httpx.AsyncClient(timeout=120.0) as http:
                    response = await http.get(
                        f"{self.server}/api/report/data",
                        params={"period": period},
                        headers={"Authorization": f"Bearer {self.token()}"},
                    )
            except httpx.HTTPError as exc:
                status.setText(self.tr("Report unavailable: the server cannot be reached (%1)").replace("%1", str(exc)))
                return None
            if response.status_code != 200:
                status.setText(self.tr("Report refused: %1").replace("%1", _message(response)))
                return None
            if progress.wasCanceled():
                status.setText(self.tr("Report cancelled"))
                return None
            data = msgspec.json.decode(response.content, type=ReportData)
            progress.setValue(20)
            progress.setLabelText(self.tr("Writing the PDF…"))
            language = self.panel.dashboard.language
            self.reports_dir.mkdir(parents=True, exist_ok=True)
            path = self.reports_dir / f"cityops-report-{period.replace('..', '_')}.pdf"
            loop = asyncio.get_running_loop()

            def report_progress(_what: str, fraction: float) -> None:
                loop.call_soon_threadsafe(progress.setValue, 20 + round(75 * fraction))

            html = render_html(data, language)
            pages = await asyncio.to_thread(render_pdf, data, path, language, report_progress)
            path.with_suffix(".html").write_text(html, encoding="utf-8")
            progress.setValue(100)
            self.last_report = path
            status.setText(self.tr("Report written: %1 (%n pages)", "", pages).replace("%1", str(path)))
            if QGuiApplication.platformName() not in ("offscreen", "minimal"):
                QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
            return path
        finally:
            progress.close()
            panel.report_button.setEnabled(True)


def _message(response: httpx.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or response.status_code)
    return f"HTTP {response.status_code}"
