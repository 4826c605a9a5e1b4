"""Column references: how a Druid column name becomes a typed SQL expression over a datasource."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from localdruid.sql import quote_ident
from localdruid.storage import NUMERIC_TYPES, Datasource


@dataclass(frozen=True)
class ColumnRef:
    """A column as SQL plus its Druid type (STRING, LONG, FLOAT, DOUBLE, COMPLEX<...>)."""

    sql: str
    type: str

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC_TYPES

    @property
    def as_text(self) -> str:
        """The column's values as Druid prints them when a string is needed."""
        if self.type == "STRING":
            return self.sql
        if self.type in ("DOUBLE", "FLOAT"):
            return f"CAST(CAST({self.sql} AS DOUBLE) AS VARCHAR)"
        return f"CAST({self.sql} AS VARCHAR)"

    @property
    def as_double(self) -> str:
        if self.numeric:
            return f"CAST({self.sql} AS DOUBLE)"
        return f"TRY_CAST({self.sql} AS DOUBLE)"


TIME = ColumnRef(quote_ident("__time"), "LONG")
MISSING = ColumnRef("CAST(NULL AS VARCHAR)", "STRING")

Resolver = Callable[[str], ColumnRef]


def datasource_resolver(ds: Datasource | None) -> Resolver:
    """Columns of a datasource; a name it lacks reads as a null string column, as in Druid."""

    def resolve(name: str) -> ColumnRef:
        if name == "__time":
            return TIME
        if ds is None:
            return MISSING
        column = ds.columns.get(name)
        if column is None:
            return MISSING
        return ColumnRef(quote_ident(column.physical), column.type)

    return resolve
