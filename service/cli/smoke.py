"""`phase-mirror smoke --endpoint URL`: the calibration API's contract flows against a deployment.

Plain HTTP through the standard library (no web stack, no cloud SDK), so it runs anywhere the
package is installed, e.g. in the deploy workflow right after `pulumi up`. Every step states the
status and code the contract promises and what came back; the command exits 1 on any deviation.

Each run uses fresh identifiers (org `phase-mirror-smoke-<run>`, rule version `smoke-<run>`, its
own claim) so it can be rerun against a live stack. What one run leaves behind is listed in
`LEFT_BEHIND` (and docs/runtime.md).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from service.oracle.http import HttpAnswer, request_json

from .common import EXIT_FAIL, EXIT_OK, UsageError

ENV_KEY = "PHASE_MIRROR_SMOKE_KEY"
RULE_ID = "PM-SMOKE"
ENVIRONMENT = "smoke-test"
INGEST = "/api/v1/events/ingest"
NONCE_REQUEST = "/api/v1/nonce/request"
NONCE_VALIDATE = "/api/v1/nonce/validate"
QUERY = "/api/v1/calibration/query"

LEFT_BEHIND = (
    f"one raw event (rule {RULE_ID}, version smoke-<run>, environment {ENVIRONMENT}, "
    "org phase-mirror-smoke-<run> or --org), stored encrypted until the raw-event TTL (30 days); "
    "its de-duplication claim (24 h); hourly/minute rate-limit counters; one consumed nonce "
    "(deleted on use); after the anonymizer runs, one daily aggregate of a one-org cohort for "
    f"{RULE_ID}/smoke-<run>, which no query can reveal (below k)"
)


@dataclass
class StepResult:
    name: str
    request: str
    expected: str
    got: str
    ok: bool | None  # None: skipped (a step it depends on failed)
    detail: str = ""
    request_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "request": self.request,
            "expected": self.expected,
            "got": self.got,
            "result": "skipped" if self.ok is None else ("pass" if self.ok else "fail"),
            "detail": self.detail,
            "request_id": self.request_id,
        }


class Client:
    """`service.oracle.http.request_json` against one base URL, each request with its own id."""

    def __init__(self, endpoint: str, *, timeout: float, run_id: str) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout
        self.run_id = run_id

    def send(
        self,
        step: str,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[HttpAnswer, str]:
        request_id = f"smoke-{self.run_id}.{step}"
        url = self.endpoint + path + (f"?{urlencode(query)}" if query else "")
        sent = {"User-Agent": "phase-mirror-smoke", "X-Request-Id": request_id, **(headers or {})}
        return request_json(method, url, body=body, headers=sent, timeout=self.timeout), request_id


def _code(answer: HttpAnswer) -> str | None:
    if isinstance(answer.body, dict):
        code = answer.body.get("code") or answer.body.get("status")
        return None if code is None else str(code)
    return None


def _describe(answer: HttpAnswer) -> str:
    if answer.status is None:
        return f"no answer ({answer.error})"
    return f"{answer.status} {_code(answer) or ''}".strip()


Check = Callable[[HttpAnswer], str | None]
"""Returns what is wrong with an answer whose status and code were as expected, or None."""


@dataclass
class Smoke:
    client: Client
    key: str
    org: str
    run_id: str
    results: list[StepResult] = field(default_factory=list)
    found: dict[str, Any] = field(default_factory=dict)

    def step(
        self,
        name: str,
        method: str,
        path: str,
        expect_status: int,
        expect_code: str | None = None,
        *,
        check: Check | None = None,
        needs: str | None = None,
        **request: Any,
    ) -> HttpAnswer | None:
        expected = f"{expect_status} {expect_code or ''}".strip()
        if needs is not None and needs not in self.found:
            self.results.append(
                StepResult(name, f"{method} {path}", expected, "-", None, f"skipped: needs {needs}")
            )
            return None
        answer, request_id = self.client.send(name, method, path, **request)
        ok = answer.status == expect_status and (
            expect_code is None or _code(answer) == expect_code
        )
        detail = ""
        if ok and check is not None:
            problem = check(answer)
            ok, detail = problem is None, problem or ""
        elif not ok:
            detail = _message(answer)
        self.results.append(
            StepResult(
                name, f"{method} {path}", expected, _describe(answer), ok, detail, request_id
            )
        )
        return answer if ok else None

    def event(self, **changes: Any) -> dict[str, Any]:
        body = {
            "orgid": self.org,
            "token": self.key,
            "ruleid": RULE_ID,
            "ruleversion": f"smoke-{self.run_id}",
            "claim": {"input": f"phase-mirror smoke run {self.run_id}", "smoke": True},
            "outcome": "matched",
            "actualOutcome": "should_not_have_matched",
            "confidence": 0.5,
            "timestamp": int(time.time() * 1000),
            "environment": ENVIRONMENT,
        }
        body.update(changes)
        return body

    def run(self) -> None:
        self.step("health", "GET", "/healthz", 200)
        self.step("ready", "GET", "/readyz", 200, "ok")
        event = self.event()
        self.step(
            "ingest-bad-key",
            "POST",
            INGEST,
            401,
            "INVALID_AUTH",
            body={**event, "token": f"smoke-not-a-key-{secrets.token_hex(8)}"},
        )
        self.step(
            "ingest-bad-field",
            "POST",
            INGEST,
            400,
            "INVALID_SCHEMA",
            check=_names_field("confidence"),
            body={**event, "confidence": 1.5},
        )
        accepted = self.step(
            "ingest-accepted", "POST", INGEST, 202, "accepted", check=_has("eventid"), body=event
        )
        if accepted is not None:
            self.found["eventid"] = accepted.body["eventid"]
        self.step(
            "ingest-duplicate",
            "POST",
            INGEST,
            409,
            "DUPLICATE",
            check=lambda a: _same(a, "prior_eventid", self.found.get("eventid")),
            needs="eventid",
            body=event,
        )
        issued = self.step(
            "nonce-issue",
            "POST",
            NONCE_REQUEST,
            200,
            "ok",
            check=_nonce_shape,
            body={"orgid": self.org, "token": self.key},
        )
        if issued is not None:
            self.found["nonce"] = issued.body["nonce"]
        nonce = {"nonce": self.found.get("nonce")}
        self.step(
            "nonce-validate",
            "POST",
            NONCE_VALIDATE,
            200,
            "ok",
            check=lambda a: _same(a, "valid", True) or _same(a, "orgid", self.org),
            needs="nonce",
            body=nonce,
        )
        self.step(
            "nonce-replay",
            "POST",
            NONCE_VALIDATE,
            401,
            "INVALID_NONCE",
            check=lambda a: _same(a, "valid", False),
            needs="nonce",
            body=nonce,
        )
        now = int(time.time() * 1000)
        self.step(
            "query-k-anonymity",
            "GET",
            QUERY,
            403,
            "K_TOO_SMALL",
            check=_below_k,
            query={
                "ruleid": RULE_ID,
                "ruleversion": event["ruleversion"],
                "outcome": "matched",
                "start_ms": str(now - 86_400_000),
                "end_ms": str(now),
            },
        )

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)

    def hints(self) -> list[str]:
        refused = [
            r.name
            for r in self.results
            if r.got == "401 INVALID_AUTH" and r.name != "ingest-bad-key"
        ]
        if not refused:
            return []
        return [
            f"the API key was refused ({', '.join(refused)}): is it a key of this deployment's "
            f"backend, not revoked (phase-mirror keys list), and, if made with --restrict-org, "
            "is --org its org?"
        ]


def _message(answer: HttpAnswer) -> str:
    if isinstance(answer.body, dict):
        return str(answer.body.get("message", ""))[:300]
    return "" if answer.body is None else str(answer.body)[:200]


def _has(name: str) -> Check:
    return lambda a: None if isinstance(a.body, dict) and a.body.get(name) else f"no '{name}'"


def _same(answer: HttpAnswer, name: str, expected: Any) -> str | None:
    got = answer.body.get(name) if isinstance(answer.body, dict) else None
    return None if got == expected else f"'{name}' is {got!r}, expected {expected!r}"


def _names_field(name: str) -> Check:
    def check(answer: HttpAnswer) -> str | None:
        errors = answer.body.get("errors") if isinstance(answer.body, dict) else None
        fields = [e.get("field") for e in errors or [] if isinstance(e, dict)]
        return None if name in fields else f"the errors name {fields}, not '{name}'"

    return check


def _nonce_shape(answer: HttpAnswer) -> str | None:
    nonce = answer.body.get("nonce") if isinstance(answer.body, dict) else None
    if isinstance(nonce, str) and len(nonce) == 64 and all(c in "0123456789abcdef" for c in nonce):
        return None
    return f"'nonce' is {nonce!r}, expected 64 hex characters"


def _below_k(answer: HttpAnswer) -> str | None:
    body = answer.body if isinstance(answer.body, dict) else {}
    k, minimum = body.get("k"), body.get("minimum")
    if isinstance(k, int) and isinstance(minimum, int) and k < minimum:
        return None
    return f"expected k < minimum, got k={k!r} minimum={minimum!r}"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "smoke",
        help="check a deployed calibration API against its contract (exit 1 on a deviation)",
        description=(
            "Runs the calibration API's contract flows against ENDPOINT, one request per step: "
            "/healthz and /readyz answer 200; ingest refuses a bad key (401 INVALID_AUTH) and a "
            "bad field (400 INVALID_SCHEMA naming the field), accepts a valid event (202) and "
            "refuses it again (409 DUPLICATE); a nonce is issued, validates once and its replay "
            "is refused (401 INVALID_NONCE); a k-anonymous query for a cohort below k is "
            "refused (403 K_TOO_SMALL). Prints each step with what was expected and what came "
            "back; exits 0 when all pass, 1 on any deviation, 64 on a usage error. Each run uses "
            "fresh ids, so it can be repeated against a live stack; it writes test-tagged data "
            f"only: {LEFT_BEHIND}."
        ),
        epilog=(
            f"The API key: --key, else ${ENV_KEY} (use a CI secret; --key is visible in the "
            "process list). Create one for the deployment's backend with "
            "'phase-mirror --backend URL keys create --name smoke --org phase-mirror-smoke' "
            "(or with PHASE_MIRROR_STACK_OUTPUTS=outputs.json); a key made with "
            "--restrict-org needs --org with its org. See docs/runtime.md."
        ),
    )
    parser.add_argument(
        "--endpoint",
        required=True,
        metavar="URL",
        help="the API's base URL, e.g. the stack output apiEndpoint",
    )
    parser.add_argument("--key", help=f"API key (default: ${ENV_KEY})")
    parser.add_argument(
        "--org", help="org id to submit for (default: a fresh phase-mirror-smoke-<run>)"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds to wait for each answer (default 10)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    endpoint: str = args.endpoint
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--endpoint {endpoint!r} is not an http(s) URL")
    if args.timeout <= 0:
        raise UsageError("--timeout must be more than 0 seconds")
    key = args.key or os.environ.get(ENV_KEY, "")
    if not key:
        raise UsageError(
            f"no API key: pass --key or set {ENV_KEY}; create one with 'phase-mirror "
            "--backend URL keys create --name smoke --org phase-mirror-smoke'"
        )
    run_id = f"{datetime.now(UTC):%y%m%d%H%M%S}-{secrets.token_hex(3)}"
    org = args.org or f"phase-mirror-smoke-{run_id}"
    smoke = Smoke(Client(endpoint, timeout=args.timeout, run_id=run_id), key, org, run_id)
    smoke.run()
    if args.json:
        report = {
            "endpoint": endpoint,
            "run_id": run_id,
            "org": org,
            "ok": smoke.ok,
            "steps": [r.as_dict() for r in smoke.results],
            "hints": smoke.hints(),
            "left_behind": LEFT_BEHIND,
        }
        print(json.dumps(report, indent=2))
    else:
        _print_text(endpoint, run_id, org, smoke.results)
        for hint in smoke.hints():
            print(f"hint: {hint}")
    return EXIT_OK if smoke.ok else EXIT_FAIL


def _print_text(endpoint: str, run_id: str, org: str, results: list[StepResult]) -> None:
    print(f"phase-mirror smoke {endpoint} (run {run_id}, org {org})")
    for r in results:
        verdict = "skip" if r.ok is None else ("ok" if r.ok else "FAIL")
        line = (
            f"  [{verdict:<4}] {r.name:<18} {r.request:<34} expected {r.expected:<22} got {r.got}"
        )
        print(line + (f": {r.detail}" if r.detail else ""))
    failed = [r.name for r in results if r.ok is False]
    skipped = [r.name for r in results if r.ok is None]
    passed = len(results) - len(failed) - len(skipped)
    if not failed and not skipped:
        print(f"smoke: all {passed} steps as the contract says")
        return
    print(
        f"smoke: DEVIATION in {len(failed)} of {len(results)} steps ({', '.join(failed)})"
        + (f"; {len(skipped)} skipped ({', '.join(skipped)})" if skipped else "")
    )
