"""The incident board's queries on a real console cache (SQLite files in a temporary folder),
held against a plain Python oracle over the same incidents: every filter dimension and their
combinations, every sort both ways with ties broken by number, overdue (suspended never is),
text search with LIKE's wildcards, pages of records, the status bar's counts, saved presets,
and the access paths the query picks (the board index, a table scan, the street index)."""

from __future__ import annotations

import random
import sqlite3
import string
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest

from app.domain import workflow
from app.domain.catalog import Catalog
from app.domain.intake import Report, merge_report, open_incident
from app.domain.model import OPEN_STATUSES, Action, Incident, Severity, SourceChannel, Status
from app.domain.permissions import Principal, Role
from app.domain.records import IDX, Record, to_record
from app.services.board import (
    ALL_STATUSES,
    PRESETS_KEY,
    SORT_COLUMNS,
    BoardCounts,
    BoardFilter,
    BoardQuery,
    BoardRows,
    BoardService,
    BoardSort,
    FilterPresets,
    escape_like,
)
from app.services.sync import SyncService
from app.storage.cache import ConsoleCache
from app.storage.catalog_file import read_catalog

T0 = 1_700_000_000.0
MIN = 60.0
#: The board's "now": some incidents are past their stage deadline, some are not.
NOW = T0 + 45 * MIN
N = 360
ACTOR = "officer.li"

#: The state each incident is brought to, in turn; "returned" is registered with no unit.
TARGETS = (
    "reported",
    "registered",
    "dispatched",
    "handling",
    "handled",
    "suspended",
    "closed",
    "invalid",
    "merged",
    "returned",
    "dispatched",
    "handling",
)
#: Titles that look alike to an unescaped LIKE.
SPECIAL_TITLES = {
    3: "水位 100% 超限 water level 100%",
    4: "水位 1000 正常",
    5: "管道 a_b 渗漏",
    6: "管道 axb 渗漏",
    7: "路径 C:\\temp 标记",
    8: "Manhole COVER missing",
}


