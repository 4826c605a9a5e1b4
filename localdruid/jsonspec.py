"""Typed reads of Druid JSON objects, with Jackson's lenient coercions and field-naming errors."""

from __future__ import annotations

import builtins
import math
from typing import Any

from localdruid.errors import InvalidInput

_MISSING = object()


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "boolean",
        int: "number",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }.get(type(value), type(value).__name__)


class Spec:
    """A JSON object read at a path such as `aggregations[2]`, so every error names its field."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise InvalidInput(f"{path} must be a JSON object, got {_type_name(data)}")
        self.data: dict[str, Any] = data
        self.path = path

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def raw(self, key: str, default: Any = None) -> Any:
        value = self.data.get(key, default)
        return default if value is None else value

    def require(self, key: str) -> Any:
        value = self.data.get(key)
        if value is None:
            raise InvalidInput(f"Missing required field [{key}] in {self.describe()}")
        return value

    def describe(self) -> str:
        kind = self.data.get("type")
        return f"{self.path} (type [{kind}])" if isinstance(kind, str) else self.path or "query"

    def str(self, key: str, default: Any = _MISSING) -> Any:
        value = self.data.get(key)
        if value is None:
            if default is _MISSING:
                raise InvalidInput(f"Missing required field [{key}] in {self.describe()}")
            return default
        if isinstance(value, (bool, dict, list)):
            raise InvalidInput(f"{self.at(key)} must be a string, got {_type_name(value)}")
        return value if isinstance(value, str) else _scalar_text(value)

    def int(
        self, key: builtins.str, default: Any = _MISSING, *, minimum: builtins.int | None = None
    ) -> Any:
        value = self.data.get(key)
        if value is None:
            if default is _MISSING:
                raise InvalidInput(f"Missing required field [{key}] in {self.describe()}")
            return default
        number = to_int(value, self.at(key))
        if minimum is not None and number < minimum:
            raise InvalidInput(f"{self.at(key)} must be at least {minimum}, got {number}")
        return number

    def bool(self, key: builtins.str, default: builtins.bool = False) -> builtins.bool:
        value = self.data.get(key)
        if value is None:
            return default
        return to_bool(value, self.at(key))

    def list(self, key: builtins.str, default: Any = _MISSING) -> Any:
        value = self.data.get(key)
        if value is None:
            if default is _MISSING:
                raise InvalidInput(f"Missing required field [{key}] in {self.describe()}")
            return default
        if not isinstance(value, list):
            raise InvalidInput(f"{self.at(key)} must be an array, got {_type_name(value)}")
        return value

    def obj(self, key: builtins.str) -> Spec:
        return Spec(self.require(key), self.at(key))

    def opt_obj(self, key: builtins.str) -> Spec | None:
        value = self.data.get(key)
        return None if value is None else Spec(value, self.at(key))

    def type(self) -> builtins.str:
        kind = self.data.get("type")
        if not isinstance(kind, str):
            raise InvalidInput(f"Missing type id when trying to resolve {self.path}: field [type]")
        return kind


def _scalar_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    return str(value)


def to_int(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise InvalidInput(f"{where} must be an integer, got boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise InvalidInput(f"{where} must be an integer, got {_type_name(value)} [{value!r}]")


def to_number(value: Any, where: str) -> float | int:
    if isinstance(value, bool):
        raise InvalidInput(f"{where} must be a number, got boolean")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                pass
    raise InvalidInput(f"{where} must be a number, got {_type_name(value)} [{value!r}]")


def to_double(value: Any, where: str) -> float:
    """A number as Java's doubleValue() reads it: an integer too large for a double is
    infinite, not an error."""
    number = to_number(value, where)
    try:
        return float(number)
    except OverflowError:
        return math.inf if number > 0 else -math.inf


def to_bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidInput(f"{where} must be a boolean, got {_type_name(value)} [{value!r}]")


def text_of(value: Any) -> str | None:
    """How Druid turns a JSON scalar into a string value (null stays null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return _scalar_text(value)
