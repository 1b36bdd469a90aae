"""综合评价: the evaluation of units, streets and categories over a period.

The figures are those of the national digital urban-management standards: the evaluation
indicators of CJ/T 292-2008 (城市市政综合监管信息系统 绩效评价) and GB/T 30428.4 (数字化城市管理
信息系统 第4部分: 绩效评价), on the stage model of CJ/T 315-2009 (监管案件立案、处置与结案), computed
the way city systems publish them (按期结案率 = 按期结案数 / 应结案数, 应结案数 = 立案数 − 按时待处置数;
处置率 = 处置数 / 应处置数). Their steps map onto our workflow (:mod:`app.domain.workflow`) like this:

========  =====================================  ============================================
standard  our workflow                           stage clock (处置标准, ``Stage``)
========  =====================================  ============================================
立案      ``register`` (reported → registered)   ``register`` runs from the report until then
派遣      ``dispatch`` (registered → dispatched)  ``dispatch`` runs from 立案 until dispatch
处置      ``accept`` + ``feedback`` (→ handled)   ``handle`` runs from dispatch until feedback
核查结案  ``verify`` (handled → closed)           ``verify`` runs from feedback until closed
返工      ``rework`` (handled → handling)         a new ``handle`` clock starts at the rework
作废      ``invalidate`` / ``merge``              —
========  =====================================  ============================================

**Which cases.** A period evaluates the cases (案件) *registered* (立案) in it, by the
Asia/Shanghai local days the period names: ``start <= registered_at < end``. Cases never
registered, found invalid or merged into another (作废) are not cases and count nowhere. The
figures describe those cases as they stand at the evaluation time ``as_of`` (normally now): a
case registered in the period and closed after it counts as closed.

**The definitions** (each a function below; the server stores the ones that do not depend on
the evaluation time as :class:`Flag` bits with each case and counts them in SQL in
:meth:`app.storage.server_store.ServerStore.evaluate`, which gives the same figures as
:func:`evaluate`):

* 立案数 ``registered`` — the cases registered in the period.
* 结案数 ``closed`` — of them, those closed (verified, 核查结案).
* 按期结案数 ``closed_on_time`` — closed cases that met every stage time limit after 立案
  (派遣, 处置 including any re-handling after a rework, 核查). Our handling standard sets a limit
  per stage, not one for the whole case, so "closed within the time limit" means within each.
* 应结案数 ``due_to_close`` — the cases that should be closed by now: 立案数 minus the cases still
  open *within* the time limit of the stage they are in (按时在办). That is the closed cases plus
  the open ones past their current stage's limit. A suspended case's clock is stopped, so it is
  never past its limit while suspended.
* 结案率 = 结案数 / 应结案数; 按期结案率 = 按期结案数 / 应结案数.
* 处置数 ``handled`` — cases the responsible unit has handled: it gave its feedback (处理反馈)
  after the dispatch to it (the last dispatch; a returned dispatch is the next unit's to handle).
* 按期处置数 ``handled_on_time`` — handled, and that first feedback came within the handling
  limit of that dispatch (suspended time does not count). A feedback that fails verification is
  still a feedback; its quality is measured by 返工率.
* 应处置数 ``due_to_handle`` — cases that should be handled by now: the handled ones plus those
  dispatched, not handled, and past the handling limit (按时待处置 cases are left out).
* 处置率 = 处置数 / 应处置数; 按期处置率 = 按期处置数 / 应处置数.
* 返工数 ``reworked`` — handled cases sent back for rework at least once (核查不通过).
* 返工率 = 返工数 / 处置数 (local rules also divide by 应结案数 or 立案数; per handled case is
  the share of the units' work that failed verification, and never exceeds 100 %).
* 超期数 ``overdue`` — cases that exceeded a stage time limit after 立案: finished a stage late,
  or are open past the current stage's limit now. 超期未结数 ``overdue_open`` — only the latter.
* average time per stage ``avg_*_s`` — seconds spent in the stage (立案 from the first report,
  派遣, 处置 with every rework round, 核查), suspended time excluded, averaged over the cases
  that have completed the stage.

A rate whose denominator is 0 is ``None`` ("no case to judge"), never 0 or 100 %.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Final

import msgspec

from app.domain.catalog import Catalog, Category, Street, Text, Unit
from app.domain.localtime import SHANGHAI, local_day_start
from app.domain.model import Action, Incident, Stage, Status
from app.domain.workflow import STAGE_OF

#: Putuo's time zone: evaluation periods are its local days (UTC+8, no daylight saving).

#: Statuses of incidents that are not cases: not registered yet, invalid (作废), merged.
_NOT_CASES: Final = frozenset({Status.REPORTED, Status.INVALID, Status.MERGED})

#: The timed stages in the order a case goes through them.
STAGE_ORDER: Final = (Stage.REGISTER, Stage.DISPATCH, Stage.HANDLE, Stage.VERIFY)

#: Every figure of an :class:`EvaluationRow`, with its standard term and definition (zh, en).
DEFINITIONS: Final[dict[str, tuple[str, str]]] = {
    "registered": ("立案数", "cases registered (立案) in the period; invalid and merged ones excluded"),
    "due_to_close": ("应结案数", "立案数 minus the open cases still within their current stage's time limit"),
    "closed": ("结案数", "cases closed (verified)"),
    "closed_on_time": ("按期结案数", "closed cases that met every stage time limit after registration"),
    "due_to_handle": ("应处置数", "handled cases plus dispatched unhandled cases past their handling time limit"),
    "handled": ("处置数", "cases whose responsible unit gave its feedback after the (last) dispatch"),
    "handled_on_time": ("按期处置数", "handled cases whose first feedback met the handling time limit"),
    "reworked": ("返工数", "handled cases sent back for rework at least once"),
    "overdue": ("超期数", "cases that exceeded a stage time limit after registration (late, or open past it)"),
    "overdue_open": ("超期未结数", "open cases past their current stage's time limit"),
    "close_rate": ("结案率", "结案数 / 应结案数"),
    "on_time_close_rate": ("按期结案率", "按期结案数 / 应结案数"),
    "handle_rate": ("处置率", "处置数 / 应处置数"),
    "on_time_handle_rate": ("按期处置率", "按期处置数 / 应处置数"),
    "rework_rate": ("返工率", "返工数 / 处置数"),
    "avg_register_s": ("平均立案用时", "seconds from the first report to registration"),
    "avg_dispatch_s": ("平均派遣用时", "seconds from registration to dispatch, over dispatched cases"),
    "avg_handle_s": ("平均处置用时", "seconds in handling, rework rounds included, over cases past handling"),
    "avg_verify_s": ("平均核查用时", "seconds from feedback to closing, over closed cases"),
}


#: The same definitions in Chinese, for the reports people read (the figure → its definition).
DEFINITIONS_ZH: Final[dict[str, str]] = {
    "registered": "统计期内立案的案件数，不含作废与合并的案件",
    "due_to_close": "立案数减去仍在本环节时限内的在办案件数",
    "closed": "已核查结案的案件数",
    "closed_on_time": "立案后各环节均在时限内完成的结案案件数",
    "due_to_handle": "已处置案件数加上已派遣、未处置且超过处置时限的案件数",
    "handled": "责任单位在（最后一次）派遣后已反馈处置的案件数",
    "handled_on_time": "首次反馈在处置时限内的已处置案件数",
    "reworked": "至少被退回返工一次的已处置案件数",
    "overdue": "立案后有环节超过时限的案件数（超时完成，或在办已超时）",
    "overdue_open": "当前环节已超过时限的在办案件数",
    "close_rate": "结案数 / 应结案数",
    "on_time_close_rate": "按期结案数 / 应结案数",
    "handle_rate": "处置数 / 应处置数",
    "on_time_handle_rate": "按期处置数 / 应处置数",
    "rework_rate": "返工数 / 处置数",
    "avg_register_s": "从首次上报到立案的平均用时",
    "avg_dispatch_s": "已派遣案件从立案到派遣的平均用时",
    "avg_handle_s": "已完成处置的案件在处置环节（含返工）的平均用时",
    "avg_verify_s": "已结案案件从反馈到结案的平均用时",
}


class GroupBy(enum.StrEnum):
    """What the rows of an evaluation are: one per responsible unit, street or category."""

    UNIT = "unit"
    STREET = "street"
    CATEGORY = "category"


class Period(msgspec.Struct, frozen=True):
    """A span of time, ``start <= t < end`` in epoch seconds; ``label`` names it for people."""

    start: float
    end: float
    label: str = ""


class StageFacts(msgspec.Struct, frozen=True):
    """What the evaluation needs to know about one case, derived from the incident by
    :func:`facts_of` and stored as one row per incident by the server."""

    incident_id: int
    unit: str | None
    street: str
    category: str
    registered_at: float
    """When the case was registered (立案)."""
    closed_at: float | None
    """When it was closed (核查结案); None while open."""
    due_at: float | None
    """While open: when the current stage's time limit runs out. None when closed, and while
    suspended (the clock is stopped)."""
    late: bool
    """Whether a stage after registration was completed after its time limit."""
    handle_due: float | None
    """When the handling of the last dispatch is due; None when not dispatched, and while
    suspended before the feedback."""
    handled_at: float | None
    """The responsible unit's first feedback after the last dispatch; None before it."""
    reworks: int
    """How often the case was sent back for rework."""
    register_ms: int | None
    """Milliseconds spent in the stage (suspended time excluded), or None while the stage is
    not complete; likewise the three below."""
    dispatch_ms: int | None
    handle_ms: int | None
    verify_ms: int | None


