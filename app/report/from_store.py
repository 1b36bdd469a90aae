"""The health check report's figures, read from the central server's store with SQLAlchemy Core
(SQLite or PostgreSQL), beside a running server: reads only, each in its own short transaction.

Where each figure comes from:

* **概况** and **各街道突出问题**: the incidents reported in the period, counted in SQL by channel,
  street and category (merged and invalid ones counted apart).
* **综合评价**: :meth:`ServerStore.evaluate` by unit, street and category, as of now.
* **数字体征**, incident aggregates: each day's value is taken at the end of the local day (at
  the end of the period, or now, for the last) from the incidents as they are stored. The
  store keeps an incident's current state and the time of its last change, so an incident
  closed, found invalid or merged since was open until that time; a stage deadline passed is
  only known for incidents still open now (so on past days the overdue figures are a lower
  bound, and exact for a period that runs to now). New incidents per hour is the day's busiest
  clock hour; the 12345 volume the 24 hours before the day's end.
* **数字体征**, sensor indicators: readings are not kept over time, so each day gives the alarms
  the sensors of the type raised (:mod:`app.storage.sensor_log`); the latest value is the
  registry's (latest readings, states), for a period that runs to now.
* **感知设备**: per sensor its alarms, false alarms and readings over the period
  (:meth:`SensorLog.figures`), listed for adjustment as the server's review lists them.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, Integer, and_, cast, func, or_, select

from app.domain.alarms import AlarmRule, false_alarm_rate, load_rules
from app.domain.catalog import Catalog, Text
from app.domain.devices import Device, DeviceKind, DeviceState
from app.domain.evaluation import (
    DEFINITIONS,
    DEFINITIONS_ZH,
    STAGE_ORDER,
    STANDARDS,
    EvaluationRow,
    Flag,
    GroupBy,
    Period,
    key_name,
    make_row,
)
from app.domain.indicators import Indicator, IndicatorCatalogue
from app.domain.localtime import SHANGHAI, local_day, local_day_start
from app.domain.model import OPEN_STATUSES, Severity, SourceChannel, Status
from app.report.data import (
    BREACH_LEVELS,
    CHANNEL_NAMES,
    Breach,
    ChannelCount,
    Definition,
    EvaluationTable,
    NamedRow,
    ProblemRow,
    ReportData,
    SensorRow,
    SensorSection,
    StreetProblems,
    Summary,
    VitalSummary,
)
from app.storage.sensor_log import SensorLog, sensor_alarms
from app.storage.server_store import ServerStore, incident_stages, incidents
from resources import ALARM_RULES_PATH

Progress = Callable[[str, float], None]
"""Told what is being done and how far along the whole is (0 to 1)."""

TITLE: Final = Text(zh="城市体检报告", en="City Health Check Report")
#: Categories listed per street.
TOP_CATEGORIES: Final = 5
#: Breaches listed per vital sign (days; sensor alarms), and sensors listed for adjustment:
#: the rest are counted.
MAX_BREACHES: Final = 20
MAX_ALARMS: Final = 10
MAX_SENSORS: Final = 40
#: When a sensor is listed for adjustment: the server's review defaults (seed 二.(三).9).
MAX_FALSE_RATE: Final = 0.3
MIN_ALARMS: Final = 3
MIN_USE: Final = 0.5

_OPEN: Final = sorted(s.value for s in OPEN_STATUSES)
_RUNNING: Final = sorted(s.value for s in OPEN_STATUSES - {Status.SUSPENDED})
_FINISHED: Final = sorted({Status.CLOSED.value, Status.INVALID.value, Status.MERGED.value})
_NOT_COUNTED: Final = (Status.INVALID.value, Status.MERGED.value)
_LEVEL_NAME: Final = {
    Severity.BLUE: "blue",
    Severity.YELLOW: "yellow",
    Severity.ORANGE: "orange",
    Severity.RED: "red",
}


def _ignore(_what: str, _fraction: float) -> None:
    return None


def level_name(indicator: Indicator, value: float | None) -> str | None:
    """The report's name of the level of ``value`` (None: normal or unknown)."""
    level = indicator.level(value)
    return None if level is None else _LEVEL_NAME[level]


