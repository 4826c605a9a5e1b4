"""Druid's string orderings (lexicographic, alphanumeric, numeric, strlen) as SQL sort keys."""

from __future__ import annotations

from localdruid.errors import InvalidInput, Unsupported
from localdruid.sql import Sql, utf16_length

ORDERINGS = ("lexicographic", "alphanumeric", "numeric", "strlen")


def normalize(ordering: object, where: str) -> str:
    """The ordering's canonical name; Druid accepts any case and the legacy alphaNumeric."""
    name = str(ordering).lower()
    if name in ORDERINGS:
        return name
    if name == "version":
        raise Unsupported("The version ordering is not supported by localdruid")
    raise InvalidInput(f"{where}: unknown ordering [{ordering}]; known: {list(ORDERINGS)}")


# The digits Druid's alphanumeric comparator knows besides ASCII: Arabic-Indic, extended
# Arabic-Indic, Devanagari and full-width; each maps to its ASCII digit.
_DIGITS = (
    "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"
    "\u06f0\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6\u06f7\u06f8\u06f9"
    "\u0966\u0967\u0968\u0969\u096a\u096b\u096c\u096d\u096e\u096f"
    "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19"
)


def alphanumeric_key(value_sql: str) -> str:
    """Druid's StringComparators.ALPHANUMERIC (java-alphanum) as text that sorts bytewise. A digit
    run sorts before a text run; text runs compare case-insensitively (Java's
    CASE_INSENSITIVE_ORDER: lower(upper(c)) per character); digit runs compare by significant
    length, then digits, then leading zeros (more sort later). Druid's length step is quirky, and
    kept: a run of k significant digits counts k + 1, an all-zero run at the end of the value
    counts 1, and one followed by text counts 0 (so "a0" > "a0b").

    Encoding, chunk by chunk: a digit run is \\x01, its counted length and leading zeros as fixed
    width numbers around its significant digits; a text run is \\x02, its folded text with \\x00
    and \\x01 escaped (to \\x01\\x01 and \\x01\\x02), and a \\x00 terminator, so that a run sorts
    before any longer run it begins. (Text, not a list of structs: DuckDB rewrites a pair of
    bounds into BETWEEN, which lists do not support.)"""
    text = f"translate({value_sql}, '{_DIGITS}', '{'0123456789' * 4}')"
    chunks = f"regexp_extract_all({text}, '[0-9]+|[^0-9]+')"
    significant = "ltrim(c, '0')"
    length = (
        f"CASE WHEN {significant} <> '' THEN length({significant}) + 1 "
        f"WHEN i = length({chunks}) THEN 1 ELSE 0 END"
    )
    digits = (
        f"chr(1) || lpad(CAST({length} AS VARCHAR), 10, '0') || {significant} "
        f"|| lpad(CAST(length(c) - length({significant}) AS VARCHAR), 10, '0')"
    )
    folded = "lower(upper(c))"
    escaped = f"replace(replace({folded}, chr(1), chr(1) || chr(2)), chr(0), chr(1) || chr(1))"
    words = f"chr(2) || {escaped} || chr(0)"
    return (
        f"array_to_string(list_transform({chunks}, lambda c, i: "
        f"CASE WHEN c[1] BETWEEN '0' AND '9' THEN {digits} ELSE {words} END), '')"
    )


def comparable(value_sql: str, ordering: str) -> str:
    """One SQL value whose natural order is the ordering (null stays null, sorting first)."""
    if ordering == "lexicographic":
        return value_sql
    if ordering == "alphanumeric":
        return alphanumeric_key(value_sql)
    if ordering == "strlen":
        return f"(lpad(CAST({utf16_length(value_sql)} AS VARCHAR), 12, '0') || {value_sql})"
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