class EvaluationRow(msgspec.Struct, frozen=True):
    """The figures of one unit, street or category (``key``; None gathers the cases without a
    unit, e.g. after a returned dispatch). See :data:`DEFINITIONS`; rates are fractions."""

    key: str | None
    registered: int
    due_to_close: int
    closed: int
    closed_on_time: int
    due_to_handle: int
    handled: int
    handled_on_time: int
    reworked: int
    overdue: int
    overdue_open: int
    close_rate: float | None
    on_time_close_rate: float | None
    handle_rate: float | None
    on_time_handle_rate: float | None
    rework_rate: float | None
    avg_register_s: float | None
    avg_dispatch_s: float | None
    avg_handle_s: float | None
    avg_verify_s: float | None


# -- the facts of one incident -----------------------------------------------------------------


#: The position in :data:`STAGE_ORDER` of the stage whose clock runs in a status.
_STAGE_INDEX: Final = {status: STAGE_ORDER.index(stage) for status, stage in STAGE_OF.items()}


def facts_of(incident: Incident) -> StageFacts | None:
    """The evaluation facts of ``incident``, or None when it is not a case (never registered,
    invalid, or merged into another)."""
    status = incident.status
    if status in _NOT_CASES:
        return None
    # One pass over the history: when the case was registered and closed, and how long it
    # spent in each stage (time suspended is in none).
    registered_at: float | None = None
    closed_at: float | None = None
    spent = [0.0, 0.0, 0.0, 0.0]
    since = incident.reported_at
    for entry in incident.timeline:
        before, after = entry.from_status, entry.to_status
        if before is None or (before is after and entry.action is not Action.REWORK):
            continue
        if after is Status.REGISTERED and registered_at is None:
            registered_at = entry.at
        elif after is Status.CLOSED:
            closed_at = entry.at
        index = _STAGE_INDEX.get(before)
        if index is not None:
            spent[index] += entry.at - since
        since = entry.at
    if registered_at is None:
        return None
    suspended = status is Status.SUSPENDED
    closed = status is Status.CLOSED
    # The handling clock of the last dispatch is the deadline right after the last dispatch
    # clock (each dispatch closes one and starts the other); a feedback closes it.
    deadlines = incident.deadlines
    late = False
    last_dispatch = -1
    for i, d in enumerate(deadlines):
        if d.stage is Stage.DISPATCH:
            last_dispatch = i
        if d.done_at is not None and d.done_at > d.due_at and d.stage is not Stage.REGISTER:
            late = True
    handle_due: float | None = None
    handled_at: float | None = None
    if 0 <= last_dispatch < len(deadlines) - 1 and deadlines[last_dispatch + 1].stage is Stage.HANDLE:
        handling = deadlines[last_dispatch + 1]
        handled_at = handling.done_at
        if handled_at is not None or not suspended:
            handle_due = handling.due_at
    # The stages before the current one are complete; all four once closed.
    if closed:
        done = len(STAGE_ORDER)
    else:
        current = incident.suspended_from if suspended else status
        done = _STAGE_INDEX.get(current, 0) if current is not None else 0
    ms = [round(spent[i] * 1000.0) if i < done else None for i in range(len(STAGE_ORDER))]
    return StageFacts(
        incident_id=incident.id,
        unit=incident.unit,
        street=incident.location.street,
        category=incident.category,
        registered_at=registered_at,
        closed_at=closed_at if closed else None,
        due_at=None if closed or suspended else incident.current_deadline,
        late=late,
        handle_due=handle_due,
        handled_at=handled_at,
        reworks=incident.rework_count,
        register_ms=ms[0],
        dispatch_ms=ms[1],
        handle_ms=ms[2],
        verify_ms=ms[3],
    )


