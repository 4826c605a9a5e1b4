"""SQL building blocks: identifier quoting and fragments that carry their bound parameters."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


def quote_ident(name: str) -> str:
    """Quote an identifier for DuckDB; every identifier the engine emits goes through here."""
    return '"' + name.replace('"', '""') + '"'


def utf16_length(text_sql: str) -> str:
    """Java's String.length(): UTF-16 code units, so a character beyond U+FFFF counts twice
    (DuckDB's length() counts characters; ASCII text skips the count)."""
    beyond = f"length(regexp_replace({text_sql}, '[^\\x{{10000}}-\\x{{10FFFF}}]', '', 'g'))"
    return (
        f"(CASE WHEN strlen({text_sql}) = length({text_sql}) THEN length({text_sql}) "
        f"ELSE length({text_sql}) + {beyond} END)"
    )


@dataclass
class Sql:
    """A SQL fragment with `?` placeholders and the values bound to them, in order."""

    text: str
    params: list[Any] = field(default_factory=list)

    def __add__(self, other: Sql | str) -> Sql:
        if isinstance(other, str):
            return Sql(self.text + other, list(self.params))
        return Sql(self.text + other.text, self.params + other.params)

    def __radd__(self, other: str) -> Sql:
        return Sql(other + self.text, list(self.params))

    def wrap(self, before: str, after: str) -> Sql:
        return Sql(before + self.text + after, list(self.params))

    @staticmethod
    def param(value: Any) -> Sql:
        return Sql("?", [value])

    @staticmethod
    def all(parts: list[Sql]) -> Sql:
        """AND of the parts; TRUE for none, as Druid's empty `and` matches everything."""
        return Sql.join(" AND ", parts) if parts else Sql("TRUE")

    @staticmethod
    def any(parts: list[Sql]) -> Sql:
        """OR of the parts; FALSE for none."""
        return Sql.join(" OR ", parts) if parts else Sql("FALSE")

    @staticmethod
    def join(sep: str, parts: Iterable[Sql | str]) -> Sql:
        texts: list[str] = []
        params: list[Any] = []
        for part in parts:
            if isinstance(part, str):
                texts.append(part)
            else:
                texts.append(part.text)
                params.extend(part.params)
        return Sql(sep.join(texts), params)


TRUE = Sql("TRUE")
FALSE = Sql("FALSE")