class _Day:
    """One local day of the period: its date, start, and the moment its values are taken (its
    end, or the end of the figures when that is earlier)."""

    def __init__(self, day: date, start: float, cutoff: float) -> None:
        self.day = day
        self.start = start
        self.cutoff = cutoff

    @property
    def iso(self) -> str:
        return self.day.isoformat()

    @property
    def known(self) -> bool:
        """Whether any of the day has happened yet."""
        return self.cutoff > self.start


def period_days(period: Period, as_of: float) -> list[_Day]:
    """The local days of ``period``, values taken at the end of each (or at ``as_of``)."""
    days = []
    day = datetime.fromtimestamp(period.start, SHANGHAI).date()
    while (start := local_day_start(day)) < period.end:
        end = min(local_day_start(day + timedelta(days=1)), period.end)
        days.append(_Day(day, start, min(end, as_of)))
        day += timedelta(days=1)
    return days


def report_data(
    store: ServerStore,
    catalog: Catalog,
    period: Period,
    progress: Progress | None = None,
    *,
    indicators: IndicatorCatalogue | None = None,
    rules: Mapping[str, AlarmRule] | None = None,
    now: float | None = None,
) -> ReportData:
    """Gather a health check report over ``period`` from ``store``. ``indicators`` default to
    the shipped catalogue, ``rules`` (the sensors' heartbeats, for use) to the shipped alarm
    rules; ``now`` is the time the figures stand at (the clock by default)."""
    tell = progress or _ignore
    generated = time.time() if now is None else now
    as_of = min(period.end, generated)
    if indicators is None:
        # Imported here: the services layer is only needed for the shipped file's path and parse.
        from app.services.vitals import read_indicators

        indicators = read_indicators(catalog=catalog)
    if rules is None:
        rules = load_rules(ALARM_RULES_PATH)
    days = period_days(period, as_of)
    reader = _Reader(store, catalog, period, as_of)

    tell("incidents of the period…", 0.02)
    channels, received = reader.channels()
    tell("vital signs, day by day…", 0.1)
    states: list[_DayState | None] = []
    for n, day in enumerate(days):
        states.append(reader.day_state(day, indicators) if day.known else None)
        tell(f"vital signs: {day.iso}…", 0.1 + 0.35 * (n + 1) / max(1, len(days)))
    last_state = next((s for s in reversed(states) if s is not None), None)
    tell("sensor alarms…", 0.46)
    devices = store.devices()
    sensor_log = SensorLog(store.engine)
    alarms = reader.alarms()
    runs_to_now = period.end >= generated
    vitals = tuple(
        _incident_vital(i, days, states)
        if i.source.kind == "incidents"
        else _sensor_vital(i, days, devices, alarms, runs_to_now)
        for i in indicators.values()
    )
    tables = []
    for n, group_by in enumerate((GroupBy.UNIT, GroupBy.STREET, GroupBy.CATEGORY)):
        tell(f"evaluation by {group_by.value}…", 0.5 + 0.1 * n)
        rows = store.evaluate(period.start, period.end, group_by, as_of=generated)
        tables.append(
            EvaluationTable(
                group_by=group_by.value,
                rows=tuple(NamedRow(key_name(catalog, group_by, r.key), r) for r in rows),
                total=_total(rows) if group_by is GroupBy.STREET else None,
            )
        )
    street_total = tables[1].total
    tell("problems per street…", 0.8)
    problems = reader.problems()
    tell("sensors to adjust…", 0.9)
    sensors = _sensor_section(sensor_log, devices, rules, catalog, period, as_of)
    summary = Summary(
        received=received[0],
        reports=received[1],
        registered=street_total.registered if street_total is not None else 0,
        closed=reader.closed(),
        invalid=received[2],
        merged=received[3],
        open_at_end=last_state.open if last_state is not None else 0,
        overdue_at_end=last_state.overdue if last_state is not None else 0,
        channels=channels,
    )
    tell("figures gathered", 1.0)
    return ReportData(
        title=TITLE,
        district=catalog.data.district_name,
        period_label=period.label,
        period_start=period.start,
        period_end=period.end,
        generated_at=generated,
        as_of=as_of,
        source=store.engine.url.render_as_string(hide_password=True),
        summary=summary,
        vitals=vitals,
        evaluation=tuple(tables),
        definitions=tuple(
            Definition(f, term, text, DEFINITIONS_ZH.get(f, "")) for f, (term, text) in DEFINITIONS.items()
        ),
        standards=STANDARDS,
        problems=problems,
        sensors=sensors,
    )


