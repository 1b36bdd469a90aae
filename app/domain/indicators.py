"""The district's digital vital signs (数字体征): the indicator catalogue.

Each indicator is a live figure of the city with four warning levels (蓝黄橙红, the same four as
an incident's :class:`~app.domain.model.Severity`). Its value comes from the console's incidents
(an aggregate such as the open backlog or the 12345 volume) or from the field devices (a sensor
type's readings, or the share of devices offline). ``resources/indicators.yaml`` carries the
catalogue in Chinese and English; this module checks it and judges values against it. It reads
no file: the caller parses the YAML (:func:`app.services.vitals.read_indicators`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from itertools import pairwise
from typing import Any, Final, Literal

import msgspec

from app.domain.catalog import Catalog, Text
from app.domain.model import Severity

#: The incident aggregates an indicator may name (what :mod:`app.services.vitals` computes).
#: ``scenario_open`` also names its scenario.
AGGREGATES: Final = frozenset(
    {
        "open_backlog",
        "overdue",
        "overdue_share",
        "red_open",
        "scenario_open",
        "hotline_volume_24h",
        "new_per_hour",
        "closure_rate_today",
    }
)
#: Aggregates that are a share in per cent, not a count.
RATE_AGGREGATES: Final = frozenset({"overdue_share", "closure_rate_today"})
#: What an indicator may take of a sensor type: the maximum or mean of the latest readings,
#: the share of devices offline (in per cent), or the number of devices alarming now.
STATISTICS: Final = frozenset({"max", "mean", "offline_share", "alarm_count"})
#: Statistics of the devices' readings (the others come from the devices' states).
READING_STATISTICS: Final = frozenset({"max", "mean"})
#: The warning levels in the order their boundaries are passed as a value gets worse.
LEVELS: Final = (Severity.BLUE, Severity.YELLOW, Severity.ORANGE, Severity.RED)

Direction = Literal["higher_is_worse", "lower_is_worse"]


class IndicatorError(ValueError):
    """The indicator catalogue is not valid. The message lists every problem with its location."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid indicator catalogue:\n  " + "\n  ".join(self.problems))


class Source(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Where an indicator's value comes from: an aggregate of the incidents (``kind``
    ``incidents``, with ``aggregate`` and, for ``scenario_open``, ``scenario``), or a statistic
    of the field devices (``kind`` ``sensor``, with ``statistic`` and the device type ``sensor``,
    or every device when it is left out)."""

    kind: Literal["incidents", "sensor"]
    aggregate: str | None = None
    scenario: str | None = None
    sensor: str | None = None
    statistic: str | None = None


class Thresholds(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Where each warning level begins."""

    blue: float
    yellow: float
    orange: float
    red: float

    def boundary(self, level: Severity) -> float:
        """The value at which ``level`` begins."""
        return {
            Severity.BLUE: self.blue,
            Severity.YELLOW: self.yellow,
            Severity.ORANGE: self.orange,
            Severity.RED: self.red,
        }[level]


