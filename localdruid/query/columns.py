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
# Not a column: the name a first/last aggregator resolves to get the rows' segment order.
ORDER_KEY = "\x00segment order"

Resolver = Callable[[str], ColumnRef]


def datasource_resolver(ds: Datasource | None) -> Resolver:
    """Columns of a datasource; a name it lacks reads as a null string column, as in Druid."""

    def resolve(name: str) -> ColumnRef:
        if name == "__time":
            return TIME
        if name == ORDER_KEY:
            return segment_order(ds)
        if ds is None:
            return MISSING
        column = ds.columns.get(name)
        if column is None:
            return MISSING
        return ColumnRef(quote_ident(column.physical), column.type)

    return resolve


def segment_order(ds: Datasource | None) -> ColumnRef:
    """A sortable key giving the order of rows in Druid's segments: by __time, then segment, then
    each dimension in order with nulls first (a segment's rows are sorted by time and dimensions);
    inline rows keep the order they were given in."""
    time = quote_ident("__time")
    if ds is None:
        return ColumnRef(f"{{'t': {time}}}", "STRUCT")
    if ds.rowid_is_order:
        return ColumnRef(f"{{'t': {time}, 'r': rowid}}", "STRUCT")
    fields = [f"'t': {time}", "'s': __seg"]
    for k, name in enumerate(ds.dimensions):
        column = quote_ident(ds.columns[name].physical)
        fields.append(f"'n{k}': {column} IS NOT NULL, 'd{k}': {column}")
    return ColumnRef("{" + ", ".join(fields) + "}", "STRUCT")
