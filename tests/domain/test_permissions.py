"""Who may do what (role × action) and see where (jurisdiction)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
import yaml

from app.domain.catalog import Catalog, load_catalog
from app.domain.model import Action
from app.domain.permissions import (
    ROLE_ACTIONS,
    PermissionDenied,
    Principal,
    Role,
    Scope,
    check,
    may,
    scope_of,
)

CATALOG_PATH = Path(__file__).parents[2] / "resources" / "catalog.yaml"

A = Action
R = Role

CAOYANG = "310107005"
TAOPU = "310107103"

#: What each role may do, written out by hand; every other action is forbidden.
EXPECTED: dict[Role, set[Action]] = {
    R.DISTRICT_OFFICER: {
        A.REGISTER,
        A.INVALIDATE,
        A.MERGE,
        A.DISPATCH,
        A.VERIFY,
        A.REWORK,
        A.SUSPEND,
        A.RESUME,
        A.SUPERVISE,
        A.ATTACH,
    },
    R.STREET_OPERATOR: {
        A.REGISTER,
        A.INVALIDATE,
        A.MERGE,
        A.DISPATCH,
        A.VERIFY,
        A.REWORK,
        A.RETURN,
        A.ACCEPT,
        A.FEEDBACK,
        A.ATTACH,
    },
    R.PROFESSIONAL_CENTER: {A.RETURN, A.ACCEPT, A.FEEDBACK, A.ATTACH},
    R.FIELD_COMMANDER: {A.RETURN, A.ACCEPT, A.FEEDBACK, A.ATTACH},
    R.TRAINER: set(),
    R.AUDITOR: set(),
    R.ADMIN: {
        A.REGISTER,
        A.INVALIDATE,
        A.MERGE,
        A.DISPATCH,
        A.RETURN,
        A.ACCEPT,
        A.FEEDBACK,
        A.VERIFY,
        A.REWORK,
        A.SUSPEND,
        A.RESUME,
        A.SUPERVISE,
        A.ATTACH,
    },
}

PAIRS = list(itertools.product(Role, Action))


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8")))


def principal(role: Role, *, street: str | None = None, field: str | None = None) -> Principal:
    return Principal(name=f"{role.value}.wang", role=role, street=street, field=field)


def field_scope(catalog: Catalog, who: Principal) -> Scope:
    """The scope as the server computes it: the catalog's categories and units of the field."""
    if who.field is None:
        return scope_of(who, frozenset(), frozenset())
    return scope_of(who, catalog.categories_of_field(who.field), catalog.units_of_field(who.field))


# ---- role × action ---------------------------------------------------------------------------


def test_every_role_has_a_row() -> None:
    assert set(ROLE_ACTIONS) == set(Role) == set(EXPECTED)


@pytest.mark.parametrize(("role", "action"), PAIRS, ids=[f"{r.value}-{a.value}" for r, a in PAIRS])
def test_role_action_table(role: Role, action: Action) -> None:
    allowed = action in EXPECTED[role]
    who = principal(role, street=CAOYANG)
    assert may(who, action) is allowed
    everywhere = Scope(everything=True)
    if allowed:
        check(who, action, everywhere, CAOYANG, "fire.smoke_alarm", "fire_brigade")
    else:
        with pytest.raises(PermissionDenied) as caught:
            check(who, action, everywhere, CAOYANG, "fire.smoke_alarm", "fire_brigade")
        message = str(caught.value)
        assert who.name in message
        assert action.value in message
        assert role.value in message


@pytest.mark.parametrize("action", [A.REPORT, A.ADD_REPORT], ids=lambda a: a.value)
def test_nobody_reports_through_the_console(action: Action) -> None:
    """Reports come in through intake, never as a person's action."""
    assert not any(may(principal(role), action) for role in Role)


def test_district_officer_highlights() -> None:
    officer = principal(R.DISTRICT_OFFICER)
    for action in (A.REGISTER, A.DISPATCH, A.VERIFY, A.SUPERVISE, A.SUSPEND):
        assert may(officer, action), action
    for action in (A.ACCEPT, A.FEEDBACK):
        assert not may(officer, action), action


def test_street_operator_highlights() -> None:
    operator = principal(R.STREET_OPERATOR, street=CAOYANG)
    for action in (A.REGISTER, A.DISPATCH, A.ACCEPT, A.FEEDBACK, A.VERIFY):
        assert may(operator, action), action
    assert not may(operator, A.SUPERVISE)


def test_permission_denied_code() -> None:
    assert PermissionDenied.code == "forbidden"


# ---- scopes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [R.DISTRICT_OFFICER, R.AUDITOR, R.ADMIN, R.TRAINER], ids=lambda r: r.value)
def test_district_wide_roles_see_everything(catalog: Catalog, role: Role) -> None:
    scope = field_scope(catalog, principal(role))
    assert scope.everything
    for street in catalog.streets:
        assert scope.contains(street, "order.street_vending", None)


