"""Graphs from the real Pulumi program, run under Pulumi's mocks by `phase_platform.testing`.

`phase_platform` is imported lazily: the policy pack and the deletion gate work without it.
`run_stack(cloud, stack)` records every registration (URN, parent, inputs, `protect`,
dependencies); this adapter turns them into the engine's view.

With `simulate_unknowns`, the graph is what a first `pulumi preview` of a new stack would send:
the mocks compute ids and ARNs, but during a real preview no resource exists yet, so every id,
every computed output, and every input of a dependent resource built from one (an IAM document
holding an ARN, a companion's `bucket` id) is unknown. That exercises the rules' unknown-safety
on the real program.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from .graph import STACK_TYPE, GraphError, StackGraph, StackResource, make_urn, to_wire

PROJECT = "phase-mirror"


def _computed(record: Any) -> set[str]:
    """String values only the cloud knows after creation: the id and outputs not given as inputs."""
    inputs = dict(record.inputs or {})
    found = {str(record.id)} if record.id else set()
    for key, value in dict(record.outputs or {}).items():
        if key not in inputs and isinstance(value, str) and len(value) >= 8:
            found.add(value)
    return found


def _blank(value: Any, computed: set[str]) -> Any:
    if isinstance(value, str):
        return UNKNOWN_STRING_VALUE if any(c in value for c in computed) else value
    if isinstance(value, Mapping):
        return {k: _blank(v, computed) for k, v in value.items()}
    if isinstance(value, list):
        return [_blank(v, computed) for v in value]
    return value


def graph_from_records(
    records: Sequence[Any],
    *,
    stack: str,
    project: str = PROJECT,
    source: str = "",
    simulate_unknowns: bool = False,
    outputs: Mapping[str, Any] | None = None,
) -> StackGraph:
    """Records with `urn, type, name, parent, inputs, outputs, id, protect, dependencies`;
    `outputs` (the program's exports) become the properties of the root stack resource, as
    the engine sends them to `AnalyzeStack` (the catalog rule reads `backendUrl` there)."""
    by_urn = {r.urn: r for r in records}
    resources = []
    if outputs is not None:
        roots = {r.parent for r in records if r.parent and STACK_TYPE in r.parent}
        urn = (
            roots.pop()
            if len(roots) == 1
            else make_urn(stack, project, STACK_TYPE, f"{project}-{stack}")
        )
        resources.append(
            StackResource(
                type=STACK_TYPE, name=urn.rsplit("::", 1)[-1], urn=urn, inputs=to_wire(outputs)
            )
        )
    for record in records:
        inputs: Any = to_wire(dict(record.inputs or {}))
        if simulate_unknowns:
            computed: set[str] = set()
            for dep in record.dependencies or ():
                if dep in by_urn:
                    computed |= _computed(by_urn[dep])
            inputs = _blank(inputs, computed)
        resources.append(
            StackResource(
                type=record.type,
                name=record.name,
                urn=record.urn,
                inputs=inputs,
                parent=record.parent,
                protect=bool(record.protect),
                dependencies=tuple(record.dependencies or ()),
            )
        )
    return StackGraph(project, stack, tuple(resources), source)


def program_graph(cloud: str, stack: str, *, simulate_unknowns: bool = False) -> StackGraph:
    """Run the program for one cloud x stack under mocks; any failure is a `GraphError`."""
    try:
        from phase_platform.testing import run_stack
    except ImportError as error:
        raise GraphError(
            f"the Pulumi program package is not importable ({error}); install the project "
            "with `pip install -e '.[platform]'`"
        ) from None
    try:
        run = run_stack(cloud, stack)
    except FileNotFoundError as error:
        raise GraphError(str(error)) from None
    except ValueError as error:
        raise GraphError(str(error)) from None
    except Exception as error:  # the program itself failed: config error, bug, missing mock
        message = str(error).strip() or type(error).__name__
        raise GraphError(f"the Pulumi program failed under mocks: {message}") from None
    return graph_from_records(
        run.resources,
        stack=stack,
        source=f"program {cloud}/{stack}"
        + (" (first-preview unknowns)" if simulate_unknowns else ""),
        simulate_unknowns=simulate_unknowns,
        outputs=run.outputs,
    )


#: A program run's result: the graph, or why the program could not produce it.
GraphOrError = StackGraph | GraphError


def _cloud_graphs(
    cloud: str, stacks: tuple[str, ...], simulate_unknowns: bool
) -> dict[str, GraphOrError]:
    """Every stack of one cloud, in this process (a worker of `program_graphs`)."""
    found: dict[str, GraphOrError] = {}
    for stack in stacks:
        try:
            found[stack] = program_graph(cloud, stack, simulate_unknowns=simulate_unknowns)
        except GraphError as error:
            found[stack] = error
    return found


def program_graphs(
    clouds: Sequence[str], stacks: Sequence[str], *, simulate_unknowns: bool = False
) -> dict[tuple[str, str], GraphOrError]:
    """Every cloud x stack, one worker process per cloud when there are several: a cloud's
    stacks share its provider SDK's import and the program runs are CPU-bound, so the clouds
    run side by side on separate cores (`phase-mirror-gate check --cloud all` on 2 cores)."""
    stacks = tuple(stacks)
    if len(clouds) < 2 or (os.cpu_count() or 1) < 2:
        runs = {cloud: _cloud_graphs(cloud, stacks, simulate_unknowns) for cloud in clouds}
    else:
        # fork where it is safe: the workers start with the modules the parent has imported (the
        # pack, pulumi_policy) instead of importing them again (about 0.5 s each). A process
        # with other threads (a test runner, say) spawns instead: a fork there could copy a held
        # lock.
        forkable = "fork" in multiprocessing.get_all_start_methods()
        method = "fork" if forkable and threading.active_count() == 1 else "spawn"
        context = multiprocessing.get_context(method)
        with ProcessPoolExecutor(max_workers=len(clouds), mp_context=context) as pool:
            futures = {
                cloud: pool.submit(_cloud_graphs, cloud, stacks, simulate_unknowns)
                for cloud in clouds
            }
            runs = {cloud: future.result() for cloud, future in futures.items()}
    return {(cloud, stack): runs[cloud][stack] for cloud in clouds for stack in stacks}


def available(kind: str) -> tuple[str, ...]:
    """The clouds or stacks the program offers (falls back to the documented ones)."""
    try:
        from phase_platform import testing
    except ImportError:
        return ("aws", "gcp") if kind == "clouds" else ("staging", "production")
    return tuple(testing.CLOUDS if kind == "clouds" else testing.STACKS)


__all__ = ["available", "graph_from_records", "program_graph"]
