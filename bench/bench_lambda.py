"""The Lambda runtime: cold start of the HTTP handler, its warm overhead over the bare ASGI app,
and the deployable package's size.

* **Cold import**: a fresh interpreter running `import service.runtime.lambda_http`, whole
  process wall time, against a fresh interpreter doing nothing (`python -c pass`); the two
  alternate (`report.paired`). Target: < 500 ms.
* **First invocation**: in a fresh process, the first `handler(event, context)` for `GET /readyz`
  on the local backend (imports the web stack, opens the backend, builds the app, reads the
  salt): what a cold Lambda adds to its first request, beyond the import. The AWS backend adds
  the boto3 import and client creation on top (not measured here: no network).
* **Warm overhead**: the same request as an API Gateway v2 event through the handler (Mangum:
  event -> ASGI scope, body decoding, response -> result dict) against the same request as an
  ASGI call of the same app in the same event loop, alternating call by call. Target: <= 1.2x.
* **Package**: `dist/phase-mirror-lambda.zip` (built by `./dev package`), zipped and unzipped.

    python -m bench lambda        # or ./dev bench lambda
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .report import Pair, Stats, paired, print_table

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dist" / "phase-mirror-lambda.zip"
COLD_RUNS = 9
WARM_CALLS = 400
SOURCE_IP = "203.0.113.7"
API_KEY = "bench-lambda-key-0001"

_FIRST_INVOCATION = """
import json, sys, time
started = time.perf_counter()
import service.runtime.lambda_http as h
imported = time.perf_counter()
event = json.loads(sys.argv[1])
result = h.handler(event, None)
done = time.perf_counter()
assert result["statusCode"] == 200, result
print(json.dumps({"import_ms": (imported - started) * 1000, "first_ms": (done - imported) * 1000}))
"""


def http_event(method: str, path: str, body: bytes | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API payload 2.0 event (see tests/runtime/events.py for the full shape)."""
    headers = {
        "host": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
        "user-agent": "bench",
        "x-forwarded-for": SOURCE_IP,
        "x-forwarded-proto": "https",
    }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "apiId": "a1b2c3d4e5",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": SOURCE_IP,
                "userAgent": "bench",
            },
            "requestId": "benchRequestId0001=",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }
    if body is not None:
        headers["content-type"] = "application/json"
        headers["content-length"] = str(len(body))
        event["body"] = base64.b64encode(body).decode("ascii")
        event["isBase64Encoded"] = True
    return event


def asgi_call(app: Any, loop: asyncio.AbstractEventLoop, event: dict[str, Any]) -> int:
    """The request of `event` as a plain ASGI call of `app`: what a server would do."""
    http = event["requestContext"]["http"]
    body = base64.b64decode(event["body"]) if "body" in event else b""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": http["method"],
        "scheme": "https",
        "path": http["path"],
        "raw_path": http["path"].encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in event["headers"].items()],
        "client": (SOURCE_IP, 0),
        "server": (event["headers"]["host"], 443),
    }
    status = 0
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    loop.run_until_complete(app(scope, receive, send))
    return status