# -- the incidents ---------------------------------------------------------------------------


class _DayState:
    """The incident aggregates of one day, taken at its cutoff."""

    def __init__(self, row: Sequence[Any], scenarios: Sequence[str], busiest_hour: int) -> None:
        n = len(scenarios)
        self.open, self.red, self.overdue = int(row[0]), int(row[1]), int(row[2])
        self.scenario_open = {s: int(v) for s, v in zip(scenarios, row[3 : 3 + n], strict=True)}
        self.hotline_24h, self.new_1h, self.reported_today, self.closed_today = (int(v) for v in row[3 + n :])
        self.busiest_hour = busiest_hour

    def value(self, indicator: Indicator) -> float | None:
        """The indicator's value at the cutoff (``new_per_hour``: the day's busiest hour)."""
        aggregate = indicator.source.aggregate
        if aggregate == "open_backlog":
            return float(self.open)
        if aggregate == "overdue":
            return float(self.overdue)
        if aggregate == "overdue_share":
            return 100.0 * self.overdue / self.open if self.open else None
        if aggregate == "red_open":
            return float(self.red)
        if aggregate == "scenario_open":
            return float(self.scenario_open.get(indicator.source.scenario or "", 0))
        if aggregate == "hotline_volume_24h":
            return float(self.hotline_24h)
        if aggregate == "new_per_hour":
            return float(self.busiest_hour)
        if aggregate == "closure_rate_today":
            return 100.0 * self.closed_today / self.reported_today if self.reported_today else None
        return None


