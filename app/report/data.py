"""What a health check report (城市体检报告) says, as plain data.

Everything the renderer shows is here, names in both languages included, so the report can be
built from the server's store (:mod:`app.report.from_store`) or, later, from what a console
holds, and rendered without either.
"""

from __future__ import annotations

from typing import Final

import msgspec

from app.domain.catalog import Text
from app.domain.evaluation import EvaluationRow

#: The warning levels as the report names them, worst last (蓝黄橙红); ``None`` is normal.
LEVEL_NAMES: Final = ("blue", "yellow", "orange", "red")
#: Levels that make a day, or an alarm, a breach (超限).
BREACH_LEVELS: Final = frozenset({"orange", "red"})

LEVEL_TEXT: Final = {
    "blue": Text(zh="蓝色", en="blue"),
    "yellow": Text(zh="黄色", en="yellow"),
    "orange": Text(zh="橙色", en="orange"),
    "red": Text(zh="红色", en="red"),
    None: Text(zh="正常", en="normal"),
}

#: The discovery channels (发现渠道), by :class:`app.domain.model.SourceChannel` value.
CHANNEL_NAMES: Final = {
    "sensor": Text(zh="物联感知", en="IoT sensors"),
    "video_ai": Text(zh="AI视频识别", en="AI video"),
    "hotline_12345": Text(zh="12345热线", en="12345 hotline"),
    "patrol": Text(zh="网格巡查", en="grid patrol"),
    "citizen": Text(zh="市民上报", en="citizen reports"),
    "console": Text(zh="平台录入", en="entered at a console"),
}

#: Device types as people call them (the type code stands in for any other).
DEVICE_TYPE_NAMES: Final = {
    "smoke": Text(zh="烟感探测器", en="smoke detector"),
    "manhole": Text(zh="井盖传感器", en="manhole sensor"),
    "dust": Text(zh="扬尘监测仪", en="dust monitor"),
    "noise": Text(zh="噪声监测仪", en="noise monitor"),
    "water_level": Text(zh="水位计", en="water level gauge"),
    "high_altitude": Text(zh="高空抛物摄像机", en="camera (objects thrown from height)"),
    "creek": Text(zh="苏州河沿岸摄像机", en="camera (Suzhou Creek)"),
}

#: Why a sensor is listed for adjustment (the server's ``/api/sensors/review`` reasons).
REASON_NAMES: Final = {
    "false_alarms": Text(zh="误报率高", en="many false alarms"),
    "little_use": Text(zh="使用率低", en="little use"),
}

#: What the per-day values of a vital sign are (:attr:`VitalSummary.series`).
SERIES_NAMES: Final = {
    "end_of_day": Text(zh="日末值", en="value at the end of each day"),
    "busiest_hour": Text(zh="当日最繁忙小时", en="the day's busiest hour"),
    "day_end_24h": Text(zh="日末前24小时", en="the 24 hours before each day's end"),
    "alarms_raised": Text(zh="当日报警次数", en="alarms raised each day"),
    "none": Text(zh="无历史记录", en="no history kept"),
}


def device_type_name(code: str) -> Text:
    """The name of a device type, or its code when it has none."""
    return DEVICE_TYPE_NAMES.get(code, Text(zh=code, en=code))


class Breach(msgspec.Struct, frozen=True):
    """One breach of a vital sign: a day whose value reached the orange or red level, or a
    sensor alarm."""

    at: float
    """The day's start, or when the alarm was raised (epoch seconds)."""
    what: str
    """The day (``YYYY-MM-DD``), or the sensor's id and name."""
    value: float | None
    level: str | None
    """One of :data:`LEVEL_NAMES`, or None when the value is not judged against the levels
    (an alarm of a detector, whose indicator counts detectors alarming at once)."""


class VitalSummary(msgspec.Struct, frozen=True):
    """One vital sign (数字体征) over the period."""

    code: str
    name: Text
    unit: Text
    kind: str
    """``incidents`` (an aggregate of the incidents) or ``sensor`` (the field devices)."""
    higher_is_worse: bool
    thresholds: tuple[float, float, float, float]
    """Where blue, yellow, orange and red begin."""
    decimals: int
    latest: float | None
    """The value at the end of the period (now, for a period that runs to now); None when not
    known."""
    latest_level: str | None
    series: str
    """What :attr:`values` are: a key of :data:`SERIES_NAMES`."""
    days: tuple[str, ...]
    """The period's local days (``YYYY-MM-DD``), for :attr:`values` and :attr:`levels`."""
    values: tuple[float | None, ...]
    levels: tuple[str | None, ...]
    """Each day's level; all None when the values are not judged (alarms raised)."""
    breaches: tuple[Breach, ...]
    """The first breaches, in time order (at most a page of them)."""
    breach_count: int
    """How many breaches there were in all."""
    note: Text
    """How the figures were taken, where that is not obvious."""

    def days_at(self, level: str | None) -> int:
        """How many days of the period were at ``level`` (None: normal), of those judged."""
        return sum(1 for v, lv in zip(self.values, self.levels, strict=True) if v is not None and lv == level)

    @property
    def judged(self) -> bool:
        """Whether the per-day values are judged against the levels."""
        return self.series not in ("alarms_raised", "none")


