# syntax=docker/dockerfile:1
# Phase Mirror calibration API: one image for Cloud Run (and for Lambda behind the AWS Lambda Web
# Adapter; see docs/platform.md#packaging). Build and push for Cloud Run (linux/amd64):
#   docker buildx build --platform linux/amd64 --provenance=false --push \
#     --metadata-file image.json -t REGION-docker.pkg.dev/PROJECT/REPO/phase-mirror:COMMIT .
#   jq -r '."containerimage.digest"' image.json    # deploy IMAGE@sha256:..., never a tag
# Verified here without a container daemon by `./dev image-check` (runs the build stage's RUN
# lines and the CMD below in a clean venv) and tests/deploy/test_image.py (static rules).
# Path rule for `./dev image-check`: RUN lines name absolute paths only through ARG/ENV values.

# The official image python:3.11.13-slim-bookworm, pinned by the digest of its multi-platform
# index. Refresh: `docker buildx imagetools inspect python:3.11-slim-bookworm` -> "Digest:".
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1

FROM ${PYTHON_IMAGE} AS build
ARG BUILD_VENV=/opt/build
ARG VENV=/opt/venv
ARG WHEELS=/opt/wheels
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_NO_INPUT=1
WORKDIR /src
COPY deploy/lock.py deploy/requirements.lock deploy/
# Dependencies first (their layer survives code changes). Every wheel is checked against its
# sha256 in the lock, and pip fails if the lock misses a dependency. The build venv holds the
# lock's setuptools and wheel; the runtime venv has no pip or setuptools at all (pip installs
# into it from outside with --python): only the lock's `image` target (core + api, aws, gcp).
RUN python -m venv "$BUILD_VENV" \
 && python deploy/lock.py select build > build-requirements.txt \
 && "$BUILD_VENV/bin/pip" install --require-hashes --only-binary=:all: -r build-requirements.txt \
 && python -m venv --without-pip "$VENV" \
 && python deploy/lock.py select image > image-requirements.txt \
 && "$BUILD_VENV/bin/pip" --python "$VENV/bin/python" install \
    --require-hashes --only-binary=:all: -r image-requirements.txt
# The project's own wheel (adapters, service; never platform/, tests/ or bench/).
COPY pyproject.toml README.md ./
COPY adapters adapters
COPY service service
RUN "$BUILD_VENV/bin/pip" wheel --no-deps --no-build-isolation --wheel-dir "$WHEELS" . \
 && "$BUILD_VENV/bin/pip" --python "$VENV/bin/python" install --no-deps "$WHEELS"/phase_mirror-*.whl

FROM ${PYTHON_IMAGE} AS runtime
ENV VENV=/opt/venv
# PORT: Cloud Run sets it; 8080 elsewhere. PHASE_MIRROR_HOST: every interface, inside the
# container. FORWARDED_ALLOW_IPS: `phase-mirror serve` trusts X-Forwarded-For/-Proto only from
# these peers (without it: from none; docs/api.md "Behind a proxy"):
# loopback (the Lambda Web Adapter) and link-local 169.254.0.0/16, which is not routable, so only
# the platform's own front end can connect from it (Cloud Run). Never "*". No backend setting
# and no secret here: the platform passes PHASE_MIRROR_BACKEND; the service reads its secrets
# from the secret store at run time.
ENV PATH="$VENV/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=8080 \
    PHASE_MIRROR_HOST=0.0.0.0 \
    FORWARDED_ALLOW_IPS=127.0.0.1,::1,169.254.0.0/16
# image-check: skip (needs root: creates the service user)
RUN groupadd --system --gid 10001 phasemirror \
 && useradd --system --uid 10001 --gid phasemirror --create-home --home-dir /home/phasemirror \
    --shell /usr/sbin/nologin phasemirror
COPY --from=build /opt/venv /opt/venv
COPY deploy/entrypoint.py /app/entrypoint.py
USER 10001:10001
WORKDIR /home/phasemirror
EXPOSE 8080
# The startup probe (deploy.container.HEALTH_PATH) is /healthz; Cloud Run probes it, so there is
# no HEALTHCHECK. The scheduled anonymizer job overrides the command: `phase-mirror anonymize`.
CMD ["python", "/app/entrypoint.py"]
