"""Lookups on the hot path of every run, with their SQL compiled from the ORM once per process.

Django builds and compiles a queryset's SQL again on every evaluation. For the visibility lookup
of a saved query that is about a millisecond and a half of CPU, fifteen times what SQLite takes to
answer it, and it was the larger part of a cached result's cost. The SQL of such a lookup depends
only on its shape, not on its values: `Prepared` compiles the queryset once with placeholder
values and keeps the SQL; a call runs it with the real values and turns each row into a model
instance with the column converters the ORM would apply (JSON, dates, booleans) and
`Model.from_db`, as the ORM does. The queryset stays the only statement of the rule: the selectors
build it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from weakref import WeakKeyDictionary

from django.db import connections
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)

# Placeholder values no real row or argument has; each must come out of the compiler as itself.
PLACEHOLDER_INT = -(2**62) - 7919
PLACEHOLDER_TEXT = "\x00placeholder\x00"

# (position, converters, column) for each column the database backend or the field converts.
Converters = list[tuple[int, list[Callable[..., Any]], Any]]


@dataclass(frozen=True)
class _Compiled(Generic[M]):
    model: type[M]
    db: str
    sql: str
    params: list[Any]
    slots: list[str | None]  # for each parameter, the placeholder it stands for, if any
    columns: list[Any]  # the selected column expressions, the model's concrete fields in order
    names: list[str]  # their attribute names


class Prepared(Generic[M]):
    """`build(**placeholders)` compiled once; calling it with real values returns the rows.

    The queryset must select its model's own columns (no select_related, no annotations). Every
    placeholder must appear among the compiled parameters, and no other parameter may equal one;
    otherwise the lookup refuses to compile rather than bind a value in the wrong place.
    """

    def __init__(self, build: Callable[..., QuerySet[M]], **placeholders: Any) -> None:
        self.build = build
        self.placeholders = placeholders
        self._compiled: _Compiled[M] | None = None
        self._converters: WeakKeyDictionary[Any, Converters] = WeakKeyDictionary()
        self._lock = threading.Lock()

    def _compile(self) -> _Compiled[M]:
        queryset = self.build(**self.placeholders)
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        columns = [expression for expression, _sql, _alias in compiler.select]
        selected = [getattr(getattr(col, "target", None), "attname", None) for col in columns]
        own = [field.attname for field in queryset.model._meta.concrete_fields]
        if selected != own:
            raise ValueError("a prepared lookup selects exactly its model's own columns")
        slots: list[str | None] = []
        for param in params:
            names = [
                name
                for name, value in self.placeholders.items()
                if type(param) is type(value) and param == value
            ]
            slots.append(names[0] if names else None)
        missing = set(self.placeholders) - {slot for slot in slots if slot}
        if missing:
            raise ValueError(f"placeholders not in the compiled SQL: {sorted(missing)}")
        return _Compiled(queryset.model, queryset.db, sql, list(params), slots, columns, own)

    def _converters_for(self, compiled: _Compiled[M], connection: Any) -> Converters:
        # Converters are bound to a connection's operations, and each thread has its own.
        converters = self._converters.get(connection)
        if converters is None:
            converters = []
            for position, column in enumerate(compiled.columns):
                found = connection.ops.get_db_converters(column) + column.get_db_converters(
                    connection
                )
                if found:
                    converters.append((position, found, column))
            with self._lock:
                self._converters[connection] = converters
        return converters

    def __call__(self, **values: Any) -> list[M]:
        compiled = self._compiled
        if compiled is None:
            with self._lock:
                if self._compiled is None:
                    self._compiled = self._compile()
            compiled = self._compiled
        args = [
            values[slot] if slot else param
            for param, slot in zip(compiled.params, compiled.slots, strict=True)
        ]
        connection = connections[compiled.db]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, args)
            rows = cursor.fetchall()
        converters = self._converters_for(compiled, connection)
        found = []
        for row in rows:
            columns = list(row)
            for position, functions, column in converters:
                value = columns[position]
                for convert in functions:
                    value = convert(value, column, connection)
                columns[position] = value
            found.append(compiled.model.from_db(compiled.db, compiled.names, columns))
        return found