# -- the definitions, one case at a time ---------------------------------------------------------


def in_period(f: StageFacts, period: Period) -> bool:
    """Whether the case was registered (立案) in ``period``."""
    return period.start <= f.registered_at < period.end


def is_closed(f: StageFacts) -> bool:
    """结案: closed."""
    return f.closed_at is not None


def is_closed_on_time(f: StageFacts) -> bool:
    """按期结案: closed, every stage after 立案 within its time limit."""
    return f.closed_at is not None and not f.late


def is_overdue_open(f: StageFacts, as_of: float) -> bool:
    """超期未结: open and past the current stage's time limit at ``as_of``."""
    return f.due_at is not None and f.due_at < as_of


def is_due_to_close(f: StageFacts, as_of: float) -> bool:
    """应结案: closed, or open past the current stage's time limit (not 按时在办)."""
    return f.closed_at is not None or is_overdue_open(f, as_of)


def is_handled(f: StageFacts) -> bool:
    """处置: the unit gave its feedback after the last dispatch."""
    return f.handled_at is not None


def is_handled_on_time(f: StageFacts) -> bool:
    """按期处置: that feedback came within the handling time limit."""
    return f.handled_at is not None and f.handle_due is not None and f.handled_at <= f.handle_due


def is_due_to_handle(f: StageFacts, as_of: float) -> bool:
    """应处置: handled, or dispatched and past the handling time limit (not 按时待处置)."""
    return f.handled_at is not None or (f.handle_due is not None and f.handle_due < as_of)


