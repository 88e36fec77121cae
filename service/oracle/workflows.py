"""GitHub Actions workflows as the rules see them: triggers, permissions, jobs and steps, each
with its source line. Parsing never raises: a file that is not valid YAML, or not shaped like a
workflow, carries a `problem` the integrity rule reports with its line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .yamlsrc import YamlError, YMap, YSeq, YStr, line_of, parse

WORKFLOW_DIR = ".github/workflows"


@dataclass(frozen=True)
class Problem:
    line: int
    message: str
    malformed: bool  # True: not valid YAML; False: valid YAML, not a workflow


@dataclass(frozen=True)
class Step:
    index: int
    line: int
    node: YMap
    uses: YStr | None
    run: YStr | None

    @property
    def label(self) -> str:
        name = self.node.get("name")
        if isinstance(name, str) and name:
            return name
        return self.uses or f"step {self.index + 1}"

    @property
    def id(self) -> str | None:
        step_id = self.node.get("id")
        return step_id if isinstance(step_id, str) and step_id else None

    @property
    def is_local(self) -> bool:
        """A same-repository action (`./path`, or GitHub's `$/path` self-repository reference)."""
        return self.uses is not None and is_local_reference(self.uses)

    def with_value(self, key: str) -> Any:
        inputs = self.node.get("with")
        return inputs.get(key) if isinstance(inputs, dict) else None

    def text(self) -> str:
        """Everything the step hands to code: its script and its `with:` values, for tracing
        where a step output comes from."""
        parts = [self.run or ""]
        inputs = self.node.get("with")
        if isinstance(inputs, dict):
            parts.extend(str(value) for value in inputs.values())
        return "\n".join(parts)


@dataclass(frozen=True)
class Job:
    id: str
    line: int
    node: YMap
    steps: tuple[Step, ...]

    @property
    def name(self) -> str:
        name = self.node.get("name")
        return name if isinstance(name, str) and name else self.id

    @property
    def has_permissions(self) -> bool:
        return "permissions" in self.node

    @property
    def permissions(self) -> Any:
        return self.node.get("permissions")

    @property
    def permissions_line(self) -> int:
        return self.node.line_of("permissions")

    @property
    def uses(self) -> YStr | None:
        """A reusable-workflow call (`jobs.<id>.uses`)."""
        uses = self.node.get("uses")
        return uses if isinstance(uses, YStr) else None

    @property
    def has_matrix(self) -> bool:
        strategy = self.node.get("strategy")
        return isinstance(strategy, dict) and "matrix" in strategy

    @property
    def condition(self) -> Any:
        """The job's `if:` (a string, a boolean, or None when the job has none)."""
        return self.node.get("if")

    def images(self) -> list[Image]:
        """The container images the job starts: `container:` (a string or `image:`) and each
        `services.<name>.image`, with their lines."""
        found: list[Image] = []
        container = self.node.get("container")
        if isinstance(container, YStr):
            found.append(Image("container", container, container.line))
        elif isinstance(container, YMap) and isinstance(container.get("image"), YStr):
            found.append(Image("container", container["image"], container["image"].line))
        services = self.node.get("services")
        if isinstance(services, YMap):
            for name, service in services.items():
                image = service.get("image") if isinstance(service, YMap) else None
                if isinstance(image, YStr):
                    found.append(Image(f"services.{name}", image, image.line))
        return found


@dataclass(frozen=True)
class Image:
    #: `container` or `services.<name>`.
    where: str
    reference: str
    line: int


@dataclass
class Workflow:
    path: str
    text: str
    problem: Problem | None = None
    root: YMap | None = None
    triggers: dict[str, Any] = field(default_factory=dict)
    triggers_line: int = 1
    jobs: tuple[Job, ...] = ()
    #: Steps GitHub rejects (neither `uses` nor `run`, or both): the workflow never runs.
    step_problems: tuple[Problem, ...] = ()
    _lines: list[str] | None = None

    @property
    def reusable_only(self) -> bool:
        """Only `workflow_call` triggers it: the caller's permissions bound its token."""
        return set(self.triggers) == {"workflow_call"}

    @property
    def has_permissions(self) -> bool:
        return self.root is not None and "permissions" in self.root

    @property
    def permissions(self) -> Any:
        return None if self.root is None else self.root.get("permissions")

    @property
    def permissions_line(self) -> int:
        return 1 if self.root is None else self.root.line_of("permissions")

    @property
    def name(self) -> str:
        name = None if self.root is None else self.root.get("name")
        return name if isinstance(name, str) and name else self.path

    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = self.text.splitlines()
        return self._lines

    def locate(self, needle: str, start: int, end: int) -> int:
        """The first line in [start, end] (1-based) containing `needle`, else `start`."""
        lines = self.lines()
        for number in range(max(start, 1), min(end, len(lines)) + 1):
            if needle in lines[number - 1]:
                return number
        return start


def load_workflow(path: str, text: str) -> Workflow:
    workflow = Workflow(path=path, text=text)
    parsed = parse(text)
    if isinstance(parsed, YamlError):
        workflow.problem = Problem(parsed.line, f"invalid YAML: {parsed.message}", True)
        return workflow
    if not isinstance(parsed, YMap):
        workflow.problem = Problem(1, "a workflow must be a YAML mapping", False)
        return workflow
    workflow.root = parsed
    if "on" not in parsed:
        workflow.problem = Problem(1, "the workflow has no 'on:' triggers", False)
    else:
        workflow.triggers = _triggers(parsed["on"])
        workflow.triggers_line = parsed.line_of("on")
    jobs = parsed.get("jobs")
    if not isinstance(jobs, YMap) or not jobs:
        if workflow.problem is None:
            workflow.problem = Problem(parsed.line_of("jobs"), "the workflow has no jobs", False)
        return workflow
    workflow.jobs = tuple(
        _job(job_id, node, jobs.line_of(job_id))
        for job_id, node in jobs.items()
        if isinstance(node, YMap)
    )
    workflow.step_problems = tuple(
        problem for job in workflow.jobs for problem in _step_problems(job)
    )
    return workflow


def _step_problems(job: Job) -> list[Problem]:
    problems = []
    for step in job.steps:
        has_uses, has_run = "uses" in step.node, "run" in step.node
        if has_uses == has_run:
            which = "both `uses` and `run`" if has_uses else "neither `uses` nor `run`"
            problems.append(
                Problem(
                    step.line,
                    f"job '{job.id}' step {step.index + 1} has {which}; GitHub rejects the "
                    "workflow, so none of it runs",
                    False,
                )
            )
    return problems


def is_local_reference(uses: str) -> bool:
    """`./path` (relative to the workspace) or `$/path` (GitHub's self-repository reference,
    resolved at the running commit): code from the repository itself, reviewed with it."""
    reference = uses.strip()
    return reference.startswith(("./", "$/"))


def _triggers(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return {value: None}
    if isinstance(value, list):
        return {str(item): None for item in value if isinstance(item, str)}
    if isinstance(value, dict):
        return dict(value)
    return {}


def _job(job_id: str, node: YMap, line: int) -> Job:
    raw_steps = node.get("steps")
    steps: list[Step] = []
    if isinstance(raw_steps, YSeq):
        for index, step in enumerate(raw_steps):
            if not isinstance(step, YMap):
                continue
            uses = step.get("uses")
            run = step.get("run")
            steps.append(
                Step(
                    index=index,
                    line=line_of(step, raw_steps.item_lines[index]),
                    node=step,
                    uses=uses if isinstance(uses, YStr) else None,
                    run=run if isinstance(run, YStr) else None,
                )
            )
    return Job(id=job_id, line=line, node=node, steps=tuple(steps))


def write_scopes(permissions: Any) -> list[str]:
    """The scopes a `permissions:` value grants write access to (`*` for write-all)."""
    if isinstance(permissions, str):
        return ["*"] if permissions.strip() == "write-all" else []
    if isinstance(permissions, dict):
        return sorted(str(scope) for scope, level in permissions.items() if level == "write")
    return []
