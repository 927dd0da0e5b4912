"""Terminal tables that never cut an identifier, a URL or a state.

A ``Grid`` names its key columns: they are drawn whole, on one line. The other
columns wrap between words, never inside one. When the terminal is too narrow
for that, each row is written as a record instead (its first cell, then one
aligned ``column  value`` line per other cell), which fits any width.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

BORDER = 3  # a rich table's border and padding per column (plus 1 at the edge)


@dataclass
class Grid:
    columns: tuple[str, ...]
    keys: frozenset[str]  # drawn whole and on one line, whatever the width
    rows: list[tuple[str, ...]] = field(default_factory=list)
    title: str = ""
    heading: int = 1  # how many leading cells head a row's record

    def add_row(self, *cells: Any) -> None:
        self.rows.append(tuple("-" if cell in (None, "") else str(cell) for cell in cells))


def minimum_widths(grid: Grid) -> list[int]:
    """Per column: its widest cell for a key, else its longest word."""
    widths = []
    for index, name in enumerate(grid.columns):
        cells = [row[index] for row in grid.rows]
        if name in grid.keys:
            widths.append(max([len(name), *(len(c) for c in cells)]))
        else:
            words = [w for text in (name, *cells) for w in text.split()]
            widths.append(max((len(w) for w in words), default=1))
    return widths


def rich_table(grid: Grid) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=grid.title or None)
    for name, least in zip(grid.columns, minimum_widths(grid), strict=True):
        if name in grid.keys:
            table.add_column(name, no_wrap=True, min_width=least)
        else:
            table.add_column(name, min_width=least, overflow="fold")
    for row in grid.rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


def _drawn(grid: Grid, width: int) -> str:
    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None, highlight=False).print(rich_table(grid))
    return buffer.getvalue()


def fits(grid: Grid, width: int) -> bool:
    """Whether the drawn table shows every key cell whole within ``width``."""
    if sum(minimum_widths(grid)) + BORDER * len(grid.columns) + 1 > width:
        return False
    drawn = _drawn(grid, width)
    if any(len(line) > width for line in drawn.splitlines()):
        return False
    everything = [grid.title, *grid.columns, *(cell for row in grid.rows for cell in row)]
    for index, name in enumerate(grid.columns):
        if name in grid.keys:
            for value in {row[index] for row in grid.rows}:
                if drawn.count(value) < sum(text.count(value) for text in everything):
                    return False
    return True


def records(grid: Grid, width: int) -> str:
    """One block per row: its heading cells, then ``column  value`` lines;
    values wrap between words only, so nothing is cut."""
    first = grid.heading
    label = max((len(name) for name in grid.columns[first:]), default=0)
    lines = [grid.title, ""] if grid.title else []
    for number, row in enumerate(grid.rows):
        heading = " ".join(row[:first])
        lines += [heading] if number == 0 else ["", heading]
        for name, cell in zip(grid.columns[first:], row[first:], strict=True):
            lead = f"  {name.ljust(label)}  "
            wrapped = textwrap.wrap(
                " ".join(cell.split()),
                width=max(width - len(lead), 20),
                break_long_words=False,
                break_on_hyphens=False,
            ) or [""]
            lines.append(lead + wrapped[0])
            lines += [" " * len(lead) + more for more in wrapped[1:]]
    return "\n".join(lines) + "\n"


def render(grid: Grid, width: int) -> str:
    """The grid as text at ``width`` columns (for files and tests)."""
    return _drawn(grid, width) if fits(grid, width) else records(grid, width)


def show(grids: Sequence[Grid], console: Any) -> None:
    """Print on a rich console: drawn when it fits, else as records."""
    for grid in grids:
        if fits(grid, console.width):
            console.print(rich_table(grid))
        else:
            console.out(records(grid, console.width), end="", highlight=False)
