"""Shared helpers for the oracle tests: fixture repositories, a keyed local backend, and a
one-call analysis."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any

import pytest

from adapters.backend import Backend
from adapters.catalog import Secret
from service.oracle.config import OracleConfig
from service.oracle.context import load_context
from service.oracle.engine import Analysis, AnalysisRequest, analyze
from service.oracle.model import Mode

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(*parts: str) -> Path:
    return FIXTURES.joinpath(*parts)


@pytest.fixture
def keyed_backend(local_backend: Backend) -> Backend:
    """The local backend with a redaction key in its secret store."""
    local_backend.secrets.put(Secret.REDACTION_KEY, secrets.token_hex(32))
    return local_backend


def remove_redaction_key(backend: Backend) -> Backend:
    """Retire every redaction-key version (the local backend provisions one on creation)."""
    for version in backend.secrets.versions(Secret.REDACTION_KEY):
        if version.enabled:
            backend.secrets.disable(Secret.REDACTION_KEY, version.version)
    return backend


def run(
    backend: Backend,
    root: Path,
    *,
    context: Path | None = None,
    mode: Mode = Mode.PULL_REQUEST,
    config: OracleConfig | None = None,
    repo: str = "acme/widgets",
    **flags: Any,
) -> Analysis:
    return analyze(
        AnalysisRequest(
            root=root,
            mode=mode,
            context=load_context(context) if context else None,
            config=config or OracleConfig(),
            repo_name=repo,
            **flags,
        ),
        backend,
    )


def checks(analysis: Analysis, rule: str | None = None) -> set[str]:
    """`RULE.check` ids of the analysis' active findings, optionally for one rule."""
    return {f.check_id for f in analysis.findings if rule is None or f.rule_id == rule}


@pytest.fixture
def repo_copy(tmp_path: Path) -> Any:
    """Copy a fixture repository to a writable temporary folder."""

    def copy(*parts: str) -> Path:
        target = tmp_path / "-".join(parts)
        shutil.copytree(fixture(*parts), target)
        return target

    return copy
