"""Drift baselines: SHA-256 of every governed file, stored as versioned objects.

A baseline lives in the object store under `repos/<owner>/<name>/baseline.json`; every
`phase-mirror baseline` run adds a version (the store keeps the history). Drift compares the
checkout with a baseline: magnitude = changed / tracked, where tracked counts the union of both
file sets and changed counts added + removed + modified files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.ports import ObjectStore, ObjectVersion

from .config import OracleConfig
from .confined import Refused
from .governance import governed_files
from .repo import Repository

SCHEMA = "phase-mirror/baseline@1"


class BaselineError(ValueError):
    """A stored baseline is not a baseline document (corrupt or foreign object)."""


@dataclass(frozen=True)
class Baseline:
    repository: str
    created_at: datetime
    files: dict[str, str]
    head_sha: str | None = None
    version_id: str | None = None

    def to_json(self) -> bytes:
        document = {
            "schema": SCHEMA,
            "repository": self.repository,
            "created_at": self.created_at.isoformat(),
            "head_sha": self.head_sha,
            "files": dict(sorted(self.files.items())),
        }
        return json.dumps(document, indent=1, sort_keys=True).encode()

    @staticmethod
    def from_json(data: bytes, *, version_id: str | None = None) -> Baseline:
        try:
            document: Any = json.loads(data)
            if not isinstance(document, dict) or document.get("schema") != SCHEMA:
                raise BaselineError(f"not a {SCHEMA} document")
            files = document["files"]
            if not isinstance(files, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in files.items()
            ):
                raise BaselineError("'files' must map paths to SHA-256 digests")
            return Baseline(
                repository=str(document["repository"]),
                created_at=datetime.fromisoformat(document["created_at"]),
                files=files,
                head_sha=document.get("head_sha"),
                version_id=version_id,
            )
        except (ValueError, KeyError, TypeError) as error:
            if isinstance(error, BaselineError):
                raise
            raise BaselineError(f"stored baseline is unreadable: {error}") from None


@dataclass(frozen=True)
class Drift:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    modified: tuple[str, ...]
    tracked: int
    unchanged: int = 0
    baseline_version: str | None = None

    @property
    def changed(self) -> int:
        return len(self.added) + len(self.removed) + len(self.modified)

    @property
    def magnitude(self) -> float:
        return self.changed / self.tracked if self.tracked else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "baseline_version": self.baseline_version,
            "tracked": self.tracked,
            "changed": self.changed,
            "magnitude": round(self.magnitude, 6),
            "added": list(self.added),
            "removed": list(self.removed),
            "modified": list(self.modified),
        }


def baseline_key(repository: str) -> str:
    return f"repos/{repository}/baseline.json"


def snapshot(repo: Repository, config: OracleConfig) -> dict[str, str]:
    """SHA-256 of every governed file. A link out of the repository is not hashed (hashing it
    would read it); the refusal is recorded on `repo` and reported by MD-004."""
    digests = {}
    for path in governed_files(repo, config):
        try:
            digests[path] = repo.sha256(path)
        except Refused:
            continue
    return digests


def compare(baseline: Baseline, current: dict[str, str]) -> Drift:
    before, after = baseline.files, current
    added = tuple(sorted(set(after) - set(before)))
    removed = tuple(sorted(set(before) - set(after)))
    modified = tuple(sorted(p for p in set(before) & set(after) if before[p] != after[p]))
    tracked = len(set(before) | set(after))
    return Drift(
        added=added,
        removed=removed,
        modified=modified,
        tracked=tracked,
        unchanged=tracked - len(added) - len(removed) - len(modified),
        baseline_version=baseline.version_id,
    )


def store(objects: ObjectStore, baseline: Baseline) -> ObjectVersion:
    return objects.put(baseline_key(baseline.repository), baseline.to_json())


def load(objects: ObjectStore, repository: str, version_id: str | None = None) -> Baseline:
    """The latest (or a given) baseline; `NotFound` if there is none, `BaselineError` if corrupt."""
    stored = objects.get(baseline_key(repository), version_id)
    return Baseline.from_json(stored.data, version_id=stored.version.version_id)
