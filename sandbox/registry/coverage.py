"""Every row of the record bound to the audit chain.

Each row of a record table (experiments, events, the access log, and any
later table of the record) carries ``audit_seq``: the chain entry that wrote
it. That entry's details say, per table, which columns it hashed, how many
rows it wrote and a digest of their content, so the chain vouches for every
row; ``sandbox audit verify`` reads every row again and recomputes it all.

A row is a tuple of its content columns in table order, each in a canonical
form (text, integer or None: times as UTC ``YYYY-MM-DD HH:MM:SS.ffffff``,
JSON as ``json.dumps`` text, booleans as 0 or 1), and last its
``audit_seq``: what SQLite stores, so SQLite rows are hashed as they are
read and written; other databases' values are brought into that form.

An entry's rows of one table, in key order, are cut in chunks of ``CHUNK``
(an import may write a million); a chunk's digest is the sha256 of its list
of rows in the entry's ``form`` of bytes, the table's digest the sha256 of
its chunk digests, which the entry keeps when there is more than one, so
that verify can name the rows in which something changed.

Forms: 1 (entries without ``form``) is the list's ``repr``; 2, written since,
is the list pickled with protocol 2 and no memo (``Pickler.fast``), so equal
values give equal bytes whichever objects hold them; a sixth of the cost of
``repr`` over a million rows of strings.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Connection, DateTime, Integer, Table, inspect

from .tables import access_log, events, experiments, output_events, output_requests

CHUNK = 4096
SEQ = "audit_seq"
# record tables, and the column that orders their rows within one entry:
# the natural key, or the surrogate key that follows the order of writing
RECORD = {
    table.name: table for table in (experiments, events, access_log, output_requests, output_events)
}
ORDER = {name: "id" for name in RECORD}
FORM = 2  # of the bytes hashed per chunk; entries keep theirs


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


Convert = list[Callable[[Any], Any] | None]


def canonicalizers(table: Table, columns: list[str] | None = None) -> Convert:
    """Per content column, what brings a value into canonical form (None: as it is)."""
    found: Convert = []
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


def canonical(convert: Convert, values: Sequence[Any], seq: int) -> tuple[Any, ...]:
    return (
        *(f(v) if f and v is not None else v for f, v in zip(convert, values, strict=True)),
        seq,
    )


def _repr_bytes(rows: list[tuple[Any, ...]]) -> bytes:
    return repr(rows).encode()


def _pickled_bytes(rows: list[tuple[Any, ...]]) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=2)
    pickler.fast = True  # no memo: bytes depend on values, not on object identity
    pickler.dump(rows)
    return buffer.getvalue()


FORMS = {1: _repr_bytes, 2: _pickled_bytes}


@dataclass
class Digest:
    """The digest of one table's rows in one entry, fed rows in order."""

    form: int = FORM
    count: int = 0
    chunks: list[str] = field(default_factory=list)
    _pending: list[tuple[Any, ...]] = field(default_factory=list)

    def add(self, rows: list[tuple[Any, ...]]) -> None:
        """More rows (canonical tuples, ``audit_seq`` last), in as many pieces
        as come (an entry's rows may interleave with another's)."""
        pending = self._pending
        pending.extend(rows)
        if len(pending) < CHUNK:
            return
        whole = len(pending) - len(pending) % CHUNK
        for start in range(0, whole, CHUNK):
            self._chunk(pending[start : start + CHUNK])
        self._pending = pending[whole:]

    def _chunk(self, rows: list[tuple[Any, ...]]) -> None:
        self.chunks.append(hashlib.sha256(FORMS[self.form](rows)).hexdigest())
        self.count += len(rows)

    def result(self) -> dict[str, Any]:
        if self._pending or not self.chunks:
            self._chunk(self._pending)
            self._pending = []
        digest = hashlib.sha256("".join(self.chunks).encode()).hexdigest()
        covered: dict[str, Any] = {"count": self.count, "digest": digest}
        if self.form != 1:
            covered["form"] = self.form
        if len(self.chunks) > 1:
            covered["chunks"] = list(self.chunks)
        return covered


def cover(seq: int, table: Table, rows: Iterable[Sequence[Any]]) -> dict[str, Any]:
    """What an entry records about the rows it writes to ``table`` (content
    values in ``content_columns`` order, in the order verify reads them): the
    columns it hashed (a table may gain columns later), count and digest."""
    convert = canonicalizers(table)
    return cover_stored(table, [canonical(convert, values, seq) for values in rows])