class _Reader:
    """The report's queries over one store, period and end of figures."""

    def __init__(self, store: ServerStore, catalog: Catalog, period: Period, as_of: float) -> None:
        self.store = store
        self.catalog = catalog
        self.period = period
        self.as_of = as_of

    def _in_period(self) -> ColumnElement[bool]:
        i = incidents.c
        return and_(i.reported_at >= self.period.start, i.reported_at < self.period.end)

    def channels(self) -> tuple[tuple[ChannelCount, ...], tuple[int, int, int, int]]:
        """Incidents received by channel, and in all: (incidents, reports, invalid, merged)."""
        i = incidents.c
        query = (
            select(
                i.source,
                func.count(),
                func.coalesce(func.sum(i.merged_count).filter(i.status != Status.MERGED.value), 0),
                func.count().filter(i.status == Status.INVALID.value),
                func.count().filter(i.status == Status.MERGED.value),
            )
            .where(self._in_period())
            .group_by(i.source)
        )
        with self.store.engine.connect() as conn:
            rows = conn.execute(query).all()
        counts = sorted(((str(r[0]), int(r[1])) for r in rows), key=lambda c: (-c[1], c[0]))
        channels = tuple(ChannelCount(c, CHANNEL_NAMES.get(c, Text(zh=c, en=c)), n) for c, n in counts)
        totals = tuple(sum(int(r[k]) for r in rows) for k in (1, 2, 3, 4))
        return channels, (totals[0], totals[1], totals[2], totals[3])

    def closed(self) -> int:
        """Cases closed in the period."""
        i = incidents.c
        # Closing is a closed incident's last change: its updated_at is when it was closed.
        query = select(func.count()).where(
            i.status == Status.CLOSED.value, i.updated_at >= self.period.start, i.updated_at < self.period.end
        )
        with self.store.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def day_state(self, day: _Day, indicators: IndicatorCatalogue) -> _DayState:
        """The incident aggregates at ``day``'s cutoff, in two queries."""
        i = incidents.c
        e = day.cutoff
        # Open at e: reported before it and not finished then. A finished incident's last
        # change is its finishing (nothing changes a closed, invalid or merged incident).
        open_at = or_(i.status.in_(_OPEN), and_(i.status.in_(_FINISHED), i.updated_at >= e))
        scenarios = sorted({ind.source.scenario for ind in indicators.values() if ind.source.scenario is not None})
        categories = self.catalog.categories.values()
        scenario_terms = [
            func.count().filter(and_(open_at, i.category.in_(sorted(c.code for c in categories if c.scenario == s))))
            for s in scenarios
        ]
        flow_since = min(day.start, e - 86400.0)
        query = select(
            func.count().filter(open_at),
            func.count().filter(and_(open_at, i.severity == int(Severity.RED))),
            # Past its deadline by e: known for the incidents open now (whose current stage
            # began before a deadline that passed before e).
            func.count().filter(and_(i.status.in_(_RUNNING), i.deadline < e)),
            *scenario_terms,
            func.count().filter(and_(i.source == SourceChannel.HOTLINE_12345.value, i.reported_at >= e - 86400.0)),
            func.count().filter(i.reported_at >= e - 3600.0),
            func.count().filter(and_(i.reported_at >= day.start, i.status.not_in(_NOT_COUNTED))),
            func.count().filter(and_(i.reported_at >= day.start, i.status == Status.CLOSED.value, i.updated_at < e)),
        ).where(i.reported_at < e, or_(i.status.in_(_OPEN), i.updated_at >= e, i.reported_at >= flow_since))
        hours = (i.reported_at - day.start) / 3600.0
        bucket = cast(hours, Integer) if self.store.is_sqlite else func.floor(hours)
        busiest = (
            select(bucket.label("hour"), func.count().label("n"))
            .where(i.reported_at >= day.start, i.reported_at < e)
            .group_by("hour")
        )
        with self.store.engine.connect() as conn:
            row = conn.execute(query).one()
            per_hour = [int(r.n) for r in conn.execute(busiest)]
        return _DayState(row, scenarios, max(per_hour, default=0))

    def alarms(self) -> list[tuple[str, float, float]]:
        """The sensor alarms raised in the period: (sensor, raised at, value), oldest first."""
        a = sensor_alarms.c
        query = (
            select(a.sensor_id, a.raised_at, a.value)
            .where(a.raised_at >= self.period.start, a.raised_at < self.as_of)
            .order_by(a.raised_at, a.sensor_id)
        )
        with self.store.engine.connect() as conn:
            return [(str(r[0]), float(r[1]), float(r[2])) for r in conn.execute(query)]

    def problems(self) -> tuple[StreetProblems, ...]:
        """Per street, its incidents of the period (not invalid, not merged) and the categories
        with the most, open and overdue among them."""
        i = incidents.c
        s = incident_stages.c
        e = self.as_of
        open_at = or_(i.status.in_(_OPEN), and_(i.status.in_(_FINISHED), i.updated_at >= e))
        late = func.coalesce(s.flags.op("&")(int(Flag.LATE)), 0) != 0
        overdue = or_(and_(i.status.in_(_RUNNING), i.deadline < e), late)
        query = (
            select(i.street, i.category, func.count(), func.count().filter(open_at), func.count().filter(overdue))
            .select_from(incidents.outerjoin(incident_stages, s.incident_id == i.id))
            .where(self._in_period(), i.status.not_in(_NOT_COUNTED))
            .group_by(i.street, i.category)
        )
        with self.store.engine.connect() as conn:
            rows = conn.execute(query).all()
        per_street: dict[str, list[ProblemRow]] = {}
        for street, category, n, n_open, n_overdue in rows:
            known = self.catalog.categories.get(str(category))
            name = known.name if known is not None else Text(zh=str(category), en=str(category))
            per_street.setdefault(str(street), []).append(
                ProblemRow(str(category), name, int(n), int(n_open), int(n_overdue))
            )
        order = {code: k for k, code in enumerate(self.catalog.streets)}
        out = []
        for street in sorted(per_street, key=lambda c: (order.get(c, len(order)), c)):
            found = per_street[street]
            found.sort(key=lambda p: (-p.incidents, -p.overdue, p.category))
            known_street = self.catalog.streets.get(street)
            out.append(
                StreetProblems(
                    street=street,
                    name=known_street.name if known_street is not None else Text(zh=street, en=street),
                    incidents=sum(p.incidents for p in found),
                    open=sum(p.open for p in found),
                    overdue=sum(p.overdue for p in found),
                    top=tuple(found[:TOP_CATEGORIES]),
                )
            )
        return tuple(out)