def is_reworked(f: StageFacts) -> bool:
    """返工: sent back for rework at least once."""
    return f.reworks > 0


def is_overdue(f: StageFacts, as_of: float) -> bool:
    """超期: a stage after 立案 finished late, or the current one is past its limit."""
    return f.late or is_overdue_open(f, as_of)


class Flag(enum.IntFlag):
    """The definitions that do not depend on the evaluation time, as bits: the server stores
    them with each case, so that its SQL only counts bits and compares due times with now."""

    CLOSED = 1
    CLOSED_ON_TIME = 2
    HANDLED = 4
    HANDLED_ON_TIME = 8
    REWORKED = 16
    LATE = 32


def flags_of(f: StageFacts) -> int:
    """The :class:`Flag` bits of ``f``."""
    return (
        (Flag.CLOSED if is_closed(f) else 0)
        | (Flag.CLOSED_ON_TIME if is_closed_on_time(f) else 0)
        | (Flag.HANDLED if is_handled(f) else 0)
        | (Flag.HANDLED_ON_TIME if is_handled_on_time(f) else 0)
        | (Flag.REWORKED if is_reworked(f) else 0)
        | (Flag.LATE if f.late else 0)
    )


def pending_handle_due(f: StageFacts) -> float | None:
    """When the handling is due while the unit has not handled the case yet (and its clock is
    running); None otherwise. 应处置 = handled, or this is past."""
    return f.handle_due if f.handled_at is None else None


