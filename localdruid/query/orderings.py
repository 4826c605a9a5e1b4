"""Druid's string orderings (lexicographic, alphanumeric, numeric, strlen) as SQL sort keys."""

from __future__ import annotations

from localdruid.errors import InvalidInput, Unsupported
from localdruid.sql import Sql

ORDERINGS = ("lexicographic", "alphanumeric", "numeric", "strlen")


def normalize(ordering: object, where: str) -> str:
    """The ordering's canonical name; Druid accepts any case and the legacy alphaNumeric."""
    name = str(ordering).lower()
    if name in ORDERINGS:
        return name
    if name == "version":
        raise Unsupported("The version ordering is not supported by localdruid")
    raise InvalidInput(f"{where}: unknown ordering [{ordering}]; known: {list(ORDERINGS)}")


def alphanumeric_key(value_sql: str) -> str:
    """Runs of digits compare as numbers (and sort before text), other runs as text; equal
    numbers with more leading zeros sort later (java-alphanum, which Druid uses). Encoded as
    text that sorts bytewise: a digit run is \\x01, its length without leading zeros, those
    digits and its full length; a text run is \\x02 and the text."""
    return (
        f"array_to_string(list_transform(regexp_extract_all({value_sql}, '[0-9]+|[^0-9]+'), "
        "lambda c: CASE WHEN c[1] BETWEEN '0' AND '9' "
        "THEN chr(1) || lpad(CAST(length(ltrim(c, '0')) AS VARCHAR), 6, '0') || ltrim(c, '0') "
        "|| lpad(CAST(length(c) AS VARCHAR), 6, '0') ELSE chr(2) || c END), '')"
    )


def comparable(value_sql: str, ordering: str) -> str:
    """One SQL value whose natural order is the ordering (null stays null, sorting first)."""
    if ordering == "lexicographic":
        return value_sql
    if ordering == "alphanumeric":
        return alphanumeric_key(value_sql)
    if ordering == "strlen":
        return f"(lpad(CAST(length({value_sql}) AS VARCHAR), 12, '0') || {value_sql})"
    # numeric: unparseable values sort with nulls, before every number, ordered among themselves
    return (
        f"(CASE WHEN {value_sql} IS NULL THEN NULL ELSE {{'u': TRY_CAST({value_sql} AS DOUBLE) "
        f"IS NOT NULL, 'n': TRY_CAST({value_sql} AS DOUBLE), 's': {value_sql}}} END)"
    )


def comparable_param(value: str, ordering: str) -> Sql:
    """`comparable` of a bound value; the parameter is repeated for each place it appears."""
    text = comparable("CAST(? AS VARCHAR)", ordering)
    return Sql(text, [value] * text.count("?"))


def order_by(value_sql: str, ordering: str, descending: bool = False) -> str:
    """ORDER BY text for a string value: nulls first ascending, last descending, as in Druid."""
    direction = "DESC NULLS LAST" if descending else "ASC NULLS FIRST"
    return f"{comparable(value_sql, ordering)} {direction}"
