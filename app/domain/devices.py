"""Field devices on the map: IoT sensors (感知设备) and cameras (视频点位).

The server keeps the registry; consoles receive the devices they may see (a street operator:
its street's) and every change of state. Sensor readings and alarm rules, and camera streams,
build on these records.
"""

from __future__ import annotations

import enum
from typing import Any

import msgspec

from app.domain.catalog import Catalog
from app.domain.permissions import Scope


class DeviceKind(enum.StrEnum):
    SENSOR = "sensor"
    CAMERA = "camera"


class DeviceState(enum.StrEnum):
    """What the map shows of a device."""

    NORMAL = "normal"
    ALARM = "alarm"
    OFFLINE = "offline"
    """No heartbeat within its expected interval."""
    FAULT = "fault"
    """The device reports itself broken, or is taken out of service."""


class Device(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One registered device. ``id`` is the registry's key (e.g. ``SN-310107022-0012``),
    ``type`` the sensor or camera type (``smoke``, ``water_level``, ``high_altitude``, ...),
    ``scenario`` one of the catalog's ten scenarios when the device serves one."""

    id: str
    kind: DeviceKind
    type: str
    name: str
    lon: float
    lat: float
    street: str
    scenario: str = ""
    state: DeviceState = DeviceState.NORMAL
    last_seen: float = 0.0
    updated_at: float = 0.0
    registered_at: float = 0.0
    """When the registry first took it (kept when it is registered again)."""
    reading: float | None = None
    """A sensor's latest reading, in its alarm rule's metric and unit (sent every minute)."""
    reading_at: float = 0.0
    attrs: dict[str, Any] = msgspec.field(default_factory=dict)


class DeviceStateChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A device's new state, as the intake takes it."""

    id: str
    state: DeviceState
    at: float
    reading: float | None = None
    """The latest reading at ``at``, when the change comes from the sensor monitor."""


class DeviceError(ValueError):
    """A device record or state change the registry cannot take; ``code`` is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_device(device: Device, catalog: Catalog) -> None:
    """Refuse a device the district cannot place: unknown street or scenario, or coordinates
    outside any sensible range."""
    if not device.id or len(device.id) > 64:
        raise DeviceError("invalid_device", "a device needs an id of 1–64 characters")
    if device.street not in catalog.streets:
        raise DeviceError("unknown_street", f"device {device.id}: unknown street {device.street!r}")
    if device.scenario and device.scenario not in catalog.scenarios:
        raise DeviceError("unknown_scenario", f"device {device.id}: unknown scenario {device.scenario!r}")
    if not (-180.0 <= device.lon <= 180.0 and -90.0 <= device.lat <= 90.0):
        raise DeviceError("invalid_location", f"device {device.id}: coordinates out of range")
    if not device.name.strip():
        raise DeviceError("invalid_device", f"device {device.id}: a device needs a name")


def apply_state(device: Device, change: DeviceStateChange) -> Device | None:
    """The device after ``change``, or None when the change is older than what is known."""
    if change.at < device.updated_at:
        return None
    reading = {}
    if change.reading is not None and change.at >= device.reading_at:
        reading = {"reading": change.reading, "reading_at": change.at}
    if change.state is device.state:
        return msgspec.structs.replace(device, last_seen=max(device.last_seen, change.at), **reading)
    return msgspec.structs.replace(
        device, state=change.state, updated_at=change.at, last_seen=max(device.last_seen, change.at), **reading
    )


class DeviceView:
    """Which devices a person with ``scope`` sees: everything, their street's, or those serving
    a scenario of their categories (a professional center sees its field's devices)."""

    def __init__(self, scope: Scope, catalog: Catalog) -> None:
        self.scope = scope
        self.scenarios = frozenset(
            c.scenario for c in catalog.categories.values() if c.scenario and c.code in scope.categories
        )

    def sees(self, device: Device) -> bool:
        return (
            self.scope.everything
            or device.street in self.scope.streets
            or (bool(device.scenario) and device.scenario in self.scenarios)
        )