def rate(numerator: int, denominator: int) -> float | None:
    """``numerator / denominator``, or None when there is nothing to judge."""
    return None if denominator == 0 else numerator / denominator


def _average_s(total_ms: int, count: int) -> float | None:
    return None if count == 0 else total_ms / count / 1000.0


def make_row(
    key: str | None,
    counts: Sequence[int],
    stage_total_ms: Sequence[int],
    stage_count: Sequence[int],
) -> EvaluationRow:
    """The row of a group from its counts (``registered, due_to_close, closed, closed_on_time,
    due_to_handle, handled, handled_on_time, reworked, overdue, overdue_open``) and, per stage in
    :data:`STAGE_ORDER`, the total milliseconds and the number of cases that completed it.
    Shared by :func:`evaluate` and the store's SQL, so both compute rates alike."""
    c = [int(n) for n in counts]
    avg = [_average_s(int(t), int(n)) for t, n in zip(stage_total_ms, stage_count, strict=True)]
    return EvaluationRow(
        key=key,
        registered=c[0],
        due_to_close=c[1],
        closed=c[2],
        closed_on_time=c[3],
        due_to_handle=c[4],
        handled=c[5],
        handled_on_time=c[6],
        reworked=c[7],
        overdue=c[8],
        overdue_open=c[9],
        close_rate=rate(c[2], c[1]),
        on_time_close_rate=rate(c[3], c[1]),
        handle_rate=rate(c[5], c[4]),
        on_time_handle_rate=rate(c[6], c[4]),
        rework_rate=rate(c[7], c[5]),
        avg_register_s=avg[0],
        avg_dispatch_s=avg[1],
        avg_handle_s=avg[2],
        avg_verify_s=avg[3],
    )


def group_key(f: StageFacts, group_by: GroupBy) -> str | None:
    """The value of ``f`` that ``group_by`` groups on."""
    if group_by is GroupBy.UNIT:
        return f.unit
    if group_by is GroupBy.STREET:
        return f.street
    return f.category


def sort_rows(rows: Iterable[EvaluationRow]) -> list[EvaluationRow]:
    """Rows by key, the group without a key last."""
    return sorted(rows, key=lambda r: (r.key is None, r.key or ""))


def evaluate(facts: Iterable[StageFacts], period: Period, group_by: GroupBy, as_of: float) -> list[EvaluationRow]:
    """The evaluation of the cases registered in ``period``, one row per ``group_by`` value,
    as they stand at ``as_of``. The reference implementation of the definitions above."""
    counts: dict[str | None, list[int]] = {}
    totals: dict[str | None, list[int]] = {}
    numbers: dict[str | None, list[int]] = {}
    for f in facts:
        if not in_period(f, period):
            continue
        key = group_key(f, group_by)
        if key not in counts:
            counts[key] = [0] * 10
            totals[key] = [0] * len(STAGE_ORDER)
            numbers[key] = [0] * len(STAGE_ORDER)
        c = counts[key]
        for i, hit in enumerate(
            (
                True,
                is_due_to_close(f, as_of),
                is_closed(f),
                is_closed_on_time(f),
                is_due_to_handle(f, as_of),
                is_handled(f),
                is_handled_on_time(f),
                is_reworked(f),
                is_overdue(f, as_of),
                is_overdue_open(f, as_of),
            )
        ):
            c[i] += hit
        for i, stage_ms in enumerate((f.register_ms, f.dispatch_ms, f.handle_ms, f.verify_ms)):
            if stage_ms is not None:
                totals[key][i] += stage_ms
                numbers[key][i] += 1
    return sort_rows(make_row(key, counts[key], totals[key], numbers[key]) for key in counts)


