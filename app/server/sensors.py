"""The sensor monitor: readings in, alarms out.

Readings arrive at ``POST /api/observations``. Each runs through its sensor type's alarm rule
(:mod:`app.domain.alarms`: threshold, duration, hysteresis). A raised alarm turns the sensor to
``alarm`` and becomes a report through the same intake as every other source, so it opens an
incident or joins an open one of the same category nearby; a cleared alarm turns the sensor back
to ``normal`` (the incident stays with whoever handles it). A sensor that misses its heartbeats
turns ``offline``, and back when it reports again.

The rule states live in memory: after a restart a sensor starts again from ``normal``, so an
alarm in progress is raised again once it has lasted its duration (the report id is the
sensor's and the raise time's, so a repeated raise is not a second report).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from app.domain.alarms import AlarmEvent, AlarmRule, Phase, RuleState, false_alarm_rate, is_offline, step
from app.domain.catalog import Catalog
from app.domain.devices import Device, DeviceKind, DeviceState, DeviceStateChange
from app.domain.intake import Report
from app.domain.localtime import local_day
from app.domain.model import SourceChannel
from app.server.writer import Writer
from app.storage.sensor_log import SensorLog
from app.storage.server_store import ServerStore

log = logging.getLogger(__name__)

#: Seconds between heartbeat checks and flushes of last-seen times and reading counts.
CHECK_INTERVAL_S = 10.0
#: Seconds between flushes of last-seen times and latest readings to the registry (and so to
#: the consoles' vital signs).
SEEN_FLUSH_S = 60.0


@dataclass(frozen=True)
class Observation:
    sensor_id: str
    value: float
    at: float


@dataclass
class ObserveResult:
    accepted: int = 0
    refused: list[tuple[int, str, str]] = field(default_factory=list)
    """(index in the batch, error code, reason)."""
    raised: list[tuple[str, int]] = field(default_factory=list)
    """(sensor id, incident id) of the alarms raised."""
    cleared: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SensorReview:
    """One sensor's figures over a period, and why it is listed for adjustment."""

    sensor_id: str
    name: str
    type: str
    street: str
    alarms: int
    false_alarms: int
    false_alarm_rate: float | None
    readings: int
    expected_readings: int
    last_seen: float
    reasons: tuple[str, ...]


