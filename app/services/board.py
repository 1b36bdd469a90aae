"""The incident board's queries over the console's local cache, for the board's table model.

The board never copies the cache. It asks for the ordered ids of the incidents that pass its
filter (:meth:`BoardQuery.ids`: one array of integers, 8 MB for a million incidents) and then
for the records of the pages the view shows (:meth:`BoardQuery.rows`). Everything here is
Qt-free; :class:`BoardService` runs the queries on the cache's worker thread.

Order. Every sort breaks ties by incident number, so the order is total and stable between
reloads. Descending is the exact reverse of ascending (ties included). An incident without a
deadline (only finished ones have none) counts as due at the end of time: last when sorting by
deadline ascending.

Speed. The open incidents have an index of their own in the cache
(:data:`app.storage.cache.BOARD_INDEXES`): in deadline order, with the columns the filters
and the usual sorts need. The default board (open incidents by deadline) is read from it in
order, without a sort and without touching the table. A query that also needs the table (a
text search, a sort by source, unit or report count) reads the index first when few rows
pass the index's part of the filter, and otherwise scans the table once in storage order,
which beats a million look-ups in random order. SQLite's planner, left alone, picks a slow
plan for several of these queries, so the access path is chosen here and named in the SQL.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final, Literal, cast, get_args, overload

import msgspec
import numpy as np
import numpy.typing as npt

from app.domain.catalog import Catalog
from app.domain.model import OPEN_STATUSES, Severity, Status
from app.domain.records import FIELDS, Record
from app.storage.cache import BOARD_INDEXES, OPEN_PREDICATE, ConsoleCache

if TYPE_CHECKING:
    from app.services.sync import SyncService

log = logging.getLogger(__name__)

SortColumn = Literal[
    "id", "severity", "category", "street", "source", "status", "unit", "deadline", "merged_count", "updated_at"
]
#: The record fields the board can sort by.
SORT_COLUMNS: Final[tuple[str, ...]] = get_args(SortColumn)
ALL_STATUSES: Final = frozenset(Status)
#: Records fetched per statement by :meth:`BoardQuery.rows`.
ROWS_CHUNK: Final = 500
#: Read the board index and look rows up in the table only when at most this share of the
#: table has to be looked up; above it, one scan of the table in storage order is faster
#: (random look-ups cost about five times a row read in order).
LOOKUP_SHARE: Final = 0.2
#: The key under which :class:`FilterPresets` keeps the presets in the cache's settings.
PRESETS_KEY: Final = "board.presets"

_BOARD_INDEX, _BOARD_INDEX_COLUMNS, _ = BOARD_INDEXES[0]
#: The columns the board index holds (the id is the row id, in every index).
_COVERED: Final = frozenset({"id", *(c.strip() for c in _BOARD_INDEX_COLUMNS.split(","))})
_COLS: Final = ", ".join(FIELDS)
_OVERDUE: Final = f"deadline IS NOT NULL AND deadline < ? AND status <> '{Status.SUSPENDED.value}'"


class BoardFilter(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Which incidents the board shows. Empty sets mean "any"; every dimension narrows.

    ``statuses`` empty means the open statuses (the closed loop's unfinished work): closed,
    invalid and merged incidents show only when named here (:data:`ALL_STATUSES` for all).
    ``text`` matches, ignoring case for Latin letters, a part of the title or of the unit
    (its code, or its name when the query knows the catalog), or the incident number when
    the text is a number."""

    statuses: frozenset[Status] = frozenset()
    streets: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    severities: frozenset[Severity] = frozenset()
    overdue_only: bool = False
    text: str = ""

    @property
    def effective_statuses(self) -> frozenset[Status]:
        """The statuses shown: those named, or the open ones."""
        return self.statuses or OPEN_STATUSES

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON (a saved preset): defaults left out, sets as sorted lists."""
        data = cast(dict[str, Any], msgspec.to_builtins(self))
        return {key: sorted(value) if isinstance(value, list) else value for key, value in data.items()}

    @classmethod
    def from_dict(cls, data: Any) -> BoardFilter:
        """The filter that :meth:`to_dict` gave; raises ValueError naming what is wrong."""
        try:
            return msgspec.convert(data, cls)
        except msgspec.ValidationError as exc:
            raise ValueError(f"not a board filter: {exc}") from None


class BoardSort(msgspec.Struct, frozen=True, kw_only=True):
    """The board's order: one column (see :data:`SORT_COLUMNS`), then the incident number."""

    column: SortColumn = "deadline"
    ascending: bool = True

    def __post_init__(self) -> None:
        if self.column not in SORT_COLUMNS:
            raise ValueError(f"cannot sort the board by {self.column!r}; expected one of {', '.join(SORT_COLUMNS)}")

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "ascending": self.ascending}

    @classmethod
    def from_dict(cls, data: Any) -> BoardSort:
        """The sort that :meth:`to_dict` gave; raises ValueError naming what is wrong."""
        try:
            return msgspec.convert(data, cls)
        except msgspec.ValidationError as exc:
            raise ValueError(f"not a board sort: {exc}") from None


