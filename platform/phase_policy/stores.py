"""What the store catalog says about a resource: which store a table or collection holds, whether
it is durable, which TTL attribute it must expire on, and the stack's naming prefix.

The catalog (`adapters.catalog`, pure data) is the same one the Pulumi program and the backends
read, so a rule can tell a durable table from an ephemeral one by its physical name even when a
tag was forgotten or lies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from adapters.catalog import BASELINES_BUCKET, STORES, StoreSpec

from .props import UNKNOWN, read

#: Longest store names first, so `consent-store` is never mistaken for `consent`.
_BY_SUFFIX = sorted(STORES.values(), key=lambda spec: len(spec.name), reverse=True)


def store_for_name(name: object) -> tuple[str, StoreSpec] | None:
    """`phase-mirror-staging-fp-events` -> (`phase-mirror-staging`, the fp-events spec)."""
    if not isinstance(name, str):
        return None
    for spec in _BY_SUFFIX:
        suffix = f"-{spec.name}"
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], spec
    return None


def tag(props: Mapping[str, Any], key: str) -> str | None:
    """A tag (AWS `tags`) or label (GCP `labels`) value, case-insensitive on the key."""
    for container in ("tags", "labels"):
        found = read(props, container)
        if isinstance(found, Mapping):
            for candidate in list(found):
                if str(candidate).lower() == key.lower():
                    value = read(found, candidate)
                    return value if isinstance(value, str) else None
    return None


def table_spec(props: Mapping[str, Any]) -> StoreSpec | None:
    match = store_for_name(read(props, "name"))
    return match[1] if match else None


def is_durable_table(props: Mapping[str, Any]) -> bool:
    """Catalog first; then the `Durability` tag; unknown tables count as durable (fail safe)."""
    spec = table_spec(props)
    if spec is not None:
        return spec.durable
    return (tag(props, "Durability") or "").lower() != "ephemeral"


def expected_ttl_attribute(props: Mapping[str, Any]) -> str | object | None:
    """The TTL attribute a table must expire on: the catalog's; `UNKNOWN` means "some attribute"
    (an uncatalogued table tagged ephemeral); None means the table needs no TTL."""
    spec = table_spec(props)
    if spec is not None:
        return spec.ttl_attribute
    if (tag(props, "Durability") or "").lower() == "ephemeral":
        return UNKNOWN
    return None


def dominant_prefix(names: Iterable[object]) -> str | None:
    """The prefix most catalog-named resources share (tables, collections, bucket)."""
    counts: Counter[str] = Counter()
    for name in names:
        match = store_for_name(name)
        if match:
            counts[match[0]] += 1
        elif isinstance(name, str) and name.endswith(f"-{BASELINES_BUCKET.name}"):
            counts[name[: -len(BASELINES_BUCKET.name) - 1]] += 1
    return counts.most_common(1)[0][0] if counts else None
