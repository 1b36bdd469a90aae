"""The catalog of city-operation matters (事项目录), the handling standards (处置标准) and the
responsibility list (责任清单).

The catalog is data: ``resources/catalog.yaml`` carries it in Chinese and English. This module
turns the parsed file into typed objects and checks it, so that a mistake in the file is found
when it is loaded, with a message that says where it is, and never in the middle of a shift.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from app.domain.model import Severity, SourceChannel, Stage

UNIT_KINDS = frozenset({"district", "department", "professional", "street"})


class CatalogError(ValueError):
    """The catalog data is not valid. The message lists every problem with its location."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid catalog:\n  " + "\n  ".join(self.problems))


class Text(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A name in both languages of the console."""

    zh: str
    en: str

    def get(self, language: str) -> str:
        """The text in ``language`` (``"zh"`` or ``"en"``), Chinese for anything else."""
        return self.en if language.startswith("en") else self.zh


class Street(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One of the district's sub-districts and towns (街镇), by its statistical code."""

    code: str
    name: Text
    center: tuple[float, float]
    """An approximate centre (WGS84 lon, lat), used to place and route reports without a street."""


class Unit(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A unit that handles incidents: a district department, a professional center or a
    street's own team."""

    code: str
    name: Text
    kind: str = "department"
    """``district``, ``department``, ``professional`` or ``street``."""
    field: str | None = None
    """The professional field (``fire``, ``water``, ...) whose center sees this unit's work."""
    street: str | None = None
    """For a street's own unit: the street it belongs to."""


class StreetUnitTemplate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A unit that every street has (its operations center, its enforcement squad, ...)."""

    suffix: str
    name: Text
    """Names with ``{street}`` where the street's name goes."""
    field: str | None = None


class HandlingStandard(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Time limits in minutes for each timed stage."""

    code: str
    name: Text
    register: int
    dispatch: int
    handle: int
    verify: int

    def minutes(self, stage: Stage) -> int:
        """The time limit of ``stage`` in minutes."""
        limits: dict[Stage, int] = {
            Stage.REGISTER: self.register,
            Stage.DISPATCH: self.dispatch,
            Stage.HANDLE: self.handle,
            Stage.VERIFY: self.verify,
        }
        return limits[stage]


class Responsibility(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Which unit handles a category: one unit city-wide, the street's own unit of a kind,
    or a unit named per street with a default."""

    unit: str | None = None
    street_unit: str | None = None
    by_street: dict[str, str] = {}


class MergeRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Reports of one category within this distance and time window are one incident."""

    radius_m: float = 100.0
    window_min: float = 60.0


class Scenario(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One of the ten "一件事" scenarios of the plan's annex."""

    code: str
    number: int
    name: Text


class Category(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An incident category of the catalog."""

    code: str
    name: Text
    group: str
    """The common urban-management class (``appearance``, ``facilities``, ``safety``, ...)."""
    severity: str
    standard: str
    responsible: Responsibility
    field: str | None = None
    scenario: str | None = None
    merge: MergeRule = MergeRule()
    auto_register: list[str] = []
    """Source channels whose reports are registered without an operator's check."""

    @property
    def default_severity(self) -> Severity:
        """The severity a new incident of this category starts with."""
        return Severity.parse(self.severity)

    def registers_automatically(self, source: SourceChannel) -> bool:
        """Whether a report from ``source`` is registered on intake."""
        return source.value in self.auto_register


class Group(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A class of urban-management events, to group categories in filters and charts."""

    code: str
    name: Text


class CatalogData(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The catalog file as written."""

    version: int
    district: str
    district_name: Text
    streets: list[Street]
    units: list[Unit]
    street_units: list[StreetUnitTemplate]
    standards: list[HandlingStandard]
    groups: list[Group]
    scenarios: list[Scenario]
    categories: list[Category]


class Catalog:
    """The checked catalog, with look-ups by code and the routing of the responsibility list."""

    def __init__(self, data: CatalogData) -> None:
        self.data = data
        self.district = data.district
        self.streets: dict[str, Street] = {s.code: s for s in data.streets}
        units = {u.code: u for u in data.units}
        for street in data.streets:
            for template in data.street_units:
                code = street_unit_code(street.code, template.suffix)
                units[code] = Unit(
                    code=code,
                    name=Text(
                        zh=template.name.zh.replace("{street}", street.name.zh),
                        en=template.name.en.replace("{street}", street.name.en),
                    ),
                    kind="street",
                    field=template.field,
                    street=street.code,
                )
        self.units: dict[str, Unit] = units
        self.standards: dict[str, HandlingStandard] = {s.code: s for s in data.standards}
        self.groups: dict[str, Group] = {g.code: g for g in data.groups}
        self.scenarios: dict[str, Scenario] = {s.code: s for s in data.scenarios}
        self.categories: dict[str, Category] = {c.code: c for c in data.categories}

    def category(self, code: str) -> Category:
        """The category with ``code``; KeyError with a clear message when there is none."""
        try:
            return self.categories[code]
        except KeyError:
            raise KeyError(f"unknown category {code!r}") from None

    def standard_for(self, category: str) -> HandlingStandard:
        """The handling standard of ``category``."""
        return self.standards[self.category(category).standard]

    def route(self, category: str, street: str) -> str:
        """The responsible unit for ``category`` in ``street`` (责任清单)."""
        rule = self.category(category).responsible
        if street not in self.streets:
            raise KeyError(f"unknown street {street!r}")
        if street in rule.by_street:
            return rule.by_street[street]
        if rule.street_unit is not None:
            return street_unit_code(street, rule.street_unit)
        assert rule.unit is not None  # guaranteed by validation
        return rule.unit

    def units_of_field(self, field: str) -> frozenset[str]:
        """Codes of the units that belong to a professional field."""
        return frozenset(u.code for u in self.units.values() if u.field == field)

    def categories_of_field(self, field: str) -> frozenset[str]:
        """Codes of the categories of a professional field."""
        return frozenset(c.code for c in self.categories.values() if c.field == field)


def street_unit_code(street: str, suffix: str) -> str:
    """The code of a street's own unit, e.g. ``310107005.ops``."""
    return f"{street}.{suffix}"


def load_catalog(raw: Mapping[str, Any]) -> Catalog:
    """Check parsed catalog data and build the catalog.

    Raises :class:`CatalogError` naming every problem and where it is.
    """
    try:
        data = msgspec.convert(raw, CatalogData)
    except msgspec.ValidationError as exc:
        raise CatalogError([str(exc)]) from None
    problems = list(_check(data))
    if problems:
        raise CatalogError(problems)
    return Catalog(data)


def _duplicates(kind: str, codes: Iterable[str]) -> Iterable[str]:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            yield f"{kind} {code!r} is defined twice"
        seen.add(code)


def _check(data: CatalogData) -> Iterable[str]:
    if data.version != 1:
        yield f"version {data.version} is not supported (expected 1)"
    yield from _duplicates("street", (s.code for s in data.streets))
    yield from _duplicates("unit", (u.code for u in data.units))
    yield from _duplicates("standard", (s.code for s in data.standards))
    yield from _duplicates("category", (c.code for c in data.categories))
    yield from _duplicates("scenario", (s.code for s in data.scenarios))
    yield from _duplicates("street unit", (t.suffix for t in data.street_units))
    yield from _duplicates("group", (g.code for g in data.groups))
    for unit in data.units:
        if unit.kind not in UNIT_KINDS:
            yield f"$.units[{unit.code}].kind: {unit.kind!r} is not one of {', '.join(sorted(UNIT_KINDS))}"
        if "." in unit.code:
            yield f"$.units[{unit.code}]: codes with a dot are reserved for streets' own units"
    streets = {s.code for s in data.streets}
    for street in data.streets:
        if not (street.code.isdigit() and len(street.code) == 9 and street.code.startswith(data.district)):
            yield f"$.streets[{street.code}]: code must be 9 digits starting with the district {data.district}"
    for standard in data.standards:
        for stage in Stage:
            if standard.minutes(stage) <= 0:
                yield f"$.standards[{standard.code}].{stage.value}: time limit must be positive"
    units = {u.code for u in data.units}
    units |= {street_unit_code(s, t.suffix) for s in streets for t in data.street_units}
    suffixes = {t.suffix for t in data.street_units}
    fields = {u.field for u in data.units if u.field} | {t.field for t in data.street_units if t.field}
    standards = {s.code for s in data.standards}
    groups = {g.code for g in data.groups}
    scenarios = {s.code for s in data.scenarios}
    sources = {s.value for s in SourceChannel}
    for cat in data.categories:
        where = f"$.categories[{cat.code}]"
        try:
            Severity.parse(cat.severity)
        except ValueError as exc:
            yield f"{where}.severity: {exc}"
        if cat.standard not in standards:
            yield f"{where}.standard: unknown handling standard {cat.standard!r}"
        if cat.group not in groups:
            yield f"{where}.group: unknown group {cat.group!r}"
        if cat.scenario is not None and cat.scenario not in scenarios:
            yield f"{where}.scenario: unknown scenario {cat.scenario!r}"
        for source in cat.auto_register:
            if source not in sources:
                yield f"{where}.auto_register: unknown source channel {source!r}"
        if not (cat.merge.radius_m >= 0 and cat.merge.window_min >= 0):
            yield f"{where}.merge: radius and window must not be negative"
        rule = cat.responsible
        if (rule.unit is None) == (rule.street_unit is None):
            yield f"{where}.responsible: give exactly one of 'unit' or 'street_unit'"
        if rule.unit is not None and rule.unit not in units:
            yield f"{where}.responsible.unit: unknown unit {rule.unit!r}"
        if rule.street_unit is not None and rule.street_unit not in suffixes:
            yield f"{where}.responsible.street_unit: unknown street unit {rule.street_unit!r}"
        for street_code, unit_code in rule.by_street.items():
            if street_code not in streets:
                yield f"{where}.responsible.by_street: unknown street {street_code!r}"
            if unit_code not in units:
                yield f"{where}.responsible.by_street[{street_code}]: unknown unit {unit_code!r}"
        if cat.field is not None and cat.field not in fields:
            yield f"{where}.field: no unit belongs to field {cat.field!r}"
    if len(data.scenarios) != 10 or {s.number for s in data.scenarios} != set(range(1, 11)):
        yield "$.scenarios: the ten scenarios of the annex must be numbered 1 to 10"
    covered = {c.scenario for c in data.categories if c.scenario is not None}
    for scenario in data.scenarios:
        if scenario.code not in covered:
            yield f"$.scenarios[{scenario.code}]: no category belongs to this scenario"