class BoardRows(Sequence[int]):
    """The ordered ids of the incidents that passed a filter, as of one moment: row ``r`` of
    the board shows incident ``rows[r]``, and ``len(rows)`` is the number of rows. Immutable;
    ``ids`` is a read-only int64 array. (A sequence of ints, so a model typed for
    ``Sequence[int]`` takes it as it is.)"""

    def __init__(self, ids: npt.NDArray[np.int64], board_filter: BoardFilter, sort: BoardSort, now: float) -> None:
        ids.flags.writeable = False
        self.ids: Final = ids
        self.filter: Final = board_filter
        self.sort: Final = sort
        self.now: Final = now

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> list[int]: ...
    def __getitem__(self, index: int | slice) -> int | list[int]:
        if isinstance(index, slice):
            return cast(list[int], self.ids[index].tolist())
        return int(self.ids[index])

    def __iter__(self) -> Iterator[int]:
        return iter(cast(list[int], self.ids.tolist()))

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int) and self.position(value) is not None

    def __repr__(self) -> str:
        return f"BoardRows(<{len(self)} ids>, filter={self.filter!r}, sort={self.sort!r})"

    @cached_property
    def _by_id(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp]]:
        """The ids sorted, and the row of each: built on the first look-up (about 0.1 s for a
        million rows), then each look-up is a binary search."""
        order = np.argsort(self.ids, kind="stable")
        return self.ids[order], order

    def position(self, incident_id: int) -> int | None:
        """The row of an incident, or None when it is not on the board."""
        return self.positions((incident_id,)).get(incident_id)

    def positions(self, incident_ids: Iterable[int]) -> dict[int, int]:
        """The rows of those of ``incident_ids`` that are on the board."""
        wanted = np.fromiter(incident_ids, dtype=np.int64)
        if wanted.size == 0 or self.ids.size == 0:
            return {}
        sorted_ids, order = self._by_id
        at = np.minimum(np.searchsorted(sorted_ids, wanted), sorted_ids.size - 1)
        found = sorted_ids[at] == wanted
        return dict(zip(wanted[found].tolist(), order[at[found]].tolist(), strict=True))


@dataclass(frozen=True)
class BoardCounts:
    """The figures of the status bar: every incident in the cache, the open ones, the open ones
    past their stage deadline (suspended ones are not), and the open red and orange ones."""

    total: int
    open: int
    overdue: int
    red: int
    orange: int