def _total(rows: Sequence[EvaluationRow]) -> EvaluationRow | None:
    """The district's counts and rates from rows that partition its cases."""
    if not rows:
        return None
    fields = (
        "registered", "due_to_close", "closed", "closed_on_time", "due_to_handle", "handled",
        "handled_on_time", "reworked", "overdue", "overdue_open",
    )  # fmt: skip
    counts = [sum(int(getattr(r, f)) for r in rows) for f in fields]
    none = [0] * len(STAGE_ORDER)
    return make_row(None, counts, none, none)


# -- the vital signs -------------------------------------------------------------------------


def _breach_days(indicator: Indicator, days: Sequence[_Day], values: Sequence[float | None]) -> list[Breach]:
    found = []
    for day, value in zip(days, values, strict=True):
        level = level_name(indicator, value)
        if level in BREACH_LEVELS:
            found.append(Breach(at=day.start, what=day.iso, value=value, level=level))
    return found


def _incident_vital(indicator: Indicator, days: Sequence[_Day], states: Sequence[_DayState | None]) -> VitalSummary:
    values = tuple(s.value(indicator) if s is not None else None for s in states)
    aggregate = indicator.source.aggregate
    last = next((s for s in reversed(states) if s is not None), None)
    if aggregate == "new_per_hour":
        series = "busiest_hour"
        latest = float(last.new_1h) if last is not None else None
        note = Text(
            zh="每日数值为当日新发事件最多的一个小时；最新值为最后一小时。",
            en="Each day's value is its busiest clock hour; the latest value is the last hour's.",
        )
    else:
        series = "day_end_24h" if aggregate == "hotline_volume_24h" else "end_of_day"
        latest = last.value(indicator) if last is not None else None
        note = _STATE_NOTE if aggregate in ("overdue", "overdue_share") else Text(zh="", en="")
    breaches = _breach_days(indicator, days, values)
    return VitalSummary(
        code=indicator.code,
        name=indicator.name,
        unit=indicator.unit,
        kind="incidents",
        higher_is_worse=indicator.higher_is_worse,
        thresholds=_thresholds(indicator),
        decimals=indicator.decimals,
        latest=latest,
        latest_level=level_name(indicator, latest),
        series=series,
        days=tuple(d.iso for d in days),
        values=values,
        levels=tuple(level_name(indicator, v) for v in values),
        breaches=tuple(breaches[:MAX_BREACHES]),
        breach_count=len(breaches),
        note=note,
    )


_STATE_NOTE: Final = Text(
    zh="过去各日的超期数只计至今仍未结的事件（下限）；截至当前的数值是准确的。",
    en="On past days only incidents still open now are known to have been overdue (a lower bound); "
    "the value now is exact.",
)


def _thresholds(indicator: Indicator) -> tuple[float, float, float, float]:
    t = indicator.thresholds
    return (t.blue, t.yellow, t.orange, t.red)


def _sensor_vital(
    indicator: Indicator,
    days: Sequence[_Day],
    devices: Sequence[Device],
    alarms: Sequence[tuple[str, float, float]],
    runs_to_now: bool,
) -> VitalSummary:
    source = indicator.source
    of_type = [d for d in devices if source.sensor is None or d.type == source.sensor]
    latest: float | None = None
    if runs_to_now:
        if source.statistic in ("max", "mean"):
            readings = [d.reading for d in of_type if d.reading is not None]
            if readings:
                latest = max(readings) if source.statistic == "max" else sum(readings) / len(readings)
        elif source.statistic == "alarm_count":
            latest = float(sum(d.state is DeviceState.ALARM for d in of_type))
        elif of_type:  # offline_share
            latest = 100.0 * sum(d.state is DeviceState.OFFLINE for d in of_type) / len(of_type)
    breaches: list[Breach] = []
    if source.statistic == "offline_share":
        series = "none"
        values: tuple[float | None, ...] = tuple(None for _ in days)
        note = Text(
            zh="设备状态不保存历史，仅有当前值。",
            en="Device states are not kept over time: only the value now is known.",
        )
    else:
        series = "alarms_raised"
        names = {d.id: d.name for d in of_type}
        per_day = [0.0 if d.known else None for d in days]
        starts = [d.start for d in days]
        for sensor_id, raised_at, value in alarms:
            if sensor_id not in names:
                continue
            k = bisect.bisect_right(starts, raised_at) - 1
            count = per_day[k] if k >= 0 else None
            if count is not None:
                per_day[k] = count + 1.0
            name = names[sensor_id]
            what = name if sensor_id in name else f"{sensor_id} {name}".strip()
            if source.statistic == "alarm_count":
                # The indicator counts detectors alarming at once: each alarm is a breach of
                # its own, its reading (in the alarm rule's metric) is not the indicator's.
                breaches.append(Breach(at=raised_at, what=what, value=None, level=None))
            elif (level := level_name(indicator, value)) in BREACH_LEVELS:
                breaches.append(Breach(at=raised_at, what=what, value=value, level=level))
        values = tuple(per_day)
        note = Text(
            zh="读数不保存历史：各日为该类传感器触发的报警次数；最新值取自设备登记的最新读数和状态。",
            en="Readings are not kept over time: each day counts the alarms raised by these sensors; "
            "the latest value is the registry's latest readings and states.",
        )
    if not runs_to_now:
        note = Text(zh=note.zh + "本期已结束，不显示当前值。", en=note.en + " The period is over: no value now.")
    return VitalSummary(
        code=indicator.code,
        name=indicator.name,
        unit=indicator.unit,
        kind="sensor",
        higher_is_worse=indicator.higher_is_worse,
        thresholds=_thresholds(indicator),
        decimals=indicator.decimals,
        latest=latest,
        latest_level=level_name(indicator, latest),
        series=series,
        days=tuple(d.iso for d in days),
        values=values,
        levels=tuple(None for _ in days),
        breaches=tuple(breaches[:MAX_ALARMS]),
        breach_count=len(breaches),
        note=note,
    )


