"""The flat record of an incident, shared by the server's store, the wire and the console's
cache: the columns a board filters and sorts on, plus one JSON text with the rest.

Keeping one layout everywhere lets the server send a snapshot straight from its table and the
console insert it straight into its cache, with no per-field work on the hot path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import msgspec

from app.domain.model import (
    Incident,
    Location,
    MergedReport,
    Severity,
    SourceChannel,
    StageDeadline,
    Status,
    TimelineEntry,
)

#: Column names, in record order.
FIELDS: Final = (
    "id",
    "version",
    "category",
    "title",
    "street",
    "grid",
    "lon",
    "lat",
    "severity",
    "source",
    "status",
    "unit",
    "reported_at",
    "updated_at",
    "deadline",
    "merged_count",
    "supervised",
    "seq",
    "detail",
)
IDX: Final = {name: i for i, name in enumerate(FIELDS)}

#: id, version, category, title, street, grid, lon, lat, severity, source, status, unit,
#: reported_at, updated_at, deadline, merged_count, supervised, seq, detail
Record = tuple[
    int, int, str, str, str, str, float, float, int, str, str, str | None,
    float, float, float | None, int, int, int, str,
]  # fmt: skip


class Detail(msgspec.Struct, frozen=True, omit_defaults=True):
    """The part of an incident that lives in the record's JSON text."""

    description: str = ""
    address: str = ""
    deadlines: tuple[StageDeadline, ...] = ()
    rework_count: int = 0
    suspended_from: Status | None = None
    suspended_at: float | None = None
    merged_into: int | None = None
    merged: tuple[MergedReport, ...] = ()
    timeline: tuple[TimelineEntry, ...] = ()


_encode = msgspec.json.Encoder().encode
_decode_detail = msgspec.json.Decoder(Detail).decode


def to_record(incident: Incident, seq: int) -> Record:
    """The record of ``incident`` as of change ``seq``."""
    loc = incident.location
    detail = Detail(
        description=incident.description,
        address=loc.address,
        deadlines=incident.deadlines,
        rework_count=incident.rework_count,
        suspended_from=incident.suspended_from,
        suspended_at=incident.suspended_at,
        merged_into=incident.merged_into,
        merged=incident.merged,
        timeline=incident.timeline,
    )
    return (
        incident.id,
        incident.version,
        incident.category,
        incident.title,
        loc.street,
        loc.grid,
        loc.lon,
        loc.lat,
        int(incident.severity),
        incident.source.value,
        incident.status.value,
        incident.unit,
        incident.reported_at,
        incident.updated_at,
        incident.current_deadline,
        len(incident.merged),
        int(incident.supervised),
        seq,
        _encode(detail).decode(),
    )


def from_record(r: Sequence[Any]) -> Incident:
    """The incident a record describes."""
    detail = _decode_detail(str(r[18]))
    return Incident(
        id=int(r[0]),
        version=int(r[1]),
        category=str(r[2]),
        title=str(r[3]),
        description=detail.description,
        location=Location(
            street=str(r[4]),
            grid=str(r[5]),
            lon=float(r[6]),
            lat=float(r[7]),
            address=detail.address,
        ),
        severity=Severity(int(r[8])),
        source=SourceChannel(str(r[9])),
        status=Status(str(r[10])),
        unit=None if r[11] is None else str(r[11]),
        reported_at=float(r[12]),
        updated_at=float(r[13]),
        deadlines=detail.deadlines,
        supervised=bool(r[16]),
        rework_count=detail.rework_count,
        suspended_from=detail.suspended_from,
        suspended_at=detail.suspended_at,
        merged_into=detail.merged_into,
        merged=detail.merged,
        timeline=detail.timeline,
    )
