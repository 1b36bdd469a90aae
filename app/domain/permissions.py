"""Who may see and do what: role × jurisdiction × action.

Rules:

* **district officer** (区城运中心值班员), **auditor** and **admin** see every street;
  **trainer** sees every street too, but only acts in drills, never on live data;
* **street operator** (街镇城运中心) sees and acts in its own street only;
* **professional center** (fire, emergency management, water, ...) sees its own field in every
  street: the categories of its field and the incidents dispatched to its units;
* **field commander** sees its street when it has one, else the whole district.

The actions each role may take are a table, :data:`ROLE_ACTIONS`.
"""

from __future__ import annotations

import enum
from typing import Final

import msgspec

from app.domain.model import Action


class Role(enum.StrEnum):
    """The roles of the people who use the console."""

    DISTRICT_OFFICER = "district_officer"
    STREET_OPERATOR = "street_operator"
    PROFESSIONAL_CENTER = "professional_center"
    FIELD_COMMANDER = "field_commander"
    TRAINER = "trainer"
    AUDITOR = "auditor"
    ADMIN = "admin"


_CENTER_ACTIONS = frozenset({Action.RETURN, Action.ACCEPT, Action.FEEDBACK, Action.ATTACH})
_OFFICE_ACTIONS = frozenset(
    {
        Action.REGISTER,
        Action.INVALIDATE,
        Action.MERGE,
        Action.DISPATCH,
        Action.VERIFY,
        Action.REWORK,
    }
)

#: What each role may do, where it may see the incident.
ROLE_ACTIONS: Final[dict[Role, frozenset[Action]]] = {
    Role.DISTRICT_OFFICER: _OFFICE_ACTIONS | {Action.SUSPEND, Action.RESUME, Action.SUPERVISE, Action.ATTACH},
    Role.STREET_OPERATOR: _OFFICE_ACTIONS | _CENTER_ACTIONS,
    Role.PROFESSIONAL_CENTER: _CENTER_ACTIONS,
    Role.FIELD_COMMANDER: _CENTER_ACTIONS,
    Role.TRAINER: frozenset(),
    Role.AUDITOR: frozenset(),
    Role.ADMIN: frozenset(Action) - {Action.REPORT, Action.ADD_REPORT, Action.COMMAND},
}

_DISTRICT_WIDE = frozenset({Role.DISTRICT_OFFICER, Role.AUDITOR, Role.ADMIN, Role.TRAINER})


class Scope(msgspec.Struct, frozen=True):
    """What part of the district a person sees. Empty sets with ``everything=False`` see
    nothing; an incident is visible when it matches any of the sets."""

    everything: bool = False
    streets: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    units: frozenset[str] = frozenset()

    def contains(self, street: str, category: str, unit: str | None) -> bool:
        """Whether an incident with these attributes is inside the scope."""
        return (
            self.everything
            or street in self.streets
            or category in self.categories
            or (unit is not None and unit in self.units)
        )


class Principal(msgspec.Struct, frozen=True):
    """A signed-in person: name, role and jurisdiction."""

    name: str
    role: Role
    street: str | None = None
    """The street of a street operator or field commander."""
    field: str | None = None
    """The professional field of a professional center (``fire``, ``water``, ...)."""
    display_name: str = ""


class PermissionDenied(Exception):
    """The person may not do this. The message says who, what and why."""

    code = "forbidden"


def scope_of(principal: Principal, field_categories: frozenset[str], field_units: frozenset[str]) -> Scope:
    """The scope of ``principal``. ``field_categories`` and ``field_units`` are the catalog's
    categories and units of the principal's professional field (empty for other roles)."""
    role = principal.role
    if role in _DISTRICT_WIDE:
        return Scope(everything=True)
    if role is Role.STREET_OPERATOR:
        return Scope(streets=frozenset({principal.street}) if principal.street else frozenset())
    if role is Role.FIELD_COMMANDER:
        if principal.street:
            return Scope(streets=frozenset({principal.street}))
        return Scope(everything=True)
    if role is Role.PROFESSIONAL_CENTER:
        return Scope(categories=field_categories, units=field_units)
    return Scope()


#: Who writes what the server itself records: the fused command sessions' entries (who came
#: and went). Nobody who signs in may take these actions; only this very principal.
SERVER: Final = Principal(name="指挥会话", role=Role.ADMIN, display_name="指挥会话")
SERVER_ACTIONS: Final = frozenset({Action.COMMAND})


def may(principal: Principal, action: Action) -> bool:
    """Whether the role of ``principal`` may take ``action`` at all (:data:`SERVER_ACTIONS`:
    only :data:`SERVER`, the object itself, not someone of the same name)."""
    if action in SERVER_ACTIONS:
        return principal is SERVER
    return action in ROLE_ACTIONS[principal.role]


def check(principal: Principal, action: Action, scope: Scope, street: str, category: str, unit: str | None) -> None:
    """Raise :class:`PermissionDenied` unless ``principal`` may take ``action`` on an incident
    with these attributes."""
    if not may(principal, action):
        raise PermissionDenied(f"{principal.name} ({principal.role.value}) may not {action.value}")
    if not scope.contains(street, category, unit):
        raise PermissionDenied(
            f"{principal.name} ({principal.role.value}) may not act outside its jurisdiction (street {street})"
        )