# -- the sensors -----------------------------------------------------------------------------


def _sensor_section(
    log: SensorLog,
    devices: Sequence[Device],
    rules: Mapping[str, AlarmRule],
    catalog: Catalog,
    period: Period,
    as_of: float,
) -> SensorSection:
    """Every sensor's figures over the period, and those to adjust: a false-alarm rate over
    :data:`MAX_FALSE_RATE` with at least :data:`MIN_ALARMS` alarms, or fewer readings than
    :data:`MIN_USE` of those its heartbeat promises (the server's review, same defaults)."""
    until = max(as_of, period.start)
    figures = log.figures(period.start, until, local_day(period.start), local_day(max(period.start, until - 1)))
    sensors = [d for d in devices if d.kind is DeviceKind.SENSOR]
    listed: list[SensorRow] = []
    total_alarms = total_false = 0
    for device in sensors:
        got = figures.get(device.id)
        alarms, false_alarms, readings = (got.alarms, got.false_alarms, got.readings) if got else (0, 0, 0)
        total_alarms += alarms
        total_false += false_alarms
        rule = rules.get(device.type)
        watched_from = max(period.start, device.registered_at)
        expected = int(max(0.0, until - watched_from) / rule.heartbeat_s) if rule is not None else 0
        rate = false_alarm_rate(alarms, false_alarms)
        reasons = []
        if rate is not None and alarms >= MIN_ALARMS and rate > MAX_FALSE_RATE:
            reasons.append("false_alarms")
        if expected and readings < MIN_USE * expected:
            reasons.append("little_use")
        if reasons:
            street = catalog.streets.get(device.street)
            listed.append(
                SensorRow(
                    sensor_id=device.id,
                    name=device.name,
                    type=device.type,
                    street=device.street,
                    street_name=street.name if street is not None else Text(zh=device.street, en=device.street),
                    alarms=alarms,
                    false_alarms=false_alarms,
                    false_alarm_rate=rate,
                    readings=readings,
                    expected_readings=expected,
                    reasons=tuple(reasons),
                )
            )
    # The false alarms first (worst rate, then most alarms), then the least used.
    listed.sort(
        key=lambda r: (
            "false_alarms" not in r.reasons,
            -(r.false_alarm_rate or 0.0),
            -r.alarms,
            r.readings / r.expected_readings if r.expected_readings else 1.0,
            r.sensor_id,
        )
    )
    return SensorSection(
        devices=len(devices),
        sensors=len(sensors),
        alarms=total_alarms,
        false_alarms=total_false,
        max_false_rate=MAX_FALSE_RATE,
        min_alarms=MIN_ALARMS,
        min_use=MIN_USE,
        listed=len(listed),
        flagged=tuple(listed[:MAX_SENSORS]),
    )
