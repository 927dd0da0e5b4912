"""Every row of the record bound to the audit chain.

Each row of a record table (experiments, events, the access log, and any
later table of the record) carries ``audit_seq``: the chain entry that wrote
it. That entry's details say, per table, how many rows it wrote and a digest
of their content, so the chain vouches for every row; ``sandbox audit verify``
reads every row again and recomputes it all.

A row's text is the ``repr`` of a tuple: its ``audit_seq`` and then its
content columns in table order, each in a canonical form (text, integer or
None): times as UTC ``YYYY-MM-DD HH:MM:SS.ffffff``, JSON as ``json.dumps``
text, booleans as 0 or 1. That is what SQLite stores, so SQLite rows are read
back as they are; other databases' values are brought into that form.

Rows are digested in chunks of ``CHUNK`` (an import may write a million): a
table's digest is the sha256 of its chunks' digests, and the chunk digests
are kept in the entry when there is more than one, so that verify can name
the rows in which something changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Connection, DateTime, Integer, Table, inspect

from .tables import access_log, events, experiments

CHUNK = 4096
SEQ = "audit_seq"
# record tables, and the column that orders their rows within one entry:
# the natural key, or the surrogate key that follows the order of writing
RECORD = {experiments.name: experiments, events.name: events, access_log.name: access_log}
ORDER = {experiments.name: "id", events.name: "id", access_log.name: "id"}


def content_columns(table: Table) -> list[str]:
    """What a row says: every column but the chain's binding and a surrogate key
    (the database picks that when the row is written)."""
    return [c.name for c in table.columns if c.name != SEQ and not _surrogate(c)]


def _surrogate(column: Column[Any]) -> bool:
    return bool(column.primary_key) and isinstance(column.type, Integer)


def _time(value: datetime | str) -> str:
    if isinstance(value, str):  # SQLite's own text, already canonical
        return value
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _boolean(value: Any) -> int | None:
    return None if value is None else int(bool(value))


def canonicalizers(
    table: Table, columns: list[str] | None = None
) -> list[Callable[[Any], Any] | None]:
    """Per content column, what brings a value into canonical form (None: as it is)."""
    found: list[Callable[[Any], Any] | None] = []
    for name in columns or content_columns(table):
        kind = table.c[name].type
        if isinstance(kind, DateTime):
            found.append(_time)
        elif isinstance(kind, JSON):
            found.append(_json)
        elif isinstance(kind, Boolean):
            found.append(_boolean)
        else:
            found.append(None)
    return found


@dataclass
class Digest:
    """The digest of one table's rows in one entry, fed row by row."""

    count: int = 0
    chunks: list[str] = field(default_factory=list)
    _current: Any = field(default_factory=hashlib.sha256, repr=False)

    def add(self, text: str) -> None:
        self._current.update(text.encode())
        self._current.update(b"\n")
        self.count += 1
        if self.count % CHUNK == 0:
            self.chunks.append(self._current.hexdigest())
            self._current = hashlib.sha256()

    def result(self) -> dict[str, Any]:
        chunks = list(self.chunks)
        if self.count % CHUNK or not chunks:
            chunks.append(self._current.hexdigest())
        digest = hashlib.sha256("".join(chunks).encode()).hexdigest()
        covered: dict[str, Any] = {"count": self.count, "digest": digest}
        if len(chunks) > 1:
            covered["chunks"] = chunks
        return covered


def canonical(convert: list[Callable[[Any], Any] | None], values: Sequence[Any]) -> tuple:
    return tuple(f(v) if f and v is not None else v for f, v in zip(convert, values, strict=True))


