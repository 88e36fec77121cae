"""Which files are governed: the ones whose changes need an owner's review and a baseline.

Categories: workflows, the Pulumi program, policy packs, the oracle's own config and CODEOWNERS,
plus the `governed_paths` of the config. MD-004 checks CODEOWNERS coverage of the first three
and the configured paths; MD-005 and `phase-mirror baseline` hash all of them.
"""

from __future__ import annotations

from .codeowners import LOCATIONS
from .config import DEFAULT_FILE, OracleConfig
from .globs import matches_any
from .repo import Repository

POLICY_PACK_MARKER = "PulumiPolicy.yaml"
POLICY_DIRS = ("policies/", "policy/")


def governed_categories(repo: Repository, config: OracleConfig) -> dict[str, tuple[str, ...]]:
    """Category name -> governed files present in the checkout (sorted, possibly empty)."""
    files = repo.files
    categories: dict[str, tuple[str, ...]] = {"workflows": repo.workflow_paths}
    if "Pulumi.yaml" in files or "Pulumi.yml" in files:
        categories["pulumi program"] = tuple(
            f
            for f in files
            if matches_any(f, ("/Pulumi.yaml", "/Pulumi.yml", "/Pulumi.*.yaml", "/__main__.py"))
        )
    packs = tuple(
        f.rsplit("/", 1)[0] + "/" if "/" in f else ""
        for f in files
        if f == POLICY_PACK_MARKER or f.endswith("/" + POLICY_PACK_MARKER)
    )
    categories["policies"] = tuple(
        f
        for f in files
        if f.startswith(POLICY_DIRS) or any(f.startswith(pack) for pack in packs if pack)
    ) + ((POLICY_PACK_MARKER,) if "" in packs else ())
    if config.governed_paths:
        categories["configured governed paths"] = tuple(
            f for f in files if matches_any(f, config.governed_paths)
        )
    return {name: paths for name, paths in categories.items() if paths}


def governed_files(repo: Repository, config: OracleConfig) -> tuple[str, ...]:
    """Every governed file, including the governance files themselves."""
    selected: set[str] = set()
    for paths in governed_categories(repo, config).values():
        selected.update(paths)
    selected.update(path for path in (*LOCATIONS, DEFAULT_FILE) if repo.exists(path))
    return tuple(sorted(selected))
