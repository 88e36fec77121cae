"""The GCP stack's image, before `pulumi up` (the deploy workflow; no Pulumi CLI needed).

    python -m phase_platform.gcp.image repository STACK      # print where to push
    python -m phase_platform.gcp.image pin STACK DIGEST      # set `image` in Pulumi.STACK.yaml

`repository` prints `{gcpLocation}-docker.pkg.dev/{gcpProject}/{repository}`, the Artifact
Registry repository the program creates for that stack file (the `imageRepository` output),
from the stack's config as `pulumi up` reads it. `pin` writes `phase-mirror:image` =
`<repository>/phase-mirror@<digest>` into the stack file, validated like every config value,
so preview, the deletion gate and `up` all deploy that digest (never a tag).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import yaml

from adapters.gcp.spec import IMAGE_NAME, gcp_stack

from ..config import PROJECT, ConfigError, PlatformConfig, parse_config
from ..testing import REPO_ROOT, load_stack_config


def raw_config(stack: str) -> dict[str, str]:
    """The stack's config as `pulumi up` passes it (project defaults + stack file), unprefixed."""
    _, config, _ = load_stack_config(stack)
    prefix = f"{PROJECT}:"
    return {k.removeprefix(prefix): v for k, v in config.items() if k.startswith(prefix)}


def repository(config: PlatformConfig) -> str:
    return gcp_stack(config.prefix).compute.image_repository(
        config.gcp_project, config.gcp_location
    )


def pin(stack: str, digest: str) -> str:
    """Set the stack file's `image` to the repository's image at `digest`; returns it."""
    raw = raw_config(stack)
    image = f"{repository(parse_config(raw))}/{IMAGE_NAME}@{digest}"
    parse_config({**raw, "image": image})  # the program's own check: a digest, nothing else
    path = REPO_ROOT / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text()) or {}
    document.setdefault("config", {})[f"{PROJECT}:image"] = image
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return image


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m phase_platform.gcp.image", description=__doc__)
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("repository", help="print the stack's image repository").add_argument(
        "stack"
    )
    pinning = actions.add_parser("pin", help="set the stack's image to a digest")
    pinning.add_argument("stack")
    pinning.add_argument("digest", help="sha256:<64 hex>, as docker/build-push-action outputs it")
    args = parser.parse_args(argv)
    try:
        if args.action == "repository":
            print(repository(parse_config(raw_config(args.stack))))
        else:
            print(pin(args.stack, args.digest))
    except (ConfigError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 78
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