# -- periods ------------------------------------------------------------------------------------


def day_period(first: date, last: date) -> Period:
    """The local days ``first`` to ``last``, both included."""
    if last < first:
        raise ValueError(f"the period ends ({last.isoformat()}) before it starts ({first.isoformat()})")
    label = first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat()}"
    return Period(local_day_start(first), local_day_start(last + timedelta(days=1)), label)


def parse_period(text: str, now: float) -> Period:
    """A period from ``today``, ``YYYY-MM-DD`` or ``YYYY-MM-DD..YYYY-MM-DD`` (local days,
    both ends included). Raises ValueError saying what is expected."""
    text = text.strip()
    if text == "today":
        today = datetime.fromtimestamp(now, SHANGHAI).date()
        return msgspec.structs.replace(day_period(today, today), label="today")
    first_text, sep, last_text = text.partition("..")
    try:
        first = date.fromisoformat(first_text.strip())
        last = date.fromisoformat(last_text.strip()) if sep else first
    except ValueError:
        raise ValueError(
            f"bad period {text!r}: expected today, YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD (Shanghai local days)"
        ) from None
    return day_period(first, last)


# -- presentation -------------------------------------------------------------------------------

#: Where the definitions come from, for reports.
STANDARDS: Final = (
    "CJ/T 292-2008 城市市政综合监管信息系统 绩效评价 (GB/T 30428.4 数字化城市管理信息系统 第4部分 绩效评价); "
    "CJ/T 315-2009 监管案件立案、处置与结案"
)

#: The name of the rows without a unit (a returned dispatch waiting for the next one).
NO_UNIT: Final = Text(zh="未指派单位", en="no unit")


def key_name(catalog: Catalog, group_by: GroupBy, key: str | None) -> Text:
    """The name of a row's unit, street or category in both languages (the code itself when
    the catalog does not know it)."""
    if key is None:
        return NO_UNIT
    found: Unit | Street | Category | None
    if group_by is GroupBy.UNIT:
        found = catalog.units.get(key)
    elif group_by is GroupBy.STREET:
        found = catalog.streets.get(key)
    else:
        found = catalog.categories.get(key)
    return found.name if found is not None else Text(zh=key, en=key)


def _local_iso(t: float) -> str:
    return datetime.fromtimestamp(t, SHANGHAI).isoformat(timespec="seconds")


def report(
    rows: Sequence[EvaluationRow], period: Period, group_by: GroupBy, as_of: float, catalog: Catalog
) -> dict[str, Any]:
    """The evaluation as plain data for JSON: the period, the rows with their names, and the
    definitions of every figure. The command line and the HTTP interface both answer this."""
    return {
        "period": {
            "label": period.label,
            "start": _local_iso(period.start),
            "end": _local_iso(period.end),
            "start_epoch": period.start,
            "end_epoch": period.end,
        },
        "as_of": _local_iso(as_of),
        "as_of_epoch": as_of,
        "group_by": group_by.value,
        "rows": [
            {"key": r.key, "name": msgspec.to_builtins(key_name(catalog, group_by, r.key)), **_figures(r)} for r in rows
        ],
        "definitions": {name: {"term": term, "definition": text} for name, (term, text) in DEFINITIONS.items()},
        "standards": STANDARDS,
    }


def _figures(row: EvaluationRow) -> dict[str, Any]:
    figures: dict[str, Any] = msgspec.to_builtins(row)
    del figures["key"]
    return figures