def row_texts(seq: int, table: Table, rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The text of each row (content values in ``content_columns`` order)."""
    convert = canonicalizers(table)
    for values in rows:
        yield repr((seq, *canonical(convert, values)))


def cover(seq: int, table: Table, rows: Iterable[Sequence[Any]]) -> dict[str, Any]:
    """What an entry records about the rows it writes to ``table`` (in order):
    the columns it hashed (a table may gain columns later), count and digest."""
    digest = Digest()
    for text in row_texts(seq, table, rows):
        digest.add(text)
    return {"columns": content_columns(table), **digest.result()}


def values_of(table: Table, row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[name] for name in content_columns(table))


def in_order(table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows in the order verify reads them: by a natural key, or as written."""
    key = ORDER[table.name]
    return sorted(rows, key=lambda row: row[key]) if key in content_columns(table) else rows


@dataclass(frozen=True)
class RowProblem:
    seq: int | None  # the entry concerned (None: the rows are on no entry)
    table: str
    where: str  # which rows
    message: str

    def __str__(self) -> str:
        return f"{self.table} {self.where}: {self.message}"


@dataclass
class _Group:
    """The rows of one table that one entry claims, as verify reads them."""

    seq: int
    digest: Digest = field(default_factory=Digest)
    chunk_keys: list[tuple[Any, Any]] = field(default_factory=list)
    first: Any = None
    last: Any = None

    def add(self, key: Any, text: str) -> None:
        if self.digest.count % CHUNK == 0:
            self.chunk_keys.append((key, key))
        self.chunk_keys[-1] = (self.chunk_keys[-1][0], key)
        self.first = key if self.first is None else self.first
        self.last = key
        self.digest.add(text)

    def problem(
        self, table: str, recorded: dict[str, Any] | None, on_chain: bool
    ) -> RowProblem | None:
        rows = f"row {self.first}" if self.first == self.last else f"rows {self.first}..{self.last}"
        if not on_chain:
            return RowProblem(self.seq, table, rows, f"name entry {self.seq}, which is not there")
        if recorded is None:
            return RowProblem(self.seq, table, rows, f"entry {self.seq} wrote no rows here")
        found = self.digest.result()
        if found["count"] != recorded["count"]:
            return RowProblem(
                self.seq,
                table,
                rows,
                f"entry {self.seq} wrote {recorded['count']} row(s), {found['count']} are there "
                "(rows deleted or inserted)",
            )
        if found["digest"] != recorded["digest"]:
            mine = found.get("chunks", [found["digest"]])
            theirs = recorded.get("chunks", [recorded["digest"]])
            index = next(i for i, (a, b) in enumerate(zip(mine, theirs, strict=True)) if a != b)
            first, last = self.chunk_keys[index]
            changed = f"row {first}" if first == last else f"rows {first}..{last}"
            return RowProblem(self.seq, table, changed, f"changed since entry {self.seq} wrote it")
        return None


def existing_columns(connection: Connection, table: Table) -> list[str]:
    """The content columns the database holds now (a migration runs before
    later migrations add theirs)."""
    present = {c["name"] for c in inspect(connection).get_columns(table.name)}
    return [name for name in content_columns(table) if name in present]


def read(
    connection: Connection,
    table: Table,
    covers: dict[int, dict[str, Any]] | None = None,
    columns: list[str] | None = None,
) -> tuple[list[_Group], list[Any]]:
    """Every row of ``table``, digested per entry over the columns that entry
    hashed (``covers``; by default all of ``columns``, today's content columns);
    and the keys of rows that are on no entry."""
    columns = columns or content_columns(table)
    key = ORDER[table.name]
    quote = connection.dialect.identifier_preparer.quote
    listed = ", ".join(quote(c) for c in [SEQ, key, *columns])
    result = connection.exec_driver_sql(
        f"SELECT {listed} FROM {quote(table.name)} ORDER BY {quote(SEQ)}, {quote(key)}"
    )
    # SQLite hands back what it stores: the canonical form itself
    convert = None if connection.dialect.name == "sqlite" else canonicalizers(table, columns)
    picks: dict[tuple[str, ...], list[int] | None] = {}
    groups: list[_Group] = []
    unbound: list[Any] = []
    group: _Group | None = None
    pick: list[int] | None = None
    while batch := result.fetchmany(10_000):
        for row in batch:
            seq, row_key, values = row[0], row[1], row[2:]
            if seq is None:
                unbound.append(row_key)
                continue
            if group is None or group.seq != seq:
                group = _Group(seq)
                groups.append(group)
                hashed = tuple((covers or {}).get(seq, {}).get("columns", columns))
                if hashed not in picks:
                    picks[hashed] = _pick(columns, hashed)
                pick = picks[hashed]
            if convert is not None:
                values = canonical(convert, values)
            if pick is not None:
                values = tuple(values[i] if i >= 0 else None for i in pick)
            group.add(row_key, repr((seq, *values)))
    return groups, unbound


def _pick(columns: list[str], hashed: tuple[str, ...]) -> list[int] | None:
    """Where the columns an entry hashed are among today's (None: all of them,
    in order). A column that is gone reads as None (-1), so the digest fails."""
    if list(hashed) == columns:
        return None
    return [columns.index(name) if name in columns else -1 for name in hashed]


def check_table(
    connection: Connection, table: Table, covers: dict[int, dict[str, Any]], chain: set[int]
) -> list[RowProblem]:
    """Read every row of ``table`` and compare it with what the entries recorded
    (``covers``: entry seq -> that entry's record of this table's rows; ``chain``:
    the seqs of every entry)."""
    groups, unbound = read(connection, table, covers)
    problems = [RowProblem(None, table.name, f"row {key}", "is on no entry") for key in unbound]
    for group in groups:
        found = group.problem(table.name, covers.get(group.seq), group.seq in chain)
        if found:
            problems.append(found)
    claimed = {group.seq for group in groups}
    for seq, recorded in covers.items():
        if seq not in claimed and recorded["count"]:
            problems.append(
                RowProblem(
                    seq, table.name, "", f"entry {seq} wrote {recorded['count']} row(s); none left"
                )
            )
    return problems
