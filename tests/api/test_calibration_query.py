"""GET /api/v1/calibration/query after the anonymizer ran: k-anonymity, caps, Wilson interval."""

from __future__ import annotations

from typing import Any

from service.calibration.aggregate import run_anonymizer

from .conftest import Api, ApiFactory

RULE = "MD-002"


def params(api: Api, **changes: Any) -> dict[str, Any]:
    day = 24 * 3600 * 1000
    base = {
        "ruleid": RULE,
        "ruleversion": "1.0",
        "outcome": "matched",
        "start_ms": api.now_ms() - 7 * day,
        "end_ms": api.now_ms(),
    }
    base.update(changes)
    return base


def submit(api: Api, org: str, n: int, fp: int) -> None:
    for i in range(n):
        outcome = "should_not_have_matched" if i < fp else "correct"
        response = api.ingest(
            orgid=org, ruleid=RULE, claim={"input": f"{org}-{i}"}, actualOutcome=outcome
        )
        assert response.status_code == 202, response.text


def test_k_too_small_is_403(api: Api) -> None:
    for n in range(9):
        submit(api, f"org-{n}", 2, 1)
    run_anonymizer(api.backend, api.service.pseudonyms)
    response = api.client.get("/api/v1/calibration/query", params=params(api))
    assert response.status_code == 403
    body = response.json()
    assert (body["status"], body["reason"], body["k"], body["minimum"]) == (
        "rejected",
        "k_too_small",
        9,
        10,
    )


def test_rate_with_wilson_interval_once_k_orgs_contributed(api: Api) -> None:
    for n in range(10):
        submit(api, f"org-{n}", 4, 1)
    run_anonymizer(api.backend, api.service.pseudonyms)
    response = api.client.get("/api/v1/calibration/query", params=params(api))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["query"]["ruleid"] == RULE
    result = body["result"]
    assert (result["count"], result["k"]) == (40, 10)
    assert result["false_positive_rate"] == 0.25
    interval = result["confidence_interval"]
    assert interval["level"] == 0.95
    # Wilson score interval for 10/40 at z = 1.96.
    assert abs(interval["low"] - 0.141877) < 1e-4
    assert abs(interval["high"] - 0.401940) < 1e-4
    # Another outcome or version is another cohort.
    other = api.client.get("/api/v1/calibration/query", params=params(api, outcome="not_matched"))
    assert other.status_code == 403


def test_one_org_cannot_dominate_the_rate(make: ApiFactory) -> None:
    api = make(contribution_cap=5)
    for n in range(10):
        submit(api, f"org-{n}", 5, 0)
    submit(api, "loud-org", 50, 50)  # 50 false positives from one org
    run_anonymizer(api.backend, api.service.pseudonyms)
    result = api.client.get("/api/v1/calibration/query", params=params(api)).json()["result"]
    assert result["count"] == 100
    assert result["effective_count"] == 55
    assert abs(result["false_positive_rate"] - 5 / 55) < 1e-6


def test_bad_parameters_are_named(api: Api) -> None:
    cases = {
        "outcome": params(api, outcome="maybe"),
        "start_ms": params(api, start_ms="yesterday"),
        "ruleid": params(api, ruleid="bad rule"),
        "end_ms": params(api, start_ms=0, end_ms=400 * 24 * 3600 * 1000),
        "verbose": {**params(api), "verbose": "1"},
    }
    for field, query in cases.items():
        response = api.client.get("/api/v1/calibration/query", params=query)
        assert response.status_code == 400, field
        assert response.json()["code"] == "INVALID_QUERY"
        assert field in {e["field"] for e in response.json()["errors"]}
    # Unicode digits pass str.isdigit() but not int(): found by the property test.
    for digits in ("²", "١٢٣"):
        response = api.client.get("/api/v1/calibration/query", params=params(api, end_ms=digits))
        assert response.status_code == 400
        assert "end_ms" in {e["field"] for e in response.json()["errors"]}
    later = params(api)
    later["start_ms"], later["end_ms"] = later["end_ms"], later["start_ms"]
    assert api.client.get("/api/v1/calibration/query", params=later).status_code == 400
    missing = api.client.get("/api/v1/calibration/query", params={"ruleid": RULE})
    assert missing.status_code == 400
    assert {"ruleversion", "outcome", "start_ms", "end_ms"} <= {
        e["field"] for e in missing.json()["errors"]
    }


def test_anonymous_queries_are_rate_limited_per_client(make: ApiFactory) -> None:
    api = make(queries_per_client_per_minute=3)
    for _ in range(3):
        assert api.client.get("/api/v1/calibration/query", params=params(api)).status_code == 403
    throttled = api.client.get("/api/v1/calibration/query", params=params(api))
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) >= 1
