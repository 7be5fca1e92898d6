"""Text tables sized to their data: IAM names reach 64 characters, run and step ids vary; a fixed width breaks."""

from __future__ import annotations

from collections.abc import Sequence

from responder.cli.terminal import paint


def aligned(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    right: frozenset[int] = frozenset(),
    colour: int | None = None,
) -> list[str]:
    """The header and rows as lines, each column as wide as its widest cell (two spaces apart; the last column is
    not padded). Columns in `right` align right; the cells of column `colour` are painted by their status."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = []
    for index, row in enumerate([header, *rows]):
        cells = []
        for n, (cell, width) in enumerate(zip(row, widths, strict=True)):
            last = n == len(widths) - 1
            text = str(cell).rjust(width) if n in right else (str(cell) if last else str(cell).ljust(width))
            if n == colour and index > 0:  # pad first: colour codes have no width on screen
                text = text.replace(str(cell), paint(str(cell)), 1)
            cells.append(text)
        lines.append("  ".join(cells).rstrip())
    return lines