class ChannelCount(msgspec.Struct, frozen=True):
    channel: str
    name: Text
    incidents: int


class Summary(msgspec.Struct, frozen=True):
    """概况: the incidents of the period."""

    received: int
    """Incidents reported in the period (every status)."""
    reports: int
    """Reports those incidents gathered (duplicates merged into one incident included)."""
    registered: int
    """Cases registered (立案) in the period (the evaluation's 立案数)."""
    closed: int
    """Cases closed (结案) in the period, whenever they were registered."""
    invalid: int
    """Incidents of the period found invalid (作废)."""
    merged: int
    """Incidents of the period merged into another by an operator."""
    open_at_end: int
    """Incidents open at the end of the period (now, when it runs to now)."""
    overdue_at_end: int
    """Of them, past their current stage's time limit."""
    channels: tuple[ChannelCount, ...]
    """Incidents received by discovery channel, most first."""


class NamedRow(msgspec.Struct, frozen=True):
    """An evaluation row with the name of its unit, street or category."""

    name: Text
    row: EvaluationRow


class EvaluationTable(msgspec.Struct, frozen=True):
    """The evaluation (综合评价) grouped one way: ``unit``, ``street`` or ``category``."""

    group_by: str
    rows: tuple[NamedRow, ...]
    total: EvaluationRow | None
    """The whole district's counts and rates (no average times: the rows do not carry what
    they would need); None when no case was registered."""


class Definition(msgspec.Struct, frozen=True):
    """One evaluation figure: its field, the standard's term and what it counts."""

    field: str
    term: str
    text: str
    text_zh: str = ""


class ProblemRow(msgspec.Struct, frozen=True):
    """One category's incidents in a street over the period."""

    category: str
    name: Text
    incidents: int
    open: int
    """Still open at the end of the period."""
    overdue: int
    """Past a stage time limit: finished a stage late, or open past it."""


class StreetProblems(msgspec.Struct, frozen=True):
    """各街道突出问题: a street's incidents and its most frequent categories."""

    street: str
    name: Text
    incidents: int
    open: int
    overdue: int
    top: tuple[ProblemRow, ...]


class SensorRow(msgspec.Struct, frozen=True):
    """A sensor listed for adjustment, with its figures over the period."""

    sensor_id: str
    name: str
    type: str
    street: str
    street_name: Text
    alarms: int
    false_alarms: int
    false_alarm_rate: float | None
    readings: int
    expected_readings: int
    reasons: tuple[str, ...]
    """Keys of :data:`REASON_NAMES`."""


class SensorSection(msgspec.Struct, frozen=True):
    """感知设备: the sensors over the period and those listed for adjustment (seed 二.(三).9)."""

    devices: int
    """Registered devices, cameras included."""
    sensors: int
    alarms: int
    false_alarms: int
    max_false_rate: float
    min_alarms: int
    min_use: float
    listed: int
    """How many sensors are listed for adjustment in all."""
    flagged: tuple[SensorRow, ...]
    """The first of them (the worst false-alarm rates first)."""


class ReportData(msgspec.Struct, frozen=True):
    """A whole health check report."""

    title: Text
    district: Text
    period_label: str
    period_start: float
    period_end: float
    """The period, ``start <= t < end``, in epoch seconds over Shanghai local days."""
    generated_at: float
    as_of: float
    """The figures stand as of this time: the end of the period, or now when that is earlier."""
    source: str
    """Where the figures come from (the store, without credentials)."""
    summary: Summary
    vitals: tuple[VitalSummary, ...]
    evaluation: tuple[EvaluationTable, ...]
    definitions: tuple[Definition, ...]
    standards: str
    problems: tuple[StreetProblems, ...]
    sensors: SensorSection | None
    """None when the store keeps no sensor records."""
