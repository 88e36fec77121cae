"""Run the real Pulumi program under Pulumi's own mocks, offline, and return what it registered.

`run_program(cloud, stack)` is what the tests, the benchmark and the offline preview gate use:
it loads `Pulumi.yaml` (project name, config defaults, as the CLI applies them) and
`Pulumi.<stack>.yaml`, forces `cloud`, installs `pulumi.runtime.set_mocks` with
`PlatformMocks`, executes the repository's `__main__.py` and returns every registered resource
with its type, logical name, inputs, outputs, parent and resource options.

Each run happens on its own thread in a copy of the caller's context: Pulumi keeps its
settings (root stack, config, monitor) in context variables, so runs do not leak into each
other and several stacks can be built in one process.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import runpy
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import settings
from pulumi.runtime.mocks import MockMonitor

from .config import PROJECT, SETTINGS_BY_KEY
from .mocks import PlatformMocks, unwrap_secret

#: The repository root: `platform/phase_platform/testing.py` -> parents[2].
REPO_ROOT = Path(__file__).resolve().parents[2]
CLOUDS = ("aws", "gcp")
STACKS = ("staging", "production")
#: Stand-in for `secure:` stack values, which only the Pulumi service can decrypt.
MOCK_SECRET = "mock-secret-value"  # noqa: S105 - a placeholder, not a credential
#: Stand-in for the digest-pinned image the deploy workflow passes to a GCP stack (`image`), so
#: the gcp builds include the compute; an `image` override (even empty) replaces it.
MOCK_IMAGE = (
    "us-central1-docker.pkg.dev/phase-mirror-mock/phase-mirror/phase-mirror@sha256:" + "0" * 64
)


@dataclass(frozen=True)
class RegisteredResource:
    urn: str
    type: str
    name: str
    #: URN of the parent resource (the root stack for top-level resources), or None.
    parent: str | None
    custom: bool
    #: Inputs as the engine received them (camelCase property names, resolved values).
    inputs: dict[str, Any]
    #: Inputs plus what the mocks computed (ids, ARNs, paths).
    outputs: dict[str, Any]
    #: Top-level inputs that were Pulumi secrets (their values are unwrapped in `inputs`).
    secret_inputs: tuple[str, ...] = ()
    id: str | None = None
    provider: str | None = None
    protect: bool = False
    ignore_changes: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()

    @property
    def parent_type(self) -> str | None:
        return urn_type(self.parent) if self.parent else None

    @property
    def parent_name(self) -> str | None:
        return urn_name(self.parent) if self.parent else None


@dataclass
class ProgramRun:
    cloud: str
    stack: str
    config: dict[str, str]
    resources: list[RegisteredResource]
    outputs: dict[str, Any]
    #: Engine log lines (warnings such as deprecated arguments land here).
    log: list[str] = field(default_factory=list)
    invokes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def of_type(self, type_: str) -> list[RegisteredResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str) -> RegisteredResource:
        found = [r for r in self.resources if r.type == type_ and r.name == name]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources of type {type_} named {name!r}")
        return found[0]

    def children_of(self, urn: str) -> list[RegisteredResource]:
        return [r for r in self.resources if r.parent == urn]


def urn_type(urn: str) -> str:
    return urn.split("::")[2].split("$")[-1]


def urn_name(urn: str) -> str:
    return urn.split("::", 3)[3]


# --------------------------------------------------------------------------- config files


def _config_text(value: Any) -> str:
    """A stack-file value as the CLI hands it to the program: text (structured -> JSON)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def load_stack_config(
    stack: str, *, root: Path = REPO_ROOT
) -> tuple[str, dict[str, str], list[str]]:
    """(project name, fully qualified config, secret keys) as `pulumi up` would pass them:
    the project's `config:` defaults overlaid by `Pulumi.<stack>.yaml`."""
    project_file = root / "Pulumi.yaml"
    stack_file = root / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        available = sorted(
            p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml")
        )
        raise FileNotFoundError(
            f"no stack file {stack_file.name} in {root}; stacks: {', '.join(available) or 'none'}"
        )
    project = yaml.safe_load(project_file.read_text()) or {}
    name = str(project.get("name", PROJECT))
    config: dict[str, str] = {}
    for key, spec in (project.get("config") or {}).items():
        if isinstance(spec, dict) and "default" in spec:
            full = key if ":" in key else f"{name}:{key}"
            config[full] = _config_text(spec["default"])
    secret_keys: list[str] = []
    for key, value in ((yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[full] = MOCK_SECRET
            secret_keys.append(full)
        else:
            config[full] = _config_text(value)
    return name, config, secret_keys


# --------------------------------------------------------------------------- recording


class _RecordingMonitor(MockMonitor):
    """Pulumi's mock monitor, also keeping what `RegisterResource` was asked (parent,
    options), which the mock registrations do not retain."""

    def __init__(self, mocks: PlatformMocks) -> None:
        super().__init__(mocks)
        self.requests: dict[str, dict[str, Any]] = {}
        self._record_lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            with self._record_lock:
                self.requests[response.urn] = {
                    "type": request.type,
                    "name": request.name,
                    "parent": request.parent or None,
                    "custom": bool(request.custom),
                    "provider": request.provider or None,
                    "protect": bool(request.protect),
                    "ignore_changes": tuple(request.ignoreChanges),
                    "dependencies": tuple(request.dependencies),
                }
        return response


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname.lower()}: {record.getMessage()}")


# --------------------------------------------------------------------------- running


def run_stack(
    cloud: str,
    stack: str,
    *,
    overrides: Mapping[str, object] | None = None,
    root: Path = REPO_ROOT,
    preview: bool = False,
) -> ProgramRun:
    """Run the program for `cloud` with `Pulumi.<stack>.yaml`; `overrides` (keys with or
    without the project namespace) replace config values, e.g. to build a failing fixture."""
    if cloud not in CLOUDS:
        raise ValueError(f"unknown cloud {cloud!r}; use one of {', '.join(CLOUDS)}")
    project, config, secret_keys = load_stack_config(stack, root=root)
    config[f"{project}:cloud"] = cloud
    if cloud == "gcp" and not config.get(f"{project}:image"):
        config[f"{project}:image"] = MOCK_IMAGE
    for key, value in (overrides or {}).items():
        config[key if ":" in key else f"{project}:{key}"] = _config_text(value)

    def setting(key: str) -> str:
        default = SETTINGS_BY_KEY[key].default
        return config.get(f"{project}:{key}") or str(default or "")

    mocks = PlatformMocks(
        aws_region=setting("awsRegion") or "us-east-1", gcp_project=setting("gcpProject")
    )
    monitor = _RecordingMonitor(mocks)
    handler = _ListHandler()
    logger = logging.getLogger(f"{__name__}.engine")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    captured: dict[str, Any] = {}
    errors: list[BaseException] = []

    def execute() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            pulumi.runtime.set_all_config(config, secret_keys)
            pulumi.runtime.set_mocks(
                mocks, project=project, stack=stack, preview=preview, logger=logger, monitor=monitor
            )
            # Fresh per-run bookkeeping (the copied context would otherwise share the caller's).
            settings.SETTINGS.outputs = set()
            settings.SETTINGS.lock = threading.Lock()
            root_stack = settings.get_root_resource()

            @pulumi.runtime.test  # type: ignore[untyped-decorator]
            def program() -> pulumi.Output[None]:
                # Not run as "__main__": runpy would swap sys.modules["__main__"] process-wide.
                runpy.run_path(str(root / "__main__.py"), run_name="__pulumi_program__")
                outputs = getattr(root_stack, "outputs", {})
                return pulumi.Output.from_input(outputs).apply(captured.update)

            program()
        except BaseException as error:  # re-raised on the caller's thread
            errors.append(error)
        finally:
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()
            asyncio.set_event_loop(None)

    context = contextvars.copy_context()
    worker = threading.Thread(target=context.run, args=(execute,), name=f"pulumi-{cloud}-{stack}")
    worker.start()
    worker.join()
    logger.removeHandler(handler)
    if errors:
        raise errors[0]

    resources = []
    for urn, request in monitor.requests.items():
        registration = monitor.resources.get(urn)
        resources.append(
            RegisteredResource(
                urn=urn,
                type=request["type"],
                name=request["name"],
                parent=request["parent"],
                custom=request["custom"],
                inputs=mocks.inputs.get((request["type"], request["name"]), {}),
                secret_inputs=mocks.secret_inputs.get((request["type"], request["name"]), ()),
                outputs=unwrap_secret(dict(registration.state)) if registration else {},
                id=registration.id if registration else None,
                provider=request["provider"],
                protect=request["protect"],
                ignore_changes=request["ignore_changes"],
                dependencies=request["dependencies"],
            )
        )
    resources.sort(key=lambda r: (r.type, r.name))
    return ProgramRun(
        cloud=cloud,
        stack=stack,
        config=config,
        resources=resources,
        outputs=captured,
        log=handler.lines,
        invokes=mocks.invokes,
    )


def run_program(
    cloud: str,
    stack: str,
    *,
    overrides: Mapping[str, object] | None = None,
    root: Path = REPO_ROOT,
) -> list[RegisteredResource]:
    """The registered resources of one cloud x stack (see `run_stack` for outputs and logs)."""
    return run_stack(cloud, stack, overrides=overrides, root=root).resources


__all__ = [
    "CLOUDS",
    "STACKS",
    "ProgramRun",
    "RegisteredResource",
    "load_stack_config",
    "run_program",
    "run_stack",
]