def make_incidents(catalog: Catalog) -> list[Incident]:
    """Incidents as intake opens them and the workflow moves them, across every state, street,
    severity and channel; many share a deadline, a category or a street (ties)."""
    codes = sorted(catalog.categories)
    streets = sorted(catalog.streets)
    channels = [c for c in SourceChannel if c is not SourceChannel.CITIZEN]
    incidents: list[Incident] = []
    for i in range(1, N + 1):
        target = TARGETS[i % len(TARGETS)]
        code = codes[(i * 7) % len(codes)]
        street = catalog.streets[streets[i % len(streets)]]
        observed = T0 + (i % 9) * 5 * MIN
        report = Report(
            report_id=f"r{i}",
            # A citizen's report waits to be registered; the others may register by themselves.
            source=SourceChannel.CITIZEN if target == "reported" else channels[i % len(channels)],
            category=code,
            title=SPECIAL_TITLES.get(i, f"{catalog.categories[code].name.zh} 第{i}号"),
            lon=street.center[0] + (i % 5) * 1e-4,
            lat=street.center[1] + (i % 3) * 1e-4,
            street=street.code,
            observed_at=observed,
            severity=Severity(i % 4 + 1) if i % 3 == 0 else None,
        )
        incident = open_incident(report, i, catalog, observed + MIN)
        at = observed + 2 * MIN
        for extra in range(i % 4 if i % 5 == 0 else 0):
            more = msgspec.structs.replace(report, report_id=f"r{i}-{extra}", observed_at=at)
            incident = merge_report(incident, more, catalog, at)
        steps: list[tuple[Action, dict[str, Any]]] = []
        if target != "reported" and incident.status is Status.REPORTED:
            steps.append((Action.REGISTER, {}))
        # Half the suspended ones are suspended while waiting for dispatch (short deadlines).
        dispatched_first = target != "suspended" or (i // len(TARGETS)) % 2 == 1
        if target in ("dispatched", "handling", "handled", "closed", "suspended", "returned") and dispatched_first:
            steps.append((Action.DISPATCH, {"unit": incident.unit or catalog.route(code, street.code)}))
        if target in ("handling", "handled", "closed"):
            steps.append((Action.ACCEPT, {}))
        if target in ("handled", "closed"):
            steps.append((Action.FEEDBACK, {}))
        follow = {
            "closed": (Action.VERIFY, {}),
            "suspended": (Action.SUSPEND, {}),
            "invalid": (Action.INVALIDATE, {}),
            "merged": (Action.MERGE, {"target_id": 1}),
            "returned": (Action.RETURN, {}),
        }
        if target in follow:
            steps.append(follow[target])
        if i % 11 == 0 and target not in ("closed", "invalid", "merged"):
            steps.append((Action.SUPERVISE, {}))
        for action, kw in steps:
            incident = workflow.apply(incident, action, actor=ACTOR, at=at, standard=catalog.standard_for(code), **kw)
            at += 3 * MIN
        incidents.append(incident)
    return incidents


def snapshot(cache: ConsoleCache, records: list[Record]) -> None:
    cache.begin_snapshot()
    for start in range(0, len(records), 100):
        cache.insert_snapshot(records[start : start + 100])
    cache.end_snapshot(len(records), lambda incident, _command: incident)


def replica_sql(cache: ConsoleCache, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(cache.replica)) as conn:
        rows = conn.execute(sql).fetchall()
        conn.commit()
        return rows


# ---- the oracle ----------------------------------------------------------------------------


def _ascii_fold(text: str) -> str:
    """SQLite's LIKE ignores case for Latin letters only."""
    return text.translate(str.maketrans(string.ascii_uppercase, string.ascii_lowercase))


def passes(incident: Incident, f: BoardFilter, now: float, catalog: Catalog | None) -> bool:
    if incident.status not in (f.statuses or OPEN_STATUSES):
        return False
    if f.streets and incident.location.street not in f.streets:
        return False
    if f.categories and incident.category not in f.categories:
        return False
    if f.severities and incident.severity not in f.severities:
        return False
    if f.overdue_only and not incident.overdue(now):
        return False
    text = f.text.strip()
    if not text:
        return True
    needle = _ascii_fold(text)
    unit = incident.unit or ""
    named = (
        catalog is not None
        and unit in catalog.units
        and (
            text.casefold() in catalog.units[unit].name.zh.casefold()
            or text.casefold() in catalog.units[unit].name.en.casefold()
        )
    )
    return (
        needle in _ascii_fold(incident.title)
        or needle in _ascii_fold(unit)
        or named
        or (text.isascii() and text.isdigit() and incident.id == int(text))
    )


def sort_key(record: Record, column: str) -> tuple[Any, ...]:
    value = record[IDX[column]]
    if column == "deadline":  # no deadline: due at the end of time
        return (value is None, value or 0.0, record[0])
    if column == "unit":  # no unit sorts first, as SQLite puts NULL
        return (value is not None, value or "", record[0])
    return (value, record[0])


def expected(
    incidents: list[Incident], f: BoardFilter, sort: BoardSort, now: float = NOW, catalog: Catalog | None = None
) -> list[int]:
    records = [to_record(i, 0) for i in incidents if passes(i, f, now, catalog)]
    ordered = [r[0] for r in sorted(records, key=lambda r: sort_key(r, sort.column))]
    return ordered if sort.ascending else ordered[::-1]


# ---- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return read_catalog()


@pytest.fixture(scope="module")
def incidents(catalog: Catalog) -> list[Incident]:
    return make_incidents(catalog)


@pytest.fixture(scope="module", params=["board index", "table scan", "no board index"])
def query(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, incidents: list[Incident]
) -> Iterator[BoardQuery]:
    """The board's query over a cache holding ``incidents``, forced onto one access path:
    the board index whenever it can serve, a table scan whenever rows must be looked up, or
    a replica without the board index (one made before it existed)."""
    cache = ConsoleCache(tmp_path_factory.mktemp("board") / "console.db")
    snapshot(cache, [to_record(i, 7) for i in incidents])
    if request.param == "no board index":
        replica_sql(cache, "DROP INDEX ix_board_open")
    share = {"board index": 1.0, "table scan": 0.0}.get(request.param, 0.2)
    yield BoardQuery(cache, lookup_share=share)
    cache.close()


@pytest.fixture
def cache(tmp_path: Path, incidents: list[Incident]) -> Iterator[ConsoleCache]:
    c = ConsoleCache(tmp_path / "console.db")
    snapshot(c, [to_record(i, 7) for i in incidents])
    yield c
    c.close()


# ---- the data itself -----------------------------------------------------------------------


def test_the_incidents_cover_what_the_board_tells_apart(incidents: list[Incident], catalog: Catalog) -> None:
    assert {i.status for i in incidents} == set(Status)
    assert {i.severity for i in incidents} == set(Severity)
    assert {i.source for i in incidents} == set(SourceChannel)
    assert len({i.location.street for i in incidents}) == len(catalog.streets)
    assert any(i.unit is None for i in incidents)
    assert len({len(i.merged) for i in incidents}) > 2
    assert any(i.overdue(NOW) for i in incidents)
    assert any(i.is_open and i.current_deadline and not i.overdue(NOW) for i in incidents)
    assert any(i.status is Status.SUSPENDED and i.current_deadline and i.current_deadline < NOW for i in incidents)
    deadlines = [i.current_deadline for i in incidents if i.current_deadline is not None]
    assert len(deadlines) > len(set(deadlines))  # ties


# ---- filters -------------------------------------------------------------------------------

CAOYANG, CHANGFENG = "310107005", "310107014"
FILTERS = {
    "default (open)": BoardFilter(),
    "one status": BoardFilter(statuses=frozenset({Status.DISPATCHED})),
    "suspended": BoardFilter(statuses=frozenset({Status.SUSPENDED})),
    "two open statuses": BoardFilter(statuses=frozenset({Status.REPORTED, Status.HANDLED})),
    "closed": BoardFilter(statuses=frozenset({Status.CLOSED})),
    "finished": BoardFilter(statuses=frozenset({Status.CLOSED, Status.INVALID, Status.MERGED})),
    "open and closed": BoardFilter(statuses=OPEN_STATUSES | {Status.CLOSED}),
    "all": BoardFilter(statuses=ALL_STATUSES),
    "street": BoardFilter(streets=frozenset({CAOYANG})),
    "two streets": BoardFilter(streets=frozenset({CAOYANG, CHANGFENG})),
    "category": BoardFilter(categories=frozenset({"facilities.manhole_cover"})),
    "categories": BoardFilter(categories=frozenset({"facilities.manhole_cover", "facilities.road_damage"})),
    "red": BoardFilter(severities=frozenset({Severity.RED})),
    "red and orange": BoardFilter(severities=frozenset({Severity.RED, Severity.ORANGE})),
    "overdue": BoardFilter(overdue_only=True),
    "overdue of all": BoardFilter(overdue_only=True, statuses=ALL_STATUSES),
    "text": BoardFilter(text="第1"),
    "text all": BoardFilter(text="第1", statuses=ALL_STATUSES),
    "text digits": BoardFilter(text="12", statuses=ALL_STATUSES),
    "text percent": BoardFilter(text="100%", statuses=ALL_STATUSES),
    "text underscore": BoardFilter(text="a_b", statuses=ALL_STATUSES),
    "text backslash": BoardFilter(text="C:\\temp", statuses=ALL_STATUSES),
    "text case": BoardFilter(text="manhole cover", statuses=ALL_STATUSES),
    "text unit code": BoardFilter(text="OPS", statuses=ALL_STATUSES),
    "text no match": BoardFilter(text="无此事件"),
    "street, severity, overdue": BoardFilter(
        streets=frozenset({CAOYANG, CHANGFENG}), severities=frozenset({Severity.ORANGE}), overdue_only=True
    ),
    "all statuses, street, text": BoardFilter(statuses=ALL_STATUSES, streets=frozenset({CAOYANG}), text="第"),
    "closed, category": BoardFilter(  # incident 6's category: it is closed
        statuses=frozenset({Status.CLOSED}), categories=frozenset({sorted(read_catalog().categories)[6 * 7 % 59]})
    ),
    "everything": BoardFilter(
        statuses=frozenset({Status.REPORTED, Status.REGISTERED, Status.SUSPENDED}),
        streets=frozenset(
            {CAOYANG, CHANGFENG, "310107015", "310107016", "310107017", "310107020", "310107021", "310107022"}
        ),
        categories=frozenset(c for c in read_catalog().categories if not c.startswith("traffic")),
        severities=frozenset({Severity.ORANGE, Severity.YELLOW, Severity.BLUE}),
        overdue_only=True,
        text="第",
    ),
}


@pytest.mark.parametrize("name", FILTERS)
def test_filter(query: BoardQuery, incidents: list[Incident], name: str) -> None:
    board_filter = FILTERS[name]
    rows = query.ids(board_filter, BoardSort(), NOW)
    assert list(rows) == expected(incidents, board_filter, BoardSort())
    assert rows.filter == board_filter and rows.now == NOW


def test_every_filter_dimension_narrows(incidents: list[Incident]) -> None:
    """The oracle's own sanity: each case selects some incidents but not all of them."""
    everything = len([i for i in incidents if i.is_open])
    for name, board_filter in FILTERS.items():
        found = len(expected(incidents, board_filter, BoardSort()))
        if name == "text no match":
            assert found == 0
        elif name not in (
            "default (open)",
            "all",
            "open and closed",
            "overdue of all",
            "text all",
            "finished",
            "closed",
        ):
            assert 0 < found < everything, name
        else:
            assert found > 0, name


# ---- sorting -------------------------------------------------------------------------------

SORT_FILTERS = {
    "open": BoardFilter(),
    "all": BoardFilter(statuses=ALL_STATUSES),
    "text": BoardFilter(text="第", statuses=ALL_STATUSES),
    "street": BoardFilter(streets=frozenset({CAOYANG, CHANGFENG}), statuses=ALL_STATUSES),
}


@pytest.mark.parametrize("ascending", [True, False], ids=["asc", "desc"])
@pytest.mark.parametrize("column", SORT_COLUMNS)
@pytest.mark.parametrize("which", SORT_FILTERS)
def test_sort(query: BoardQuery, incidents: list[Incident], which: str, column: str, ascending: bool) -> None:
    sort = BoardSort(column=column, ascending=ascending)  # type: ignore[arg-type]
    board_filter = SORT_FILTERS[which]
    assert list(query.ids(board_filter, sort, NOW)) == expected(incidents, board_filter, sort)


@pytest.mark.parametrize("column", SORT_COLUMNS)
def test_descending_is_the_exact_reverse_of_ascending(query: BoardQuery, column: str) -> None:
    every = BoardFilter(statuses=ALL_STATUSES)
    up = query.ids(every, BoardSort(column=column), NOW)  # type: ignore[arg-type]
    down = query.ids(every, BoardSort(column=column, ascending=False), NOW)  # type: ignore[arg-type]
    assert list(down) == list(up)[::-1]
    assert len(up) == N


def test_ties_are_broken_by_number(query: BoardQuery, incidents: list[Incident]) -> None:
    rows = list(query.ids(BoardFilter(statuses=ALL_STATUSES), BoardSort(column="severity"), NOW))
    by_id = {i.id: i for i in incidents}
    for level in Severity:
        same = [i for i in rows if by_id[i].severity is level]
        assert same == sorted(same) and len(same) > 1


def test_incidents_without_a_deadline_come_last(query: BoardQuery, incidents: list[Incident]) -> None:
    rows = list(query.ids(BoardFilter(statuses=ALL_STATUSES), BoardSort(), NOW))
    by_id = {i.id: i for i in incidents}
    deadlines = [by_id[i].current_deadline for i in rows]
    first_none = deadlines.index(None)
    assert all(d is not None for d in deadlines[:first_none])
    assert all(d is None for d in deadlines[first_none:])
    assert rows[first_none:] == sorted(rows[first_none:])


def test_many_rows_keep_their_order(tmp_path: Path, incidents: list[Incident]) -> None:
    """Twenty thousand incidents with many ties: the order SQLite hands to ``group_concat`` is
    the order asked for, on every access path."""
    rng = random.Random(5)
    templates = [to_record(i, 1) for i in incidents]
    statuses = [s.value for s in Status]
    records: list[Record] = []
    for n in range(1, 20_001):
        t = list(templates[n % len(templates)])
        t[0] = n
        t[IDX["status"]] = statuses[rng.randrange(len(statuses))]
        t[IDX["deadline"]] = None if rng.random() < 0.1 else T0 + rng.randrange(500) * MIN
        t[IDX["updated_at"]] = T0 + rng.randrange(2000)
        t[IDX["severity"]] = rng.randrange(1, 5)
        records.append(tuple(t))  # type: ignore[arg-type]
    cache = ConsoleCache(tmp_path / "many.db")
    try:
        snapshot(cache, records)
        for share in (0.0, 1.0):
            query = BoardQuery(cache, lookup_share=share)
            for board_filter in (BoardFilter(), BoardFilter(statuses=ALL_STATUSES), BoardFilter(text="第")):
                for column in ("deadline", "updated_at", "severity", "status", "unit"):
                    for ascending in (True, False):
                        sort = BoardSort(column=column, ascending=ascending)  # type: ignore[arg-type]
                        wanted_status = board_filter.statuses or OPEN_STATUSES
                        chosen = [
                            r
                            for r in records
                            if r[IDX["status"]] in wanted_status
                            and (not board_filter.text or board_filter.text in r[IDX["title"]])
                        ]
                        want = [r[0] for r in sorted(chosen, key=lambda r: sort_key(r, column))]
                        got = query.ids(board_filter, sort, NOW)
                        assert list(got) == (want if ascending else want[::-1])
    finally:
        cache.close()


def test_a_sort_on_a_column_the_board_does_not_show_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot sort the board by 'title'"):
        BoardSort(column="title")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a board sort"):
        BoardSort.from_dict({"column": "detail"})


# ---- overdue -------------------------------------------------------------------------------


def test_overdue_follows_the_domain_and_never_counts_suspended(query: BoardQuery, incidents: list[Incident]) -> None:
    every = BoardFilter(overdue_only=True, statuses=ALL_STATUSES)
    found = set(query.ids(every, BoardSort(), NOW))
    assert found == {i.id for i in incidents if i.overdue(NOW)}
    suspended_late = [
        i.id for i in incidents if i.status is Status.SUSPENDED and i.current_deadline and i.current_deadline < NOW
    ]
    assert suspended_late and not found & set(suspended_late)
    assert all(i.current_deadline is not None for i in incidents if i.id in found)


def test_overdue_depends_on_now(query: BoardQuery, incidents: list[Incident]) -> None:
    late = BoardFilter(overdue_only=True)
    deadlines = sorted({d for i in incidents if i.is_open and (d := i.current_deadline) is not None})
    assert len(query.ids(late, BoardSort(), deadlines[0] - 1)) == 0
    # Due exactly now is not yet overdue (``now > due`` in the domain).
    at_first = {i.id for i in incidents if i.is_open and i.current_deadline == deadlines[0]}
    assert not at_first & set(query.ids(late, BoardSort(), deadlines[0]))
    later = query.ids(late, BoardSort(), deadlines[-1] + 1)
    assert set(later) == {i.id for i in incidents if i.is_open and i.status is not Status.SUSPENDED}


# ---- text ----------------------------------------------------------------------------------


def test_like_wildcards_in_the_text_are_plain_characters(query: BoardQuery, incidents: list[Incident]) -> None:
    every = ALL_STATUSES
    assert list(query.ids(BoardFilter(statuses=every, text="100%"), BoardSort(), NOW)) == [3]
    assert list(query.ids(BoardFilter(statuses=every, text="a_b"), BoardSort(), NOW)) == [5]
    assert list(query.ids(BoardFilter(statuses=every, text="C:\\temp"), BoardSort(), NOW)) == [7]
    assert list(query.ids(BoardFilter(statuses=every, text="%"), BoardSort(), NOW)) == [3]
    # A lone underscore is a character: titles and unit codes (``district_ops``) with one.
    underscored = query.ids(BoardFilter(statuses=every, text="_"), BoardSort(), NOW)
    by_id = {i.id: i for i in incidents}
    assert set(underscored) == {i for i, x in by_id.items() if "_" in x.title or "_" in (x.unit or "")}
    assert 5 in underscored
    assert escape_like("5%_a\\b") == "5\\%\\_a\\\\b"


def test_a_number_finds_the_incident_by_number(query: BoardQuery, incidents: list[Incident]) -> None:
    target = next(i for i in incidents if i.id == 7)
    assert "7" not in target.title
    found = query.ids(BoardFilter(statuses=ALL_STATUSES, text=" 7 "), BoardSort(), NOW)
    assert 7 in found
    assert 17 in found  # a title with 第17号 matches too


def test_text_finds_a_unit_by_its_name_when_the_query_knows_the_catalog(
    query: BoardQuery, incidents: list[Incident], catalog: Catalog
) -> None:
    unit = next(i.unit for i in incidents if i.unit and i.status is Status.DISPATCHED)
    assert unit is not None
    name = catalog.units[unit].name.zh
    every = BoardFilter(statuses=ALL_STATUSES, text=name)
    named = BoardQuery(query.cache, catalog, lookup_share=query.lookup_share)
    found = list(named.ids(every, BoardSort(), NOW))
    assert found == expected(incidents, every, BoardSort(), catalog=catalog)
    assert {i.id for i in incidents if i.unit == unit} <= set(found)
    assert list(query.ids(every, BoardSort(), NOW)) == expected(incidents, every, BoardSort())


# ---- pages and counts ----------------------------------------------------------------------


def test_rows_fetches_a_page_and_leaves_out_missing_ids(query: BoardQuery, incidents: list[Incident]) -> None:
    page = list(query.ids(BoardFilter(), BoardSort(), NOW))[10:30]
    records = query.rows([*page, 999_999, -1])
    assert set(records) == set(page)
    by_id = {i.id: i for i in incidents}
    for incident_id, record in records.items():
        assert record == to_record(by_id[incident_id], 7)
    assert query.rows([]) == {}


def test_rows_fetches_more_than_one_chunk(query: BoardQuery, incidents: list[Incident]) -> None:
    wanted = list(range(1, 1201))  # more than two chunks, most of them missing
    records = query.rows(np.array(wanted, dtype=np.int64))
    assert set(records) == {i.id for i in incidents}
    assert all(isinstance(k, int) for k in records)


def test_counts(query: BoardQuery, incidents: list[Incident]) -> None:
    open_ = [i for i in incidents if i.is_open]
    assert query.counts(NOW) == BoardCounts(
        total=N,
        open=len(open_),
        overdue=sum(i.overdue(NOW) for i in open_),
        red=sum(i.severity is Severity.RED for i in open_),
        orange=sum(i.severity is Severity.ORANGE for i in open_),
    )
    assert query.counts(T0 - 1).overdue == 0


def test_an_empty_cache(tmp_path: Path) -> None:
    cache = ConsoleCache(tmp_path / "empty.db")
    try:
        query = BoardQuery(cache)
        rows = query.ids(BoardFilter(), BoardSort(), NOW)
        assert len(rows) == 0 and not rows and list(rows) == [] and rows.ids.dtype == np.int64
        assert query.counts(NOW) == BoardCounts(0, 0, 0, 0, 0)
        assert query.rows([1, 2]) == {}
    finally:
        cache.close()


# ---- the rows object -------------------------------------------------------------------------


def test_board_rows_is_a_read_only_sequence_with_positions(query: BoardQuery) -> None:
    rows = query.ids(BoardFilter(statuses=ALL_STATUSES), BoardSort(column="updated_at", ascending=False), NOW)
    as_list = list(rows)
    assert len(rows) == N == len(as_list)
    assert rows[0] == as_list[0] and isinstance(rows[0], int) and rows[-1] == as_list[-1]
    assert rows[5:9] == as_list[5:9] and all(isinstance(i, int) for i in rows[5:9])
    assert rows.position(as_list[17]) == 17
    assert rows.position(999_999) is None
    assert rows.positions([as_list[3], 999_999, as_list[300]]) == {as_list[3]: 3, as_list[300]: 300}
    assert rows.positions([]) == {}
    assert as_list[42] in rows and 999_999 not in rows and "1" not in rows
    with pytest.raises(ValueError):
        rows.ids[0] = 1
    with pytest.raises(IndexError):
        rows[N]
    assert "360 ids" in repr(rows)


# ---- access paths ----------------------------------------------------------------------------


def test_the_default_board_is_read_in_order_from_the_board_index(cache: ConsoleCache) -> None:
    query = BoardQuery(cache)
    for sort in (BoardSort(), BoardSort(ascending=False)):
        due, undue = query.explain(BoardFilter(), sort, NOW)[:: 1 if sort.ascending else -1]
        assert "COVERING INDEX ix_board_open" in due
        assert "USE TEMP B-TREE FOR ORDER BY" not in due  # at most the ties get sorted
        assert "COVERING INDEX ix_board_open (deadline=?)" in undue  # none there, in practice
    filtered = BoardFilter(
        statuses=frozenset({Status.DISPATCHED}),
        streets=frozenset({CAOYANG}),
        categories=frozenset({"facilities.manhole_cover"}),
        severities=frozenset({Severity.ORANGE}),
        overdue_only=True,
    )
    for column in ("deadline", "updated_at", "severity", "street", "category", "status", "id"):
        plan = " | ".join(query.explain(filtered, BoardSort(column=column), NOW))  # type: ignore[arg-type]
        assert "COVERING INDEX ix_board_open" in plan, column


def test_lookups_go_through_the_board_index_only_when_few(cache: ConsoleCache) -> None:
    text = BoardFilter(text="第")
    assert "INDEX ix_board_open" in " ".join(BoardQuery(cache, lookup_share=1.0).explain(text, BoardSort(), NOW))
    scan = BoardQuery(cache, lookup_share=0.0).explain(text, BoardSort(column="source"), NOW)
    assert scan == ["SCAN incidents | USE TEMP B-TREE FOR ORDER BY"]


def test_with_closed_incidents_a_street_filter_uses_the_street_index_when_few(cache: ConsoleCache) -> None:
    street = BoardFilter(statuses=ALL_STATUSES, streets=frozenset({CAOYANG}))
    assert "ix_incidents_street" in " ".join(BoardQuery(cache).explain(street, BoardSort(), NOW))
    assert BoardQuery(cache, lookup_share=0.0).explain(street, BoardSort(), NOW)[0].startswith("SCAN incidents |")


def test_the_board_index_is_built_with_the_snapshot_and_for_an_older_replica(cache: ConsoleCache) -> None:
    index = "SELECT sql FROM sqlite_master WHERE name = 'ix_board_open'"
    (sql,) = replica_sql(cache, index)[0]
    assert "WHERE status <> 'closed' AND status <> 'invalid' AND status <> 'merged'" in sql
    path = cache.path
    cache.close()
    replica_sql(cache, "DROP INDEX ix_board_open")
    reopened = ConsoleCache(path)
    try:
        assert replica_sql(reopened, index)
        assert len(BoardQuery(reopened).ids(BoardFilter(), BoardSort(), NOW)) > 0
    finally:
        reopened.close()


# ---- filters as data, presets ----------------------------------------------------------------


def test_filter_and_sort_round_trip_through_plain_data() -> None:
    board_filter = FILTERS["everything"]
    data = board_filter.to_dict()
    assert data["statuses"] == sorted(s.value for s in board_filter.statuses)
    assert data["severities"] == [2, 3, 4]
    assert BoardFilter.from_dict(msgspec.json.decode(msgspec.json.encode(data))) == board_filter
    assert BoardFilter().to_dict() == {}
    assert BoardFilter.from_dict({}) == BoardFilter()
    sort = BoardSort(column="updated_at", ascending=False)
    assert BoardSort.from_dict(sort.to_dict()) == sort
    with pytest.raises(ValueError, match="not a board filter"):
        BoardFilter.from_dict({"statuses": ["lost"]})
    with pytest.raises(ValueError, match="not a board filter"):
        BoardFilter.from_dict({"severities": [9]})
    assert BoardFilter().effective_statuses == OPEN_STATUSES


def test_presets_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "console.db"
    cache = ConsoleCache(path)
    presets = FilterPresets(cache)
    assert presets.list() == {}
    late = BoardFilter(overdue_only=True, severities=frozenset({Severity.RED}))
    mine = BoardFilter(streets=frozenset({CAOYANG}), text="井盖")
    presets.save("超期红色", late, BoardSort(column="updated_at", ascending=False))
    presets.save("曹杨 manholes", mine)
    presets.save("  超期红色 ", late)  # replaced in place, the name trimmed
    assert presets.list() == {"超期红色": (late, None), "曹杨 manholes": (mine, None)}
    assert list(presets.list()) == ["超期红色", "曹杨 manholes"]
    assert presets.get("曹杨 manholes") == (mine, None)
    assert presets.get("none") is None
    with pytest.raises(ValueError, match="needs a name"):
        presets.save(" ", late)
    cache.close()

    cache = ConsoleCache(path)  # presets live in the cache's own file, across restarts
    presets = FilterPresets(cache)
    assert list(presets.list()) == ["超期红色", "曹杨 manholes"]
    assert presets.delete("超期红色") is True
    assert presets.delete("超期红色") is False
    assert presets.list() == {"曹杨 manholes": (mine, None)}
    cache.close()


def test_unreadable_presets_are_left_out(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = ConsoleCache(tmp_path / "console.db")
    try:
        presets = FilterPresets(cache)
        good = BoardFilter(text="x")
        cache.set_meta(
            {
                PRESETS_KEY: msgspec.json.encode(
                    {
                        "version": 1,
                        "presets": [
                            {"name": "old", "filter": {"statuses": ["archived"]}, "sort": None},
                            {"name": "good", "filter": good.to_dict(), "sort": {"column": "id", "ascending": False}},
                            {"filter": {}},
                        ],
                    }
                ).decode()
            }
        )
        assert presets.list() == {"good": (good, BoardSort(column="id", ascending=False))}
        assert "'old' cannot be read" in caplog.text
        cache.set_meta({PRESETS_KEY: "{not json"})
        assert presets.list() == {}
        presets.save("fresh", good)  # a broken store is replaced, not fatal
        assert list(presets.list()) == ["fresh"]
    finally:
        cache.close()


# ---- the async service ---------------------------------------------------------------------


async def test_board_service_runs_on_the_cache_worker(
    cache: ConsoleCache, catalog: Catalog, incidents: list[Incident]
) -> None:
    sync = SyncService(
        "http://127.0.0.1:9", "token", Principal("officer.li", Role.DISTRICT_OFFICER), cache, catalog, clock=lambda: NOW
    )
    try:
        board = BoardService(sync)
        rows = await board.ids(BoardFilter(), BoardSort())
        assert isinstance(rows, BoardRows) and rows.now == NOW
        assert list(rows) == expected(incidents, BoardFilter(), BoardSort())
        page = await board.rows(rows[:5])
        assert set(page) == set(rows[:5])
        counts = await board.counts()
        assert counts.open == len(rows)
        assert await board.presets() == {}
        saved = await board.save_preset("late", BoardFilter(overdue_only=True))
        assert saved == {"late": (BoardFilter(overdue_only=True), None)}
        assert await board.delete_preset("late") == {}
        # The service knows the catalog: a unit's name finds its incidents.
        unit = next(i.unit for i in incidents if i.unit and i.is_open)
        assert unit is not None
        named = await board.ids(BoardFilter(text=catalog.units[unit].name.en), BoardSort())
        assert {i.id for i in incidents if i.unit == unit and i.is_open} <= set(named)
    finally:
        await sync.stop()
