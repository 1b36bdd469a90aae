"""Field devices: what the registry refuses, how a state change applies, who sees what."""

from __future__ import annotations

import msgspec
import pytest
import yaml

from app.domain.catalog import Catalog, load_catalog
from app.domain.devices import (
    Device,
    DeviceError,
    DeviceKind,
    DeviceState,
    DeviceStateChange,
    DeviceView,
    apply_state,
    check_device,
)
from app.domain.permissions import Principal, Role, scope_of
from resources import CATALOG_PATH

CAOYANG = "310107005"
CHANGSHOU = "310107015"
T0 = 1_700_000_000.0


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8")))


def device(**changes: object) -> Device:
    base = Device(
        id="SMK-005-0001",
        kind=DeviceKind.SENSOR,
        type="smoke",
        name="烟感探测器 SMK-005-0001",
        lon=121.408,
        lat=31.243,
        street=CAOYANG,
        scenario="fire_safety",
        updated_at=T0,
    )
    return msgspec.structs.replace(base, **changes)


def test_a_well_formed_device_passes(catalog: Catalog) -> None:
    check_device(device(), catalog)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"street": "310107999"}, "unknown_street"),
        ({"scenario": "moon_base"}, "unknown_scenario"),
        ({"lat": 91.0}, "invalid_location"),
        ({"name": "  "}, "invalid_device"),
        ({"id": ""}, "invalid_device"),
    ],
)
def test_the_registry_refuses_what_it_cannot_place(catalog: Catalog, changes: dict[str, object], code: str) -> None:
    with pytest.raises(DeviceError) as caught:
        check_device(device(**changes), catalog)
    assert caught.value.code == code


def test_a_state_change_moves_state_time_and_last_seen() -> None:
    after = apply_state(device(), DeviceStateChange(id="SMK-005-0001", state=DeviceState.ALARM, at=T0 + 10))
    assert after is not None
    assert (after.state, after.updated_at, after.last_seen) == (DeviceState.ALARM, T0 + 10, T0 + 10)


def test_the_same_state_again_is_only_a_sign_of_life() -> None:
    after = apply_state(device(), DeviceStateChange(id="SMK-005-0001", state=DeviceState.NORMAL, at=T0 + 30))
    assert after is not None
    assert (after.state, after.updated_at, after.last_seen) == (DeviceState.NORMAL, T0, T0 + 30)


def test_an_older_state_change_is_refused() -> None:
    assert apply_state(device(), DeviceStateChange(id="SMK-005-0001", state=DeviceState.OFFLINE, at=T0 - 1)) is None


def test_who_sees_a_device(catalog: Catalog) -> None:
    fire_sensor = device()
    other_street_camera = device(id="CAM-015-001", kind=DeviceKind.CAMERA, type="high_altitude", street=CHANGSHOU,
                                 scenario="")  # fmt: skip

    def view(principal: Principal) -> DeviceView:
        field = principal.field or ""
        scope = scope_of(principal, catalog.categories_of_field(field), catalog.units_of_field(field))
        return DeviceView(scope, catalog)

    officer = view(Principal("officer", Role.DISTRICT_OFFICER))
    caoyang = view(Principal("caoyang", Role.STREET_OPERATOR, street=CAOYANG))
    fire = view(Principal("fire", Role.PROFESSIONAL_CENTER, field="fire"))
    assert officer.sees(fire_sensor) and officer.sees(other_street_camera)
    assert caoyang.sees(fire_sensor) and not caoyang.sees(other_street_camera)
    assert fire.sees(fire_sensor), "a fire-safety sensor serves the fire center's categories"
    assert not fire.sees(other_street_camera)
