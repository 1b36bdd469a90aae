"""Intake: opening an incident for a report, finding the incident a report merges into, and
merging it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.domain import grid, intake
from app.domain.catalog import Catalog, load_catalog
from app.domain.geo import EARTH_RADIUS_M, degree_box, distance_m
from app.domain.intake import Candidate, Report, merge_report, merge_target, open_incident
from app.domain.model import (
    Action,
    MergedReport,
    Severity,
    SourceChannel,
    Stage,
    StageDeadline,
    Status,
)
from app.domain.workflow import IllegalTransition, apply

CATALOG_PATH = Path(__file__).parents[2] / "resources" / "catalog.yaml"

T0 = 1_700_000_000.0
MIN = 60.0

CAOYANG = "310107005"
CAOYANG_CENTER = (121.408, 31.243)
#: A point in Caoyang away from the fallback grid's cell borders: row 13, column 19.
POINT = (121.4085, 31.2435)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8")))


def report(**overrides: Any) -> Report:
    fields: dict[str, Any] = {
        "report_id": "alarm-1",
        "source": SourceChannel.SENSOR,
        "category": "fire.smoke_alarm",
        "title": "Smoke alarm, Lane 88 Meiling Road",
        "description": "detector 3F kitchen",
        "lon": POINT[0],
        "lat": POINT[1],
        "street": CAOYANG,
        "address": "Lane 88 Meiling Road",
        "observed_at": T0,
    }
    fields.update(overrides)
    return Report(**fields)


def moved(lon: float, lat: float, north_m: float = 0.0, east_m: float = 0.0) -> tuple[float, float]:
    """The point ``north_m`` metres north and ``east_m`` metres east of (lon, lat)."""
    dlat = math.degrees(north_m / EARTH_RADIUS_M)
    dlon = math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
    return lon + dlon, lat + dlat


def candidate(id_: int, north_m: float = 0.0, east_m: float = 0.0, *, minutes: float = 0.0) -> Candidate:
    lon, lat = moved(*POINT, north_m=north_m, east_m=east_m)
    return Candidate(id=id_, lon=lon, lat=lat, reported_at=T0 + minutes * MIN)


# ---- geo and grid helpers ----------------------------------------------------------------


def test_moved_helper_agrees_with_distance_m() -> None:
    assert distance_m(*POINT, *moved(*POINT, north_m=50)) == pytest.approx(50, abs=1e-6)
    assert distance_m(*POINT, *moved(*POINT, east_m=120)) == pytest.approx(120, rel=1e-6)
    assert distance_m(*POINT, *POINT) == 0.0


def test_degree_box_contains_the_circle() -> None:
    min_lon, min_lat, max_lon, max_lat = degree_box(*POINT, 100)
    for north, east in ((100, 0), (-100, 0), (0, 100), (0, -100)):
        lon, lat = moved(*POINT, north_m=north, east_m=east)
        assert min_lon - 1e-12 <= lon <= max_lon + 1e-12
        assert min_lat - 1e-12 <= lat <= max_lat + 1e-12


def test_grid_cell_code() -> None:
    """The fallback code: street, then the synthetic lattice's row and column from 001."""
    code = grid.cell_code(CAOYANG, *POINT)
    assert code == CAOYANG + "014" + "020"
    assert len(code) == 15 and code.isdigit()


def test_grid_cell_code_clamps_outside_the_district() -> None:
    assert grid.cell_code(CAOYANG, 100.0, 0.0) == CAOYANG + "999" + "001"  # far south-west
    assert grid.cell_code(CAOYANG, 150.0, 60.0) == CAOYANG + "001" + "999"  # far north-east


# ---- open_incident -----------------------------------------------------------------------


def test_sensor_smoke_alarm_is_routed_and_registered_automatically(catalog: Catalog) -> None:
    assert "sensor" in catalog.category("fire.smoke_alarm").auto_register
    at = T0 + 20
    incident = open_incident(report(), 41, catalog, at)

    assert incident.id == 41
    assert incident.unit == "fire_brigade"
    assert incident.status == Status.REGISTERED
    assert incident.version == 2
    assert incident.severity == Severity.ORANGE  # the category's default
    assert incident.reported_at == T0
    assert incident.updated_at == at
    assert incident.source == SourceChannel.SENSOR
    assert incident.title == "Smoke alarm, Lane 88 Meiling Road"
    assert incident.description == "detector 3F kitchen"

    first, second = incident.timeline
    assert first.action == Action.REPORT
    assert first.actor == "sensor"  # no reporter named: the channel
    assert first.from_status is None
    assert first.to_status == Status.REPORTED
    assert first.note == "detector 3F kitchen"
    assert second.action == Action.REGISTER
    assert second.actor == intake.SYSTEM_ACTOR
    assert (second.from_status, second.to_status) == (Status.REPORTED, Status.REGISTERED)

    # the register clock ran from the observation, the dispatch clock runs from registration
    assert incident.deadlines == (
        StageDeadline(stage=Stage.REGISTER, due_at=T0 + 5 * MIN, done_at=at),
        StageDeadline(stage=Stage.DISPATCH, due_at=at + 10 * MIN),
    )
    assert incident.merged == (
        MergedReport(
            report_id="alarm-1",
            source=SourceChannel.SENSOR,
            at=T0,
            lon=POINT[0],
            lat=POINT[1],
            summary="Smoke alarm, Lane 88 Meiling Road",
            incident_id=41,
        ),
    )


