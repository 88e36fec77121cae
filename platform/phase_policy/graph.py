"""The resource graph the gate evaluates: what a Pulumi engine would send the analyzer.

A graph comes from the Pulumi program run under mocks (`phase_policy.program`) or from a JSON/YAML
file of resources (hand-made fixtures, or a saved graph). Values are converted to the engine's
wire form: Pulumi's `Unknown` (a preview-time output) becomes the engine's unknown sentinel, so
`pulumi_policy` sees exactly what it sees under `pulumi preview`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from .documents import read_document
from .props import UNKNOWN, _Marker

STACK_TYPE = "pulumi:pulumi:Stack"


class GraphError(Exception):
    """The resource graph cannot be built or read; the message says what to fix."""


@dataclass(frozen=True)
class StackResource:
    type: str
    name: str
    urn: str
    inputs: Mapping[str, Any]
    #: URN of the parent resource (None: the stack).
    parent: str | None = None
    protect: bool = False
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def cloud(self) -> str:
        return self.type.split(":", 1)[0]


@dataclass(frozen=True)
class StackGraph:
    project: str
    stack: str
    resources: tuple[StackResource, ...]
    #: Where it came from, for messages ("program aws/staging", a file path).
    source: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def stack_urn(self) -> str:
        return make_urn(self.stack, self.project, STACK_TYPE, f"{self.project}-{self.stack}")

    def by_urn(self) -> dict[str, StackResource]:
        return {r.urn: r for r in self.resources}


def make_urn(stack: str, project: str, qualified_type: str, name: str) -> str:
    return f"urn:pulumi:{stack}::{project}::{qualified_type}::{name}"


def qualified_type(resource_type: str, parent_types: Sequence[str]) -> str:
    """Pulumi's URN type part: parent component types joined with `$` (the stack excluded)."""
    chain = [t for t in parent_types if t != STACK_TYPE]
    return "$".join([*chain, resource_type])


def to_wire(value: Any) -> Any:
    """A JSON-able copy of an input value, unknowns as the engine's sentinel."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, _Marker):
        return UNKNOWN_STRING_VALUE if value is UNKNOWN else None
    if type(value).__name__ == "Unknown" and type(value).__module__.startswith("pulumi"):
        return UNKNOWN_STRING_VALUE
    if isinstance(value, Mapping):
        return {str(k): to_wire(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_wire(v) for v in value]
    urn = getattr(value, "urn", None)
    if isinstance(urn, str):  # a resource reference, rendered as the engine renders it
        return urn
    return str(value)


def _require(entry: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in entry or entry[key] in (None, ""):
        raise GraphError(f"{where}: missing `{key}`")
    return entry[key]


def graph_from_entries(
    entries: Iterable[Mapping[str, Any]],
    *,
    project: str,
    stack: str,
    source: str = "",
    tags: Mapping[str, str] | None = None,
) -> StackGraph:
    """Build a graph from plain entries: {type, name, inputs, parent?, protect?, urn?,
    dependencies?, propertyDependencies?}. `parent` and dependencies may name a resource by
    URN or by logical name; URNs are derived the way Pulumi derives them."""
    raw = list(entries)
    for index, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            raise GraphError(f"{source or 'resources'}[{index}]: expected a mapping, got {entry!r}")
        _require(entry, "type", f"{source or 'resources'}[{index}]")
        _require(entry, "name", f"{source or 'resources'}[{index}] ({entry.get('type')})")
    names = [str(e["name"]) for e in raw]
    by_name = {str(e["name"]): e for e in raw}
    duplicates = sorted({n for n in names if names.count(n) > 1})
    urns: dict[str, str] = {}

    def parent_name(entry: Mapping[str, Any]) -> str | None:
        parent = entry.get("parent")
        if parent in (None, ""):
            return None
        parent = str(parent)
        if parent.startswith("urn:pulumi:"):
            return next((n for n, u in urns.items() if u == parent), parent)
        if parent not in by_name:
            raise GraphError(f"{source or 'resources'}: {entry['name']}: unknown parent {parent!r}")
        return parent

    def urn_of(name: str, trail: tuple[str, ...] = ()) -> str:
        if name in urns:
            return urns[name]
        entry = by_name[name]
        if entry.get("urn"):
            urns[name] = str(entry["urn"])
            return urns[name]
        if name in trail:
            raise GraphError(f"{source or 'resources'}: parent cycle through {name!r}")
        chain: list[str] = []
        current = parent_name(entry)
        seen = (*trail, name)
        while current is not None and current in by_name:
            if current in seen:
                raise GraphError(f"{source or 'resources'}: parent cycle through {current!r}")
            chain.insert(0, str(by_name[current]["type"]))
            seen = (*seen, current)
            current = parent_name(by_name[current])
        urns[name] = make_urn(stack, project, qualified_type(str(entry["type"]), chain), name)
        return urns[name]

    if duplicates and not all(by_name[n].get("urn") for n in duplicates):
        raise GraphError(
            f"{source or 'resources'}: logical names used twice without explicit URNs: {', '.join(duplicates)}"
        )

    def ref(value: Any) -> str:
        text = str(value)
        return text if text.startswith("urn:pulumi:") else urn_of(text) if text in by_name else text

    resources = []
    for entry in raw:
        name = str(entry["name"])
        parent = parent_name(entry)
        inputs = entry.get("inputs", entry.get("props", {})) or {}
        if not isinstance(inputs, Mapping):
            raise GraphError(f"{source or 'resources'}: {name}: `inputs` must be a mapping")
        prop_deps = entry.get("propertyDependencies", entry.get("property_dependencies", {})) or {}
        resources.append(
            StackResource(
                type=str(entry["type"]),
                name=name,
                urn=urn_of(name),
                inputs=to_wire(inputs),
                parent=(urn_of(parent) if parent in by_name else parent) if parent else None,
                protect=bool(entry.get("protect", False)),
                dependencies=tuple(ref(d) for d in entry.get("dependencies", []) or []),
                property_dependencies={
                    str(k): tuple(ref(d) for d in v) for k, v in dict(prop_deps).items()
                },
            )
        )
    return StackGraph(project, stack, tuple(resources), source, dict(tags or {}))


def load_graph(path: Path, *, stack: str | None = None, project: str | None = None) -> StackGraph:
    """Read a graph file: {project, stack, resources: [...]} as JSON or YAML."""
    data = read_document(path, GraphError, "graph file")
    if not isinstance(data, Mapping) or not isinstance(data.get("resources"), list):
        raise GraphError(f"{path}: expected a mapping with a `resources` list")
    return graph_from_entries(
        data["resources"],
        project=project or str(data.get("project", "phase-mirror")),
        stack=stack or str(data.get("stack", path.stem)),
        source=str(path),
        tags=data.get("tags") or {},
    )