class BoardQuery:
    """The board's queries on a console cache. The methods block: run them on the cache's
    worker thread (:class:`BoardService` does)."""

    def __init__(
        self, cache: ConsoleCache, catalog: Catalog | None = None, *, lookup_share: float = LOOKUP_SHARE
    ) -> None:
        self.cache = cache
        self.catalog = catalog
        #: See :data:`LOOKUP_SHARE` (0 or 1 in tests force one access path or the other).
        self.lookup_share = lookup_share

    def ids(self, board_filter: BoardFilter, sort: BoardSort, now: float) -> BoardRows:
        """The ids of the incidents that pass ``board_filter``, in the order of ``sort``;
        ``now`` decides which are overdue."""
        with self.cache._tx() as cur:
            parts = [_fetch_ids(cur, sql, params) for sql, params in self._statements(cur, board_filter, sort, now)]
        return BoardRows(parts[0] if len(parts) == 1 else np.concatenate(parts), board_filter, sort, now)

    def explain(self, board_filter: BoardFilter, sort: BoardSort, now: float) -> list[str]:
        """SQLite's plan for :meth:`ids`, for tests and benchmarks: one text per statement,
        its steps joined by `` | ``."""
        with self.cache._tx() as cur:
            return [
                " | ".join(str(row[3]) for row in cur.execute(f"EXPLAIN QUERY PLAN {sql}", params))
                for sql, params in self._statements(cur, board_filter, sort, now)
            ]

    def rows(self, incident_ids: Sequence[int] | npt.NDArray[np.int64]) -> dict[int, Record]:
        """The records of these incidents (a page of the board), by id; ids no longer in the
        cache are left out."""
        wanted = [int(i) for i in incident_ids]
        found: dict[int, Record] = {}
        with self.cache._tx() as cur:
            for start in range(0, len(wanted), ROWS_CHUNK):
                chunk = wanted[start : start + ROWS_CHUNK]
                marks = ", ".join("?" * len(chunk))
                for row in cur.execute(f"SELECT {_COLS} FROM incidents WHERE id IN ({marks})", chunk):
                    found[int(row[0])] = cast(Record, row)
        return found

    def counts(self, now: float) -> BoardCounts:
        """The status bar's figures as of ``now``."""
        with self.cache._tx() as cur:
            source = f"INDEXED BY {_BOARD_INDEX}" if _BOARD_INDEX in _indexes(cur) else ""
            row = cur.execute(
                f"SELECT count(*), coalesce(sum({_OVERDUE}), 0), coalesce(sum(severity = ?), 0),"
                f" coalesce(sum(severity = ?), 0) FROM incidents {source} WHERE {OPEN_PREDICATE}",
                (now, int(Severity.RED), int(Severity.ORANGE)),
            ).fetchone()
            total = _total(cur)
        return BoardCounts(total=total, open=int(row[0]), overdue=int(row[1]), red=int(row[2]), orange=int(row[3]))

    # -- building the query ----------------------------------------------------------------------
    def _where(self, board_filter: BoardFilter, now: float) -> tuple[_Where, _Where | None]:
        """The filter's terms on the columns of the board index, and the text term apart (it
        needs the table); the open predicate is added later, where it applies."""
        where = _Where()
        statuses = board_filter.effective_statuses
        if statuses != OPEN_STATUSES and statuses != ALL_STATUSES:
            where = where.one_of("status", (s.value for s in statuses))
        if board_filter.streets:
            where = where.one_of("street", board_filter.streets)
        if board_filter.categories:
            where = where.one_of("category", board_filter.categories)
        if board_filter.severities:
            where = where.one_of("severity", (int(s) for s in board_filter.severities))
        if board_filter.overdue_only:
            where = where.plus(_OVERDUE, now)
        text = board_filter.text.strip()
        if not text:
            return where, None
        pattern = f"%{escape_like(text)}%"
        terms = ["title LIKE ? ESCAPE '\\'", "unit LIKE ? ESCAPE '\\'"]
        params: list[Any] = [pattern, pattern]
        units = self._units_named(text)
        if units:
            terms.append(f"unit IN ({', '.join('?' * len(units))})")
            params.extend(units)
        if text.isascii() and text.isdigit():
            terms.append("id = ?")
            params.append(int(text))
        return where, _Where().plus(f"({' OR '.join(terms)})", *params)

    def _units_named(self, text: str) -> list[str]:
        """Codes of the units whose name contains ``text`` (either language)."""
        if self.catalog is None:
            return []
        needle = text.casefold()
        return sorted(
            code
            for code, unit in self.catalog.units.items()
            if needle in unit.name.zh.casefold() or needle in unit.name.en.casefold()
        )

    def _statements(
        self, cur: sqlite3.Cursor, board_filter: BoardFilter, sort: BoardSort, now: float
    ) -> list[tuple[str, tuple[Any, ...]]]:
        """The SELECT statements whose results, one after the other, are the board's ids."""
        where, text = self._where(board_filter, now)
        source, open_only = self._access(cur, board_filter, sort, where, text is not None)
        if open_only:
            where = where.plus(OPEN_PREDICATE)
        if text is not None:
            where = where.plus(text.terms[0], *text.params)
        direction = "" if sort.ascending else " DESC"

        def select(where: _Where, order: str) -> tuple[str, tuple[Any, ...]]:
            return f"SELECT id FROM incidents {source} {where.sql} ORDER BY {order}", where.params

        if sort.column == "id":
            return [select(where, f"id{direction}")]
        if sort.column != "deadline":
            return [select(where, f"{sort.column}{direction}, id{direction}")]
        if source != f"INDEXED BY {_BOARD_INDEX}":
            return [select(where, f"deadline IS NULL{direction}, deadline{direction}, id{direction}")]
        # The index keeps the incidents without a deadline first, and they belong last: read
        # them apart, so that the rest still comes in the index's order.
        due = select(where.plus("deadline IS NOT NULL"), f"deadline{direction}, id{direction}")
        undue = select(where.plus("deadline IS NULL"), f"id{direction}")
        return [due, undue] if sort.ascending else [undue, due]

    def _access(
        self, cur: sqlite3.Cursor, board_filter: BoardFilter, sort: BoardSort, where: _Where, text: bool
    ) -> tuple[str, bool]:
        """How to read the table (the clause after ``FROM incidents``), and whether the open
        predicate goes into the WHERE clause. ``where`` holds the terms on indexed columns;
        ``text`` says whether a text term (which needs the table) comes on top."""
        indexes = _indexes(cur)
        open_only = board_filter.effective_statuses <= OPEN_STATUSES
        if open_only and _BOARD_INDEX in indexes:
            source = f"INDEXED BY {_BOARD_INDEX}"
            if not text and sort.column in _COVERED:
                return source, True  # everything is in the index
            # Rows have to be looked up in the table: worth it only for a few of them.
            if _count(cur, source, where.plus(OPEN_PREDICATE)) <= self.lookup_share * _total(cur):
                return source, True
            return "NOT INDEXED", True
        # Closed incidents are in (or the board index is missing): an index on a filtered
        # column helps when few rows pass.
        candidates: list[tuple[int, str]] = []
        for values, column, index in (
            (board_filter.streets, "street", "ix_incidents_street"),
            (board_filter.categories, "category", "ix_incidents_category_lat"),
        ):
            if values and index in indexes:
                source = f"INDEXED BY {index}"
                candidates.append((_count(cur, source, _Where().one_of(column, values)), source))
        if candidates:
            count, source = min(candidates)
            if count <= self.lookup_share * _total(cur):
                return source, open_only
        return "NOT INDEXED", open_only