def cover_stored(table: Table, stored: list[tuple[Any, ...]]) -> dict[str, Any]:
    """The same from rows as SQLite stores them (canonical, ``audit_seq`` last)."""
    digest = Digest()
    digest.add(stored)
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
) -> tuple[dict[int, Digest], int]:
    """Every row of ``table``, digested per entry over the columns that entry
    hashed (``covers``; by default all of ``columns``, today's content
    columns); and how many rows are on no entry."""
    columns = columns or content_columns(table)
    quote = connection.dialect.identifier_preparer.quote
    listed = ", ".join(quote(c) for c in [*columns, SEQ])
    # key order: an entry's rows come in the order it hashed them, however
    # they interleave with other entries' rows (no index on audit_seq needed)
    order = quote(ORDER[table.name])
    # the driver's own cursor: plain tuples, no per-row work in Python for SQLite
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(f"SELECT {listed} FROM {quote(table.name)} ORDER BY {order}")
    convert = None if connection.dialect.name == "sqlite" else canonicalizers(table, columns)
    digests: dict[int, Digest] = {}
    unbound = 0
    while batch := cursor.fetchmany(CHUNK):
        for seq, rows in _by_entry(list(batch)):
            if seq is None:
                unbound += len(rows)
                continue
            recorded = (covers or {}).get(seq, {})
            hashed = recorded.get("columns", columns)
            if convert is not None:
                rows = [canonical(convert, row[:-1], seq) for row in rows]
            if hashed != columns:
                rows = _project(rows, columns, hashed, seq)
            if seq not in digests:  # in the form its entry recorded, or today's for a new one
                digests[seq] = Digest(recorded.get("form", 1) if covers is not None else FORM)
            digests[seq].add(rows)
    cursor.close()
    return digests, unbound


def _by_entry(batch: list[tuple[Any, ...]]) -> Iterable[tuple[Any, list[tuple[Any, ...]]]]:
    """Split rows into runs of one entry (``audit_seq`` is their last value)."""
    for seq, rows in groupby(batch, key=itemgetter(-1)):
        yield seq, list(rows)


def _project(
    rows: list[tuple[Any, ...]], columns: list[str], hashed: list[str], seq: int
) -> list[tuple[Any, ...]]:
    """Rows reduced to the columns an older entry hashed; a column that is gone
    reads as None, so its digest fails."""
    where = [columns.index(name) if name in columns else -1 for name in hashed]
    return [(*(row[i] if i >= 0 else None for i in where), seq) for row in rows]


def check_table(
    connection: Connection, table: Table, covers: dict[int, dict[str, Any]], chain: set[int]
) -> list[RowProblem]:
    """Read every row of ``table`` and compare it with what the entries recorded
    (``covers``: entry seq -> that entry's record of this table's rows; ``chain``:
    the seqs of every entry)."""
    digests, unbound = read(connection, table, covers)
    problems = []
    if unbound:
        where = _keys(connection, table, None)
        verb = "is" if where.startswith("row ") else "are"
        problems.append(RowProblem(None, table.name, where, f"{verb} on no entry"))
    for seq, digest in digests.items():
        recorded = covers.get(seq)
        found = digest.result()
        if seq not in chain:
            message = f"name entry {seq}, which is not there"
        elif recorded is None:
            message = f"entry {seq} wrote no rows here"
        elif found["count"] != recorded["count"]:
            message = (
                f"entry {seq} wrote {recorded['count']} row(s), {found['count']} are there "
                "(rows deleted or inserted)"
            )
        elif found["digest"] != recorded["digest"]:
            mine = found.get("chunks", [found["digest"]])
            theirs = recorded.get("chunks", [recorded["digest"]])
            index = next(i for i, (a, b) in enumerate(zip(mine, theirs, strict=True)) if a != b)
            where = _keys(connection, table, seq, index)
            problems.append(
                RowProblem(seq, table.name, where, f"changed since entry {seq} wrote it")
            )
            continue
        else:
            continue
        problems.append(RowProblem(seq, table.name, _keys(connection, table, seq), message))
    for seq, recorded in covers.items():
        if seq not in digests and recorded["count"]:
            problems.append(
                RowProblem(
                    seq, table.name, "", f"entry {seq} wrote {recorded['count']} row(s); none left"
                )
            )
    return problems


def _keys(connection: Connection, table: Table, seq: int | None, chunk: int | None = None) -> str:
    """'row K' or 'rows K..L': the rows of entry ``seq`` (of one chunk of them),
    named by their key (asked only when something is wrong)."""
    quote = connection.dialect.identifier_preparer.quote
    key = quote(ORDER[table.name])
    where = f"{quote(SEQ)} IS NULL" if seq is None else f"{quote(SEQ)} = {int(seq)}"
    limit = f" LIMIT {CHUNK} OFFSET {chunk * CHUNK}" if chunk is not None else ""
    sql = f"SELECT {key} FROM {quote(table.name)} WHERE {where} ORDER BY {key}{limit}"
    keys = [row[0] for row in connection.exec_driver_sql(sql)]
    if not keys:
        return "rows"
    return f"row {keys[0]}" if len(keys) == 1 else f"rows {keys[0]}..{keys[-1]}"
