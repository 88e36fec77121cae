"""The stateful-deletion gate over `pulumi preview --json`.

`pulumi preview --json` prints a digest: `{"config", "steps": [{"op", "urn", "provider",
"oldState", "newState", "diffReasons", "replaceReasons", "detailedDiff"}], "diagnostics",
"changeSummary", ...}` where each state is a resource (`urn`, `type`, `inputs`, `outputs`,
`protect`, `retainOnDelete`, ...). A delete or a replacement of a table, database, key, key ring,
secret, bucket or parameter destroys data (or, for a key, everything encrypted with it). In
production such a step is always refused; in staging it needs an explicit flag; elsewhere it is
reported. A resource with `retainOnDelete` is only forgotten by Pulumi, so it is reported, not
refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .context import is_production_name, stack_from_urn
from .findings import split_urn
from .stateful import stateful_kind

#: Engine step ops that delete the old resource (directly or as part of a replacement).
DESTRUCTIVE_OPS = frozenset(
    {"delete", "replace", "create-replacement", "delete-replaced", "import-replacement"}
)
WHY = {
    "table": "deleting a table destroys every item in it (PITR does not survive table deletion for long)",
    "database": "deleting the Firestore database destroys every collection in it",
    "key": "deleting a key makes everything encrypted with it unreadable once the key is destroyed",
    "key ring": "a key ring cannot be deleted; dropping it from the state orphans its keys",
    "secret": "deleting a secret destroys every version (the redaction key / salt history)",
    "bucket": "deleting a bucket destroys every object version in it",
    "parameter": "deleting a parameter destroys its version history (the previous key in the grace window)",
}


class PreviewFileError(Exception):
    """The preview JSON cannot be read; the message says what is wrong."""


@dataclass(frozen=True)
class StatefulChange:
    urn: str
    type: str
    name: str
    kind: str
    ops: tuple[str, ...]
    replace_reasons: tuple[str, ...] = ()
    retained: bool = False

    @property
    def action(self) -> str:
        return "delete" if self.ops == ("delete",) else "replace"

    @property
    def why(self) -> str:
        reason = WHY.get(self.kind, "the resource holds state")
        if self.replace_reasons:
            reason += f"; replaced because {', '.join(self.replace_reasons)} changed"
        return reason


@dataclass(frozen=True)
class DeletionVerdict:
    stack: str
    environment: str
    changes: tuple[StatefulChange, ...]
    refused: tuple[StatefulChange, ...]
    allowed_by_flag: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def exit_code(self) -> int:
        return 1 if self.refused else 0


def load_preview(path: Path | None, text: str | None = None) -> dict[str, Any]:
    source = "stdin" if path is None else str(path)
    if text is None:
        if path is None:
            raise PreviewFileError("no preview JSON given")
        try:
            text = path.read_text()
        except OSError as error:
            raise PreviewFileError(f"cannot read {source}: {error.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise PreviewFileError(
            f"{source} is not JSON ({error}); produce it with `pulumi preview --json > preview.json`"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("steps", []), list):
        raise PreviewFileError(
            f"{source}: expected the object `pulumi preview --json` prints, with a `steps` list"
        )
    return data


def _state(step: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    state = step.get(key)
    return state if isinstance(state, Mapping) else {}


def stateful_changes(preview: Mapping[str, Any]) -> list[StatefulChange]:
    by_urn: dict[str, dict[str, Any]] = {}
    for index, step in enumerate(preview.get("steps") or []):
        if not isinstance(step, Mapping) or not isinstance(step.get("urn"), str):
            raise PreviewFileError(f"steps[{index}]: a step needs `op` and `urn`")
        op = str(step.get("op", ""))
        if op not in DESTRUCTIVE_OPS:
            continue
        old, new = _state(step, "oldState"), _state(step, "newState")
        resource_type = str(old.get("type") or new.get("type") or split_urn(step["urn"])[0])
        kind = stateful_kind(resource_type)
        if kind is None:
            continue
        entry = by_urn.setdefault(
            step["urn"],
            {"type": resource_type, "kind": kind, "ops": [], "reasons": [], "retained": False},
        )
        entry["ops"].append(op)
        entry["reasons"] += [
            str(r) for r in step.get("replaceReasons") or [] if str(r) not in entry["reasons"]
        ]
        entry["retained"] = entry["retained"] or bool(old.get("retainOnDelete"))
    return [
        StatefulChange(
            urn=urn,
            type=entry["type"],
            name=split_urn(urn)[1],
            kind=entry["kind"],
            ops=tuple(dict.fromkeys(entry["ops"])),
            replace_reasons=tuple(entry["reasons"]),
            retained=entry["retained"],
        )
        for urn, entry in by_urn.items()
    ]


def _stack_of(preview: Mapping[str, Any]) -> str:
    for step in preview.get("steps") or []:
        if isinstance(step, Mapping) and isinstance(step.get("urn"), str):
            stack = stack_from_urn(step["urn"])
            if stack:
                return stack
    return ""


def judge(
    preview: Mapping[str, Any], *, stack: str | None = None, allow_staging: bool = False
) -> DeletionVerdict:
    stack = stack or _stack_of(preview)
    environment = (
        "production"
        if is_production_name(stack)
        else ("staging" if "staging" in stack.lower() else stack or "unknown")
    )
    changes = stateful_changes(preview)
    notes = []
    refused: list[StatefulChange] = []
    for change in changes:
        if change.retained:
            notes.append(
                f"{change.kind} {change.name}: retainOnDelete is set, Pulumi only forgets it"
            )
            continue
        if environment == "production" or (environment == "staging" and not allow_staging):
            refused.append(change)
    return DeletionVerdict(
        stack=stack,
        environment=environment,
        changes=tuple(changes),
        refused=tuple(refused),
        allowed_by_flag=allow_staging and environment == "staging",
        notes=tuple(notes),
    )


def render(verdict: DeletionVerdict) -> str:
    lines = []
    if not verdict.changes:
        lines.append(
            f"deletion gate: PASS - no stateful resource is deleted or replaced ({verdict.stack or 'unknown stack'})"
        )
    elif verdict.refused:
        lines.append(
            f"deletion gate: REFUSED - {len(verdict.refused)} stateful resource(s) would be destroyed "
            f"in {verdict.environment} ({verdict.stack})"
        )
    else:
        allowed = " (allowed by --allow-staging-deletions)" if verdict.allowed_by_flag else ""
        lines.append(
            f"deletion gate: PASS{allowed} - {len(verdict.changes)} stateful change(s) in {verdict.environment}"
        )
    refused = {c.urn for c in verdict.refused}
    for change in verdict.changes:
        mark = "REFUSED" if change.urn in refused else "allowed"
        lines.append(
            f"  {mark}: {change.action} {change.type} {change.name} ({'+'.join(change.ops)})"
        )
        lines.append(f"    urn: {change.urn}")
        lines.append(f"    why: {change.why}")
    for note in verdict.notes:
        lines.append(f"  note: {note}")
    if verdict.refused and verdict.environment == "staging":
        lines.append("  to proceed in staging, re-run with --allow-staging-deletions after review")
    elif verdict.refused:
        lines.append(
            "  production never deletes state through CI: migrate the data, or remove the resource "
            "from the program with `retain_on_delete=True` first"
        )
    return "\n".join(lines) + "\n"


def to_json(verdict: DeletionVerdict) -> dict[str, Any]:
    refused = {c.urn for c in verdict.refused}
    return {
        "stack": verdict.stack,
        "environment": verdict.environment,
        "verdict": "refused" if verdict.refused else "pass",
        "exitCode": verdict.exit_code,
        "changes": [
            {
                "urn": c.urn,
                "type": c.type,
                "name": c.name,
                "kind": c.kind,
                "ops": list(c.ops),
                "action": c.action,
                "why": c.why,
                "refused": c.urn in refused,
                "retainOnDelete": c.retained,
            }
            for c in verdict.changes
        ],
        "notes": list(verdict.notes),
    }