@dataclass(frozen=True)
class _Where:
    """The terms of a WHERE clause (joined by AND) and their parameters."""

    terms: tuple[str, ...] = ()
    params: tuple[Any, ...] = ()

    def plus(self, term: str, *params: Any) -> _Where:
        return _Where((*self.terms, term), (*self.params, *params))

    def one_of(self, column: str, values: Iterable[Any]) -> _Where:
        ordered = sorted(values)
        return self.plus(f"{column} IN ({', '.join('?' * len(ordered))})", *ordered)

    @property
    def sql(self) -> str:
        return f"WHERE {' AND '.join(self.terms)}" if self.terms else ""


def escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards (and the escape character) escaped by a backslash."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _indexes(cur: sqlite3.Cursor) -> frozenset[str]:
    rows = cur.execute("SELECT name FROM replica.sqlite_master WHERE type = 'index' AND tbl_name = 'incidents'")
    return frozenset(str(name) for (name,) in rows)


def _count(cur: sqlite3.Cursor, source: str, where: _Where) -> int:
    return int(cur.execute(f"SELECT count(*) FROM incidents {source} {where.sql}", where.params).fetchone()[0])


def _total(cur: sqlite3.Cursor) -> int:
    return int(cur.execute("SELECT count(*) FROM incidents").fetchone()[0])