def test_citizen_report_waits_for_an_operator(catalog: Catalog) -> None:
    incident = open_incident(report(source=SourceChannel.CITIZEN, reporter="citizen:138****0000"), 42, catalog, T0 + 20)
    assert incident.status == Status.REPORTED
    assert incident.version == 1
    assert len(incident.timeline) == 1
    assert incident.timeline[0].actor == "citizen:138****0000"
    assert incident.unit == "fire_brigade"
    assert incident.deadlines == (StageDeadline(stage=Stage.REGISTER, due_at=T0 + 5 * MIN),)
    assert incident.current_deadline == T0 + 5 * MIN


def test_location_and_grid(catalog: Catalog) -> None:
    incident = open_incident(report(), 1, catalog, T0)
    loc = incident.location
    assert (loc.lon, loc.lat) == POINT
    assert loc.street == CAOYANG
    assert loc.address == "Lane 88 Meiling Road"
    assert len(loc.grid) == 15
    assert loc.grid.isdigit()
    assert loc.grid.startswith(CAOYANG)
    assert loc.grid == grid.cell_code(CAOYANG, *POINT)


def test_report_severity_overrides_the_default(catalog: Catalog) -> None:
    incident = open_incident(report(severity=Severity.RED), 1, catalog, T0)
    assert incident.severity == Severity.RED


@pytest.mark.parametrize(
    ("category", "street", "unit"),
    [
        ("order.street_vending", CAOYANG, f"{CAOYANG}.enforcement"),
        ("order.street_vending", "310107103", "310107103.enforcement"),
        ("creek.floating_waste", "310107014", "water_affairs"),
        ("housing.group_renting", "310107103", "310107103.housing"),
    ],
)
def test_routing_follows_the_responsibility_list(catalog: Catalog, category: str, street: str, unit: str) -> None:
    lon, lat = catalog.streets[street].center
    incident = open_incident(
        report(category=category, street=street, lon=lon, lat=lat, source=SourceChannel.CITIZEN),
        1,
        catalog,
        T0,
    )
    assert incident.unit == unit
    assert incident.location.street == street


def test_street_from_the_nearest_centre_when_missing(catalog: Catalog) -> None:
    for code, street in catalog.streets.items():
        lon, lat = moved(*street.center, north_m=80, east_m=-60)
        assert intake.nearest_street(catalog, lon, lat) == code
        incident = open_incident(report(category="order.street_vending", street=None, lon=lon, lat=lat), 1, catalog, T0)
        assert incident.location.street == code
        assert incident.location.grid.startswith(code)
        assert incident.unit == f"{code}.enforcement"


def test_a_given_street_is_kept_even_if_another_centre_is_nearer(catalog: Catalog) -> None:
    taopu_center = catalog.streets["310107103"].center
    incident = open_incident(report(street=CAOYANG, lon=taopu_center[0], lat=taopu_center[1]), 1, catalog, T0)
    assert incident.location.street == CAOYANG


def test_unknown_category_is_refused(catalog: Catalog) -> None:
    with pytest.raises(KeyError, match=r"no\.such"):
        open_incident(report(category="no.such"), 1, catalog, T0)


# ---- merge_target ------------------------------------------------------------------------


def test_smoke_alarm_merge_rule(catalog: Catalog) -> None:
    rule = catalog.category("fire.smoke_alarm").merge
    assert (rule.radius_m, rule.window_min) == (50, 30)


def test_nearest_candidate_wins(catalog: Catalog) -> None:
    smoke = catalog.category("fire.smoke_alarm")
    candidates = [candidate(1, north_m=40), candidate(2, east_m=10), candidate(3, north_m=-25)]
    assert merge_target(report(), smoke, candidates) == 2
    assert merge_target(report(), smoke, reversed(candidates)) == 2
    assert merge_target(report(), smoke, iter(candidates)) == 2


def test_no_candidates(catalog: Catalog) -> None:
    assert merge_target(report(), catalog.category("fire.smoke_alarm"), []) is None


def test_outside_the_radius(catalog: Catalog) -> None:
    smoke = catalog.category("fire.smoke_alarm")
    assert merge_target(report(), smoke, [candidate(1, north_m=60), candidate(2, east_m=-80)]) is None


