"""The shipped indicator catalogue (resources/indicators.yaml) and the checks and levels of
``app.domain.indicators``."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.domain.catalog import Catalog, load_catalog
from app.domain.indicators import (
    AGGREGATES,
    LEVELS,
    STATISTICS,
    Indicator,
    IndicatorCatalogue,
    IndicatorError,
    load_indicators,
)
from app.domain.model import Severity

RESOURCES = Path(__file__).parents[2] / "resources"
#: The device types the simulator registers (app/sim/devices.py KINDS).
SENSOR_TYPES = {"smoke", "manhole", "dust", "noise", "water_level", "high_altitude", "creek"}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(yaml.safe_load((RESOURCES / "catalog.yaml").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    data = yaml.safe_load((RESOURCES / "indicators.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def indicators(raw: dict[str, Any], catalog: Catalog) -> IndicatorCatalogue:
    return load_indicators(raw, catalog)


def indicator(direction: str, bounds: tuple[float, float, float, float], **source: Any) -> Indicator:
    raw = {
        "version": 1,
        "indicators": [
            {
                "code": "x",
                "name": {"zh": "指标", "en": "Indicator"},
                "unit": {"zh": "件", "en": "items"},
                "source": source or {"kind": "incidents", "aggregate": "open_backlog"},
                "direction": direction,
                "thresholds": dict(zip(("blue", "yellow", "orange", "red"), bounds, strict=True)),
            }
        ],
    }
    return load_indicators(raw)["x"]


# ---- the shipped catalogue -------------------------------------------------------------------


def test_the_catalogue_loads_with_the_seeds_concerns(indicators: IndicatorCatalogue) -> None:
    assert 12 <= len(indicators) <= 16
    codes = set(indicators)
    for concern in ("open_backlog", "overdue", "hotline_volume_24h", "red_open", "fire_safety_open"):
        assert concern in codes
    sensors = {i.source.sensor for i in indicators.values() if i.source.kind == "sensor"}
    assert {"water_level", "dust", "noise", "smoke", "manhole", None} <= sensors
    assert any(i.source.statistic == "offline_share" for i in indicators.values())
    assert any(not i.higher_is_worse for i in indicators.values())  # the closure rate


def test_every_name_and_unit_is_bilingual(indicators: IndicatorCatalogue) -> None:
    for ind in indicators.values():
        assert ind.name.zh and ind.name.en and ind.name.zh != ind.name.en, ind.code
        assert ind.unit.zh and ind.unit.en, ind.code
        assert any("\u4e00" <= ch <= "\u9fff" for ch in ind.name.zh), ind.code


def test_every_source_is_one_the_console_computes(indicators: IndicatorCatalogue) -> None:
    # Import here: the service module needs the storage layer, this file must not need Qt.
    from app.services.vitals import IMPLEMENTED_AGGREGATES

    assert indicators.aggregates <= IMPLEMENTED_AGGREGATES
    assert AGGREGATES == IMPLEMENTED_AGGREGATES
    for ind in indicators.values():
        if ind.source.kind == "sensor":
            assert ind.source.statistic in STATISTICS
            assert ind.source.sensor is None or ind.source.sensor in SENSOR_TYPES, ind.code


def test_scenario_indicators_name_the_catalogs_scenarios(indicators: IndicatorCatalogue, catalog: Catalog) -> None:
    scenarios = {i.source.scenario for i in indicators.values() if i.source.aggregate == "scenario_open"}
    assert "fire_safety" in scenarios
    assert scenarios <= set(catalog.scenarios)


def test_every_indicator_has_its_four_levels_in_order(indicators: IndicatorCatalogue) -> None:
    for ind in indicators.values():
        bounds = [ind.thresholds.boundary(level) for level in LEVELS]
        assert bounds == sorted(bounds, reverse=not ind.higher_is_worse), ind.code
        assert [ind.level(b) for b in bounds] == list(LEVELS), ind.code


def test_the_catalogue_is_a_mapping_in_file_order(indicators: IndicatorCatalogue, raw: dict[str, Any]) -> None:
    assert list(indicators) == [i["code"] for i in raw["indicators"]]
    with pytest.raises(KeyError, match="unknown indicator 'nope'"):
        indicators["nope"]
    levels = indicators.levels({"overdue": 60.0, "closure_rate_today": 95.0, "nope": 1.0})
    assert levels == {"overdue": Severity.YELLOW, "closure_rate_today": None}


# ---- levels ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-5.0, None),
        (0.0, None),
        (9.999, None),
        (10.0, Severity.BLUE),
        (10.001, Severity.BLUE),
        (19.999, Severity.BLUE),
        (20.0, Severity.YELLOW),
        (29.9, Severity.YELLOW),
        (30.0, Severity.ORANGE),
        (39.999, Severity.ORANGE),
        (40.0, Severity.RED),
        (40.001, Severity.RED),
        (1e9, Severity.RED),
        (None, None),
        (math.nan, None),
    ],
)
def test_levels_when_higher_is_worse(value: float | None, expected: Severity | None) -> None:
    assert indicator("higher_is_worse", (10, 20, 30, 40)).level(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (100.0, None),
        (90.001, None),
        (90.0, Severity.BLUE),
        (89.999, Severity.BLUE),
        (80.001, Severity.BLUE),
        (80.0, Severity.YELLOW),
        (65.5, Severity.YELLOW),
        (65.0, Severity.ORANGE),
        (50.001, Severity.ORANGE),
        (50.0, Severity.RED),
        (49.999, Severity.RED),
        (0.0, Severity.RED),
        (None, None),
        (math.nan, None),
    ],
)
def test_levels_when_lower_is_worse(value: float | None, expected: Severity | None) -> None:
    assert indicator("lower_is_worse", (90, 80, 65, 50)).level(value) is expected


def test_format_and_intensive() -> None:
    count = indicator("higher_is_worse", (10, 20, 30, 40))
    assert count.format(1234.0) == "1,234"
    assert count.format(None) == "—"
    assert count.format(math.nan) == "—"
    assert not count.intensive
    share = indicator("higher_is_worse", (1, 2, 3, 4), kind="sensor", statistic="offline_share")
    assert share.intensive
    alarms = indicator("higher_is_worse", (1, 2, 3, 4), kind="sensor", sensor="smoke", statistic="alarm_count")
    assert not alarms.intensive


# ---- bad catalogues --------------------------------------------------------------------------


def broken(raw: dict[str, Any], index: int, **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(raw)
    data["indicators"][index].update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"thresholds": {"blue": 5, "yellow": 4, "orange": 6, "red": 7}}, r"blue < yellow < orange < red"),
        ({"direction": "lower_is_worse"}, r"lower is worse, so blue > yellow > orange > red"),
        ({"direction": "sideways"}, r"direction"),
        ({"source": {"kind": "incidents", "aggregate": "open_backlogg"}}, r"'open_backlogg' is not one of"),
        ({"source": {"kind": "incidents", "aggregate": "scenario_open"}}, r"scenario_open needs the scenario"),
        (
            {"source": {"kind": "incidents", "aggregate": "scenario_open", "scenario": "moon_base"}},
            r"unknown scenario 'moon_base'",
        ),
        ({"source": {"kind": "sensor", "sensor": "dust", "statistic": "median"}}, r"'median' is not one of"),
        ({"source": {"kind": "sensor", "statistic": "max"}}, r"max needs the sensor type"),
        ({"source": {"kind": "weather", "aggregate": "x"}}, r"kind"),
        ({"thresholds": {"blue": 1, "yellow": 2, "orange": 3}}, r"red"),
        ({"colour": "red"}, r"colour"),
        ({"code": "closure_rate_today"}, r"'closure_rate_today' is defined twice"),
        ({"decimals": 9}, r"decimals: expected 0 to 4"),
    ],
)
def test_a_bad_catalogue_is_refused_naming_the_problem(
    raw: dict[str, Any], catalog: Catalog, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(IndicatorError, match=message):
        load_indicators(broken(raw, 0, **changes), catalog)


def test_every_problem_is_named_with_its_indicator(raw: dict[str, Any], catalog: Catalog) -> None:
    data = broken(raw, 0, thresholds={"blue": 5, "yellow": 4, "orange": 6, "red": 7})
    data = broken(data, 1, source={"kind": "incidents", "aggregate": "nope"})
    with pytest.raises(IndicatorError) as caught:
        load_indicators(data, catalog)
    first, second = raw["indicators"][0]["code"], raw["indicators"][1]["code"]
    assert len(caught.value.problems) == 2
    assert f"$.indicators[{first}].thresholds" in caught.value.problems[0]
    assert f"$.indicators[{second}].source.aggregate" in caught.value.problems[1]


def test_version_and_emptiness_are_checked(raw: dict[str, Any]) -> None:
    with pytest.raises(IndicatorError, match="version 2 is not supported"):
        load_indicators({**raw, "version": 2})
    with pytest.raises(IndicatorError, match="no indicator"):
        load_indicators({"version": 1, "indicators": []})