def _fetch_ids(cur: sqlite3.Cursor, sql: str, params: tuple[Any, ...]) -> npt.NDArray[np.int64]:
    """The ids a ``SELECT id ... ORDER BY ...`` gives, in order, as one array.

    SQLite joins the ids into one text inside a single step (``group_concat`` over the ordered
    subquery) and numpy parses it: about twice as fast as a Python loop over a million result
    rows (0.46 s against 0.86 s), and SQLite works with the GIL released instead of a loop
    contending for it with the event loop's thread.
    An aggregate over a subquery with ORDER BY and nothing else in the FROM clause gets the
    rows in that order (SQLite keeps such an ORDER BY: it is not flattened away, nor dropped
    as superfluous); the tests hold this against a sort done in Python.
    """
    text = cur.execute(f"SELECT group_concat(id) FROM ({sql})", params).fetchone()[0]
    if not text:
        return np.empty(0, dtype=np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")


class FilterPresets:
    """Named board filters (with a sort, when one was saved), kept in the cache's settings as
    JSON. Blocking, like the cache: run on its worker thread."""

    def __init__(self, cache: ConsoleCache) -> None:
        self.cache = cache

    def list(self) -> dict[str, tuple[BoardFilter, BoardSort | None]]:
        """The presets by name, in the order they were first saved. A preset this version
        cannot read (a status that no longer exists, say) is left out, with a warning."""
        presets: dict[str, tuple[BoardFilter, BoardSort | None]] = {}
        for name, saved in self._load().items():
            try:
                board_filter = BoardFilter.from_dict(saved.get("filter", {}))
                sort = None if saved.get("sort") is None else BoardSort.from_dict(saved["sort"])
            except ValueError as exc:
                log.warning("board preset %r cannot be read and is left out: %s", name, exc)
                continue
            presets[name] = (board_filter, sort)
        return presets

    def get(self, name: str) -> tuple[BoardFilter, BoardSort | None] | None:
        return self.list().get(name)

    def save(self, name: str, board_filter: BoardFilter, sort: BoardSort | None = None) -> None:
        """Save (or replace) the preset ``name``."""
        name = name.strip()
        if not name:
            raise ValueError("a preset needs a name")
        presets = self._load()
        presets[name] = {"filter": board_filter.to_dict(), "sort": None if sort is None else sort.to_dict()}
        self._store(presets)

    def delete(self, name: str) -> bool:
        """Delete the preset ``name``; False when there was none."""
        presets = self._load()
        if presets.pop(name, None) is None:
            return False
        self._store(presets)
        return True

    def _load(self) -> dict[str, dict[str, Any]]:
        text = self.cache.get_meta(PRESETS_KEY, "")
        if not text:
            return {}
        try:
            data = msgspec.json.decode(text)
        except msgspec.DecodeError as exc:
            log.warning("the saved board presets cannot be read and are left out: %s", exc)
            return {}
        if not isinstance(data, dict) or not isinstance(data.get("presets"), list):
            log.warning("the saved board presets have an unknown layout and are left out")
            return {}
        return {str(p["name"]): p for p in data["presets"] if isinstance(p, dict) and isinstance(p.get("name"), str)}

    def _store(self, presets: dict[str, dict[str, Any]]) -> None:
        data = {"version": 1, "presets": [{**saved, "name": name} for name, saved in presets.items()]}
        self.cache.set_meta({PRESETS_KEY: msgspec.json.encode(data).decode()})


class BoardService:
    """The board's queries and presets, each run on the cache's worker thread of a
    :class:`~app.services.sync.SyncService`, so the event loop never waits on the database."""

    def __init__(self, sync: SyncService, catalog: Catalog | None = None) -> None:
        self.sync = sync
        self.query = BoardQuery(sync.cache, catalog or sync.catalog)
        self.filter_presets = FilterPresets(sync.cache)

    async def ids(self, board_filter: BoardFilter, sort: BoardSort, now: float | None = None) -> BoardRows:
        """See :meth:`BoardQuery.ids`; ``now`` defaults to the sync service's clock."""
        return await self.sync.db(self.query.ids, board_filter, sort, self.sync.clock() if now is None else now)

    async def rows(self, incident_ids: Sequence[int]) -> dict[int, Record]:
        return await self.sync.db(self.query.rows, list(incident_ids))

    async def counts(self, now: float | None = None) -> BoardCounts:
        return await self.sync.db(self.query.counts, self.sync.clock() if now is None else now)

    async def presets(self) -> dict[str, tuple[BoardFilter, BoardSort | None]]:
        """The saved presets by name (see :meth:`FilterPresets.list`)."""
        return await self.sync.db(self.filter_presets.list)

    async def save_preset(
        self, name: str, board_filter: BoardFilter, sort: BoardSort | None = None
    ) -> dict[str, tuple[BoardFilter, BoardSort | None]]:
        """Save (or replace) a preset; returns the presets after the change."""
        await self.sync.db(self.filter_presets.save, name, board_filter, sort)
        return await self.presets()

    async def delete_preset(self, name: str) -> dict[str, tuple[BoardFilter, BoardSort | None]]:
        """Delete a preset (if there is one); returns the presets after the change."""
        await self.sync.db(self.filter_presets.delete, name)
        return await self.presets()
