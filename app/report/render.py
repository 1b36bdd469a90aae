"""The health check report as HTML and PDF, with Qt alone: charts drawn by ``QPainter`` into
images, the text laid out by ``QTextDocument`` and printed page by page on a ``QPdfWriter``
(A4, 300 dpi) with a footer on each page.

The HTML is self-contained (the charts are embedded as PNG) and is the same text the PDF is laid
out from, so both say the same. Works without a display (``QT_QPA_PLATFORM=offscreen``); a
``QGuiApplication`` is created when there is none (fonts need one).
"""

from __future__ import annotations

import base64
import html
import logging
import math
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Final

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QFont,
    QFontDatabase,
    QFontMetricsF,
    QGuiApplication,
    QImage,
    QImageWriter,
    QPageLayout,
    QPageSize,
    QPainter,
    QPainterPath,
    QPdfWriter,
    QPen,
    QTextDocument,
)

from app.domain.catalog import Text
from app.domain.evaluation import EvaluationRow
from app.domain.localtime import SHANGHAI
from app.report.data import (
    LEVEL_NAMES,
    LEVEL_TEXT,
    REASON_NAMES,
    SERIES_NAMES,
    NamedRow,
    ReportData,
    VitalSummary,
    device_type_name,
)

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]

#: Families tried in order for the Chinese text (as the console's); the first installed wins.
CJK_FAMILIES: Final = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei")
#: The warning levels' colours (the incident board's), normal, and the report's own.
LEVEL_COLOURS: Final = {"red": "#d32f2f", "orange": "#f57c00", "yellow": "#fbc02d", "blue": "#1976d2"}
NORMAL_COLOUR: Final = "#43a047"
INK: Final = "#1a2330"
MUTED: Final = "#5f6b7a"
RULE: Final = "#b8c2cc"
HEAD_BG: Final = "#e8edf2"
ACCENT: Final = "#1f5f99"
#: Width of the page's text in CSS pixels (A4 less the margins, at 96 px to the inch), which
#: is how QTextDocument and browsers size an image's ``width``.
TEXT_WIDTH_PX: Final = 640
#: Charts are drawn at this many image pixels per CSS pixel, crisp at 300 dpi.
CHART_SCALE: Final = 3.0
#: Page margins in millimetres (left, top, right, bottom) and the footer's height in points.
MARGINS_MM: Final = (16.0, 15.0, 16.0, 12.0)
FOOTER_PT: Final = 22.0
RESOLUTION_DPI: Final = 300

_app: QGuiApplication | None = None
_RIGHT: Final = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_CENTRE: Final = Qt.AlignmentFlag.AlignCenter


def ensure_app() -> QGuiApplication:
    """The running Qt application, or a new one (offscreen unless a platform is chosen)."""
    global _app
    found = QGuiApplication.instance()
    if isinstance(found, QGuiApplication):
        return found
    if found is not None:
        raise RuntimeError("the report needs a QGuiApplication, and a QCoreApplication is running")
    argv = ["cityops-report"]
    if not os.environ.get("QT_QPA_PLATFORM"):
        argv += ["-platform", "offscreen"]
    _app = QGuiApplication(argv)
    return _app


def font_family() -> str:
    """The family for the report: a CJK one when installed (else Chinese shows as boxes)."""
    families = set(QFontDatabase.families())
    for family in CJK_FAMILIES:
        if family in families:
            return family
    log.warning("no CJK font installed: Chinese text in the report will show as boxes (install fonts-noto-cjk)")
    return QFont().defaultFamily()


# -- formatting ------------------------------------------------------------------------------


def _local(t: float, with_time: bool = True) -> str:
    moment = datetime.fromtimestamp(t, SHANGHAI)
    return moment.strftime("%Y-%m-%d %H:%M") if with_time else moment.strftime("%Y-%m-%d")


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100.0 * value:.1f}%"