class SensorMonitor:
    def __init__(
        self,
        store: ServerStore,
        writer: Writer,
        catalog: Catalog,
        rules: Mapping[str, AlarmRule],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.writer = writer
        self.catalog = catalog
        self.rules = dict(rules)
        self.clock = clock
        self.log = SensorLog(store.engine)
        self.devices: dict[str, Device] = {}
        self.states: dict[str, RuleState] = {}
        self.last_seen: dict[str, float] = {}
        self._readings: Counter[tuple[str, str]] = Counter()
        self._seen_dirty: set[str] = set()
        self._last_seen_flush = 0.0
        self._started_at = 0.0
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        self._started_at = self._last_seen_flush = self.clock()
        self.devices_changed(await asyncio.to_thread(self.store.devices))
        self._task = asyncio.get_running_loop().create_task(self._checks(), name="cityops-sensors")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self._flush_readings()

    def devices_changed(self, devices: Sequence[Device]) -> None:
        """The registry changed (registered devices, new states): keep the monitor's copy."""
        for device in devices:
            if device.kind is DeviceKind.SENSOR:
                self.devices[device.id] = device

    # -- readings ----------------------------------------------------------------------------
    async def observe(self, observations: Sequence[Observation]) -> ObserveResult:
        """Take a batch of readings in order; unknown sensors and sensors without a rule are
        refused one by one, the rest are taken."""
        result = ObserveResult()
        events: list[tuple[Device, AlarmRule, AlarmEvent]] = []
        states: dict[str, DeviceStateChange] = {}
        async with self._lock:  # the rule states move one batch at a time
            for index, obs in enumerate(observations):
                device = self.devices.get(obs.sensor_id)
                if device is None:
                    result.refused.append((index, "unknown_sensor", f"no sensor {obs.sensor_id!r} is registered"))
                    continue
                rule = self.rules.get(device.type)
                if rule is None:
                    result.refused.append((index, "no_rule", f"no alarm rule for sensor type {device.type!r}"))
                    continue
                result.accepted += 1
                self.last_seen[device.id] = max(self.last_seen.get(device.id, 0.0), obs.at)
                self._seen_dirty.add(device.id)
                self._readings[(device.id, local_day(obs.at))] += 1
                before = self.states.get(device.id, RuleState())
                after, event = step(rule, before, obs.value, obs.at)
                self.states[device.id] = after
                if event is not None:
                    events.append((device, rule, event))
                    wanted = DeviceState.ALARM if event.kind == "raise" else DeviceState.NORMAL
                    # A buffer resent late still moves the state: never older than what is known.
                    at = max(event.at, device.updated_at)
                    states[device.id] = DeviceStateChange(id=device.id, state=wanted, at=at, reading=event.value)
                elif device.state is DeviceState.OFFLINE and device.id not in states:
                    back = DeviceState.ALARM if after.phase in (Phase.ALARM, Phase.CLEARING) else DeviceState.NORMAL
                    states[device.id] = DeviceStateChange(id=device.id, state=back, at=max(obs.at, device.updated_at))
        for device, rule, event in events:
            if event.kind == "raise":
                incident_id = await self._raise(device, rule, event)
                result.raised.append((device.id, incident_id))
            else:
                await asyncio.to_thread(self.log.record_clear, device.id, event.raised_at, event.at)
                result.cleared.append(device.id)
        if states:
            await self.writer.submit_devices(states=list(states.values()))
        return result

    async def _raise(self, device: Device, rule: AlarmRule, event: AlarmEvent) -> int:
        category = self.catalog.category(rule.category)
        address = str(device.attrs.get("address", ""))
        report = Report(
            report_id=f"alarm:{device.id}:{round(event.raised_at * 1000)}",
            source=SourceChannel.SENSOR,
            category=rule.category,
            title=f"{category.name.zh} {device.id}",
            description=(
                f"{device.name}：{rule.metric} {event.value:g} {rule.unit}，"
                f"{'超过' if rule.direction == 'above' else '低于'}报警线 {rule.raise_at:g} {rule.unit}"
                f"（持续 {rule.for_s:g} 秒）。"
            ),
            lon=device.lon,
            lat=device.lat,
            street=device.street,
            address=address,
            observed_at=event.at,
            reporter=device.id,
        )
        accepted = await self.writer.submit_report(report)
        await asyncio.to_thread(self.log.record_alarm, device.id, event.raised_at, accepted.incident_id, event.value)
        return accepted.incident_id

    # -- heartbeats --------------------------------------------------------------------------
    async def check(self, now: float | None = None) -> list[str]:
        """Mark the sensors that missed their heartbeats offline; returns their ids."""
        now = self.clock() if now is None else now
        changes = []
        for device in list(self.devices.values()):
            rule = self.rules.get(device.type)
            if rule is None or device.state in (DeviceState.OFFLINE, DeviceState.FAULT):
                continue
            last = max(self.last_seen.get(device.id, 0.0), device.last_seen, self._started_at)
            if is_offline(rule, last, now):
                changes.append(DeviceStateChange(id=device.id, state=DeviceState.OFFLINE, at=now))
        if changes:
            await self.writer.submit_devices(states=changes)
        return [c.id for c in changes]

    async def _checks(self) -> None:
        while True:
            await asyncio.sleep(CHECK_INTERVAL_S)
            try:
                await self.check()
                await self._flush_readings()
                if self.clock() - self._last_seen_flush >= SEEN_FLUSH_S:
                    await self.flush_seen()
            except Exception:
                log.exception("sensor checks failed; will try again")

    async def _flush_readings(self) -> None:
        counts, self._readings = self._readings, Counter()
        try:
            await asyncio.to_thread(self.log.add_readings, counts)
        except Exception:
            self._readings.update(counts)  # kept for the next flush
            raise

    async def flush_seen(self) -> None:
        """Write the last-seen times to the registry (a sign of life in the same state)."""
        self._last_seen_flush = self.clock()
        ids, self._seen_dirty = self._seen_dirty, set()
        changes = [
            DeviceStateChange(id=i, state=self.devices[i].state, at=self.last_seen[i], reading=self._latest(i))
            for i in ids
            if i in self.devices and self.last_seen[i] >= self.devices[i].updated_at
        ]
        if changes:
            await self.writer.submit_devices(states=changes)

    def _latest(self, sensor_id: str) -> float | None:
        state = self.states.get(sensor_id)
        return state.last_value if state is not None else None

    # -- review ------------------------------------------------------------------------------
    async def review(
        self, since: float, until: float, max_false_rate: float = 0.3, min_alarms: int = 3, min_use: float = 0.5
    ) -> list[SensorReview]:
        """Every sensor's figures over [since, until) and the reasons to adjust it: a
        false-alarm rate over ``max_false_rate`` (with at least ``min_alarms`` alarms), or
        fewer readings than ``min_use`` of those its heartbeat promises (little use)."""
        await self._flush_readings()
        figures = await asyncio.to_thread(self.log.figures, since, until, local_day(since), local_day(until - 1))
        out = []
        for device in sorted(self.devices.values(), key=lambda d: d.id):
            rule = self.rules.get(device.type)
            got = figures.get(device.id)
            alarms, false_alarms, readings = (got.alarms, got.false_alarms, got.readings) if got else (0, 0, 0)
            watched_from = max(since, device.registered_at)
            expected = int(max(0.0, until - watched_from) / rule.heartbeat_s) if rule else 0
            rate = false_alarm_rate(alarms, false_alarms)
            reasons = []
            if rate is not None and alarms >= min_alarms and rate > max_false_rate:
                reasons.append("false_alarms")
            if expected and readings < min_use * expected:
                reasons.append("little_use")
            last_seen = max(self.last_seen.get(device.id, 0.0), device.last_seen)
            out.append(
                SensorReview(device.id, device.name, device.type, device.street, alarms, false_alarms, rate,
                             readings, expected, last_seen, tuple(reasons))
            )  # fmt: skip
        return out