def test_street_operator_sees_its_street_only(catalog: Catalog) -> None:
    scope = field_scope(catalog, principal(R.STREET_OPERATOR, street=CAOYANG))
    assert scope == Scope(streets=frozenset({CAOYANG}))
    assert scope.contains(CAOYANG, "fire.smoke_alarm", "fire_brigade")
    assert scope.contains(CAOYANG, "order.street_vending", None)
    for street in set(catalog.streets) - {CAOYANG}:
        assert not scope.contains(street, "order.street_vending", f"{CAOYANG}.enforcement")
        assert not scope.contains(street, "fire.smoke_alarm", "fire_brigade")


def test_street_operator_without_a_street_sees_nothing(catalog: Catalog) -> None:
    scope = field_scope(catalog, principal(R.STREET_OPERATOR))
    assert not any(scope.contains(s, "fire.smoke_alarm", "fire_brigade") for s in catalog.streets)


def test_professional_center_sees_its_field_in_every_street(catalog: Catalog) -> None:
    fire = principal(R.PROFESSIONAL_CENTER, field="fire")
    scope = field_scope(catalog, fire)
    assert not scope.everything
    assert not scope.streets
    assert "fire.smoke_alarm" in scope.categories
    assert "fire_brigade" in scope.units
    for street in catalog.streets:
        # fire categories, whoever handles them (ebike charging goes to the street's safety office)
        assert scope.contains(street, "fire.smoke_alarm", "fire_brigade")
        assert scope.contains(street, "fire.ebike_indoor_charging", f"{street}.safety")
        assert scope.contains(street, "fire.smoke_alarm", None)
        # other categories only when dispatched to a fire unit
        assert scope.contains(street, "facilities.road_damage", "fire_brigade")
        assert not scope.contains(street, "facilities.road_damage", "construction")
        assert not scope.contains(street, "order.street_vending", f"{street}.enforcement")
        assert not scope.contains(street, "creek.floating_waste", None)


def test_professional_centers_do_not_see_each_others_fields(catalog: Catalog) -> None:
    water = field_scope(catalog, principal(R.PROFESSIONAL_CENTER, field="water"))
    assert water.contains(CAOYANG, "creek.floating_waste", "water_affairs")
    assert not water.contains(CAOYANG, "fire.smoke_alarm", "fire_brigade")


def test_field_commander_with_a_street(catalog: Catalog) -> None:
    scope = field_scope(catalog, principal(R.FIELD_COMMANDER, street=TAOPU))
    assert scope == Scope(streets=frozenset({TAOPU}))
    assert scope.contains(TAOPU, "order.street_vending", None)
    assert not scope.contains(CAOYANG, "fire.smoke_alarm", "fire_brigade")


def test_field_commander_without_a_street_sees_everything(catalog: Catalog) -> None:
    scope = field_scope(catalog, principal(R.FIELD_COMMANDER))
    assert scope.everything
    assert all(scope.contains(s, "order.street_vending", None) for s in catalog.streets)


def test_empty_scope_sees_nothing() -> None:
    assert not Scope().contains(CAOYANG, "fire.smoke_alarm", "fire_brigade")
    assert not Scope(units=frozenset({"fire_brigade"})).contains(CAOYANG, "x.y", None)


# ---- check -----------------------------------------------------------------------------------


def test_check_passes_inside_the_jurisdiction(catalog: Catalog) -> None:
    operator = principal(R.STREET_OPERATOR, street=CAOYANG)
    scope = field_scope(catalog, operator)
    check(operator, A.DISPATCH, scope, CAOYANG, "order.street_vending", None)


def test_check_outside_the_jurisdiction_names_user_and_street(catalog: Catalog) -> None:
    operator = principal(R.STREET_OPERATOR, street=CAOYANG)
    scope = field_scope(catalog, operator)
    with pytest.raises(PermissionDenied) as caught:
        check(operator, A.DISPATCH, scope, TAOPU, "order.street_vending", None)
    message = str(caught.value)
    assert operator.name in message
    assert TAOPU in message
    assert "jurisdiction" in message


def test_check_role_before_jurisdiction(catalog: Catalog) -> None:
    """A forbidden action is reported as such even outside the jurisdiction."""
    center = principal(R.PROFESSIONAL_CENTER, field="fire")
    scope = field_scope(catalog, center)
    with pytest.raises(PermissionDenied, match=re.escape(f"{center.name} (professional_center) may not dispatch")):
        check(center, A.DISPATCH, scope, TAOPU, "order.street_vending", None)


def test_check_professional_center_by_unit_and_category(catalog: Catalog) -> None:
    center = principal(R.PROFESSIONAL_CENTER, field="fire")
    scope = field_scope(catalog, center)
    check(center, A.ACCEPT, scope, TAOPU, "fire.smoke_alarm", "fire_brigade")
    check(center, A.FEEDBACK, scope, CAOYANG, "facilities.road_damage", "fire_brigade")
    with pytest.raises(PermissionDenied, match=CAOYANG):
        check(center, A.ACCEPT, scope, CAOYANG, "facilities.road_damage", "construction")


def test_auditor_sees_but_may_not_act(catalog: Catalog) -> None:
    auditor = principal(R.AUDITOR)
    scope = field_scope(catalog, auditor)
    assert scope.contains(CAOYANG, "fire.smoke_alarm", None)
    with pytest.raises(PermissionDenied, match="may not register"):
        check(auditor, A.REGISTER, scope, CAOYANG, "fire.smoke_alarm", None)