def _hours(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _number(value: float | None, decimals: int = 0) -> str:
    if value is None or math.isnan(value):
        return "—"
    return f"{value:,.{decimals}f}"


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _png(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QImageWriter(buffer, QByteArray(b"png"))
    if not writer.write(image):
        raise RuntimeError(f"cannot encode a chart as PNG: {writer.errorString()}")
    buffer.close()
    return bytes(data.data())


def data_uri(image: QImage) -> str:
    """``image`` as a ``data:`` URL (PNG), for a self-contained page."""
    return "data:image/png;base64," + base64.b64encode(_png(image)).decode("ascii")


# -- charts ----------------------------------------------------------------------------------


class _Canvas:
    """An image to draw a chart on in CSS pixels, :data:`CHART_SCALE` image pixels each."""

    def __init__(self, width: float, height: float, family: str) -> None:
        self.width, self.height = width, height
        self.family = family
        self.image = QImage(
            round(width * CHART_SCALE), round(height * CHART_SCALE), QImage.Format.Format_ARGB32_Premultiplied
        )
        self.image.fill(QColor("#ffffff"))
        self.painter = QPainter(self.image)
        self.painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        self.painter.scale(CHART_SCALE, CHART_SCALE)

    def text(
        self,
        rect: QRectF,
        text: str,
        *,
        size: float = 10.0,
        colour: str = INK,
        align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
        bold: bool = False,
    ) -> None:
        self.painter.setFont(self._font(size, bold))
        self.painter.setPen(QColor(colour))
        self.painter.drawText(rect, int(align), text)

    def _font(self, size: float, bold: bool) -> QFont:
        font = QFont(self.family)
        font.setPixelSize(max(1, round(size)))
        font.setBold(bold)
        return font

    def metrics(self, size: float) -> QFontMetricsF:
        return QFontMetricsF(self._font(size, False), self.image)

    def finish(self) -> QImage:
        self.painter.end()
        return self.image


def bar_chart(
    rows: Sequence[tuple[str, float | None, str, str]],
    *,
    title: str,
    maximum: float | None,
    family: str,
    width: float = TEXT_WIDTH_PX,
    ticks: Sequence[tuple[float, str]] = (),
) -> QImage:
    """Horizontal bars: one per ``(label, value, text shown, colour)``, scaled to ``maximum``
    (the largest value when None); a value of None is drawn as no bar with its text."""
    row_h, top, bottom, size = 22.0, 28.0, 20.0 if ticks else 6.0, 11.0
    height = top + row_h * max(1, len(rows)) + bottom
    canvas = _Canvas(width, height, family)
    p = canvas.painter
    metrics = canvas.metrics(size)
    label_w = min(180.0, max([metrics.horizontalAdvance(r[0]) for r in rows] + [40.0]) + 10.0)
    value_w = max([metrics.horizontalAdvance(r[2]) for r in rows] + [30.0]) + 10.0
    x0, x1 = label_w, width - value_w
    canvas.text(QRectF(0, 0, width, top - 6), title, size=12.0, bold=True)
    values = [r[1] for r in rows if r[1] is not None]
    scale_max = maximum if maximum is not None else max([*values, 1.0])
    scale_max = scale_max if scale_max > 0 else 1.0
    p.setPen(QPen(QColor(RULE), 0.6))
    for tick, label in ticks:
        x = x0 + (x1 - x0) * tick / scale_max
        p.drawLine(QPointF(x, top), QPointF(x, height - bottom))
        canvas.text(QRectF(x - 30, height - bottom + 2, 60, bottom - 2), label, size=9.0, colour=MUTED, align=_CENTRE)
    for k, (name, value, shown, colour) in enumerate(rows):
        y = top + k * row_h
        canvas.text(QRectF(0, y, label_w - 8, row_h), name, size=size, align=_RIGHT)
        end = x0
        if value is not None and value > 0:
            end = x0 + (x1 - x0) * min(value, scale_max) / scale_max
            p.fillRect(QRectF(x0, y + 4, end - x0, row_h - 8), QColor(colour))
        canvas.text(QRectF(end + 5, y, width - end - 5, row_h), shown, size=size)
    p.setPen(QPen(QColor(INK), 0.8))
    p.drawLine(QPointF(x0, top), QPointF(x0, height - bottom))
    return canvas.finish()


def _is_share(vital: VitalSummary) -> bool:
    return vital.unit.en.strip() == "%"


def _bands(vital: VitalSummary, low: float, high: float) -> list[tuple[float, float, str]]:
    """The level bands inside [low, high]: (from, to, level)."""
    t = vital.thresholds
    bands = []
    for k, level in enumerate(LEVEL_NAMES):
        if vital.higher_is_worse:
            a, b = t[k], (t[k + 1] if k + 1 < len(t) else math.inf)
        else:
            a, b = (t[k + 1] if k + 1 < len(t) else -math.inf), t[k]
        a, b = max(a, low), min(b, high)
        if b > a:
            bands.append((a, b, level))
    return bands


def nice_top(value: float, whole: bool) -> float:
    """A round top for an axis at or above ``value`` whose half is round too (whole numbers
    for counts)."""
    if value <= 0:
        return 2.0 if whole else 1.0
    half = value / 2
    magnitude = 10.0 ** math.floor(math.log10(half))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        candidate = step * magnitude
        if candidate >= half and (not whole or candidate == int(candidate)):
            return 2 * candidate
    return 2 * 10 * magnitude


def has_chart(vital: VitalSummary) -> bool:
    """Whether :func:`vital_chart` draws anything: a series that is kept, and for alarms, some."""
    if vital.series == "none" or not vital.days:
        return False
    return vital.judged or any(v for v in vital.values)


def vital_chart(vital: VitalSummary, title: str, subtitle: str, family: str, width: float = 206.0) -> QImage | None:
    """A small chart of a vital sign over the period's days, titled: its values as a line over
    the warning bands (蓝黄橙红), or the alarms raised as bars; None when :func:`has_chart` is not."""
    if not has_chart(vital):
        return None
    height = 150.0
    canvas = _Canvas(width, height, family)
    p = canvas.painter
    canvas.text(QRectF(0, 0, width, 16), title, size=11.0, bold=True)
    canvas.text(QRectF(0, 16, width, 14), subtitle, size=9.0, colour=MUTED)
    left, right, top, bottom = 30.0, 6.0, 36.0, 18.0
    plot = QRectF(left, top, width - left - right, height - top - bottom)
    known = [v for v in vital.values if v is not None]
    judged = vital.judged
    whole = not judged or vital.decimals == 0
    low = 0.0
    if judged and _is_share(vital):
        high = 100.0
    else:
        peak = max([*known, 0.0])
        if judged and vital.higher_is_worse and peak >= 0.5 * vital.thresholds[0]:
            # Values near the first boundary: show it, so that the band means something.
            peak = max(peak, vital.thresholds[0] * 1.1)
        high = nice_top(peak * 1.1, whole)

    def y_of(value: float) -> float:
        return plot.bottom() - (min(max(value, low), high) - low) / (high - low) * plot.height()

    if judged:
        for a, b, level in _bands(vital, low, high):
            colour = QColor(LEVEL_COLOURS[level])
            colour.setAlpha(50)
            p.fillRect(QRectF(plot.left(), y_of(b), plot.width(), y_of(a) - y_of(b)), colour)
    p.setPen(QPen(QColor(RULE), 0.6))
    p.drawRect(plot)
    for tick in (low, (low + high) / 2, high):
        shown = f"{tick:g}" if whole or tick == int(tick) else f"{tick:.{max(1, vital.decimals)}f}"
        canvas.text(QRectF(0, y_of(tick) - 7, left - 4, 14), shown, size=8.5, colour=MUTED, align=_RIGHT)
    n = len(vital.days)
    step = plot.width() / n

    def x_of(k: int) -> float:
        return plot.left() + step * (k + 0.5)

    labelled = set(range(n)) if n <= 5 else {0, n // 2, n - 1}
    for k in labelled:
        label_rect = QRectF(x_of(k) - 26, plot.bottom() + 2, 52, bottom - 3)
        canvas.text(label_rect, vital.days[k][5:], size=8.5, colour=MUTED, align=_CENTRE)
    if not judged:
        bar = QColor(ACCENT)
        for k, count in enumerate(vital.values):
            if count is not None and count > 0:
                w = min(step * 0.6, 24.0)
                p.fillRect(QRectF(x_of(k) - w / 2, y_of(count), w, plot.bottom() - y_of(count)), bar)
        return canvas.finish()
    path = QPainterPath()
    drawing = False
    for k, known_value in enumerate(vital.values):
        if known_value is None:
            drawing = False
            continue
        point = QPointF(x_of(k), y_of(known_value))
        if drawing:
            path.lineTo(point)
        else:
            path.moveTo(point)
            drawing = True
    p.setPen(QPen(QColor(INK), 1.3))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPath(path)
    for k, (dot, dot_level) in enumerate(zip(vital.values, vital.levels, strict=True)):
        if dot is None:
            continue
        p.setPen(QPen(QColor("#ffffff"), 0.8))
        p.setBrush(QColor(LEVEL_COLOURS.get(dot_level or "", NORMAL_COLOUR)))
        p.drawEllipse(QPointF(x_of(k), y_of(dot)), 3.0 if n <= 31 else 1.8, 3.0 if n <= 31 else 1.8)
    return canvas.finish()


# -- the document ------------------------------------------------------------------------------

_CSS: Final = f"""
body {{ color: {INK}; font-size: 10pt; }}
h1 {{ font-size: 20pt; margin: 0; }}
h2 {{ font-size: 14pt; color: {ACCENT}; margin-top: 14pt; margin-bottom: 6pt; }}
h3 {{ font-size: 11pt; margin-top: 10pt; margin-bottom: 4pt; }}
p {{ margin-top: 3pt; margin-bottom: 3pt; }}
th {{ background-color: {HEAD_BG}; font-weight: bold; }}
.note {{ color: {MUTED}; font-size: 8.5pt; }}
"""

#: The report's fixed sentences.
_TEXT: Final = {
    "vitals_intro": Text(
        zh="各指标的最新值与预警等级（蓝、黄、橙、红），统计期内每日所处等级的天数，以及达到橙色或红色的超限记录。",
        en="Each indicator's latest value and warning level (blue, yellow, orange, red), the days of the period "
        "at each level, and the breaches at the orange or red level.",
    ),
    "vitals_days": Text(
        zh="天数为各日末（最后一日为数据时点）所处的等级。传感器读数不保存历史，统计期内以报警次数计。",
        en="Days count the level at the end of each day (the last day: as of the figures). Sensor readings "
        "are not kept over time: for those the period shows the alarms raised.",
    ),
    "no_breach": Text(zh="统计期内没有橙色或红色超限。", en="No breach at the orange or red level in the period."),
    "rate_none": Text(
        zh="分母为 0 的比率记为“—”（无案件可评）。", en="A rate with nothing to divide by is shown as “—”."
    ),
    "problems_intro": Text(
        zh="统计期内各街镇上报事件（不含作废与合并）最多的前五类问题；在办为截至数据时点仍未结案，"
        "超期为有环节超过时限（逾期完成或逾期未完成）。",
        en="The five categories with the most incidents in each street over the period (invalid and merged "
        "ones left out); open: not closed as of the figures; overdue: a stage past its time limit "
        "(finished late, or open past it).",
    ),
    "no_incident": Text(zh="统计期内没有事件。", en="No incident in the period."),
    "no_case": Text(zh="统计期内没有立案的案件。", en="No case registered in the period."),
    "no_sensor_records": Text(zh="没有感知设备的记录。", en="No sensor records."),
    "no_sensor_listed": Text(zh="没有需要调整的传感器。", en="No sensor needs adjusting."),
}


class _Page:
    """Builds the report's HTML in one language."""

    def __init__(self, data: ReportData, language: str, image_src: Callable[[str, QImage], str], family: str) -> None:
        self.data = data
        self.en = language.startswith("en")
        self.image_src = image_src
        self.family = family
        self.parts: list[str] = []

    def t(self, zh: str, en: str) -> str:
        return en if self.en else zh

    def name(self, text: Text) -> str:
        return text.en if self.en else text.zh

    def add(self, *chunks: str) -> None:
        self.parts.extend(chunks)

    def para(self, text: str, *, note: bool = False) -> None:
        self.add(f'<p class="note">{_e(text)}</p>' if note else f"<p>{_e(text)}</p>")

    def say(self, key: str, *, note: bool = False) -> None:
        self.para(self.name(_TEXT[key]), note=note)

    def heading(self, anchor: str, number: int, zh: str, en: str, *, new_page: bool = True) -> None:
        style = ' style="page-break-before: always;"' if new_page else ""
        self.add(f'<h2 id="{anchor}"{style}>{number} {_e(self.t(zh, en))}</h2>')

    def subheading(self, zh: str, en: str) -> None:
        self.add(f"<h3>{_e(self.t(zh, en))}</h3>")

    def image(self, name: str, image: QImage, width: float, alt: str) -> str:
        """An ``<img>`` of ``image`` (named ``name`` for the source) ``width`` CSS pixels wide."""
        src = self.image_src(name, image)
        height = round(width * image.height() / image.width())
        return f'<img src="{_e(src)}" width="{round(width)}" height="{height}" alt="{_e(alt)}">'

    def table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        align: Sequence[str] | None = None,
        size: str = "9pt",
        widths: Sequence[str] | None = None,
        colours: Sequence[Sequence[str | None]] | None = None,
        bold_rows: frozenset[int] = frozenset(),
    ) -> str:
        """A ruled table; ``align`` per column (``left``/``right``/``center``), ``colours`` per
        cell a background (its text turns white, dark on yellow)."""
        aligns = list(align or ["left"] + ["right"] * (len(header) - 1))
        out = [
            f'<table border="1" cellspacing="0" cellpadding="3" width="100%" '
            f'style="border-collapse: collapse; border-color: {RULE}; font-size: {size};">'
        ]
        out.append("<thead><tr>")
        for k, h in enumerate(header):
            width = f' width="{widths[k]}"' if widths and widths[k] else ""
            nowrap = ' style="white-space: nowrap;"' if aligns[k] != "left" else ""
            label = _e(h).replace("\n", "<br>")
            out.append(f'<th bgcolor="{HEAD_BG}" align="{aligns[k]}"{width}{nowrap}>{label}</th>')
        out.append("</tr></thead><tbody>")
        for r, row in enumerate(rows):
            out.append("<tr>")
            for k, cell in enumerate(row):
                colour = colours[r][k] if colours is not None and k < len(colours[r]) else None
                attrs = f' align="{aligns[k]}"'
                if aligns[k] != "left":
                    # Figures stay on one line ("33.3%" broken after the number reads badly).
                    attrs += ' style="white-space: nowrap;"'
                text = _e(cell).replace("\n", "<br>")
                if colour:
                    fg = INK if colour == LEVEL_COLOURS["yellow"] else "#ffffff"
                    attrs += f' bgcolor="{colour}"'
                    text = f'<span style="color: {fg};">{text}</span>'
                if r in bold_rows:
                    text = f"<b>{text}</b>"
                out.append(f"<td{attrs}>{text}</td>")
            out.append("</tr>")
        out.append("</tbody></table>")
        return "".join(out)

    # -- the sections --------------------------------------------------------------------------
    def build(self) -> str:
        d = self.data
        title = f"{d.district.en} {d.title.en}" if self.en else f"{d.district.zh}{d.title.zh}"
        lang = "en" if self.en else "zh-CN"
        fonts = f"'{self.family}', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"
        self.add(
            f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{_e(title)}</title>',
            f"<style>{_CSS}</style></head>",
            f'<body style="font-family: {_e(fonts)};">',
        )
        self.cover(title)
        self.summary()
        self.vitals()
        self.evaluation()
        self.problems()
        self.sensors()
        self.add("</body></html>")
        return "\n".join(self.parts)

    def period_text(self) -> str:
        d = self.data
        first = _local(d.period_start, with_time=False)
        last = _local(d.period_end - 1, with_time=False)
        span = first if first == last else self.t(f"{first} 至 {last}", f"{first} to {last}")
        return self.t(f"{span}（上海时间）", f"{span} (Shanghai time)")

    def cover(self, title: str) -> None:
        d = self.data
        self.add(f"<h1>{_e(title)}</h1>")
        rows = [
            (self.t("统计期", "Period"), self.period_text()),
            (self.t("数据截至", "Figures as of"), _local(d.as_of)),
            (self.t("生成时间", "Generated"), _local(d.generated_at)),
            (
                self.t("数据来源", "Source"),
                self.t("区服务器数据库 ", "the district server's store ") + d.source,
            ),
        ]
        self.add('<table cellspacing="0" cellpadding="2" style="margin-top: 6pt; margin-bottom: 4pt;">')
        for label, value in rows:
            self.add(f'<tr><td style="color: {MUTED};">{_e(label)}</td><td>{_e(value)}</td></tr>')
        self.add("</table>")

    def summary(self) -> None:
        s = self.data.summary
        t = self.t
        self.heading("summary", 1, "概况", "Summary", new_page=False)
        figures = [
            (t("受理事件", "Incidents received"), s.received, t("统计期内上报的事件", "reported in the period")),
            (t("上报条数", "Reports"), s.reports, t("含合并的重复上报", "duplicate reports merged in included")),
            (t("立案数", "Cases registered"), s.registered, t("统计期内立案", "registered (立案) in the period")),
            (t("结案数", "Cases closed"), s.closed, t("统计期内核查结案", "closed (结案) in the period")),
            (t("作废", "Found invalid"), s.invalid, t("核实为无效或误报", "invalid or false reports")),
            (t("人工合并", "Merged"), s.merged, t("并入其他事件", "merged into another incident")),
            (t("期末在办", "Open at the end"), s.open_at_end, t("截至数据时点仍在办", "still open as of the figures")),
            (t("其中超期", "of them overdue"), s.overdue_at_end, t("超过当前环节时限", "past the stage's time limit")),
        ]
        self.add(
            self.table(
                [t("指标", "Figure"), t("数量", "Count"), t("说明", "What it counts")],
                [(label, f"{n:,}", what) for label, n, what in figures],
                align=["left", "right", "left"],
                widths=["28%", "14%", "58%"],
            )
        )
        self.subheading("发现渠道", "Discovery channels")
        if not s.channels:
            self.say("no_incident")
            return
        total = sum(c.incidents for c in s.channels)
        self.add(
            self.table(
                [t("渠道", "Channel"), t("事件数", "Incidents"), t("占比", "Share")],
                [(self.name(c.name), f"{c.incidents:,}", _percent(c.incidents / total)) for c in s.channels],
                widths=["50%", "25%", "25%"],
            )
        )

    def level_text(self, level: str | None) -> str:
        return self.name(LEVEL_TEXT[level])

    def vitals(self) -> None:
        vitals = self.data.vitals
        t = self.t
        self.heading("vitals", 2, "数字体征", "Digital vital signs", new_page=False)
        self.say("vitals_intro")
        header = [t("指标", "Indicator"), t("最新值", "Latest"), t("等级", "Level")]
        header += [self.level_text(level) for level in LEVEL_NAMES] + [t("超限", "Breaches")]
        rows = []
        colours: list[list[str | None]] = []
        for v in vitals:
            latest = "—" if v.latest is None else f"{_number(v.latest, v.decimals)} {self.name(v.unit)}"
            level = "—" if v.latest is None else self.level_text(v.latest_level)
            days = [str(v.days_at(name)) if v.judged else "—" for name in LEVEL_NAMES]
            rows.append([self.name(v.name), latest, level, *days, str(v.breach_count)])
            level_colour = None if v.latest is None else LEVEL_COLOURS.get(v.latest_level or "", NORMAL_COLOUR)
            colours.append([None, None, level_colour])
        self.add(
            self.table(
                header,
                rows,
                align=["left", "right", "center", "right", "right", "right", "right", "right"],
                widths=["27%", "19%", "10%", "8%", "8%", "8%", "8%", "12%"],
                colours=colours,
                size="8.5pt",
            )
        )
        self.say("vitals_days", note=True)
        self.vital_charts(vitals)
        self.breaches(vitals)
        # The notes, once each, with the indicators they concern.
        notes: dict[str, list[str]] = {}
        for v in vitals:
            if self.name(v.note):
                notes.setdefault(self.name(v.note), []).append(self.name(v.name))
        if notes:
            self.subheading("口径说明", "How the figures are taken")
            for note, names in notes.items():
                concerned = t("、", ", ").join(names)
                self.add(f'<p class="note"><b>{_e(concerned)}</b>{t("：", ": ")}{_e(note)}</p>')

    def vital_charts(self, vitals: Sequence[VitalSummary]) -> None:
        """The vital signs' charts, three to a row (sensors without alarms left out)."""
        drawn = []
        for v in vitals:
            series = self.name(SERIES_NAMES[v.series])
            if v.judged:
                unit = self.name(v.unit)
                series = self.t(f"{series}（{unit}）", f"{series} ({unit})")
            image = vital_chart(v, self.name(v.name), series, self.family)
            if image is not None:
                drawn.append((v, image))
        if not drawn:
            return
        self.subheading("逐日变化", "Day by day")
        self.add('<table cellspacing="3" cellpadding="0" width="100%">')
        for k in range(0, len(drawn), 3):
            self.add("<tr>")
            for v, image in drawn[k : k + 3]:
                self.add(f'<td width="33%">{self.image(f"vital-{v.code}", image, 208, self.name(v.name))}</td>')
            self.add("</tr>")
        self.add("</table>")
        left_out = [self.name(v.name) for v in vitals if v.series == "alarms_raised" and not has_chart(v)]
        if left_out:
            joined = self.t("、", ", ").join(left_out)
            self.para(self.t(f"统计期内无报警：{joined}。", f"No alarm in the period: {joined}."), note=True)

    def breaches(self, vitals: Sequence[VitalSummary]) -> None:
        """The breaches of every vital sign in one table, under a row naming the indicator."""
        t = self.t
        self.subheading("超限记录", "Breaches")
        if not any(v.breaches for v in vitals):
            self.say("no_breach")
            return
        rows: list[list[str]] = []
        colours: list[list[str | None]] = []
        bold: set[int] = set()
        for v in vitals:
            if not v.breaches:
                continue
            bold.add(len(rows))
            more = v.breach_count - len(v.breaches)
            count = t(f"{v.breach_count} 次", f"{v.breach_count}")
            if more > 0:
                count += t(f"（列出前 {len(v.breaches)} 次）", f" (the first {len(v.breaches)} listed)")
            rows.append([self.name(v.name), "", "", count])
            colours.append([])
            for b in v.breaches:
                is_day = b.what == _local(b.at, with_time=False)
                rows.append(
                    [
                        f"　{b.what}" if is_day else f"　{_local(b.at)}",
                        "" if is_day else b.what,
                        "—" if b.value is None else f"{_number(b.value, v.decimals)} {self.name(v.unit)}",
                        self.level_text(b.level) if b.level is not None else t("报警", "alarm"),
                    ]
                )
                colours.append([None, None, None, LEVEL_COLOURS.get(b.level) if b.level else None])
        header = [t("指标 / 日期或时间", "Indicator / day or time"), t("传感器", "Sensor"), t("数值", "Value")]
        self.add(
            self.table(
                [*header, t("等级", "Level")],
                rows,
                align=["left", "left", "right", "center"],
                widths=["34%", "36%", "15%", "15%"],
                colours=colours,
                bold_rows=frozenset(bold),
                size="8.5pt",
            )
        )

    #: The evaluation tables' columns: header (zh, en), figure, kind (count, rate, time). The
    #: rest of the figures are in the definitions and in ``cityops evaluate``.
    _EVALUATION_COLUMNS: Final = (
        ("立案", "Reg.", "registered", "n"),
        ("应结案", "Due", "due_to_close", "n"),
        ("结案", "Closed", "closed", "n"),
        ("按期\n结案", "On\ntime", "closed_on_time", "n"),
        ("结案率", "Close\nrate", "close_rate", "%"),
        ("按期\n结案率", "On time\nclose", "on_time_close_rate", "%"),
        ("按期\n处置率", "On time\nhandle", "on_time_handle_rate", "%"),
        ("返工率", "Rework\nrate", "rework_rate", "%"),
        ("超期\n未结", "Late,\nopen", "overdue_open", "n"),
        ("平均处\n置用时", "Avg.\nhandle", "avg_handle_s", "t"),
    )

    def evaluation_cells(self, row: EvaluationRow) -> list[str]:
        cells = []
        for _zh, _en, field, kind in self._EVALUATION_COLUMNS:
            value = getattr(row, field)
            if kind == "%":
                cells.append(_percent(value))
            elif kind == "t":
                cells.append(_hours(value))
            else:
                cells.append(f"{int(value):,}")
        return cells

    def evaluation(self) -> None:
        d = self.data
        t = self.t
        self.heading("evaluation", 3, "综合评价", "Evaluation")
        at = _local(d.generated_at)
        self.para(
            t(
                f"统计期内立案的案件，按截至 {at} 的状态评价（统计期后结案的也计为结案）。",
                f"The cases registered in the period, as they stand at {at} (closed after it counts as closed).",
            )
        )
        by_street = next((table for table in d.evaluation if table.group_by == "street"), None)
        if by_street is not None and by_street.rows:
            bars = [
                (self.name(r.name), r.row.on_time_close_rate, _percent(r.row.on_time_close_rate), _rate_colour(r))
                for r in by_street.rows
            ]
            title = t("各街镇按期结案率", "On-time closing rate by street")
            chart = bar_chart(
                bars,
                title=title,
                maximum=1.0,
                family=self.family,
                ticks=[(0.0, "0"), (0.5, "50%"), (0.8, "80%"), (1.0, "100%")],
            )
            self.add(f"<p>{self.image('on-time-close-by-street', chart, TEXT_WIDTH_PX, title)}</p>")
        titles = {
            "unit": (t("按责任单位", "By responsible unit"), t("单位", "Unit")),
            "street": (t("按街镇", "By street"), t("街镇", "Street")),
            "category": (t("按事项类别", "By category"), t("类别", "Category")),
        }
        header = [t(zh, en) for zh, en, _field, _kind in self._EVALUATION_COLUMNS]
        for table in d.evaluation:
            title, first = titles.get(table.group_by, (table.group_by, ""))
            self.add(f"<h3>{_e(title)}</h3>")
            if not table.rows:
                self.say("no_case")
                continue
            rows = [[self.name(r.name), *self.evaluation_cells(r.row)] for r in table.rows]
            bold: frozenset[int] = frozenset()
            if table.total is not None:
                rows.append([t("全区", "District"), *self.evaluation_cells(table.total)])
                bold = frozenset({len(rows) - 1})
            self.add(
                self.table(
                    [first, *header],
                    rows,
                    size="8pt",
                    widths=["22%"] + ["7.8%"] * len(header),
                    bold_rows=bold,
                )
            )
        self.subheading("指标定义", "Definitions")
        self.add(
            self.table(
                [t("指标", "Figure"), t("定义", "Definition")],
                [(f"{x.term} {x.field}", x.text if self.en or not x.text_zh else x.text_zh) for x in d.definitions],
                align=["left", "left"],
                widths=["30%", "70%"],
                size="8pt",
            )
        )
        self.para(t("依据：", "Standards: ") + d.standards, note=True)
        self.say("rate_none", note=True)

    def problems(self) -> None:
        d = self.data
        t = self.t
        self.heading("problems", 4, "各街道突出问题", "Main problems by street")
        self.say("problems_intro")
        if not d.problems:
            self.say("no_incident")
            return
        bars = [
            (
                self.name(p.name),
                float(p.incidents),
                t(
                    f"{p.incidents}（在办 {p.open}，超期 {p.overdue}）",
                    f"{p.incidents} ({p.open} open, {p.overdue} overdue)",
                ),
                ACCENT,
            )
            for p in d.problems
        ]
        most = max(p.incidents for p in d.problems)
        title = t("各街镇事件数", "Incidents by street")
        chart = bar_chart(bars, title=title, maximum=float(most), family=self.family)
        self.add(f"<p>{self.image('incidents-by-street', chart, TEXT_WIDTH_PX, title)}</p>")
        rows: list[list[str]] = []
        colours: list[list[str | None]] = []
        bold: set[int] = set()
        for p in d.problems:
            bold.add(len(rows))
            rows.append([self.name(p.name), f"{p.incidents:,}", f"{p.open:,}", f"{p.overdue:,}"])
            colours.append([])
            for k, c in enumerate(p.top, start=1):
                rows.append([f"　{k}. {self.name(c.name)}", f"{c.incidents:,}", f"{c.open:,}", f"{c.overdue:,}"])
                colours.append([None, None, None, LEVEL_COLOURS["red"] if c.overdue else None])
        header = [
            t("街镇 / 问题类别", "Street / category"),
            t("事件", "Incidents"),
            t("在办", "Open"),
            t("超期", "Overdue"),
        ]
        self.add(
            self.table(
                header,
                rows,
                widths=["61%", "13%", "13%", "13%"],
                colours=colours,
                bold_rows=frozenset(bold),
                size="8.5pt",
            )
        )

    def sensors(self) -> None:
        s = self.data.sensors
        t = self.t
        self.heading("sensors", 5, "感知设备", "Sensors")
        if s is None:
            self.say("no_sensor_records")
            return
        rate = _percent(s.false_alarms / s.alarms) if s.alarms else "—"
        self.para(
            t(
                f"登记设备 {s.devices} 台，其中传感器 {s.sensors} 个；统计期内报警 {s.alarms} 次，"
                f"误报 {s.false_alarms} 次（误报率 {rate}）。",
                f"{s.devices} devices registered, {s.sensors} of them sensors; {s.alarms} alarms in the period, "
                f"{s.false_alarms} of them false (a false-alarm rate of {rate}).",
            )
        )
        self.para(
            t(
                f"建议调整的传感器：误报率高于 {s.max_false_rate:.0%}（且至少报警 {s.min_alarms} 次），"
                f"或读数少于心跳应有数量的 {s.min_use:.0%}。共 {s.listed} 个。",
                f"Sensors to adjust: a false-alarm rate over {s.max_false_rate:.0%} (with at least {s.min_alarms} "
                f"alarms), or fewer readings than {s.min_use:.0%} of those their heartbeat promises. "
                f"{s.listed} in all.",
            )
        )
        if not s.flagged:
            self.say("no_sensor_listed")
            return
        joiner = ", " if self.en else "、"
        rows = [
            [
                r.name if r.sensor_id in r.name else f"{r.sensor_id}\n{r.name}",
                self.name(device_type_name(r.type)),
                self.name(r.street_name),
                str(r.alarms),
                str(r.false_alarms),
                _percent(r.false_alarm_rate),
                f"{r.readings:,} / {r.expected_readings:,}",
                joiner.join(self.name(REASON_NAMES.get(x, Text(zh=x, en=x))) for x in r.reasons),
            ]
            for r in s.flagged
        ]
        header = [t("传感器", "Sensor"), t("类型", "Type"), t("街镇", "Street"), t("报警", "Alarms")]
        header += [t("误报", "False"), t("误报率", "Rate"), t("读数/应有", "Readings"), t("原因", "Reason")]
        self.add(
            self.table(
                header,
                rows,
                align=["left", "left", "left", "right", "right", "right", "right", "left"],
                widths=["29%", "12%", "13%", "7%", "7%", "8%", "12%", "12%"],
                size="8pt",
            )
        )
        if s.listed > len(s.flagged):
            more = s.listed - len(s.flagged)
            self.para(t(f"另有 {more} 个未列出。", f"{more} more not listed."), note=True)


def _rate_colour(named: NamedRow) -> str:
    """An on-time closing rate's bar colour: green from 90 %, then the warning colours down."""
    rate = named.row.on_time_close_rate
    if rate is None:
        return RULE
    if rate >= 0.9:
        return NORMAL_COLOUR
    if rate >= 0.8:
        return LEVEL_COLOURS["blue"]
    if rate >= 0.65:
        return LEVEL_COLOURS["yellow"]
    if rate >= 0.5:
        return LEVEL_COLOURS["orange"]
    return LEVEL_COLOURS["red"]


def render_html(data: ReportData, language: str = "zh") -> str:
    """The report as one self-contained HTML page (charts embedded as PNG)."""
    ensure_app()
    return _Page(data, language, lambda _name, image: data_uri(image), font_family()).build()


def render_pdf(data: ReportData, path: Path, language: str = "zh", progress: Progress | None = None) -> int:
    """Write the report to ``path`` as an A4 PDF with a footer on every page; returns the
    number of pages."""
    tell = progress or (lambda _what, _fraction: None)
    ensure_app()
    family = font_family()
    tell("charts…", 0.1)
    html_text = _Page(data, language, lambda _name, image: data_uri(image), family).build()
    writer = QPdfWriter(str(path))
    writer.setResolution(RESOLUTION_DPI)
    writer.setTitle(f"{data.district.get(language)} {data.title.get(language)} {data.period_label}")
    writer.setCreator("CityOps Console")
    left, top, right, bottom = MARGINS_MM
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(left, top, right, bottom),
            QPageLayout.Unit.Millimeter,
        )
    )
    document = QTextDocument()
    document.setDocumentMargin(0)
    base = QFont(family)
    base.setPointSizeF(10)
    document.setDefaultFont(base)
    layout = document.documentLayout()
    layout.setPaintDevice(writer)
    area = writer.pageLayout().paintRectPixels(RESOLUTION_DPI)
    footer = FOOTER_PT / 72.0 * RESOLUTION_DPI
    body = QSizeF(area.width(), area.height() - footer)
    document.setPageSize(body)
    tell("laying out…", 0.35)
    document.setHtml(html_text)
    kept = pages_with_content(document, body.height())
    pages = len(kept)
    footer_font = QFont(family)
    footer_font.setPointSizeF(8)
    painter = QPainter(writer)
    try:
        first, last = _local(data.period_start, with_time=False), _local(data.period_end - 1, with_time=False)
        span = first if first == last else f"{first}..{last}"
        heading = f"{data.district.get(language)} {data.title.get(language)} · {span}"
        english = language.startswith("en")
        for number, page in enumerate(kept, start=1):
            if number > 1:
                writer.newPage()
            painter.save()
            painter.translate(0, -page * body.height())
            context = QAbstractTextDocumentLayout.PaintContext()
            context.clip = QRectF(0, page * body.height(), body.width(), body.height())
            # The layout draws every block that touches the page whole; the clip cuts what
            # belongs to the next one (a heading whose top margin ends this page).
            painter.setClipRect(context.clip)
            layout.draw(painter, context)
            painter.restore()
            rule_y = body.height() + footer * 0.25
            painter.setPen(QPen(QColor(RULE), 2))
            painter.drawLine(QPointF(0, rule_y), QPointF(body.width(), rule_y))
            painter.setFont(footer_font)
            painter.setPen(QColor(MUTED))
            strip = QRectF(0, rule_y, body.width(), footer - footer * 0.25)
            painter.drawText(strip, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), heading)
            folio = f"page {number} of {pages}" if english else f"第 {number} 页 / 共 {pages} 页"
            painter.drawText(strip, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), folio)
            tell(f"page {number} of {pages}…", 0.4 + 0.6 * number / pages)
    finally:
        painter.end()
    return pages


def pages_with_content(document: QTextDocument, page_height: float) -> list[int]:
    """The pages of a paginated ``document`` that show something. A page can hold nothing but
    the empty paragraph after a table that ended at the foot of the one before, when the next
    section's page break follows it; such a page is left out."""
    layout = document.documentLayout()
    used: set[int] = set()
    block = document.begin()
    while block.isValid():
        if block.length() > 1:  # more than the paragraph separator
            rect = layout.blockBoundingRect(block)
            first = int(rect.top() // page_height)
            last = int(max(rect.top(), rect.bottom() - 1) // page_height)
            used.update(range(first, last + 1))
        block = block.next()
    return [page for page in range(document.pageCount()) if page in used] or [0]
