"""Alarm rules of the IoT sensors: threshold, duration and hysteresis, and heartbeat loss.

Each sensor type has one rule (``resources/alarm_rules.yaml``). A sensor's readings run through
a small state machine per sensor (:func:`step`):

``normal`` → ``pending``
    a reading past the raise line; no alarm yet: it must last ``for_s`` seconds.
``pending`` → ``alarm`` (event **raise**)
    readings stayed past the raise line for ``for_s``; a reading back inside the line before
    that returns to ``normal`` without an alarm.
``alarm`` → ``clearing``
    a reading back past the clear line (below the raise line: the hysteresis band).
``clearing`` → ``normal`` (event **clear**)
    readings stayed past the clear line for ``clear_for_s``; a reading above the clear line
    returns to ``alarm`` without a new event.

So a value hovering at the raise line raises nothing unless it stays, and an alarm does not
flap while the value wobbles between the two lines: no alarm storms. Readings older than the
last one are ignored (a gateway resending its buffer). Outside a rule's ``hours`` a reading
counts as inside the lines.

:func:`is_offline`: a sensor that sent nothing for ``offline_after`` heartbeats is offline.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec
import yaml

from app.domain.localtime import local_hour


class RuleError(ValueError):
    """The rules file is not valid; the message says where."""


class AlarmRule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    sensor_type: str
    metric: str
    unit: str
    direction: Literal["above", "below"]
    raise_at: float
    clear_at: float
    for_s: float
    clear_for_s: float
    category: str
    heartbeat_s: float
    offline_after: int = 3
    hours: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.direction == "above" and not self.clear_at < self.raise_at:
            raise RuleError(f"{self.sensor_type}: clear_at must be below raise_at for an 'above' rule")
        if self.direction == "below" and not self.clear_at > self.raise_at:
            raise RuleError(f"{self.sensor_type}: clear_at must be above raise_at for a 'below' rule")
        if self.for_s < 0 or self.clear_for_s < 0 or self.heartbeat_s <= 0 or self.offline_after < 1:
            raise RuleError(f"{self.sensor_type}: durations must be ≥ 0 and heartbeat_s > 0")
        if self.hours is not None and not all(0 <= h <= 23 for h in self.hours):
            raise RuleError(f"{self.sensor_type}: hours are local hours 0..23")

    def past_raise(self, value: float) -> bool:
        return value >= self.raise_at if self.direction == "above" else value <= self.raise_at

    def past_clear(self, value: float) -> bool:
        """Back on the safe side of the clear line."""
        return value <= self.clear_at if self.direction == "above" else value >= self.clear_at

    def active_at(self, at: float) -> bool:
        if self.hours is None:
            return True
        start, end = self.hours
        hour = local_hour(at)
        return start <= hour < end if start < end else hour >= start or hour < end


class _RulesFile(msgspec.Struct, forbid_unknown_fields=True):
    version: int
    rules: list[AlarmRule]


def load_rules(path: Path, categories: Mapping[str, Any] | None = None) -> dict[str, AlarmRule]:
    """The rules by sensor type; ``categories`` (the catalog's) to check each rule's category."""
    try:
        data = msgspec.convert(yaml.safe_load(path.read_text(encoding="utf-8")), _RulesFile)
    except (msgspec.ValidationError, yaml.YAMLError) as exc:
        raise RuleError(f"{path.name}: {exc}") from None
    rules: dict[str, AlarmRule] = {}
    for rule in data.rules:
        if rule.sensor_type in rules:
            raise RuleError(f"{path.name}: two rules for sensor type {rule.sensor_type!r}")
        if categories is not None and rule.category not in categories:
            raise RuleError(f"{path.name}: {rule.sensor_type}: unknown category {rule.category!r}")
        rules[rule.sensor_type] = rule
    return rules


class Phase(enum.StrEnum):
    NORMAL = "normal"
    PENDING = "pending"
    ALARM = "alarm"
    CLEARING = "clearing"


class RuleState(msgspec.Struct, frozen=True):
    """Where one sensor stands against its rule."""

    phase: Phase = Phase.NORMAL
    since: float = 0.0
    """When the current phase began (pending, clearing: when the line was first crossed)."""
    last_at: float = 0.0
    last_value: float | None = None
    raised_at: float | None = None
    """When the current alarm was raised (None when not in alarm)."""


class AlarmEvent(msgspec.Struct, frozen=True):
    kind: Literal["raise", "clear"]
    at: float
    value: float
    raised_at: float
    """The alarm's raise time (for a clear: the alarm being cleared)."""


def step(rule: AlarmRule, state: RuleState, value: float, at: float) -> tuple[RuleState, AlarmEvent | None]:
    """The state after one reading, and the alarm event it causes, if any."""
    if at < state.last_at:
        return state, None
    beyond = rule.active_at(at) and rule.past_raise(value)
    seen = msgspec.structs.replace(state, last_at=at, last_value=value)
    phase = state.phase
    if phase is Phase.NORMAL or phase is Phase.PENDING:
        if not beyond:
            return msgspec.structs.replace(seen, phase=Phase.NORMAL, since=at), None
        since = state.since if phase is Phase.PENDING else at
        if at - since >= rule.for_s:
            raised = msgspec.structs.replace(seen, phase=Phase.ALARM, since=at, raised_at=at)
            return raised, AlarmEvent("raise", at, value, at)
        return msgspec.structs.replace(seen, phase=Phase.PENDING, since=since), None
    raised_at = state.raised_at if state.raised_at is not None else at
    safe = rule.past_clear(value) or not rule.active_at(at)
    if not safe:
        return msgspec.structs.replace(seen, phase=Phase.ALARM), None
    since = state.since if phase is Phase.CLEARING else at
    if at - since >= rule.clear_for_s:
        cleared = msgspec.structs.replace(seen, phase=Phase.NORMAL, since=at, raised_at=None)
        return cleared, AlarmEvent("clear", at, value, raised_at)
    return msgspec.structs.replace(seen, phase=Phase.CLEARING, since=since), None


def is_offline(rule: AlarmRule, last_seen: float, now: float) -> bool:
    """Whether a sensor last heard at ``last_seen`` has missed ``offline_after`` heartbeats."""
    return now - last_seen > rule.heartbeat_s * rule.offline_after


def false_alarm_rate(alarms: int, false_alarms: int) -> float | None:
    """误报率: alarms closed as false (the incident found invalid) over alarms; None without
    alarms."""
    return false_alarms / alarms if alarms else None
