"""Alarm rules: threshold, duration and hysteresis, active hours, out-of-order readings,
heartbeat loss and the false-alarm rate."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import yaml

from app.domain.alarms import (
    AlarmRule,
    Phase,
    RuleError,
    RuleState,
    false_alarm_rate,
    is_offline,
    load_rules,
    step,
)
from app.domain.catalog import load_catalog
from app.domain.localtime import SHANGHAI
from resources import ALARM_RULES_PATH, CATALOG_PATH

RULE = AlarmRule(sensor_type="water_level", metric="level", unit="m", direction="above", raise_at=3.80,
                 clear_at=3.70, for_s=120, clear_for_s=600, category="creek.water_level_high",
                 heartbeat_s=60, offline_after=5)  # fmt: skip
T0 = 1_800_000_000.0


def run(rule: AlarmRule, readings: list[tuple[float, float]]) -> tuple[RuleState, list[tuple[str, float]]]:
    """Feed (seconds after T0, value) readings; returns the last state and the events."""
    state, events = RuleState(), []
    for dt, value in readings:
        state, event = step(rule, state, value, T0 + dt)
        if event is not None:
            events.append((event.kind, event.at - T0))
    return state, events


def test_the_shipped_rules_load_and_name_catalog_categories() -> None:
    catalog = load_catalog(yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8")))
    rules = load_rules(ALARM_RULES_PATH, catalog.categories)
    assert {"smoke", "water_level", "dust", "noise", "manhole"} <= set(rules)


def test_a_reading_past_the_line_must_last_before_it_raises() -> None:
    state, events = run(RULE, [(0, 3.5), (60, 3.85), (120, 3.9), (179, 3.9)])
    assert events == [] and state.phase is Phase.PENDING
    state, events = run(RULE, [(0, 3.5), (60, 3.85), (120, 3.9), (180, 3.9)])
    assert events == [("raise", 180)] and state.phase is Phase.ALARM and state.raised_at == T0 + 180


def test_a_value_hovering_at_the_line_raises_nothing() -> None:
    # Every 30 s just above, then just below the raise line: never above for 120 s in a row.
    readings = [(30 * i, 3.81 if i % 3 else 3.79) for i in range(200)]
    state, events = run(RULE, readings)
    assert events == []
    assert state.phase in (Phase.NORMAL, Phase.PENDING)


def test_hysteresis_an_alarm_does_not_flap_between_the_lines() -> None:
    rising = [(0, 3.9), (120, 3.9)]  # raised at 120
    wobble = [(120 + 30 * i, 3.75 if i % 2 else 3.82) for i in range(1, 100)]  # between the lines
    state, events = run(RULE, rising + wobble)
    assert events == [("raise", 120)]
    assert state.phase is Phase.ALARM


def test_an_alarm_clears_when_the_value_stays_below_the_clear_line() -> None:
    readings = [(0, 3.9), (120, 3.9), (200, 3.65), (500, 3.6), (799, 3.6)]
    state, events = run(RULE, readings)
    assert events == [("raise", 120)] and state.phase is Phase.CLEARING
    state, events = run(RULE, [*readings, (800, 3.6)])
    assert events == [("raise", 120), ("clear", 800)] and state.phase is Phase.NORMAL
    # A rise above the clear line while clearing goes back to the alarm, without a new event.
    state, events = run(RULE, [*readings[:3], (300, 3.75), (1000, 3.6)])
    assert events == [("raise", 120)] and state.phase is Phase.CLEARING and state.since == T0 + 1000


def test_a_second_alarm_after_clearing_is_a_new_raise() -> None:
    readings = [(0, 3.9), (120, 3.9), (200, 3.6), (800, 3.6), (900, 3.95), (1020, 3.95)]
    _, events = run(RULE, readings)
    assert events == [("raise", 120), ("clear", 800), ("raise", 1020)]


def test_zero_duration_raises_at_once_and_below_rules_work() -> None:
    rule = AlarmRule(sensor_type="pressure", metric="p", unit="MPa", direction="below", raise_at=0.10,
                     clear_at=0.14, for_s=0, clear_for_s=0, category="x", heartbeat_s=60)  # fmt: skip
    _, events = run(rule, [(0, 0.2), (10, 0.09), (20, 0.12), (30, 0.15)])
    assert events == [("raise", 10), ("clear", 30)]


def test_older_readings_are_ignored() -> None:
    state, events = run(RULE, [(0, 3.9), (100, 3.9), (50, 3.5), (120, 3.9)])
    assert events == [("raise", 120)]
    assert state.last_at == T0 + 120


def test_night_only_rules_ignore_the_day() -> None:
    rule = AlarmRule(sensor_type="noise", metric="leq", unit="dB(A)", direction="above", raise_at=55,
                     clear_at=50, for_s=0, clear_for_s=0, category="construction.noise_night",
                     heartbeat_s=60, hours=(22, 6))  # fmt: skip
    noon = datetime(2026, 11, 24, 12, 0, tzinfo=SHANGHAI).timestamp()
    night = datetime(2026, 11, 24, 23, 30, tzinfo=SHANGHAI).timestamp()
    early = datetime(2026, 11, 25, 5, 59, tzinfo=SHANGHAI).timestamp()
    assert step(rule, RuleState(), 70, noon)[1] is None
    state, event = step(rule, RuleState(), 70, night)
    assert event is not None and event.kind == "raise"
    assert step(rule, state, 70, early)[1] is None, "still night: the alarm stays"


def test_heartbeat_loss() -> None:
    assert not is_offline(RULE, T0, T0 + 300)
    assert is_offline(RULE, T0, T0 + 301)


def test_false_alarm_rate() -> None:
    assert false_alarm_rate(0, 0) is None
    assert false_alarm_rate(8, 2) == 0.25


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("version: 1\nrules: [{sensor_type: a, metric: m, unit: u, direction: above, raise_at: 1, clear_at: 2,"
         " for_s: 0, clear_for_s: 0, category: c, heartbeat_s: 1}]", "clear_at must be below"),
        ("version: 1\nrules: [{sensor_type: a}]", "missing required field"),
        ("version: 1\nrules: [{sensor_type: a, metric: m, unit: u, direction: up, raise_at: 1, clear_at: 0,"
         " for_s: 0, clear_for_s: 0, category: c, heartbeat_s: 1}]", "direction"),
    ],
)  # fmt: skip
def test_a_bad_rules_file_is_refused_with_the_reason(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleError, match=fragment):
        load_rules(path)
