"""Reading the gate's YAML/JSON input files (waivers, baselines, graphs) with clear errors."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import yaml


def is_json(path: Path) -> bool:
    return path.suffix.lower() == ".json"


def read_document(path: Path, error: type[Exception], what: str) -> Any:
    """The parsed content of `path` (JSON when named *.json, YAML otherwise); `error(message)`
    when it cannot be read or parsed."""
    try:
        text = path.read_text()
    except OSError as failure:
        raise error(f"cannot read {what} {path}: {failure.strerror}") from None
    try:
        return json.loads(text) if is_json(path) else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as failure:
        kind = "JSON" if is_json(path) else "YAML"
        raise error(f"{path} is not valid {kind}: {failure}") from None


def check_entry(
    entry: object,
    *,
    where: str,
    noun: str,
    required: Collection[str],
    optional: Collection[str],
    error: type[Exception],
) -> Mapping[str, Any]:
    """`entry` as a mapping with every required field (non-empty) and no unknown one."""
    if not isinstance(entry, Mapping):
        raise error(f"{where}: expected a mapping with {', '.join(required)}")
    missing = [key for key in required if entry.get(key) in (None, "")]
    if missing:
        raise error(
            f"{where}: missing {', '.join(missing)} (every {noun} needs {', '.join(required)})"
        )
    unknown = sorted(set(map(str, entry)) - {*required, *optional})
    if unknown:
        raise error(f"{where}: unknown field(s) {', '.join(unknown)}")
    return entry
