"""Column references: how a Druid column name becomes a typed SQL expression over a datasource."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from localdruid.errors import Unsupported
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


class MultiValueRef(ColumnRef):
    """A multi-value string column, whose rows hold lists of values (`values`, VARCHAR[]).

    Reading it as one value per row (`sql`, `as_text`...) is what Druid gives special meaning
    to (expressions apply per value, aggregators see every value): a part of localdruid that
    has not been taught that meaning answers 501 instead of a wrong answer.
    """

    name: str
    values: str

    def __init__(self, name: str, values: str) -> None:
        object.__setattr__(self, "type", "STRING")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "values", values)

    @property
    def sql(self) -> str:
        raise Unsupported(
            f"reading the multi-value column [{self.name}] here (expressions, aggregators, "
            "virtual columns and other per-row uses) is not supported by localdruid"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MultiValueRef) and other.values == self.values

    def __hash__(self) -> int:
        return hash(self.values)

    def __repr__(self) -> str:
        return f"MultiValueRef({self.name!r}, {self.values!r})"

    def row_values(self, *, empty_is_null: bool) -> str:
        """Each row's values as a list: a null row is one null value; an empty list is one
        null value too where Druid groups empty rows as null (groupBy, filters), else none."""
        if empty_is_null:
            return (
                f"(CASE WHEN len({self.values}) > 0 THEN {self.values} ELSE [NULL]::VARCHAR[] END)"
            )
        return f"COALESCE({self.values}, [NULL]::VARCHAR[])"


# The name each value of a multi-value column takes inside the SQL lambdas that visit them.
ELEMENT = "__mv"

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
        if column.multi_value:
            return MultiValueRef(name, quote_ident(column.physical))
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
