"""Baseline files: the findings a team has accepted as known debt, so the gate fails only on new ones.

`phase-mirror-gate check --write-baseline FILE` records today's findings (waived ones excluded:
a waiver has its own expiry); `--baseline FILE` reports them as baselined, fails only on findings
not in it, and lists the entries nothing matches any more (stale: the debt was paid; delete them
or rewrite the file). Format, YAML (or JSON when the name ends in `.json`):

    version: 1                      # required; this gate reads version 1
    tool: phase-mirror-gate         # informational
    generated: 2026-03-01           # informational
    findings:
      - rule: PM-AWS-010            # rule id
        cloud: aws                  # the target it was found on (cloud/stack of the run)
        stack: staging
        urn: urn:pulumi:staging::phase-mirror::aws:s3/bucketPolicy:BucketPolicy::baselines-tls
        path: "msg:the policy has no tls-only deny"   # property path (see findings.split_path)
        fingerprint: 5f0c...        # optional; if present it must equal the identity's hash
        message: ...                # informational

An entry's identity is (rule, urn, path), the same identity as the SARIF
`partialFingerprints`, so it survives unrelated edits of the program.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from .documents import check_entry, is_json, read_document
from .findings import BaselineEntry, GateResult

BASELINE_VERSION = 1
REQUIRED = ("rule", "cloud", "stack", "urn")
OPTIONAL = ("path", "fingerprint", "message")


class BaselineFileError(Exception):
    """The baseline file cannot be used; the message names the entry and the field."""


def _text(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str):
        raise BaselineFileError(f"{where}: `{key}` must be a string, not {type(value).__name__}")
    return value


def parse_baseline(data: Any, *, source: str = "baseline") -> list[BaselineEntry]:
    if not isinstance(data, Mapping):
        raise BaselineFileError(
            f"{source}: expected a mapping with `version: {BASELINE_VERSION}` and `findings:`"
        )
    if "version" not in data:
        raise BaselineFileError(
            f"{source}: missing `version` (write `version: {BASELINE_VERSION}`)"
        )
    if isinstance(data["version"], bool) or data["version"] != BASELINE_VERSION:
        raise BaselineFileError(
            f"{source}: baseline version {data['version']!r} is not supported "
            f"(this gate reads version {BASELINE_VERSION}; rewrite it with --write-baseline)"
        )
    unknown_top = sorted(set(data) - {"version", "tool", "generated", "findings"})
    if unknown_top:
        raise BaselineFileError(f"{source}: unknown field(s) {', '.join(map(str, unknown_top))}")
    raw = data.get("findings")
    raw = [] if raw is None else raw
    if not isinstance(raw, list):
        raise BaselineFileError(f"{source}: `findings` must be a list")
    entries: list[BaselineEntry] = []
    seen: dict[str, int] = {}
    for index, raw_item in enumerate(raw):
        where = f"{source}: finding #{index + 1}"
        item = check_entry(
            raw_item,
            where=where,
            noun="entry",
            required=REQUIRED,
            optional=OPTIONAL,
            error=BaselineFileError,
        )
        entry = BaselineEntry(
            rule=_text(item, "rule", where),
            cloud=_text(item, "cloud", where),
            stack=_text(item, "stack", where),
            urn=_text(item, "urn", where),
            path=_text(item, "path", where),
            message=_text(item, "message", where),
        )
        if not entry.urn.startswith("urn:pulumi:"):
            raise BaselineFileError(f"{where}: `urn` {entry.urn!r} is not a Pulumi URN")
        recorded = _text(item, "fingerprint", where)
        if recorded and recorded != entry.fingerprint:
            raise BaselineFileError(
                f"{where}: fingerprint {recorded} does not match rule/urn/path "
                f"(expected {entry.fingerprint}); was the entry edited by hand? "
                "Rewrite the file with --write-baseline"
            )
        if entry.fingerprint in seen:
            raise BaselineFileError(f"{where}: same finding as #{seen[entry.fingerprint] + 1}")
        seen[entry.fingerprint] = index
        entries.append(entry)
    return entries


def load_baseline(path: Path) -> list[BaselineEntry]:
    return parse_baseline(read_document(path, BaselineFileError, "baseline file"), source=str(path))


def baseline_document(result: GateResult, *, today: date) -> dict[str, Any]:
    """Today's findings (not the waived ones) as a baseline document, in a stable order."""
    entries = sorted(
        {BaselineEntry.of(f) for f in result.findings if not f.suppressed},
        key=lambda e: (e.cloud, e.stack, e.rule, e.urn, e.path),
    )
    return {
        "version": BASELINE_VERSION,
        "tool": "phase-mirror-gate",
        "generated": today.isoformat(),
        "findings": [
            {
                "rule": e.rule,
                "cloud": e.cloud,
                "stack": e.stack,
                "urn": e.urn,
                "path": e.path,
                "fingerprint": e.fingerprint,
                "message": e.message,
            }
            for e in entries
        ],
    }


def dump_baseline(document: Mapping[str, Any], path: Path) -> str:
    if is_json(path):
        return json.dumps(document, indent=2) + "\n"
    header = (
        "# phase-mirror-gate baseline (format: docs/policy.md#baseline). Findings recorded here are\n"
        "# reported as baselined and do not fail `check --baseline`; rewrite with --write-baseline.\n"
    )
    return header + yaml.safe_dump(dict(document), sort_keys=False, width=100)


__all__ = [
    "BASELINE_VERSION",
    "BaselineFileError",
    "baseline_document",
    "dump_baseline",
    "load_baseline",
    "parse_baseline",
]
