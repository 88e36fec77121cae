"""`phase-mirror demo`: a short tour that exercises every port on the selected backend."""

from __future__ import annotations

import argparse
import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import Any

from adapters.catalog import Secret
from adapters.errors import Conflict, NotFound
from adapters.ports import FpEvent, Review

from .common import EXIT_FAIL, EXIT_OK, backend_from


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="exercise every store on the selected backend and print what happened",
        description=(
            "Writes a few demonstration records (an FP event and its review, a block count, a "
            "single-use nonce, a dedup claim, a rate limit, an encrypted value, a versioned "
            "secret and a versioned baseline) and prints one line per step. Safe to re-run: "
            "each run uses fresh ids."
        ),
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    backend = backend_from(args)
    now = backend.clock.now()
    steps: list[tuple[str, bool, str]] = []

    def step(name: str, ok: bool, detail: str) -> None:
        steps.append((name, ok, detail))
        print(f"  [{'ok' if ok else 'FAIL'}] {name}: {detail}")

    print(f"backend: {backend.setting.url}")
    try:
        event_id = uuid.uuid4().hex
        event = FpEvent(
            event_id, "MD-002", "1.0.0", f"demo-{event_id[:8]}", "demo/repo", "block", now
        )
        backend.fp_events.record(event)
        try:
            backend.fp_events.record(event)
            step("FP event conditional create", False, "duplicate was accepted")
        except Conflict:
            step(
                "FP event conditional create",
                True,
                f"{event_id[:8]} recorded once, duplicate refused",
            )
        backend.fp_events.review(
            event_id, Review.FALSE_POSITIVE, reviewer="demo", reason="demo", at=now
        )
        step(
            "FP review",
            backend.fp_events.is_false_positive(event.finding_id),
            "marked false positive",
        )

        count = backend.block_counter.increment("MD-002", "demo/repo", at=now)
        step("block counter", count >= 1, f"{count} block(s) this UTC hour")

        nonce = secrets.token_hex(32)
        digest = hashlib.sha256(nonce.encode()).hexdigest()
        backend.nonces.issue(digest, {"orgid": "demo-org"}, ttl=timedelta(hours=1), at=now)
        payload = backend.nonces.consume(digest)
        try:
            backend.nonces.consume(digest)
            step("single-use nonce", False, "second consume succeeded")
        except NotFound:
            step(
                "single-use nonce",
                payload == {"orgid": "demo-org"},
                "consumed once, replay refused",
            )

        key = f"demo-{uuid.uuid4().hex}"
        first = backend.dedup.claim(key, "e1", ttl=timedelta(hours=24), at=now)
        second = backend.dedup.claim(key, "e2", ttl=timedelta(hours=24), at=now)
        step("dedup", first is None and second == "e1", "second claim sees the first")

        decision = backend.rate_limits.hit(
            f"demo-{uuid.uuid4().hex}", limit=1, window=timedelta(minutes=1), at=now
        )
        step("rate limit", decision.allowed, f"{decision.count}/{decision.limit} in this window")

        sealed = backend.keys.encrypt(b"org-42", b"event-1")
        step(
            "envelope encryption",
            backend.keys.decrypt(sealed, b"event-1") == b"org-42",
            f"{len(sealed)} bytes sealed",
        )

        version = backend.secrets.put(Secret.REDACTION_KEY, secrets.token_hex(32))
        step(
            "versioned secret",
            backend.secrets.current(Secret.REDACTION_KEY).version == version.version,
            f"redaction key v{version.version}",
        )

        stored = backend.baselines.put("demo/baseline.json", b'{"files": {}}')
        versions = backend.baselines.versions("demo/baseline.json")
        step(
            "versioned baseline",
            versions[0].version_id == stored.version_id,
            f"{len(versions)} version(s)",
        )
    finally:
        backend.close()
    failed = [name for name, ok, _ in steps if not ok]
    print(f"{len(steps) - len(failed)} of {len(steps)} steps ok")
    return EXIT_FAIL if failed else EXIT_OK
