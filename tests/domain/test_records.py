"""The flat record of an incident: layout and a lossless round trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

from app.domain.catalog import Catalog, load_catalog
from app.domain.intake import Report, merge_report, open_incident
from app.domain.model import (
    Action,
    Incident,
    Location,
    Severity,
    SourceChannel,
    Stage,
    StageDeadline,
    Status,
)
from app.domain.records import FIELDS, IDX, from_record, to_record
from app.domain.workflow import apply

CATALOG_PATH = Path(__file__).parents[2] / "resources" / "catalog.yaml"

T0 = 1_700_000_000.0
MIN = 60.0
CAOYANG = "310107005"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8")))


def report(**overrides: Any) -> Report:
    fields: dict[str, Any] = {
        "report_id": "citizen-0001",
        "source": SourceChannel.CITIZEN,
        "category": "order.street_vending",
        "title": "占道设摊 Street vending at the metro exit",
        "description": "三个摊位, three stalls",
        "lon": 121.4085,
        "lat": 31.2435,
        "street": CAOYANG,
        "address": "梅岭北路 Meiling North Road 100",
        "observed_at": T0,
        "reporter": "citizen:0001",
    }
    fields.update(overrides)
    return Report(**fields)


def step(incident: Incident, action: Action, at: float, catalog: Catalog, **kw: Any) -> Incident:
    standard = catalog.standard_for(incident.category)
    return apply(incident, action, actor="officer.li", at=at, standard=standard, **kw)


@pytest.fixture
def rich(catalog: Catalog) -> Incident:
    """An incident with everything filled in: merged reports, a timeline, several deadlines,
    a rework, supervision and a suspension."""
    incident = open_incident(report(), 1001, catalog, T0 + 5)
    incident = merge_report(
        incident,
        report(
            report_id="patrol-9",
            source=SourceChannel.PATROL,
            severity=Severity.RED,
            observed_at=T0 + 2 * MIN,
            title="巡查发现",
        ),
        catalog,
        T0 + 3 * MIN,
    )
    incident = step(incident, Action.REGISTER, T0 + 4 * MIN, catalog, note="立案")
    incident = step(incident, Action.DISPATCH, T0 + 6 * MIN, catalog, unit=f"{CAOYANG}.enforcement")
    incident = step(incident, Action.ACCEPT, T0 + 8 * MIN, catalog)
    incident = step(incident, Action.FEEDBACK, T0 + 60 * MIN, catalog, note="cleared")
    incident = step(incident, Action.REWORK, T0 + 70 * MIN, catalog, note="back again")
    incident = step(incident, Action.SUPERVISE, T0 + 80 * MIN, catalog)
    incident = step(incident, Action.SUSPEND, T0 + 90 * MIN, catalog, note="等待业主")
    assert incident.status == Status.SUSPENDED
    assert incident.suspended_from == Status.HANDLING
    assert incident.suspended_at == T0 + 90 * MIN
    assert incident.rework_count == 1
    assert incident.supervised
    assert len(incident.merged) == 2
    assert len(incident.deadlines) >= 5
    return incident


def test_round_trip_of_a_rich_incident(rich: Incident) -> None:
    assert from_record(to_record(rich, seq=77)) == rich


def test_round_trip_of_a_new_incident(catalog: Catalog) -> None:
    incident = open_incident(report(), 1, catalog, T0)
    assert from_record(to_record(incident, seq=1)) == incident


def test_round_trip_of_a_merged_incident(catalog: Catalog) -> None:
    incident = step(open_incident(report(), 2, catalog, T0), Action.MERGE, T0 + MIN, catalog, target_id=1)
    assert incident.merged_into == 1
    record = to_record(incident, seq=3)
    assert record[IDX["deadline"]] is None
    assert from_record(record) == incident


def test_round_trip_of_a_minimal_incident() -> None:
    incident = Incident(
        id=5,
        category="facilities.street_lamp",
        title="lamp",
        location=Location(lon=121.4, lat=31.25, street=CAOYANG),
        severity=Severity.BLUE,
        source=SourceChannel.CONSOLE,
        reported_at=T0,
        updated_at=T0,
    )
    record = to_record(incident, seq=0)
    assert from_record(record) == incident
    assert json.loads(str(record[IDX["detail"]])) == {}


def test_round_trip_through_json(rich: Incident) -> None:
    """As on the wire: the record becomes a JSON array and comes back as a list."""
    wire = msgspec.json.encode(to_record(rich, seq=9))
    back = msgspec.json.decode(wire)
    assert isinstance(back, list)
    assert from_record(back) == rich


def test_record_layout(rich: Incident) -> None:
    record = to_record(rich, seq=77)
    assert len(record) == len(FIELDS) == 19
    assert list(IDX) == list(FIELDS)
    assert [IDX[name] for name in FIELDS] == list(range(len(FIELDS)))
    values = dict(zip(FIELDS, record, strict=True))
    assert values["id"] == 1001
    assert values["version"] == rich.version
    assert values["category"] == "order.street_vending"
    assert values["title"] == rich.title
    assert values["street"] == CAOYANG
    assert values["grid"] == rich.location.grid
    assert (values["lon"], values["lat"]) == (rich.location.lon, rich.location.lat)
    assert values["severity"] == int(Severity.RED) == 1
    assert values["source"] == "citizen"
    assert values["status"] == "suspended"
    assert values["unit"] == f"{CAOYANG}.enforcement"
    assert values["reported_at"] == T0
    assert values["updated_at"] == T0 + 90 * MIN
    assert values["deadline"] == rich.current_deadline
    assert values["deadline"] is not None
    assert values["merged_count"] == 2
    assert values["supervised"] == 1
    assert values["seq"] == 77
    assert isinstance(values["detail"], str)


def test_deadline_slot_is_the_current_deadline(catalog: Catalog) -> None:
    incident = open_incident(report(), 1, catalog, T0)
    incident = step(incident, Action.REGISTER, T0 + MIN, catalog)
    standard = catalog.standard_for(incident.category)
    record = to_record(incident, seq=2)
    assert record[IDX["deadline"]] == T0 + MIN + standard.dispatch * MIN
    assert record[IDX["deadline"]] == incident.current_deadline


def test_detail_is_json_text_with_the_rest(rich: Incident) -> None:
    detail = to_record(rich, seq=1)[IDX["detail"]]
    assert isinstance(detail, str)
    parsed = json.loads(detail)
    assert parsed["description"] == "三个摊位, three stalls"
    assert parsed["address"] == "梅岭北路 Meiling North Road 100"
    assert parsed["rework_count"] == 1
    assert parsed["suspended_from"] == "handling"
    assert len(parsed["timeline"]) == len(rich.timeline)
    assert len(parsed["merged"]) == 2
    assert len(parsed["deadlines"]) == len(rich.deadlines)
    assert "三个摊位" in detail, "non-ASCII text is kept as it is"


def test_from_record_accepts_a_list_with_done_deadlines() -> None:
    incident = Incident(
        id=6,
        category="facilities.street_lamp",
        title="lamp",
        location=Location(lon=121.4, lat=31.25, street=CAOYANG, grid="310107005010014"),
        severity=Severity.YELLOW,
        source=SourceChannel.PATROL,
        status=Status.CLOSED,
        unit="construction",
        reported_at=T0,
        updated_at=T0 + MIN,
        deadlines=(StageDeadline(stage=Stage.VERIFY, due_at=T0 + 10 * MIN, done_at=T0 + MIN),),
    )
    record = list(to_record(incident, seq=4))
    assert record[IDX["deadline"]] is None
    assert from_record(record) == incident
