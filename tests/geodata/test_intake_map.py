"""Intake with the district map: a report's street and unit grid cell come from the layers."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain import grid, intake
from app.domain.catalog import Catalog
from app.domain.district import Area, DistrictMap
from app.domain.intake import Report, open_incident
from app.domain.model import SourceChannel
from app.storage.catalog_file import read_catalog

T0 = 1_700_000_000.0


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return read_catalog()


def report(lon: float, lat: float, **overrides: Any) -> Report:
    fields: dict[str, Any] = {
        "report_id": "citizen-1",
        "source": SourceChannel.CITIZEN,
        "category": "order.street_vending",
        "title": "Street vending",
        "lon": lon,
        "lat": lat,
        "observed_at": T0,
    }
    fields.update(overrides)
    return Report(**fields)


def inner_cell(district_map: DistrictMap, street: str) -> tuple[Area, float, float]:
    """A cell of ``street`` whose representative point lies in that street."""
    for cell in district_map.cells:
        p = cell.geometry.representative_point()
        if cell.properties["street"] == street and district_map.street_at(p.x, p.y) == street:
            return cell, p.x, p.y
    raise AssertionError(f"no cell inside {street}")


@pytest.mark.parametrize("street", ["310107005", "310107103", "310107015"])
def test_street_and_cell_come_from_the_map(district_map: DistrictMap, catalog: Catalog, street: str) -> None:
    cell, lon, lat = inner_cell(district_map, street)
    incident = open_incident(report(lon, lat), 1, catalog, T0, district=district_map)
    assert incident.location.street == street
    assert incident.location.grid == cell.code
    assert incident.location.grid.startswith(street)
    assert incident.unit == f"{street}.enforcement"


def test_the_map_beats_the_nearest_office(district_map: DistrictMap, catalog: Catalog) -> None:
    """Where the nearest office and the street layer disagree, the layer wins."""
    for cell in district_map.cells[::53]:
        p = cell.geometry.representative_point()
        in_layer = district_map.street_at(p.x, p.y)
        if in_layer and in_layer != intake.nearest_street(catalog, p.x, p.y):
            incident = open_incident(report(p.x, p.y), 1, catalog, T0, district=district_map)
            assert incident.location.street == in_layer
            return
    # Approximate streets are the offices' Voronoi regions, so the two agree everywhere.
    assert not district_map.streets_official


def test_a_named_street_is_kept(district_map: DistrictMap, catalog: Catalog) -> None:
    cell, lon, lat = inner_cell(district_map, "310107005")
    incident = open_incident(report(lon, lat, street="310107014"), 1, catalog, T0, district=district_map)
    assert incident.location.street == "310107014"
    assert incident.location.grid == cell.code


def test_outside_the_grid_the_fallback_code_is_used(district_map: DistrictMap, catalog: Catalog) -> None:
    lon, lat = 121.50, 31.23  # the Bund, outside Putuo
    assert district_map.cell_at(lon, lat) is None
    incident = open_incident(report(lon, lat), 1, catalog, T0, district=district_map)
    street = intake.nearest_street(catalog, lon, lat)
    assert incident.location.street == street
    assert incident.location.grid == grid.cell_code(street, lon, lat)
    assert len(incident.location.grid) == 15
