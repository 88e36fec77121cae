"""The calibration API's contract responses, as scenarios run through any `Send`.

Each scenario returns the list of replies it got, with the values that are random by design
(event ids, nonces) replaced by placeholders after checking what the contract says about them
(a duplicate names the prior event id, a nonce is 64 hex). Two transports over backends prepared
the same way must return identical lists."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from adapters.clock import FakeClock

from .events import Reply
from .transports import API_KEY, ORG_KEY, Send

INGEST = "/api/v1/events/ingest"
#: The headers whose value is part of the contract; others (server, date) are the server's.
CONTRACT_HEADERS = ("content-type", "retry-after", "x-request-id", "allow")

Scenario = Callable[[Send, FakeClock], list[Reply]]


def event(clock: FakeClock, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "orgid": "org-a",
        "token": API_KEY,
        "ruleid": "MD-002",
        "ruleversion": "1.0",
        "claim": {"input": "certificate data", "findingid": "finding-1"},
        "outcome": "matched",
        "actualOutcome": "should_not_have_matched",
        "confidence": 0.95,
        "timestamp": int(clock.now().timestamp() * 1000),
        "environment": "production",
    }
    body.update(changes)
    return body


def normalized(reply: Reply) -> Reply:
    body = reply.body
    if isinstance(body, dict):
        body = dict(body)
        for name in ("eventid", "prior_eventid"):
            if name in body:
                assert isinstance(body[name], str) and body[name]
                body[name] = "<event id>"
        if "nonce" in body and isinstance(body["nonce"], str):
            assert len(body["nonce"]) == 64 and int(body["nonce"], 16) >= 0
            body["nonce"] = "<nonce>"
    headers = {k: v for k, v in reply.headers.items() if k in CONTRACT_HEADERS}
    return Reply(reply.status, headers, body, reply.cookies)


def ingest_contract(send: Send, clock: FakeClock) -> list[Reply]:
    replies = [
        send("GET", "/healthz"),
        send("GET", "/readyz"),
        send("POST", INGEST, json=event(clock)),
    ]
    accepted = replies[-1]
    assert accepted.status == 202, accepted
    replies.append(send("POST", INGEST, json=event(clock)))
    duplicate = replies[-1]
    assert duplicate.status == 409 and duplicate.body["prior_eventid"] == accepted.body["eventid"]
    replies += [
        send("POST", INGEST, json=event(clock, confidence=1.5, outcome="maybe")),
        send("POST", INGEST, json=event(clock, token="not-a-key")),
        send("POST", INGEST, json={k: v for k, v in event(clock).items() if k != "token"}),
        send("POST", INGEST, json=event(clock, orgid="org-b", token=ORG_KEY)),
        send("POST", INGEST, raw=b'{"orgid": "org-a", "confidence": NaN'),
        send("POST", INGEST, raw=b""),
        # 64 KiB is the limit: once declared by Content-Length, once only by the body itself.
        send("POST", INGEST, json=event(clock, claim={"input": "x" * 70_000})),
        send(
            "POST",
            INGEST,
            json=event(clock, claim={"input": "y" * 70_000}),
            declare_length=False,
        ),
        send("GET", "/api/v1/nowhere"),
        send("PUT", INGEST, json={}),
    ]
    return [normalized(r) for r in replies]


def ingest_throttled(send: Send, clock: FakeClock) -> list[Reply]:
    """3 events per (key, org) per hour in the test config: the 4th is 429 with Retry-After."""
    replies = [
        send("POST", INGEST, json=event(clock, orgid="org-t", claim={"input": f"claim {n}"}))
        for n in range(4)
    ]
    assert [r.status for r in replies] == [202, 202, 202, 429], replies
    assert int(replies[-1].headers["retry-after"]) >= 1
    return [normalized(r) for r in replies]


def nonce_contract(send: Send, clock: FakeClock) -> list[Reply]:
    issued = send("POST", "/api/v1/nonce/request", json={"orgid": "org-a", "token": API_KEY})
    assert issued.status == 200, issued
    nonce = issued.body["nonce"]
    replies = [
        issued,
        send("POST", "/api/v1/nonce/validate", json={"nonce": nonce}),
        send("POST", "/api/v1/nonce/validate", json={"nonce": nonce}),
        send("POST", "/api/v1/nonce/validate", json={"nonce": "ab" * 32}),
        send("POST", "/api/v1/nonce/validate", json={}),
        send("POST", "/api/v1/nonce/request", json={"orgid": "org-a", "token": "nope"}),
        send("POST", "/api/v1/nonce/request", json={"orgid": "org-x", "token": ORG_KEY}),
        send("POST", "/api/v1/nonce/request", json={"token": API_KEY}),
    ]
    assert [r.status for r in replies[1:3]] == [200, 401]
    return [normalized(r) for r in replies]


def consent_contract(send: Send, clock: FakeClock) -> list[Reply]:
    key = {"x-api-key": API_KEY}
    replies = [
        send("POST", "/api/v1/consent", json={"orgid": "org-c", "token": API_KEY, "scope": "org"}),
        send("GET", "/api/v1/consent", query={"orgid": "org-c"}, headers=key),
        send("DELETE", "/api/v1/consent", json={"orgid": "org-c", "token": API_KEY}),
        send("POST", INGEST, json=event(clock, orgid="org-c")),
        send("GET", "/api/v1/consent", query={"orgid": "org-c"}),
        send("POST", "/api/v1/consent", json={"orgid": "org-c", "token": API_KEY, "scope": "x"}),
    ]
    assert replies[3].status == 403 and replies[3].code == "CONSENT_REVOKED", replies[3]
    return [normalized(r) for r in replies]


def query_contract(send: Send, clock: FakeClock) -> list[Reply]:
    now = int(clock.now().timestamp() * 1000)
    params = {
        "ruleid": "MD-002",
        "ruleversion": "1.0",
        "outcome": "matched",
        "start_ms": str(now - int(timedelta(days=2).total_seconds() * 1000)),
        "end_ms": str(now),
    }
    replies = [
        send("GET", "/api/v1/calibration/query", query=params),
        send("GET", "/api/v1/calibration/query", query={**params, "outcome": "sometimes"}),
        send("GET", "/api/v1/calibration/query", query=params),
        # 3 queries per client per minute in the test config (the 400 above did not count).
        send("GET", "/api/v1/calibration/query", query=params),
        send("GET", "/api/v1/calibration/query", query=params),
    ]
    assert replies[0].status == 403 and replies[0].body["code"] == "K_TOO_SMALL", replies[0]
    assert replies[-1].status == 429 and int(replies[-1].headers["retry-after"]) >= 1
    return [normalized(r) for r in replies]


def outage_contract(send: Send, clock: FakeClock) -> list[Reply]:
    """Run with the backend down: every storage route answers 503 + Retry-After, never 500."""
    replies = [
        send("GET", "/healthz"),
        send("GET", "/readyz"),
        send("POST", INGEST, json=event(clock)),
        send("POST", "/api/v1/nonce/request", json={"orgid": "org-a", "token": API_KEY}),
        send("POST", "/api/v1/nonce/validate", json={"nonce": "cd" * 32}),
    ]
    assert [r.status for r in replies] == [200, 503, 503, 503, 503], replies
    assert all("retry-after" in r.headers for r in replies[1:])
    return [normalized(r) for r in replies]


SCENARIOS: dict[str, Scenario] = {
    "ingest": ingest_contract,
    "ingest-429": ingest_throttled,
    "nonces": nonce_contract,
    "consent": consent_contract,
    "query": query_contract,
}


def differences(left: list[Reply], right: list[Reply]) -> str:
    """A readable account of where two runs differ (empty when they do not)."""
    lines = []
    for n, (a, b) in enumerate(zip(left, right, strict=True), start=1):
        if a != b:
            lines.append(
                f"request {n}:\n  lambda {a.status} {a.headers} {json.dumps(a.body)[:300]}"
                f"\n  app    {b.status} {b.headers} {json.dumps(b.body)[:300]}"
            )
    return "\n".join(lines)
