"""Each cloud x stack is built once per session under Pulumi's mocks (about a second each)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
from phase_platform.testing import CLOUDS, STACKS, ProgramRun, RegisteredResource, run_stack

COMBINATIONS = [(cloud, stack) for cloud in CLOUDS for stack in STACKS]


def pytest_configure(config: pytest.Config) -> None:
    # pulumi_aws / pulumi_gcp warn about their own deprecated modules at import time; that is
    # not our usage (deprecated arguments we pass show up in the engine log, which
    # test_no_engine_warnings checks).
    config.addinivalue_line("filterwarnings", r"ignore::DeprecationWarning:pulumi_(aws|gcp)\.")


@cache
def built(cloud: str, stack: str) -> ProgramRun:
    return run_stack(cloud, stack)


@pytest.fixture(params=COMBINATIONS, ids=[f"{c}-{s}" for c, s in COMBINATIONS])
def run(request: pytest.FixtureRequest) -> ProgramRun:
    cloud, stack = request.param
    return built(cloud, stack)


@pytest.fixture(params=STACKS)
def aws_run(request: pytest.FixtureRequest) -> ProgramRun:
    return built("aws", request.param)


@pytest.fixture(params=STACKS)
def gcp_run(request: pytest.FixtureRequest) -> ProgramRun:
    return built("gcp", request.param)


@pytest.fixture
def build() -> Callable[..., ProgramRun]:
    """A fresh build with config overrides (for failing fixtures and variants)."""
    return run_stack


def policy(resource: RegisteredResource, prop: str = "policy") -> dict[str, Any]:
    document: dict[str, Any] = json.loads(resource.inputs[prop])
    return document


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document["Statement"]
    return found if isinstance(found, list) else [found]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
