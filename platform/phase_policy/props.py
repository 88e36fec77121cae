"""Unknown-safe reads of resource properties.

During `pulumi preview` an output of a resource that does not exist yet (a new key's ARN, a new
bucket's id) reaches a policy as an *unknown* value. `pulumi_policy` wraps properties in a proxy
that raises `UnknownValueError` the moment such a value is read (even `key in props` reads it).
Rules use these helpers instead: `read()` walks a path and returns the value, `UNKNOWN` or
`MISSING` without ever raising, so a rule can check *presence* ("a KMS key is named") without
needing the value. A rule that needs an actual value (a rotation period) reads it with `value()`,
which lets `UnknownValueError` propagate: `pulumi_policy` then reports its own advisory
"can't run policy during preview" diagnostic instead of a false verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, NoReturn

from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

#: The sentinels the engine (and `pulumi_policy`) use for unknown values, one per type.
UNKNOWN_SENTINELS: Final = frozenset(
    {
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_STRING_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_OBJECT_VALUE,
    }
)


class _Marker:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name

    def __bool__(self) -> bool:
        return False

    # Markers are singletons compared with `is`; copies must not make new ones.
    def __copy__(self) -> _Marker:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> _Marker:
        return self


#: The property (or a container on its path) is not set.
MISSING: Final = _Marker("MISSING")
#: The property is set but its value is computed during the update (preview only).
UNKNOWN: Final = _Marker("UNKNOWN")


def is_unknown_sentinel(value: object) -> bool:
    return isinstance(value, str) and value in UNKNOWN_SENTINELS


def read(props: Any, *path: str | int) -> Any:
    """The value at `path`, or `UNKNOWN` / `MISSING`; never raises.

    Works on `pulumi_policy`'s proxies and on plain dicts/lists alike. A `None` value counts as
    missing (the engine drops unset inputs; mocks may pass them as None).
    """
    current: Any = props
    for step in path:
        if isinstance(step, int):
            if isinstance(current, str) or not isinstance(current, Sequence):
                return MISSING
            if not -len(current) <= step < len(current):
                return MISSING
            try:
                current = current[step]
            except UnknownValueError:
                return UNKNOWN
        else:
            if not isinstance(current, Mapping):
                return MISSING
            # Iterating keys does not touch values, so it is safe on the unknown-checking proxy.
            if step not in list(current):
                return MISSING
            try:
                current = current[step]
            except UnknownValueError:
                return UNKNOWN
        if current is None:
            return MISSING
        if is_unknown_sentinel(current):
            return UNKNOWN
    return current


def present(props: Any, *path: str | int) -> bool:
    """True when the property is set: a known non-empty value or an unknown one."""
    found = read(props, *path)
    if found is UNKNOWN:
        return True
    if found is MISSING:
        return False
    # `pulumi_policy`'s proxies are Sequences/Mappings, not list/dict subclasses.
    return not (isinstance(found, str | Sequence | Mapping) and len(found) == 0)


def value(props: Any, *path: str | int, default: Any = None) -> Any:
    """The known value at `path` (or `default` when missing).

    An unknown value raises `pulumi_policy`'s own `UnknownValueError`, which its analyzer turns
    into an advisory "can't run policy during preview" diagnostic: the honest answer when a
    verdict needs the value itself.
    """
    found = read(props, *path)
    if found is MISSING:
        return default
    if found is UNKNOWN:
        cannot_know(*path)
    return found


def plain(data: Any) -> Any:
    """A deep copy with proxies unwrapped into dicts/lists; unknown leaves become `UNKNOWN`."""
    if isinstance(data, Mapping):
        out: dict[str, Any] = {}
        for key in list(data):
            out[key] = plain(read(data, key))
        return out
    if isinstance(data, Sequence) and not isinstance(data, str):
        return [plain(read(data, index)) for index in range(len(data))]
    return data


def elements(props: Any, *path: str | int) -> list[Any] | _Marker:
    """The items of the list at `path` (each read safely: an item may be `UNKNOWN`);
    `UNKNOWN` when the whole list is unknown, [] when it is missing or not a list."""
    found: Any = read(props, *path) if path else props
    if found is UNKNOWN:
        return UNKNOWN  # type: ignore[no-any-return]
    if isinstance(found, str) or not isinstance(found, Sequence):
        return []
    return [read(found, index) for index in range(len(found))]


def cannot_know(*path: str | int) -> NoReturn:
    """Stop the check: its verdict needs a value only the update will know. `pulumi_policy`
    reports this as an advisory "can't run policy during preview" diagnostic."""
    raise UnknownValueError(UNKNOWN_STRING_VALUE, [str(step) for step in path])
