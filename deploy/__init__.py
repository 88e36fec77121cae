"""Build and packaging code for the deployable artifacts (not shipped in them).

- `deploy.lock`: generates `deploy/requirements.lock`, the one pinned, hashed runtime set that
  the Lambda zip and the container image both install from.
- `deploy.lambda_build`: `./dev package`, the reproducible Lambda zip; its constants
  (`ARCHITECTURE`, `RUNTIME`, `HANDLER`, ...) come from `adapters.aws.spec`, which the Pulumi
  components render.
- `deploy.container`: the container image's constants (`HEALTH_PATH`, ...) and `./dev image-check`.
- `deploy/entrypoint.py`: the image's command (a standalone script: serves on `$PORT`).

`deploy/` is an import package used from the repository root (`python -m deploy.lock`); it is
deliberately not part of the `phase-mirror` distribution.
"""
