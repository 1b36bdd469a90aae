"""What happens to a report when it comes in: merge into an open incident nearby, or open a new
one, routed by the responsibility list and registered when the catalog says so."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import msgspec

from app.domain import grid, workflow
from app.domain.catalog import Catalog, Category
from app.domain.geo import distance_m
from app.domain.model import (
    Action,
    Incident,
    Location,
    MergedReport,
    Severity,
    SourceChannel,
    Status,
    TimelineEntry,
)

if TYPE_CHECKING:
    # Only for the annotation: importing the district map pulls in shapely and pyproj, which
    # the intake itself does not need.
    from app.domain.district import DistrictMap

#: The actor recorded for what the server does by itself.
SYSTEM_ACTOR = "system"


class Report(msgspec.Struct, frozen=True, kw_only=True):
    """One report from one channel (上报), before it is merged or becomes an incident."""

    report_id: str
    """The source's own id (sensor alarm id, 12345 order number); repeated posts are one report."""
    source: SourceChannel
    category: str
    title: str
    description: str = ""
    lon: float
    lat: float
    street: str | None = None
    address: str = ""
    observed_at: float
    severity: Severity | None = None
    reporter: str = ""


class Candidate(msgspec.Struct, frozen=True):
    """An open incident that a report might merge into."""

    id: int
    lon: float
    lat: float
    reported_at: float


def nearest_street(catalog: Catalog, lon: float, lat: float) -> str:
    """The street whose centre is nearest to the point, for reports that name no street."""
    return min(
        catalog.streets.values(),
        key=lambda s: distance_m(lon, lat, s.center[0], s.center[1]),
    ).code


def merge_target(report: Report, category: Category, candidates: Iterable[Candidate]) -> int | None:
    """The open incident this report belongs to: same category (the caller's query), within the
    category's merge radius and time window; the nearest one wins."""
    rule = category.merge
    best: tuple[float, int] | None = None
    for c in candidates:
        if abs(report.observed_at - c.reported_at) > rule.window_min * 60.0:
            continue
        d = distance_m(report.lon, report.lat, c.lon, c.lat)
        if d <= rule.radius_m and (best is None or d < best[0]):
            best = (d, c.id)
    return None if best is None else best[1]


def as_merged(report: Report, incident_id: int | None = None) -> MergedReport:
    """The record a report leaves in the incident it merges into."""
    return MergedReport(
        report_id=report.report_id,
        source=report.source,
        at=report.observed_at,
        lon=report.lon,
        lat=report.lat,
        summary=report.title,
        incident_id=incident_id,
    )


def open_incident(
    report: Report,
    incident_id: int,
    catalog: Catalog,
    at: float,
    *,
    district: DistrictMap | None = None,
) -> Incident:
    """A new incident for ``report``: routed, and registered when the category registers
    reports from this channel automatically.

    With the ``district`` map, the incident gets the real unit grid cell's code (the nearest
    cell for a point just outside) and, when the report names no street, the cell's street;
    without it (or outside the grid) the nearest street office and the fallback
    :func:`grid.cell_code` stand in."""
    category = catalog.category(report.category)
    standard = catalog.standard_for(report.category)
    if district is None:
        street = report.street or nearest_street(catalog, report.lon, report.lat)
        cell = grid.cell_code(street, report.lon, report.lat)
    else:
        # The unit grid cell first (a fast lattice lookup): its street is the report's street
        # when the report names none, so the code and the street always agree.
        area = district.cell_for(report.lon, report.lat)
        street = (
            report.street
            or (str(area.properties["street"]) if area is not None else None)
            or nearest_street(catalog, report.lon, report.lat)
        )
        cell = area.code if area is not None else grid.cell_code(street, report.lon, report.lat)
    unit = catalog.route(report.category, street)
    entry = TimelineEntry(
        at=at,
        actor=report.reporter or report.source.value,
        action=Action.REPORT,
        note=report.description,
        to_status=Status.REPORTED,
    )
    incident = Incident(
        id=incident_id,
        category=report.category,
        title=report.title,
        description=report.description,
        location=Location(
            lon=report.lon,
            lat=report.lat,
            street=street,
            grid=cell,
            address=report.address,
        ),
        severity=report.severity or category.default_severity,
        source=report.source,
        unit=unit,
        reported_at=report.observed_at,
        updated_at=at,
        deadlines=workflow.start_deadlines(report.observed_at, standard, Status.REPORTED),
        merged=(as_merged(report, incident_id),),
        timeline=(entry,),
    )
    if category.registers_automatically(report.source):
        incident = workflow.apply(
            incident,
            Action.REGISTER,
            actor=SYSTEM_ACTOR,
            at=at,
            standard=standard,
            note="auto-registered per catalog",
        )
    return incident


def merge_report(incident: Incident, report: Report, catalog: Catalog, at: float) -> Incident:
    """``incident`` with ``report`` merged into it; a more severe report raises the severity."""
    merged = workflow.apply(
        incident,
        Action.ADD_REPORT,
        actor=report.reporter or report.source.value,
        at=at,
        standard=catalog.standard_for(incident.category),
        note=report.title,
        report=as_merged(report, incident.id),
    )
    if report.severity is not None and report.severity < merged.severity:
        merged = msgspec.structs.replace(merged, severity=report.severity)
    return merged
