"""Fixtures for the API contract tests: the app over the local backend, in process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.backend import Backend
from adapters.clock import FakeClock
from service.api.app import create_app
from service.calibration.bootstrap import Calibration, bootstrap
from service.calibration.config import CalibrationConfig

API_KEY = "test-key-123"
OTHER_KEY = "other-test-key-456"


@dataclass
class Api:
    client: TestClient
    backend: Backend
    clock: FakeClock
    service: Calibration

    def now_ms(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    def event(self, **changes: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "orgid": "org-a",
            "token": API_KEY,
            "ruleid": "R-X509-CERT-MISMATCH",
            "ruleversion": "1.0",
            "claim": {"input": "test-certificate-data", "findingid": "finding-1"},
            "outcome": "matched",
            "actualOutcome": "should_not_have_matched",
            "confidence": 0.95,
            "timestamp": self.now_ms(),
            "environment": "production",
        }
        body.update(changes)
        return {k: v for k, v in body.items() if v is not None}

    def ingest(self, **changes: Any) -> Any:
        return self.client.post("/api/v1/events/ingest", json=self.event(**changes))


def make_api(backend: Backend, clock: FakeClock, config: CalibrationConfig) -> Api:
    app = create_app(backend, config, access_log=False)
    service: Calibration = app.state.calibration
    bootstrap(backend, service.keys)
    service.keys.import_key(API_KEY, "test", "impl-org")
    service.keys.import_key(OTHER_KEY, "other", "org-a", restrict_org=True)
    return Api(TestClient(app, raise_server_exceptions=False), backend, clock, service)


ApiFactory = Callable[..., Api]


@pytest.fixture
def make(local_backend: Backend, clock: FakeClock) -> ApiFactory:
    """`make(**config_changes)`: the app over this test's fresh local backend."""

    def build(**changes: Any) -> Api:
        return make_api(local_backend, clock, CalibrationConfig().with_changes(**changes))

    return build


@pytest.fixture
def api(make: ApiFactory) -> Api:
    return make()


def advance(clock: FakeClock, **delta: float) -> None:
    clock.advance(timedelta(**delta))
