"""城市体检报告 from a real server store: a crafted set of incidents driven through the server's
real writer, whose figures were worked out by hand, and the report built from it as data, HTML
and PDF (whose pages are rendered back to images and checked for ink).

The period is 2026-11-23..25 (Shanghai), the figures as of 25 Nov 20:00 ("now"). Two streets:
长寿路 (CS) and 曹杨新村 (CY); two categories: garbage bins overflowing (垃圾桶满溢: handling
standard "urgent", 10/30/240/60 min for register/dispatch/handle/verify) and smoke alarms
(烟感报警: "emergency", 5/10/60/30 min). Patrol, hotline and sensor reports register
automatically; citizen reports wait for the operator.

==  =======  ==========  ======  ==================================================  ===============
#   street   category    from    what happens (day hh:mm)                             at 25th 20:00
==  =======  ==========  ======  ==================================================  ===============
0   CS       garbage     patrol  22nd 20:00 report, 20:05 dispatch, accept           open, overdue
1   CS       garbage     patrol  23rd 08:00, 08:10 dispatch, 08:20 accept,           closed on time
                                 10:00 feedback, 10:30 verify
2   CS       garbage     patrol  23rd 09:00, 09:10 dispatch, 09:15 accept,           closed late
                                 15:00 feedback (due 13:10), 15:30 verify            (handling)
3   CS       smoke       sensor  23rd 10:00, 10:05 dispatch, 10:06 accept, 10:40     closed on time,
                                 feedback, 10:50 rework, 11:20 feedback, 11:30        reworked
                                 verify
4   CY       smoke       patrol  24th 09:00, 09:05 dispatch, 09:10 accept            open, overdue
5   CY       garbage     12345   24th 14:00, 14:10 dispatch, 14:15 accept, 16:00     closed late
                                 feedback, 25th 09:00 verify (due 24th 17:00)        (verify)
6   CY       garbage     patrol  25th 18:00, 18:05 dispatch; a second report at       open, in time
                                 the same place at 18:30 merges into it
7   CY       smoke       patrol  25th 19:00, registered, not dispatched (due 19:10)  open, overdue
8   CS       garbage     patrol  24th 11:00, 11:30 found invalid                     invalid
9   CS       garbage     citizen 24th 16:00, never registered (due 16:10)            open, overdue
==  =======  ==========  ======  ==================================================  ===============

Sensors: SMK-1 (smoke, in alarm) raised 3 alarms, all on incident 8 (found invalid: false);
SMK-2 (smoke, offline) 1 alarm on incident 3; WLG-1 (water level, reading 4.3 m) 1 alarm at
4.6 m on incident 0, and only 10 readings where its 60 s heartbeat promises 4,080.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import msgspec
import psycopg
import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QImage
from PySide6.QtPdf import QPdfDocument
from PySide6.QtWidgets import QApplication
from sqlalchemy.engine import make_url

from app.domain.catalog import Catalog
from app.domain.devices import Device, DeviceKind, DeviceState
from app.domain.evaluation import day_period, parse_period
from app.domain.intake import Report
from app.domain.localtime import local_day_start
from app.domain.model import Action, SourceChannel
from app.domain.permissions import Principal, Role, Scope
from app.report.data import ReportData
from app.report.from_store import report_data
from app.report.main import main
from app.report.render import render_html, render_pdf
from app.server.writer import Writer
from app.storage.catalog_file import read_catalog
from app.storage.sensor_log import SensorLog
from app.storage.server_store import ServerStore
from comms.protocol.messages import Command

CS, CY = "310107015", "310107005"
GARBAGE, SMOKE = "appearance.garbage_overflow", "fire.smoke_alarm"
POINTS = {CS: (121.438, 31.242), CY: (121.405, 31.245)}
PERIOD = day_period(date(2026, 11, 23), date(2026, 11, 25))
ADMIN = Principal("admin", Role.ADMIN)
EVERYTHING = Scope(everything=True)
PAGES_DIR = Path("/tmp")


def at(day: int, hh: int, mm: int = 0) -> float:
    """Epoch seconds of ``day`` November 2026 at hh:mm in Shanghai."""
    return local_day_start(date(2026, 11, day)) + hh * 3600 + mm * 60


NOW = at(25, 20)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def craft(store: ServerStore, catalog: Catalog) -> dict[int, int]:
    """Drive the crafted incidents through the real writer; returns our numbers → incident ids."""
    clock = Clock()
    writer = Writer(store, catalog, lambda _seq, _published: None, clock=clock)
    writer.start()
    ids: dict[int, int] = {}
    try:

        async def report(n: int, street: str, category: str, source: SourceChannel, when: float, k: int) -> None:
            clock.now = when
            lon, lat = POINTS[street]
            result = await writer.submit_report(
                Report(
                    report_id=uuid.uuid4().hex,
                    source=source,
                    category=category,
                    title=f"case {n}",
                    # ~300 m apart, so that only the report meant to merge does.
                    lon=lon + 0.003 * k,
                    lat=lat,
                    street=street,
                    observed_at=when,
                )
            )
            if n >= 0:
                ids[n] = result.incident_id
            else:
                assert result.merged and result.incident_id == ids[-n]

        async def act(n: int, action: Action, when: float) -> None:
            clock.now = when
            command = Command(key=uuid.uuid4().hex, incident_id=ids[n], action=action, note="test")
            result = await writer.submit_command(ADMIN, EVERYTHING, command)
            assert result.code is None, (n, action, result.reason)

        clock.now = at(23, 0)
        await writer.submit_devices(
            register=[
                Device(id="SMK-1", kind=DeviceKind.SENSOR, type="smoke", name="烟感 SMK-1", lon=POINTS[CS][0],
                       lat=POINTS[CS][1], street=CS, state=DeviceState.ALARM),
                Device(id="SMK-2", kind=DeviceKind.SENSOR, type="smoke", name="烟感 SMK-2", lon=POINTS[CY][0],
                       lat=POINTS[CY][1], street=CY, state=DeviceState.OFFLINE),
                Device(id="WLG-1", kind=DeviceKind.SENSOR, type="water_level", name="水位计 WLG-1",
                       lon=POINTS[CS][0], lat=POINTS[CS][1], street=CS, reading=4.3),
            ]
        )  # fmt: skip

        patrol, citizen = SourceChannel.PATROL, SourceChannel.CITIZEN
        await report(0, CS, GARBAGE, patrol, at(22, 20), 0)
        await act(0, Action.DISPATCH, at(22, 20, 5))
        await act(0, Action.ACCEPT, at(22, 20, 6))
        await report(1, CS, GARBAGE, patrol, at(23, 8), 1)
        for action, when in ((Action.DISPATCH, at(23, 8, 10)), (Action.ACCEPT, at(23, 8, 20)),
                             (Action.FEEDBACK, at(23, 10)), (Action.VERIFY, at(23, 10, 30))):  # fmt: skip
            await act(1, action, when)
        await report(2, CS, GARBAGE, patrol, at(23, 9), 2)
        for action, when in ((Action.DISPATCH, at(23, 9, 10)), (Action.ACCEPT, at(23, 9, 15)),
                             (Action.FEEDBACK, at(23, 15)), (Action.VERIFY, at(23, 15, 30))):  # fmt: skip
            await act(2, action, when)
        await report(3, CS, SMOKE, SourceChannel.SENSOR, at(23, 10), 3)
        for action, when in ((Action.DISPATCH, at(23, 10, 5)), (Action.ACCEPT, at(23, 10, 6)),
                             (Action.FEEDBACK, at(23, 10, 40)), (Action.REWORK, at(23, 10, 50)),
                             (Action.FEEDBACK, at(23, 11, 20)), (Action.VERIFY, at(23, 11, 30))):  # fmt: skip
            await act(3, action, when)
        await report(4, CY, SMOKE, patrol, at(24, 9), 4)
        await act(4, Action.DISPATCH, at(24, 9, 5))
        await act(4, Action.ACCEPT, at(24, 9, 10))
        await report(8, CS, GARBAGE, patrol, at(24, 11), 8)
        await act(8, Action.INVALIDATE, at(24, 11, 30))
        await report(5, CY, GARBAGE, SourceChannel.HOTLINE_12345, at(24, 14), 5)
        for action, when in ((Action.DISPATCH, at(24, 14, 10)), (Action.ACCEPT, at(24, 14, 15)),
                             (Action.FEEDBACK, at(24, 16)), (Action.VERIFY, at(25, 9))):  # fmt: skip
            await act(5, action, when)
        await report(9, CS, GARBAGE, citizen, at(24, 16), 9)
        await report(6, CY, GARBAGE, patrol, at(25, 18), 6)
        await act(6, Action.DISPATCH, at(25, 18, 5))
        await report(-6, CY, GARBAGE, patrol, at(25, 18, 30), 6)  # merges into 6
        await report(7, CY, SMOKE, patrol, at(25, 19), 7)
    finally:
        await writer.stop()
    log = SensorLog(store.engine)
    for day in (23, 24, 25):
        log.record_alarm("SMK-1", at(day, 11), ids[8], 0.3)
    log.record_alarm("SMK-2", at(23, 10), ids[3], 0.25)
    log.record_alarm("WLG-1", at(24, 3), ids[0], 4.6)
    log.add_readings(
        {("SMK-1", "2026-11-23"): 300, ("SMK-1", "2026-11-24"): 300, ("SMK-2", "2026-11-24"): 500,
         ("SMK-2", "2026-11-25"): 300, ("WLG-1", "2026-11-24"): 10}
    )  # fmt: skip
    return ids


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return read_catalog()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Path:
    """A server data directory with the crafted store in it."""
    path = tmp_path_factory.mktemp("server")
    store = ServerStore(f"sqlite:///{path / 'cityops.db'}")
    try:
        asyncio.run(craft(store, catalog))
    finally:
        store.close()
    return path


@pytest.fixture(scope="module")
def data(data_dir: Path, catalog: Catalog) -> Iterator[ReportData]:
    store = ServerStore(f"sqlite:///{data_dir / 'cityops.db'}")
    steps: list[tuple[str, float]] = []
    try:
        yield report_data(store, catalog, PERIOD, lambda what, f: steps.append((what, f)), now=NOW)
    finally:
        store.close()
    fractions = [f for _what, f in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_the_summary_counts_the_crafted_incidents(data: ReportData) -> None:
    s = data.summary
    assert data.as_of == NOW and data.period_label == "2026-11-23..2026-11-25"
    # 1–9 reported in the period (0 before it); 6 gathered a second report.
    assert (s.received, s.reports, s.invalid, s.merged) == (9, 10, 1, 0)
    # Cases 1–7 (8 invalid, 9 never registered); 1, 2, 3 closed on the 23rd, 5 on the 25th.
    assert (s.registered, s.closed) == (7, 4)
    # Open now: 0, 4, 6, 7, 9; overdue: all but 6.
    assert (s.open_at_end, s.overdue_at_end) == (5, 4)
    assert [(c.channel, c.incidents) for c in s.channels] == [
        ("patrol", 6), ("citizen", 1), ("hotline_12345", 1), ("sensor", 1)
    ]  # fmt: skip
    assert s.channels[0].name.zh == "网格巡查"


def test_the_evaluation_by_street(data: ReportData) -> None:
    unit, street, category = data.evaluation
    assert (unit.group_by, street.group_by, category.group_by) == ("unit", "street", "category")
    rows = {r.row.key: r for r in street.rows}
    cs, cy = rows[CS].row, rows[CY].row
    assert rows[CS].name.zh == "长寿路街道"
    # 长寿路: 1 on time, 2 late handling, 3 reworked but on time.
    assert (cs.registered, cs.due_to_close, cs.closed, cs.closed_on_time) == (3, 3, 3, 2)
    assert (cs.handled, cs.handled_on_time, cs.reworked, cs.overdue, cs.overdue_open) == (3, 2, 1, 1, 0)
    assert cs.on_time_close_rate == pytest.approx(2 / 3)
    # 曹杨: 5 closed late (verify); 4 and 7 open past their limits; 6 in time.
    assert (cy.registered, cy.due_to_close, cy.closed, cy.closed_on_time) == (4, 3, 1, 0)
    assert (cy.due_to_handle, cy.handled, cy.handled_on_time, cy.overdue, cy.overdue_open) == (2, 1, 1, 3, 2)
    assert cy.on_time_close_rate == 0.0
    assert street.total is not None and (street.total.registered, street.total.closed_on_time) == (7, 2)
    assert {r.row.key for r in category.rows} == {GARBAGE, SMOKE}
    assert {r.row.key for r in unit.rows} == {"greening_appearance", "fire_brigade"}
    assert {d.term for d in data.definitions} >= {"按期结案率", "返工率", "应结案数"}


def test_the_vital_signs_day_by_day(data: ReportData) -> None:
    vitals = {v.code: v for v in data.vitals}
    assert vitals["open_backlog"].days == ("2026-11-23", "2026-11-24", "2026-11-25")
    # Open at the end of each day: 0 | 0, 4, 5 (closed the 25th), 9 | 0, 4, 6, 7, 9.
    assert vitals["open_backlog"].values == (1.0, 4.0, 5.0)
    # Overdue: 0 | 0, 4, 9 (5 was too, but it is closed now: the documented lower bound) | 0, 4, 7, 9.
    assert vitals["overdue"].values == (1.0, 3.0, 4.0)
    share = vitals["overdue_share"]
    assert share.values == (100.0, 75.0, 80.0) and share.levels == ("red", "red", "red")
    assert share.latest == 80.0 and share.latest_level == "red"
    assert share.days_at("red") == 3 and share.breach_count == 3
    assert [b.what for b in share.breaches] == ["2026-11-23", "2026-11-24", "2026-11-25"]
    # Reported that day (not invalid or merged) and closed by its end: 3 of 3 | 0 of 3 | 0 of 2.
    closure = vitals["closure_rate_today"]
    assert closure.values == (100.0, 0.0, 0.0) and closure.levels == (None, "red", "red")
    assert closure.days_at(None) == 1 and closure.breach_count == 2
    assert vitals["fire_safety_open"].values == (0.0, 1.0, 2.0)
    assert vitals["hotline_volume_24h"].values == (0.0, 1.0, 0.0)
    new = vitals["new_per_hour"]
    assert new.series == "busiest_hour" and new.values == (1.0, 1.0, 1.0) and new.latest == 1.0
    # Sensors: alarms raised per day, the latest values from the registry.
    smoke = vitals["smoke_alarms"]
    assert smoke.series == "alarms_raised" and smoke.values == (2.0, 1.0, 1.0)
    assert smoke.latest == 1.0 and smoke.breach_count == 4
    level = vitals["creek_water_level"]
    assert level.values == (0.0, 1.0, 0.0) and level.latest == 4.3 and level.latest_level == "yellow"
    [alarm] = level.breaches
    assert (alarm.value, alarm.level, alarm.what) == (4.6, "orange", "水位计 WLG-1")
    offline = vitals["devices_offline"]
    assert offline.series == "none" and offline.latest == pytest.approx(100 / 3)


def test_the_top_problems_per_street(data: ReportData) -> None:
    by_street = {p.street: p for p in data.problems}
    assert list(by_street) == [CY, CS], "in the catalog's order"
    cs, cy = by_street[CS], by_street[CY]
    # 长寿路: garbage 1, 2, 9 (8 invalid left out), smoke 3.
    assert (cs.incidents, cs.open, cs.overdue) == (4, 1, 2)
    assert [(c.category, c.incidents, c.open, c.overdue) for c in cs.top] == [(GARBAGE, 3, 1, 2), (SMOKE, 1, 0, 0)]
    # 曹杨: smoke 4, 7 (both open and overdue) before garbage 5, 6.
    assert (cy.incidents, cy.open, cy.overdue) == (4, 3, 3)
    assert [(c.category, c.incidents, c.open, c.overdue) for c in cy.top] == [(SMOKE, 2, 2, 2), (GARBAGE, 2, 1, 1)]
    assert cy.top[0].name.zh == "烟感报警"


def test_the_sensors_to_adjust(data: ReportData) -> None:
    s = data.sensors
    assert s is not None
    assert (s.devices, s.sensors, s.alarms, s.false_alarms, s.listed) == (3, 3, 5, 3, 2)
    first, second = s.flagged
    assert (first.sensor_id, first.alarms, first.false_alarms, first.false_alarm_rate) == ("SMK-1", 3, 3, 1.0)
    assert first.reasons == ("false_alarms",)
    # Registered on the 23rd at 00:00: 68 hours of 60 s heartbeats.
    assert (second.sensor_id, second.readings, second.expected_readings, second.reasons) == (
        "WLG-1", 10, 4080, ("little_use",)
    )  # fmt: skip


@pytest.mark.postgres
def test_the_same_figures_on_postgresql(postgres_url: str, catalog: Catalog, data: ReportData) -> None:
    base = make_url(postgres_url)
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(host=base.host, port=base.port, user=base.username, dbname=base.database,
                         autocommit=True) as conn:  # fmt: skip
        conn.execute(f'CREATE DATABASE "{name}"')
    store = ServerStore(base.set(database=name).render_as_string(hide_password=False))
    try:
        asyncio.run(craft(store, catalog))
        on_postgres = report_data(store, catalog, PERIOD, now=NOW)
    finally:
        store.close()
    assert on_postgres.source.startswith("postgresql")
    assert msgspec.structs.replace(on_postgres, source=data.source, generated_at=data.generated_at) == data


SECTIONS = {"summary": "概况", "vitals": "数字体征", "evaluation": "综合评价", "problems": "各街道突出问题",
            "sensors": "感知设备"}  # fmt: skip


def test_the_html_has_every_section(qapp: QApplication, data: ReportData) -> None:
    page = render_html(data)
    for anchor, heading in SECTIONS.items():
        assert f'id="{anchor}"' in page and heading in page
    assert "普陀区城市体检报告" in page and "按期结案率" in page and "长寿路街道" in page
    assert page.count("data:image/png;base64,") >= 3, "the charts are embedded"
    english = render_html(data, "en")
    for anchor in SECTIONS:
        assert f'id="{anchor}"' in english
    assert "Putuo District City Health Check Report" in english and "Digital vital signs" in english
    # Each edition explains the figures in its own language.
    assert "立案数减去仍在本环节时限内的在办案件数" in page
    assert "open cases still within their current stage" in english and "立案数减去" not in english


def _ink(image: QImage) -> float:
    """The share of sampled pixels that are not white."""
    small = image.scaled(QSize(120, 170))
    inked = sum(
        1 for y in range(small.height()) for x in range(small.width()) if QColor(small.pixel(x, y)).lightness() < 235
    )
    return inked / (small.width() * small.height())


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_pdf_pages_have_content(qapp: QApplication, data: ReportData, tmp_path: Path, language: str) -> None:
    path = tmp_path / f"report-{language}.pdf"
    steps: list[str] = []
    pages = render_pdf(data, path, language, lambda what, _f: steps.append(what))
    assert pages >= 2 and path.stat().st_size > 10_000
    assert steps[-1] == f"page {pages} of {pages}…"
    document = QPdfDocument()
    assert document.load(str(path)) == QPdfDocument.Error.None_
    assert document.pageCount() == pages
    for page in range(pages):
        size = document.pagePointSize(page).toSize() * 2
        image = document.render(page, size)
        assert not image.isNull()
        if language == "zh":
            image.save(str(PAGES_DIR / f"report-page-{page + 1}.png"))
        assert _ink(image) > 0.01, f"page {page + 1} is blank"
    document.close()


def test_the_command_refuses_a_bad_period(
    qapp: QApplication, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argparse.Namespace(data_dir=data_dir, db=None, period="2026-11-31", out=tmp_path / "r.pdf", language="zh")
    assert main(args) == 2
    assert "bad period" in capsys.readouterr().err
    args.period = "2026-11-25..2026-11-23"
    assert main(args) == 2
    assert "before it starts" in capsys.readouterr().err
    args.period = "2999-01-01"
    assert main(args) == 2
    assert "has not begun" in capsys.readouterr().err
    assert not (tmp_path / "r.pdf").exists()


def test_the_command_refuses_a_missing_store(
    qapp: QApplication, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argparse.Namespace(data_dir=tmp_path / "nowhere", db=None, period="today", out=tmp_path / "r.pdf")
    assert main(args) == 1
    assert "cityops.db is missing" in capsys.readouterr().err


def test_the_command_refuses_a_store_of_another_version(
    qapp: QApplication, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ServerStore(f"sqlite:///{tmp_path / 'cityops.db'}").close()
    with sqlite3.connect(tmp_path / "cityops.db") as db:
        db.execute("UPDATE server_meta SET value = '99' WHERE key = 'schema_version'")
    db.close()
    args = argparse.Namespace(data_dir=tmp_path, db=None, period="today", out=tmp_path / "r.pdf", language="en")
    assert main(args) == 1
    assert "schema version 99" in capsys.readouterr().err


def test_the_command_writes_the_pdf_and_the_html(
    qapp: QApplication, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "health.pdf"
    args = argparse.Namespace(data_dir=data_dir, db=None, period="2026-11-23..2026-11-25", out=out, language="zh")
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert out.is_file() and out.with_suffix(".html").is_file()
    assert "[  0%]" in printed and "[100%] done" in printed and "evaluation by street" in printed
    assert str(out) in printed and str(out.with_suffix(".html")) in printed
    assert 'id="problems"' in out.with_suffix(".html").read_text(encoding="utf-8")
    # The period is over by now: as of its end, the same cases.
    assert parse_period("2026-11-23..2026-11-25", NOW) == PERIOD
