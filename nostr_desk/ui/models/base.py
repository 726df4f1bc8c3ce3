"""The shared table model: rows of plain objects, columns described once, updates that keep selection.

Subclasses describe their columns (`Column(header, value, ...)`) and hand over rows; `set_rows` diffs by
key — changed rows get `dataChanged`, new ones are inserted, gone ones removed — so a view refreshed
every second keeps its selection and scroll position, and a model checker sees only legal signals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generic, Hashable, Sequence, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

Row = TypeVar("Row")
Index = QModelIndex | QPersistentModelIndex

ROW_ROLE = Qt.ItemDataRole.UserRole + 1     # the row object itself
SORT_ROLE = Qt.ItemDataRole.UserRole + 2    # a sortable value (numbers stay numbers)


@dataclass(frozen=True)
class Column(Generic[Row]):
    header: str
    value: Callable[[Row], Any]                         # the raw value (sorting, tests)
    text: Callable[[Any], str] = lambda v: "" if v is None else str(v)
    tooltip: str = ""
    align_right: bool = False
    decoration: Callable[[Row], Any] | None = None      # e.g. a status light
    cell_tooltip: Callable[[Row], str] | None = None


class RowTableModel(QAbstractTableModel, Generic[Row]):
    columns: Sequence[Column] = ()

    def __init__(self, key: Callable[[Row], Hashable], parent: Any = None) -> None:
        super().__init__(parent)
        self._key = key
        self._rows: list[Row] = []

    # --- the count/header boilerplate, once ----------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.header
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip:
            return column.tooltip
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows) \
                or not 0 <= index.column() < len(self.columns):
            return None
        row, column = self._rows[index.row()], self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(column.value(row))
        if role == SORT_ROLE:
            value = column.value(row)
            return value if isinstance(value, (int, float, str)) else column.text(value)
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.cell_tooltip(row) if column.cell_tooltip else (column.tooltip or None)
        if role == Qt.ItemDataRole.DecorationRole and column.decoration:
            return column.decoration(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    # --- rows ---------------------------------------------------------------------------------------------
    def rows(self) -> list[Row]:
        return list(self._rows)

    def row(self, number: int) -> Row:
        return self._rows[number]

    def find(self, key: Hashable) -> int:
        return next((i for i, r in enumerate(self._rows) if self._key(r) == key), -1)

    def set_rows(self, rows: Sequence[Row]) -> None:
        """Replace the content with `rows` (in that order for new keys), by the smallest set of signals."""
        wanted = {self._key(r): r for r in rows}
        for i in range(len(self._rows) - 1, -1, -1):  # removals, back to front
            if self._key(self._rows[i]) not in wanted:
                self.beginRemoveRows(QModelIndex(), i, i)
                del self._rows[i]
                self.endRemoveRows()
        last_col = max(len(self.columns) - 1, 0)
        for i, old in enumerate(self._rows):  # updates in place
            new = wanted.pop(self._key(old))
            if new != old:
                self._rows[i] = new
                self.dataChanged.emit(self.index(i, 0), self.index(i, last_col))
        if wanted:  # additions at the end
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(wanted) - 1)
            self._rows.extend(wanted.values())
            self.endInsertRows()

    def append_rows(self, rows: Sequence[Row]) -> None:
        if rows:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()

    def prepend_rows(self, rows: Sequence[Row]) -> None:
        if rows:
            self.beginInsertRows(QModelIndex(), 0, len(rows) - 1)
            self._rows[:0] = rows
            self.endInsertRows()

    def clear(self) -> None:
        if self._rows:
            self.beginResetModel()
            self._rows.clear()
            self.endResetModel()