def test_outside_the_window(catalog: Catalog) -> None:
    smoke = catalog.category("fire.smoke_alarm")
    assert merge_target(report(), smoke, [candidate(1, minutes=-31), candidate(2, minutes=45)]) is None


def test_a_nearer_candidate_outside_the_window_loses_to_a_farther_one_inside(
    catalog: Catalog,
) -> None:
    smoke = catalog.category("fire.smoke_alarm")
    candidates = [candidate(1, east_m=1, minutes=-40), candidate(2, north_m=30, minutes=-10)]
    assert merge_target(report(), smoke, candidates) == 2


@pytest.mark.parametrize(
    ("north_m", "minutes", "merges"),
    [
        pytest.param(0, -30, True, id="window-exactly-30-min-before"),
        pytest.param(0, 30, True, id="window-exactly-30-min-after"),
        pytest.param(0, -30 - 1 / 60, False, id="window-one-second-over"),
        pytest.param(0, 30 + 1 / 60, False, id="window-one-second-over-after"),
        pytest.param(49.99, 0, True, id="radius-just-inside"),
        pytest.param(50.01, 0, False, id="radius-just-outside"),
        pytest.param(49.99, -30, True, id="both-at-the-edge"),
        pytest.param(0, 0, True, id="same-place-same-time"),
    ],
)
def test_boundaries(catalog: Catalog, north_m: float, minutes: float, merges: bool) -> None:
    smoke = catalog.category("fire.smoke_alarm")
    found = merge_target(report(), smoke, [candidate(5, north_m=north_m, minutes=minutes)])
    assert found == (5 if merges else None)


def test_merge_rule_is_per_category(catalog: Catalog) -> None:
    """At 80 m a smoke alarm is a different incident; floating waste (200 m) is the same."""
    waste = catalog.category("creek.floating_waste")
    assert waste.merge.radius_m == 200
    far = [candidate(9, north_m=80)]
    assert merge_target(report(category=waste.code), waste, far) == 9
    assert merge_target(report(), catalog.category("fire.smoke_alarm"), far) is None


# ---- merge_report ------------------------------------------------------------------------


def second(**overrides: Any) -> Report:
    fields: dict[str, Any] = {
        "report_id": "hotline-77",
        "source": SourceChannel.HOTLINE_12345,
        "title": "Neighbour smells smoke",
        "observed_at": T0 + 3 * MIN,
        "reporter": "12345:order-77",
    }
    fields.update(overrides)
    return report(**fields)


def test_merge_report_adds_the_report(catalog: Catalog) -> None:
    incident = open_incident(report(), 3, catalog, T0)
    at = T0 + 4 * MIN
    merged = merge_report(incident, second(), catalog, at)
    assert len(merged.merged) == len(incident.merged) + 1 == 2
    assert merged.merged[:1] == incident.merged
    last = merged.merged[-1]
    assert last.report_id == "hotline-77"
    assert last.source == SourceChannel.HOTLINE_12345
    assert last.incident_id == 3
    assert last.at == T0 + 3 * MIN
    assert merged.version == incident.version + 1
    assert merged.status == incident.status
    assert merged.updated_at == at
    assert merged.deadlines == incident.deadlines
    entry = merged.timeline[-1]
    assert entry.action == Action.ADD_REPORT
    assert entry.actor == "12345:order-77"
    assert entry.note == "Neighbour smells smoke"


def test_merge_reports_accumulate(catalog: Catalog) -> None:
    incident = open_incident(report(), 3, catalog, T0)
    for n in range(1, 4):
        incident = merge_report(incident, second(report_id=f"r{n}"), catalog, T0 + n * MIN)
    assert [r.report_id for r in incident.merged] == ["alarm-1", "r1", "r2", "r3"]
    assert incident.version == 2 + 3


@pytest.mark.parametrize(
    ("reported", "expected"),
    [
        (Severity.RED, Severity.RED),
        (Severity.ORANGE, Severity.ORANGE),
        (Severity.YELLOW, Severity.ORANGE),
        (Severity.BLUE, Severity.ORANGE),
        (None, Severity.ORANGE),
    ],
    ids=lambda v: getattr(v, "name", str(v)),
)
def test_severity_only_rises(catalog: Catalog, reported: Severity | None, expected: Severity) -> None:
    incident = open_incident(report(), 3, catalog, T0)
    assert incident.severity == Severity.ORANGE
    merged = merge_report(incident, second(severity=reported), catalog, T0 + MIN)
    assert merged.severity == expected


def test_merge_into_a_finished_incident_is_refused(catalog: Catalog) -> None:
    incident = open_incident(report(), 3, catalog, T0)
    standard = catalog.standard_for("fire.smoke_alarm")
    invalid = apply(incident, Action.INVALIDATE, actor="officer", at=T0 + MIN, standard=standard)
    with pytest.raises(IllegalTransition):
        merge_report(invalid, second(), catalog, T0 + 2 * MIN)
