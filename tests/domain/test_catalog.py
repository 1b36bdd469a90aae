"""The shipped catalog (resources/catalog.yaml) and the checks of ``load_catalog``."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.domain.catalog import Catalog, CatalogError, load_catalog
from app.domain.model import Severity, SourceChannel, Stage

CATALOG_PATH = Path(__file__).parents[2] / "resources" / "catalog.yaml"

#: The district's streets and towns with their statistical codes (MISSION.md).
STREETS = {
    "310107005": "曹杨新村街道",
    "310107014": "长风新村街道",
    "310107015": "长寿路街道",
    "310107016": "甘泉路街道",
    "310107017": "石泉路街道",
    "310107020": "宜川路街道",
    "310107021": "万里街道",
    "310107022": "真如镇街道",
    "310107102": "长征镇",
    "310107103": "桃浦镇",
}

#: The ten "一件事" scenarios of the annex, by number.
SCENARIOS = {
    1: "construction_site",
    2: "suzhou_creek",
    3: "group_renting",
    4: "fire_safety",
    5: "commercial_building",
    6: "street_shops",
    7: "underground_space",
    8: "social_assistance",
    9: "hazard_clearing",
    10: "civilized_city",
}

#: Category codes the simulator relies on.
SIMULATOR_CODES = [
    "fire.smoke_alarm",
    "creek.water_level_high",
    "facilities.manhole_cover",
    "construction.dust",
    "construction.noise_night",
    "safety.object_thrown_from_height",
    "creek.floating_waste",
    "creek.bicycle_on_walk",
    "appearance.garbage_overflow",
    "facilities.road_damage",
    "facilities.street_lamp",
    "order.illegal_parking_nonmotor",
    "order.street_vending",
    "housing.illegal_construction",
    "housing.group_renting",
    "fire.fire_lane_blocked",
    "order.noise_complaint",
    "greening.tree_fallen",
]


@pytest.fixture(scope="module")
def shipped_raw() -> dict[str, Any]:
    raw = yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8"))
    assert isinstance(raw, dict)
    return raw


@pytest.fixture
def raw(shipped_raw: dict[str, Any]) -> dict[str, Any]:
    """A private copy of the shipped data that a test may break."""
    return copy.deepcopy(shipped_raw)


@pytest.fixture(scope="module")
def catalog(shipped_raw: dict[str, Any]) -> Catalog:
    return load_catalog(copy.deepcopy(shipped_raw))


def category(raw: dict[str, Any], code: str) -> dict[str, Any]:
    """The raw entry of category ``code``."""
    entries: list[dict[str, Any]] = raw["categories"]
    for entry in entries:
        if entry["code"] == code:
            return entry
    raise AssertionError(f"no category {code!r} in the shipped catalog")


# ---- the shipped catalog ---------------------------------------------------------------------


def test_shipped_catalog_loads(catalog: Catalog) -> None:
    assert catalog.district == "310107"
    assert catalog.data.version == 1
    assert catalog.data.district_name.zh == "普陀区"
    assert 45 <= len(catalog.categories) <= 60


def test_all_ten_streets_with_their_codes(catalog: Catalog) -> None:
    assert {code: s.name.zh for code, s in catalog.streets.items()} == STREETS
    for street in catalog.streets.values():
        assert street.name.en
        lon, lat = street.center
        assert 121.33 <= lon <= 121.48, street.code
        assert 31.20 <= lat <= 31.31, street.code


def test_the_ten_scenarios_each_have_categories(catalog: Catalog) -> None:
    assert {s.number: s.code for s in catalog.scenarios.values()} == SCENARIOS
    for code in SCENARIOS.values():
        members = [c for c in catalog.categories.values() if c.scenario == code]
        assert len(members) >= 2, code


@pytest.mark.parametrize("code", SIMULATOR_CODES)
def test_simulator_categories_exist(catalog: Catalog, code: str) -> None:
    assert catalog.category(code).code == code


def test_unknown_category_lookup_names_the_code(catalog: Catalog) -> None:
    with pytest.raises(KeyError, match=re.escape("no.such")):
        catalog.category("no.such")


def test_category_codes_are_dotted_snake_case(catalog: Catalog) -> None:
    for code in catalog.categories:
        prefix, _, rest = code.partition(".")
        assert prefix and rest, code
        assert all(part.replace("_", "").isalnum() and part.islower() for part in (prefix, rest))


def test_every_category_routes_to_a_known_unit_in_every_street(catalog: Catalog) -> None:
    for code in catalog.categories:
        for street in catalog.streets:
            assert catalog.route(code, street) in catalog.units, (code, street)


def test_category_fields_have_units(catalog: Catalog) -> None:
    """A field names a professional field some unit belongs to, so its center sees the work."""
    for cat in catalog.categories.values():
        if cat.field is not None:
            assert catalog.units_of_field(cat.field), cat.code


def test_citizen_reports_always_wait_for_an_operator(catalog: Catalog) -> None:
    for cat in catalog.categories.values():
        assert not cat.registers_automatically(SourceChannel.CITIZEN), cat.code
    assert catalog.category("fire.smoke_alarm").registers_automatically(SourceChannel.SENSOR)


def test_smoke_alarm_details(catalog: Catalog) -> None:
    smoke = catalog.category("fire.smoke_alarm")
    assert smoke.default_severity in (Severity.RED, Severity.ORANGE)
    assert smoke.field == "fire"
    assert smoke.scenario == "fire_safety"
    assert (smoke.merge.radius_m, smoke.merge.window_min) == (50, 30)
    assert catalog.standard_for("fire.smoke_alarm").minutes(Stage.REGISTER) == 5
    assert "fire.smoke_alarm" in catalog.categories_of_field("fire")
    assert "fire_brigade" in catalog.units_of_field("fire")


def test_standards_get_longer_from_emergency_to_long(catalog: Catalog) -> None:
    order = ["emergency", "urgent", "normal", "long"]
    for stage in Stage:
        minutes = [catalog.standards[code].minutes(stage) for code in order]
        assert minutes == sorted(minutes), stage


@pytest.mark.parametrize(
    ("code", "street", "unit"),
    [
        ("fire.smoke_alarm", "310107005", "fire_brigade"),
        ("creek.floating_waste", "310107014", "water_affairs"),
        ("facilities.manhole_cover", "310107021", "construction"),
        ("safety.object_thrown_from_height", "310107016", "public_security"),
        ("order.street_vending", "310107005", "310107005.enforcement"),
        ("housing.group_renting", "310107103", "310107103.housing"),
        ("fire.ebike_indoor_charging", "310107102", "310107102.safety"),
        ("creek.bicycle_on_walk", "310107015", "310107015.enforcement"),
    ],
)
def test_routing_examples(catalog: Catalog, code: str, street: str, unit: str) -> None:
    assert catalog.route(code, street) == unit
    assert unit in catalog.units


def test_street_units_are_named_after_their_street(catalog: Catalog) -> None:
    squad = catalog.units["310107005.enforcement"]
    assert squad.kind == "street"
    assert squad.street == "310107005"
    assert squad.field == "appearance"
    assert squad.name.zh == "曹杨新村街道城管中队"
    assert squad.name.en == "Caoyang Xincun Subdistrict Enforcement Squad"
    assert squad.name.get("en-GB") == squad.name.en
    assert squad.name.get("zh_CN") == squad.name.zh
    for street in STREETS:
        for suffix in ("ops", "enforcement", "grid", "housing", "safety"):
            unit = catalog.units[f"{street}.{suffix}"]
            assert "{street}" not in unit.name.zh + unit.name.en


def test_by_street_overrides_the_default(raw: dict[str, Any]) -> None:
    category(raw, "order.street_vending")["responsible"]["by_street"] = {"310107103": "city_enforcement"}
    catalog = load_catalog(raw)
    assert catalog.route("order.street_vending", "310107103") == "city_enforcement"
    assert catalog.route("order.street_vending", "310107005") == "310107005.enforcement"


# ---- validation errors -----------------------------------------------------------------------

Breaker = Callable[[dict[str, Any]], None]


def _set_responsible(code: str, rule: dict[str, Any]) -> Breaker:
    def brk(raw: dict[str, Any]) -> None:
        category(raw, code)["responsible"] = rule

    return brk


def _set_field(code: str, key: str, value: Any) -> Breaker:
    def brk(raw: dict[str, Any]) -> None:
        category(raw, code)[key] = value

    return brk


def _duplicate_category(raw: dict[str, Any]) -> None:
    raw["categories"].append(copy.deepcopy(category(raw, "greening.tree_fallen")))


def _negative_minutes(raw: dict[str, Any]) -> None:
    next(s for s in raw["standards"] if s["code"] == "urgent")["handle"] = -5


def _zero_minutes(raw: dict[str, Any]) -> None:
    next(s for s in raw["standards"] if s["code"] == "normal")["verify"] = 0


def _renumber_scenario(raw: dict[str, Any]) -> None:
    next(s for s in raw["scenarios"] if s["number"] == 10)["number"] = 11


def _radius_far(raw: dict[str, Any]) -> None:
    category(raw, "creek.floating_waste")["merge"]["radius_m"] = "far"


def _negative_window(raw: dict[str, Any]) -> None:
    category(raw, "order.noise_complaint")["merge"]["window_min"] = -1


def _short_street_code(raw: dict[str, Any]) -> None:
    raw["streets"][0]["code"] = "31010705"


def _foreign_street_code(raw: dict[str, Any]) -> None:
    raw["streets"][0]["code"] = "310106005"


def _street_code_as_int(raw: dict[str, Any]) -> None:
    raw["streets"][0]["code"] = 310107005


def _duplicate_street(raw: dict[str, Any]) -> None:
    raw["streets"].append(copy.deepcopy(raw["streets"][3]))


def _duplicate_unit(raw: dict[str, Any]) -> None:
    raw["units"].append(copy.deepcopy(raw["units"][1]))


def _unknown_unit_key(raw: dict[str, Any]) -> None:
    raw["units"][0]["phone"] = "12345"


def _orphan_scenario(raw: dict[str, Any]) -> None:
    for entry in raw["categories"]:
        if entry.get("scenario") == "underground_space":
            del entry["scenario"]


def _by_street_unknown_street(raw: dict[str, Any]) -> None:
    category(raw, "order.street_vending")["responsible"]["by_street"] = {"310107999": "city_enforcement"}


def _by_street_unknown_unit(raw: dict[str, Any]) -> None:
    category(raw, "order.street_vending")["responsible"]["by_street"] = {"310107103": "ghost_squad"}


def _version_2(raw: dict[str, Any]) -> None:
    raw["version"] = 2


def _missing_name(raw: dict[str, Any]) -> None:
    del category(raw, "facilities.street_lamp")["name"]["en"]


VALIDATION_CASES: list[tuple[str, Breaker, list[str]]] = [
    (
        "unknown unit",
        _set_responsible("fire.smoke_alarm", {"unit": "no_such_unit"}),
        ["fire.smoke_alarm", "no_such_unit"],
    ),
    (
        "unknown street unit",
        _set_responsible("order.street_vending", {"street_unit": "kitchen"}),
        ["order.street_vending", "kitchen"],
    ),
    (
        "duplicate category code",
        _duplicate_category,
        ["greening.tree_fallen", "defined twice"],
    ),
    (
        "bad severity",
        _set_field("construction.dust", "severity", "purple"),
        ["construction.dust", "purple"],
    ),
    (
        "severity as a number",
        _set_field("construction.dust", "severity", 2),
        ["severity", "str"],
    ),
    (
        "unknown standard",
        _set_field("creek.floating_waste", "standard", "leisurely"),
        ["creek.floating_waste", "leisurely"],
    ),
    ("negative minutes", _negative_minutes, ["standards[urgent].handle"]),
    ("zero minutes", _zero_minutes, ["standards[normal].verify"]),
    (
        "unknown field key",
        _set_field("facilities.road_damage", "owner", "somebody"),
        ["owner", "$.categories["],
    ),
    ("unknown unit key", _unknown_unit_key, ["phone", "$.units[0]"]),
    (
        "both unit and street_unit",
        _set_responsible("housing.group_renting", {"unit": "housing", "street_unit": "housing"}),
        ["housing.group_renting", "exactly one"],
    ),
    (
        "neither unit nor street_unit",
        _set_responsible("housing.group_renting", {}),
        ["housing.group_renting", "exactly one"],
    ),
    ("scenario numbering", _renumber_scenario, ["numbered 1 to 10"]),
    ("scenario without categories", _orphan_scenario, ["underground_space"]),
    (
        "unknown scenario",
        _set_field("fire.smoke_alarm", "scenario", "moon_landing"),
        ["fire.smoke_alarm", "moon_landing"],
    ),
    (
        "unknown group",
        _set_field("fire.smoke_alarm", "group", "miscellany"),
        ["fire.smoke_alarm", "miscellany"],
    ),
    ("wrong type", _radius_far, ["radius_m", "float", "str"]),
    ("negative merge window", _negative_window, ["order.noise_complaint", "merge"]),
    (
        "unknown auto_register channel",
        _set_field("creek.water_level_high", "auto_register", ["sensor", "carrier_pigeon"]),
        ["creek.water_level_high", "carrier_pigeon"],
    ),
    ("street code not 9 digits", _short_street_code, ["31010705", "9 digits"]),
    ("street code of another district", _foreign_street_code, ["310106005"]),
    ("street code not quoted", _street_code_as_int, ["$.streets[0].code", "str"]),
    ("duplicate street", _duplicate_street, ["street", "defined twice"]),
    ("duplicate unit", _duplicate_unit, ["fire_brigade", "defined twice"]),
    ("by_street unknown street", _by_street_unknown_street, ["310107999", "by_street"]),
    ("by_street unknown unit", _by_street_unknown_unit, ["ghost_squad", "310107103"]),
    ("unsupported version", _version_2, ["version 2"]),
    ("missing name", _missing_name, ["en", "$.categories["]),
]


@pytest.mark.parametrize(
    ("breaker", "expected"),
    [pytest.param(brk, exp, id=name) for name, brk, exp in VALIDATION_CASES],
)
def test_validation_errors_name_the_offending_item(raw: dict[str, Any], breaker: Breaker, expected: list[str]) -> None:
    breaker(raw)
    with pytest.raises(CatalogError) as caught:
        load_catalog(raw)
    message = str(caught.value)
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert caught.value.problems


def test_every_problem_is_reported_at_once(raw: dict[str, Any]) -> None:
    category(raw, "construction.dust")["severity"] = "purple"
    category(raw, "fire.smoke_alarm")["responsible"] = {"unit": "no_such_unit"}
    raw["streets"][0]["code"] = "31010705"
    with pytest.raises(CatalogError) as caught:
        load_catalog(raw)
    problems = caught.value.problems
    assert len(problems) >= 3
    assert any("purple" in p for p in problems)
    assert any("no_such_unit" in p for p in problems)
    assert any("31010705" in p for p in problems)


def test_catalog_error_is_a_value_error() -> None:
    assert issubclass(CatalogError, ValueError)