def cold_rows(data_dir: Path) -> list[list[object]]:
    env_cmd = [sys.executable, "-c"]

    def spawn(code: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*env_cmd, code, *args],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", "PHASE_MIRROR_BACKEND": f"local://{data_dir}"},
        )

    pair = paired(
        lambda i: spawn("import service.runtime.lambda_http"),
        lambda i: spawn("pass"),
        COLD_RUNS,
        warmup=1,
    )
    firsts = [
        json.loads(spawn(_FIRST_INVOCATION, json.dumps(http_event("GET", "/readyz"))).stdout)
        for _ in range(COLD_RUNS // 2 + 1)
    ]
    first_ms = sorted(f["first_ms"] for f in firsts)
    import_ms = sorted(f["import_ms"] for f in firsts)
    return [
        [
            "cold import, whole process",
            COLD_RUNS,
            _ms(pair.ours),
            _ms(pair.base),
            f"{_ms(pair.ours):.0f} ms < 500 ms",
        ],
        [
            "  of which the import (in-process)",
            len(firsts),
            import_ms[len(import_ms) // 2],
            "-",
            "",
        ],
        [
            "first invocation GET /readyz (local backend)",
            len(firsts),
            first_ms[len(first_ms) // 2],
            "-",
            "web stack + backend + app",
        ],
    ]


def warm_rows(data_dir: Path) -> list[list[object]]:
    from adapters.backend import open_backend
    from service.calibration.bootstrap import Calibration, bootstrap
    from service.calibration.config import CalibrationConfig
    from service.runtime.lambda_http import build_handler

    os.environ["PHASE_MIRROR_LOG_LEVEL"] = "warning"  # no start-up line inside the table
    backend = open_backend(f"local://{data_dir / 'warm'}")
    config = CalibrationConfig().with_changes(
        orgs_per_key_per_hour=10**8, events_per_org_per_hour=10**8
    )
    handler = build_handler(backend, config, access_log=False)
    service: Calibration = handler.app.state.calibration
    bootstrap(backend, service.keys)
    service.keys.import_key(API_KEY, "bench", "bench-org")
    loop = asyncio.get_event_loop()
    now_ms = int(time.time() * 1000)

    def ingest(tag: str, i: int) -> dict[str, Any]:
        body = {
            "orgid": f"org-{i % 50}",
            "token": API_KEY,
            "ruleid": "MD-002",
            "ruleversion": "1.0",
            "claim": {"input": f"{tag} claim {i}"},
            "outcome": "matched",
            "actualOutcome": "should_not_have_matched",
            "confidence": 0.9,
            "timestamp": now_ms,
            "environment": "bench",
        }
        return http_event("POST", "/api/v1/events/ingest", json.dumps(body).encode())

    def fixed(method: str, path: str) -> Callable[[str, int], dict[str, Any]]:
        event = http_event(method, path)
        return lambda tag, i: event

    def both(make: Callable[[str, int], dict[str, Any]]) -> Pair:
        def through_handler(i: int) -> int:
            return _expect(handler(make("lambda", i), None)["statusCode"])

        def through_asgi(i: int) -> int:
            return _expect(asgi_call(handler.app, loop, make("asgi", i)))

        return paired(through_handler, through_asgi, WARM_CALLS)

    rows: list[list[object]] = []
    try:
        for name, make in (
            ("GET /healthz (no storage)", fixed("GET", "/healthz")),
            ("GET /readyz (2 reads)", fixed("GET", "/readyz")),
            ("POST ingest 202 (durable write)", ingest),
        ):
            pair = both(make)
            rows.append(
                [
                    name,
                    WARM_CALLS,
                    pair.ours.p50_us,
                    pair.base.p50_us,
                    pair.ours.p99_us,
                    pair.ratio,
                    "<= 1.2x",
                ]
            )
    finally:
        backend.close()
    return rows


def package_rows() -> list[list[object]]:
    if not PACKAGE.exists():
        return [[str(PACKAGE.relative_to(ROOT)), "-", "-", "-", "not built: run ./dev package"]]
    with zipfile.ZipFile(PACKAGE) as archive:
        infos = archive.infolist()
    unzipped = sum(info.file_size for info in infos)
    return [
        [
            str(PACKAGE.relative_to(ROOT)),
            PACKAGE.stat().st_size / 2**20,
            unzipped / 2**20,
            len(infos),
            "Lambda limits: 50 MiB zipped upload, 250 MiB unzipped",
        ]
    ]


def run() -> None:
    print(
        f"workload: cold = {COLD_RUNS} fresh interpreters per side, alternating; first "
        f"invocation = GET /readyz in a fresh process on a local backend; warm = {WARM_CALLS} "
        "calls per side alternating, one app on a local backend, API key bound, limits raised; "
        f"python {sys.version.split()[0]}, 2 shared cores"
    )
    with tempfile.TemporaryDirectory(prefix="bench-lambda-") as tmp:
        data_dir = Path(tmp)
        _bootstrap_local(data_dir)
        print_table(
            "Lambda handler: cold start",
            ["measure", "n", "p50 ms", "python -c pass p50 ms", "target / note"],
            cold_rows(data_dir),
        )
        print_table(
            "Lambda handler: warm invocation vs the same request as a direct ASGI call",
            ["request", "n", "handler p50 µs", "ASGI p50 µs", "handler p99 µs", "ratio", "target"],
            warm_rows(data_dir),
        )
    print_table(
        "Lambda package",
        ["file", "zipped MiB", "unzipped MiB", "files", "note"],
        package_rows(),
    )


def _bootstrap_local(data_dir: Path) -> None:
    """Secrets in the local backend the cold processes open (so /readyz answers 200)."""
    from adapters.backend import open_backend
    from adapters.catalog import Secret
    from service.calibration.bootstrap import ensure_secret

    backend = open_backend(f"local://{data_dir}")
    try:
        for secret in (Secret.ANONYMIZER_SALT, Secret.REDACTION_KEY):
            ensure_secret(backend, secret)
    finally:
        backend.close()


def _ms(stats: Stats) -> float:
    return stats.p50_ns / 1e6


def _expect(status: int) -> int:
    if status >= 300:
        raise RuntimeError(f"the benchmark request failed with {status}")
    return status