class Indicator(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One vital sign: its names, unit, source, which way is worse and its four boundaries."""

    code: str
    name: Text
    unit: Text
    source: Source
    direction: Direction
    thresholds: Thresholds
    decimals: int = 0
    """How many decimals a display shows."""

    @property
    def higher_is_worse(self) -> bool:
        return self.direction == "higher_is_worse"

    def level(self, value: float | None) -> Severity | None:
        """The warning level of ``value``: the worst level whose boundary it reaches (at or
        above it when higher is worse, at or below it otherwise); None when the value is
        normal (short of the blue boundary) or unknown (None or NaN)."""
        if value is None or math.isnan(value):
            return None
        for level in reversed(LEVELS):  # red first
            boundary = self.thresholds.boundary(level)
            if (value >= boundary) if self.higher_is_worse else (value <= boundary):
                return level
        return None

    @property
    def intensive(self) -> bool:
        """Whether the value is a share, a rate or a reading, rather than a count: a street's
        own value of it can be judged against the same boundaries as the district's."""
        source = self.source
        if source.kind == "incidents":
            return source.aggregate in RATE_AGGREGATES
        return source.statistic != "alarm_count"

    def format(self, value: float | None) -> str:
        """The value as the dashboard writes it (without the unit); an em dash when unknown."""
        if value is None or math.isnan(value):
            return "—"
        return f"{value:,.{self.decimals}f}"


class IndicatorsData(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The catalogue file as written."""

    version: int
    indicators: list[Indicator]


class IndicatorCatalogue(Mapping[str, Indicator]):
    """The checked indicators by code, in the file's order."""

    def __init__(self, data: IndicatorsData) -> None:
        self.data = data
        self._by_code: dict[str, Indicator] = {i.code: i for i in data.indicators}

    def __getitem__(self, code: str) -> Indicator:
        try:
            return self._by_code[code]
        except KeyError:
            raise KeyError(f"unknown indicator {code!r}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_code)

    def __len__(self) -> int:
        return len(self._by_code)

    @property
    def aggregates(self) -> frozenset[str]:
        """The incident aggregates the indicators name."""
        return frozenset(
            i.source.aggregate for i in self._by_code.values() if i.source.kind == "incidents" and i.source.aggregate
        )

    def levels(self, values: Mapping[str, float | None]) -> dict[str, Severity | None]:
        """The level of each value in ``values`` whose code is an indicator."""
        return {code: self._by_code[code].level(v) for code, v in values.items() if code in self._by_code}


def load_indicators(raw: Mapping[str, Any], catalog: Catalog | None = None) -> IndicatorCatalogue:
    """Check parsed catalogue data and build the catalogue; with ``catalog``, the scenarios the
    indicators name must be the catalog's.

    Raises :class:`IndicatorError` naming every problem and where it is.
    """
    try:
        data = msgspec.convert(raw, IndicatorsData)
    except msgspec.ValidationError as exc:
        raise IndicatorError([str(exc)]) from None
    problems = list(_check(data, catalog))
    if problems:
        raise IndicatorError(problems)
    return IndicatorCatalogue(data)


def _check(data: IndicatorsData, catalog: Catalog | None) -> Iterable[str]:
    if data.version != 1:
        yield f"version {data.version} is not supported (expected 1)"
    if not data.indicators:
        yield "$.indicators: the catalogue has no indicator"
    seen: set[str] = set()
    for indicator in data.indicators:
        where = f"$.indicators[{indicator.code}]"
        if not indicator.code or not indicator.code.replace("_", "").isalnum() or not indicator.code.isascii():
            yield f"{where}.code: use ASCII letters, digits and underscores"
        if indicator.code in seen:
            yield f"indicator {indicator.code!r} is defined twice"
        seen.add(indicator.code)
        yield from _check_source(where, indicator.source, catalog)
        bounds = [indicator.thresholds.boundary(level) for level in LEVELS]
        if not all(math.isfinite(b) for b in bounds):
            yield f"{where}.thresholds: boundaries must be finite numbers"
        else:
            rising = all(a < b for a, b in pairwise(bounds))
            falling = all(a > b for a, b in pairwise(bounds))
            if indicator.higher_is_worse and not rising:
                yield f"{where}.thresholds: higher is worse, so blue < yellow < orange < red is needed, got {bounds}"
            if not indicator.higher_is_worse and not falling:
                yield f"{where}.thresholds: lower is worse, so blue > yellow > orange > red is needed, got {bounds}"
        if not 0 <= indicator.decimals <= 4:
            yield f"{where}.decimals: expected 0 to 4"


def _check_source(where: str, source: Source, catalog: Catalog | None) -> Iterable[str]:
    where = f"{where}.source"
    if source.kind == "incidents":
        if source.sensor is not None or source.statistic is not None:
            yield f"{where}: an incident aggregate takes no 'sensor' or 'statistic'"
        if source.aggregate not in AGGREGATES:
            yield f"{where}.aggregate: {source.aggregate!r} is not one of {', '.join(sorted(AGGREGATES))}"
        if source.aggregate == "scenario_open":
            if source.scenario is None:
                yield f"{where}.scenario: scenario_open needs the scenario it counts"
            elif catalog is not None and source.scenario not in catalog.scenarios:
                yield f"{where}.scenario: unknown scenario {source.scenario!r}"
        elif source.scenario is not None:
            yield f"{where}.scenario: only scenario_open takes a scenario"
        return
    if source.aggregate is not None or source.scenario is not None:
        yield f"{where}: a sensor indicator takes no 'aggregate' or 'scenario'"
    if source.statistic not in STATISTICS:
        yield f"{where}.statistic: {source.statistic!r} is not one of {', '.join(sorted(STATISTICS))}"
    if source.sensor is None and source.statistic not in ("offline_share", "alarm_count"):
        yield f"{where}.sensor: {source.statistic} needs the sensor type whose readings it takes"
