"""Readable snapshots of a stack's resources: one line per resource (type and logical name),
children indented under their parent, so every infrastructure change shows up in review.

    python -m phase_platform.snapshot            # print all four cloud x stack snapshots
    python -m phase_platform.snapshot --write    # rewrite tests/platform/snapshots/*.txt
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

from .testing import CLOUDS, REPO_ROOT, STACKS, RegisteredResource, run_program

SNAPSHOT_DIR = REPO_ROOT / "tests" / "platform" / "snapshots"


def snapshot_path(cloud: str, stack: str, directory: Path = SNAPSHOT_DIR) -> Path:
    return directory / f"{cloud}-{stack}.txt"


def render(cloud: str, stack: str, resources: Sequence[RegisteredResource]) -> str:
    by_parent: dict[str | None, list[RegisteredResource]] = defaultdict(list)
    urns = {resource.urn for resource in resources}
    for resource in resources:
        parent = resource.parent if resource.parent in urns else None
        by_parent[parent].append(resource)
    counts = Counter(resource.type for resource in resources)
    lines = [
        f"# {cloud} x {stack}: {len(resources)} resources (type, logical name; children "
        "indented under their parent).",
        "# Regenerate with: python -m phase_platform.snapshot --write",
        "#",
        *(f"# {count:3d}  {type_}" for type_, count in sorted(counts.items())),
        "",
    ]

    def walk(parent: str | None, depth: int) -> None:
        for resource in sorted(by_parent[parent], key=lambda r: (r.type, r.name)):
            marks = " [protected]" if resource.protect else ""
            lines.append(f"{'  ' * depth}{resource.type}  {resource.name}{marks}")
            walk(resource.urn, depth + 1)

    walk(None, 0)
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m phase_platform.snapshot", description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite the committed snapshots")
    args = parser.parse_args(argv)
    for cloud in CLOUDS:
        for stack in STACKS:
            text = render(cloud, stack, run_program(cloud, stack))
            if args.write:
                path = snapshot_path(cloud, stack)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
                print(f"wrote {path.relative_to(REPO_ROOT)}", file=sys.stderr)
            else:
                sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
