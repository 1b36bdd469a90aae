"""综合评价 on a crafted set of cases whose figures were worked out by hand.

Ten cases of two units (A, B) in two streets (S1, S2) and two categories (C1, C2), driven through
the real workflow with a handling standard of 30 min to dispatch, 120 min to handle and 60 min to
verify; plus cases that must count nowhere. Times are minutes after T0, the start of the period
(2026-11-24 00:00 in Shanghai); the figures are as of minute 1200 (20:00).

======  ====  ====  ====  ===================================================================
case    unit  st.   cat.  what happens (minute: action)                      notes
======  ====  ====  ====  ===================================================================
A1      A     S1    C1    0 report, 5 register, 20 dispatch, 30 accept,     all on time
                          100 feedback, 130 verify
A2      A     S1    C2    10 report+register, 60 dispatch, 70 accept,       dispatch late (due 40)
                          150 feedback, 200 verify
A3      A     S2    C1    60 report, 70 register, 80 dispatch, 90 accept,   handling late (due 200)
                          300 feedback, 320 verify
A4      A     S2    C2    100 report+register, 110 dispatch, 115 accept,    reworked, all on time
                          150 feedback, 170 rework, 250 feedback, 280 verify
A5      A     S1    C1    400 report, 410 register, 420 dispatch,           handling overdue (due 540)
                          430 accept
A6      A     S1    C2    1100 report, 1105 register, 1110 dispatch         within its limit (due 1230)
B1      B     S2    C1    200 report, 210 register, 220 dispatch,           suspended: clock stopped
                          230 accept, 300 suspend
B2      B     S2    C2    300 report+register, 310 dispatch, 320 accept,    300 min paused: handling due
                          340 suspend, 640 resume, 700 feedback             730, verify due 760 (overdue)
B3      B     S1    C1    500 report, 505 register, 510 dispatch,           rework after verify due 660
                          515 accept, 600 feedback, 700 rework              (late); re-handling due 820
B4      B     S1    C2    0 report+register, 10 dispatch to A, 200 return   A returned late (due 130)
                          (late), 220 dispatch to B, 225 accept,
                          300 feedback, 330 verify
======  ====  ====  ====  ===================================================================

Counted nowhere: X1 registered then found invalid, X2 registered the day before, X3 never
registered, X4 registered then merged into A1.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
import pytest

from app.domain import workflow
from app.domain.catalog import HandlingStandard, Text
from app.domain.evaluation import (
    EvaluationRow,
    GroupBy,
    Period,
    StageFacts,
    day_period,
    evaluate,
    facts_of,
    parse_period,
)
from app.domain.model import (
    Action,
    Incident,
    Location,
    Severity,
    SourceChannel,
    Status,
    TimelineEntry,
)

T0 = day_period(date(2026, 11, 24), date(2026, 11, 24)).start
MIN = 60.0
AS_OF = T0 + 1200 * MIN
PERIOD = Period(T0, T0 + 1440 * MIN)
STANDARD = HandlingStandard(
    code="test", name=Text(zh="测试", en="Test"), register=10, dispatch=30, handle=120, verify=60
)
A, B = "unit.a", "unit.b"
S1, S2 = "310107015", "310107005"
C1, C2 = "appearance.garbage_overflow", "fire.smoke_alarm"


def at(minute: float) -> float:
    return T0 + minute * MIN


def report(incident_id: int, unit: str, street: str, category: str, minute: float) -> Incident:
    when = at(minute)
    return Incident(
        id=incident_id,
        category=category,
        title=f"case {incident_id}",
        location=Location(lon=121.4, lat=31.24, street=street),
        severity=Severity.YELLOW,
        source=SourceChannel.PATROL,
        status=Status.REPORTED,
        unit=unit,
        reported_at=when,
        updated_at=when,
        deadlines=workflow.start_deadlines(when, STANDARD, Status.REPORTED),
        timeline=(TimelineEntry(at=when, actor="patrol", action=Action.REPORT, to_status=Status.REPORTED),),
    )


def run(incident: Incident, *steps: tuple[float, Action] | tuple[float, Action, dict[str, Any]]) -> Incident:
    for step in steps:
        minute, action, *more = step
        extra: dict[str, Any] = dict(more[0]) if more else {}
        if action is Action.DISPATCH and "unit" not in extra:
            extra = {"unit": incident.unit}
        incident = workflow.apply(incident, action, actor="officer", at=at(minute), standard=STANDARD, **extra)
    return incident


R, D, AC, F, V, RW = Action.REGISTER, Action.DISPATCH, Action.ACCEPT, Action.FEEDBACK, Action.VERIFY, Action.REWORK


B2_PAUSE = ((340, Action.SUSPEND), (640, Action.RESUME))
B4_RETURNED: tuple[tuple[float, Action, dict[str, Any]] | tuple[float, Action], ...] = (
    (10, D, {"unit": A}),
    (200, Action.RETURN),
)


def crafted() -> dict[str, Incident]:
    return {
        "A1": run(report(1, A, S1, C1, 0), (5, R), (20, D), (30, AC), (100, F), (130, V)),
        "A2": run(report(2, A, S1, C2, 10), (10, R), (60, D), (70, AC), (150, F), (200, V)),
        "A3": run(report(3, A, S2, C1, 60), (70, R), (80, D), (90, AC), (300, F), (320, V)),
        "A4": run(report(4, A, S2, C2, 100), (100, R), (110, D), (115, AC), (150, F), (170, RW), (250, F), (280, V)),
        "A5": run(report(5, A, S1, C1, 400), (410, R), (420, D), (430, AC)),
        "A6": run(report(6, A, S1, C2, 1100), (1105, R), (1110, D)),
        "B1": run(report(7, B, S2, C1, 200), (210, R), (220, D), (230, AC), (300, Action.SUSPEND)),
        "B2": run(report(8, B, S2, C2, 300), (300, R), (310, D), (320, AC), *B2_PAUSE, (700, F)),
        "B3": run(report(9, B, S1, C1, 500), (505, R), (510, D), (515, AC), (600, F), (700, RW)),
        "B4": run(report(10, B, S1, C2, 0), (0, R), *B4_RETURNED, (220, D, {"unit": B}), (225, AC), (300, F), (330, V)),
        "X1": run(report(11, A, S1, C1, 50), (55, R), (60, Action.INVALIDATE)),
        "X2": run(report(12, A, S1, C1, -100), (-90, R), (-80, D), (-70, AC), (-60, F), (-50, V)),
        "X3": report(13, B, S2, C2, 40),
        "X4": run(report(14, A, S1, C1, 20), (25, R), (30, Action.MERGE, {"target_id": 1})),
    }


def all_facts() -> list[StageFacts]:
    return [f for f in (facts_of(i) for i in crafted().values()) if f is not None]


def row(key: str | None, **figures: Any) -> EvaluationRow:
    return EvaluationRow(key=key, **figures)


def by_key(rows: list[EvaluationRow]) -> dict[str | None, EvaluationRow]:
    return {r.key: r for r in rows}


def test_only_registered_live_cases_have_facts() -> None:
    cases = crafted()
    assert facts_of(cases["X1"]) is None  # 作废 (invalid)
    assert facts_of(cases["X3"]) is None  # never registered
    assert facts_of(cases["X4"]) is None  # merged into another case
    assert facts_of(cases["X2"]) is not None  # a case, but of the day before
    assert len(all_facts()) == 11


def test_facts_of_a_returned_and_redispatched_case() -> None:
    f = facts_of(crafted()["B4"])
    assert f is not None
    assert f.unit == B
    assert f.registered_at == at(0)
    assert f.closed_at == at(330)
    assert f.due_at is None
    assert f.late  # unit A returned it 70 minutes after its handling limit
    assert (f.handle_due, f.handled_at) == (at(220 + 120), at(300))  # B's dispatch, not A's
    # dispatch 10 + 20; handling 190 at A + 5 + 75 at B; verify 30
    assert (f.register_ms, f.dispatch_ms, f.handle_ms, f.verify_ms) == (0, 1_800_000, 16_200_000, 1_800_000)


def test_facts_of_suspended_cases() -> None:
    b1 = facts_of(crafted()["B1"])
    assert b1 is not None
    assert b1.due_at is None and b1.handle_due is None  # the clock is stopped
    assert (b1.register_ms, b1.dispatch_ms, b1.handle_ms, b1.verify_ms) == (600_000, 600_000, None, None)
    b2 = facts_of(crafted()["B2"])
    assert b2 is not None
    assert b2.handle_due == at(310 + 120 + 300)  # pushed back by the 300 minutes suspended
    assert b2.handled_at == at(700)
    assert b2.due_at == at(700 + 60)
    assert b2.handle_ms == (30 + 60) * 60_000  # the suspended time is not handling time


def test_facts_of_a_reworked_case() -> None:
    a4 = facts_of(crafted()["A4"])
    assert a4 is not None
    assert a4.reworks == 1 and not a4.late
    assert a4.handled_at == at(150)  # the first feedback
    assert a4.handle_ms == (40 + 80) * 60_000 and a4.verify_ms == (20 + 30) * 60_000
    b3 = facts_of(crafted()["B3"])
    assert b3 is not None
    assert b3.late  # sent back at 700, after the verify limit at 660
    assert b3.due_at == at(700 + 120)  # the re-handling's limit
    assert (b3.handle_ms, b3.verify_ms) == (None, None)  # neither stage is complete now


def test_by_unit() -> None:
    rows = evaluate(all_facts(), PERIOD, GroupBy.UNIT, AS_OF)
    assert rows == [
        row(
            A,
            registered=6,  # A1..A6
            due_to_close=5,  # 4 closed + A5 past its handling limit (A6 is within its own)
            closed=4,  # A1 A2 A3 A4
            closed_on_time=2,  # A1 A4 (A2 dispatched late, A3 handled late)
            due_to_handle=5,  # 4 handled + A5
            handled=4,  # A1 A2 A3 A4
            handled_on_time=3,  # A1 100<=140, A2 150<=180, A4 150<=230; A3 300>200
            reworked=1,  # A4
            overdue=3,  # A2 A3 late, A5 open past its limit
            overdue_open=1,  # A5
            close_rate=4 / 5,
            on_time_close_rate=2 / 5,
            handle_rate=4 / 5,
            on_time_handle_rate=3 / 5,
            rework_rate=1 / 4,
            avg_register_s=300.0,  # (5 + 0 + 10 + 0 + 10 + 5) / 6 min
            avg_dispatch_s=1000.0,  # (15 + 50 + 10 + 10 + 10 + 5) / 6 min
            avg_handle_s=7650.0,  # A1..A4: (80 + 90 + 220 + 120) / 4 min
            avg_verify_s=2250.0,  # (30 + 50 + 20 + 50) / 4 min
        ),
        row(
            B,
            registered=4,  # B1..B4
            due_to_close=3,  # B4 closed + B2 (verify due 760) + B3 (re-handling due 820); B1 suspended
            closed=1,  # B4
            closed_on_time=0,  # B4 was returned late by A
            due_to_handle=3,  # B2 B3 B4 handled; B1 suspended
            handled=3,
            handled_on_time=3,  # B2 700<=730, B3 600<=630, B4 300<=340
            reworked=1,  # B3
            overdue=3,  # B2 open, B3 late and open, B4 late
            overdue_open=2,  # B2 B3
            close_rate=1 / 3,
            on_time_close_rate=0.0,
            handle_rate=1.0,
            on_time_handle_rate=1.0,
            rework_rate=1 / 3,
            avg_register_s=225.0,  # (10 + 0 + 5 + 0) / 4 min
            avg_dispatch_s=825.0,  # (10 + 10 + 5 + 30) / 4 min
            avg_handle_s=10800.0,  # B2 B4: (90 + 270) / 2 min
            avg_verify_s=1800.0,  # B4: 30 min
        ),
    ]


def test_by_street() -> None:
    rows = by_key(evaluate(all_facts(), PERIOD, GroupBy.STREET, AS_OF))
    assert set(rows) == {S1, S2}
    # S1: A1 A2 A5 A6 B3 B4
    assert rows[S1] == row(
        S1,
        registered=6,
        due_to_close=5,  # A1 A2 B4 closed + A5 B3 overdue
        closed=3,
        closed_on_time=1,  # A1
        due_to_handle=5,  # A1 A2 B3 B4 handled + A5
        handled=4,
        handled_on_time=4,
        reworked=1,  # B3
        overdue=4,  # A2 B4 late, A5 open, B3 both
        overdue_open=2,  # A5 B3
        close_rate=3 / 5,
        on_time_close_rate=1 / 5,
        handle_rate=4 / 5,
        on_time_handle_rate=4 / 5,
        rework_rate=1 / 4,
        avg_register_s=250.0,  # (5 + 0 + 10 + 5 + 5 + 0) / 6 min
        avg_dispatch_s=1150.0,  # (15 + 50 + 10 + 5 + 5 + 30) / 6 min
        avg_handle_s=8800.0,  # A1 A2 B4: (80 + 90 + 270) / 3 min
        avg_verify_s=2200.0,  # (30 + 50 + 30) / 3 min
    )
    # S2: A3 A4 B1 B2
    assert rows[S2] == row(
        S2,
        registered=4,
        due_to_close=3,  # A3 A4 closed + B2 overdue
        closed=2,
        closed_on_time=1,  # A4
        due_to_handle=3,  # A3 A4 B2
        handled=3,
        handled_on_time=2,  # A4 B2
        reworked=1,  # A4
        overdue=2,  # A3 late, B2 open
        overdue_open=1,
        close_rate=2 / 3,
        on_time_close_rate=1 / 3,
        handle_rate=1.0,
        on_time_handle_rate=2 / 3,
        rework_rate=1 / 3,
        avg_register_s=300.0,  # (10 + 0 + 10 + 0) / 4 min
        avg_dispatch_s=600.0,  # (10 + 10 + 10 + 10) / 4 min
        avg_handle_s=8600.0,  # (220 + 120 + 90) / 3 min
        avg_verify_s=2100.0,  # (20 + 50) / 2 min
    )


def test_by_category() -> None:
    rows = by_key(evaluate(all_facts(), PERIOD, GroupBy.CATEGORY, AS_OF))
    # C1: A1 A3 A5 B1 B3
    assert rows[C1] == row(
        C1,
        registered=5,
        due_to_close=4,  # A1 A3 closed + A5 B3 overdue
        closed=2,
        closed_on_time=1,  # A1
        due_to_handle=4,  # A1 A3 B3 + A5
        handled=3,
        handled_on_time=2,  # A1 B3
        reworked=1,  # B3
        overdue=3,  # A3 A5 B3
        overdue_open=2,
        close_rate=2 / 4,
        on_time_close_rate=1 / 4,
        handle_rate=3 / 4,
        on_time_handle_rate=2 / 4,
        rework_rate=1 / 3,
        avg_register_s=480.0,  # (5 + 10 + 10 + 10 + 5) / 5 min
        avg_dispatch_s=600.0,  # (15 + 10 + 10 + 10 + 5) / 5 min
        avg_handle_s=9000.0,  # (80 + 220) / 2 min
        avg_verify_s=1500.0,  # (30 + 20) / 2 min
    )
    # C2: A2 A4 A6 B2 B4
    assert rows[C2] == row(
        C2,
        registered=5,
        due_to_close=4,  # A2 A4 B4 closed + B2 overdue
        closed=3,
        closed_on_time=1,  # A4
        due_to_handle=4,  # A2 A4 B2 B4 (A6 within its limit)
        handled=4,
        handled_on_time=4,
        reworked=1,  # A4
        overdue=3,  # A2 B4 late, B2 open
        overdue_open=1,
        close_rate=3 / 4,
        on_time_close_rate=1 / 4,
        handle_rate=1.0,
        on_time_handle_rate=1.0,
        rework_rate=1 / 4,
        avg_register_s=60.0,  # (0 + 0 + 5 + 0 + 0) / 5 min
        avg_dispatch_s=1260.0,  # (50 + 10 + 5 + 10 + 30) / 5 min
        avg_handle_s=8550.0,  # (90 + 120 + 90 + 270) / 4 min
        avg_verify_s=2600.0,  # (50 + 50 + 30) / 3 min
    )


def test_empty_denominators_give_no_rate() -> None:
    a6 = facts_of(crafted()["A6"])  # dispatched, within its handling limit: nothing to judge yet
    assert a6 is not None
    (only,) = evaluate([a6], PERIOD, GroupBy.UNIT, AS_OF)
    assert (only.registered, only.due_to_close, only.due_to_handle, only.handled) == (1, 0, 0, 0)
    assert only.close_rate is None and only.on_time_close_rate is None
    assert only.handle_rate is None and only.on_time_handle_rate is None
    assert only.rework_rate is None
    assert only.avg_handle_s is None and only.avg_verify_s is None
    assert only.avg_dispatch_s == 5 * 60
    # Later, past its limit, the same case is due and counts against the unit.
    (later,) = evaluate([a6], PERIOD, GroupBy.UNIT, at(1231))
    assert (later.due_to_close, later.due_to_handle, later.close_rate, later.handle_rate) == (1, 1, 0.0, 0.0)


def test_the_period_is_by_registration_time() -> None:
    facts = all_facts()
    assert evaluate(facts, Period(at(-1440), T0), GroupBy.UNIT, AS_OF)[0].registered == 1  # X2 alone
    # start included, end excluded: A1 was registered at minute 5, A2 and B2 at 10 and 300
    exact = Period(at(5), at(10))
    assert [(r.key, r.registered) for r in evaluate(facts, exact, GroupBy.UNIT, AS_OF)] == [(A, 1)]
    assert evaluate(facts, Period(at(2000), at(3000)), GroupBy.UNIT, AS_OF) == []


def test_rows_without_a_unit_come_last() -> None:
    returned = run(report(20, A, S1, C1, 0), (1, R), (2, D), (3, Action.RETURN))
    assert returned.unit is None
    facts = [*all_facts(), facts_of(returned)]
    keys = [r.key for r in evaluate([f for f in facts if f is not None], PERIOD, GroupBy.UNIT, AS_OF)]
    assert keys == [A, B, None]


def test_rows_are_plain_data() -> None:
    (first, *_rest) = evaluate(all_facts(), PERIOD, GroupBy.UNIT, AS_OF)
    as_json = msgspec.json.decode(msgspec.json.encode(first))
    assert as_json["key"] == A and as_json["close_rate"] == 0.8


def test_parse_period() -> None:
    now = at(1200)
    today = parse_period("today", now)
    assert (today.start, today.end, today.label) == (T0, T0 + 86400, "today")
    assert parse_period("today", T0 - 1).end == T0  # one second earlier is the day before
    week = parse_period("2026-11-24..2026-11-30", now)
    assert (week.start, week.end) == (T0, T0 + 7 * 86400)
    assert parse_period(" 2026-11-24 ", now) == Period(T0, T0 + 86400, "2026-11-24")
    with pytest.raises(ValueError, match="expected today, YYYY-MM-DD"):
        parse_period("yesterday", now)
    with pytest.raises(ValueError, match="expected today"):
        parse_period("2026-13-01..2026-12-01", now)
    with pytest.raises(ValueError, match=r"ends .* before it starts"):
        parse_period("2026-11-30..2026-11-24", now)


def test_every_definition_has_its_chinese_text() -> None:
    from app.domain.evaluation import DEFINITIONS, DEFINITIONS_ZH

    assert set(DEFINITIONS_ZH) == set(DEFINITIONS)
    assert all(text.strip() for text in DEFINITIONS_ZH.values())
