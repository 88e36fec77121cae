"""Staging and production are the same program: they differ exactly where intended, and the
committed snapshots show every resource of every stack in review."""

from __future__ import annotations

import contextlib
import difflib
import json
from typing import Any

import pulumi
import pytest
from phase_platform.naming import gcp_pool_id, gcp_service_account_id
from phase_platform.snapshot import render, snapshot_path
from phase_platform.testing import CLOUDS, STACKS, ProgramRun

from adapters.gcp.spec import gcp_stack

from .conftest import COMBINATIONS, built

#: (resource type, input path) allowed to differ between staging and production, once the
#: names derived from the prefix are normalized. Anything else differing is a mistake.
INTENDED = {
    "aws": {
        ("aws:dynamodb/table:Table", "deletionProtectionEnabled"),
        ("aws:kms/key:Key", "deletionWindowInDays"),
        ("aws:backup/plan:Plan", "rules.0.lifecycle.deleteAfter"),
        ("aws:backup/plan:Plan", "rules.1.lifecycle.deleteAfter"),
        ("aws:backup/plan:Plan", "rules.2.lifecycle.deleteAfter"),
        ("aws:sns/topicSubscription:TopicSubscription", "endpoint"),
        # Compute sized per environment (stack files): reserved concurrency and API throttling.
        ("aws:lambda/function:Function", "reservedConcurrentExecutions"),
        ("aws:apigatewayv2/stage:Stage", "defaultRouteSettings.throttlingRateLimit"),
        ("aws:apigatewayv2/stage:Stage", "defaultRouteSettings.throttlingBurstLimit"),
    },
    "gcp": {
        ("gcp:firestore/database:Database", "deleteProtectionState"),
        ("gcp:firestore/database:Database", "deletionPolicy"),
        ("gcp:kms/cryptoKey:CryptoKey", "deletionPolicy"),
        ("gcp:kms/cryptoKey:CryptoKey", "destroyScheduledDuration"),
        ("gcp:storage/bucket:Bucket", "deletionPolicy"),
        ("gcp:secretmanager/secret:Secret", "deletionProtection"),
        ("gcp:secretmanager/secretVersion:SecretVersion", "deletionPolicy"),
        ("gcp:monitoring/notificationChannel:NotificationChannel", "labels.email_address"),
        ("gcp:cloudrunv2/service:Service", "deletionProtection"),
        ("gcp:cloudrunv2/job:Job", "deletionProtection"),
    },
}


def _normalizer(run: ProgramRun) -> list[tuple[str, str]]:
    prefix, environment = run.outputs["prefix"], run.stack
    pairs = {prefix: "{prefix}", environment: "{environment}"}
    if run.cloud == "gcp":
        # Ids with length limits are cut (and hashed) differently for a longer prefix.
        pairs[gcp_service_account_id(prefix, "service")] = "{sa-service}"
        pairs[gcp_service_account_id(prefix, "deploy")] = "{sa-deploy}"
        for account in gcp_stack(prefix).compute.accounts:
            pairs[account.account_id] = f"{{sa-{account.role}}}"
        pairs[gcp_pool_id(prefix)] = "{pool}"
    return sorted(pairs.items(), key=lambda item: -len(item[0]))


def _flatten(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, pulumi.FileArchive | pulumi.FileAsset):
        # Assets compare by identity; what a stack deploys is the file they name.
        value = f"file:{value.path}"
    if isinstance(value, str) and value[:1] in "[{":
        # JSON documents (policies, dashboards) compare by content.
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(value)
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{path}.{key}" if path else str(key)))
        return flat
    if isinstance(value, list):
        flat = {}
        for i, item in enumerate(value):
            flat.update(_flatten(item, f"{path}.{i}" if path else str(i)))
        return flat
    return {path: value}


def _normalized(run: ProgramRun) -> dict[tuple[str, str], dict[str, Any]]:
    pairs = _normalizer(run)

    def norm(value: Any) -> Any:
        if isinstance(value, str):
            for old, new in pairs:
                value = value.replace(old, new)
        return value

    return {
        (r.type, r.name): {path: norm(v) for path, v in _flatten(r.inputs).items()}
        for r in run.resources
    }


@pytest.mark.parametrize("cloud", CLOUDS)
def test_production_differs_from_staging_exactly_where_intended(cloud: str) -> None:
    staging, production = built(cloud, "staging"), built(cloud, "production")
    left, right = _normalized(staging), _normalized(production)
    assert left.keys() == right.keys(), "both stacks declare the same resources"
    differing = set()
    for key, inputs in left.items():
        other = right[key]
        for path in inputs.keys() | other.keys():
            if inputs.get(path) != other.get(path):
                differing.add((key[0], path))
    assert differing == INTENDED[cloud]
    # Deletion protection also shows as Pulumi's `protect` on the data resources.
    protected = {(r.type, r.name) for r in production.resources if r.protect}
    assert protected and not any(r.protect for r in staging.resources)


@pytest.mark.parametrize(("cloud", "stack"), COMBINATIONS)
def test_snapshot_matches_the_committed_resource_list(cloud: str, stack: str) -> None:
    expected_path = snapshot_path(cloud, stack)
    actual = render(cloud, stack, built(cloud, stack).resources)
    expected = expected_path.read_text() if expected_path.exists() else ""
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                str(expected_path),
                "program",
            )
        )
        pytest.fail(
            f"{cloud} x {stack} resources changed; review the diff and, if intended, run "
            f"`python -m phase_platform.snapshot --write`:\n{diff}"
        )


def test_snapshots_exist_for_every_cloud_and_stack() -> None:
    assert {snapshot_path(c, s).name for c in CLOUDS for s in STACKS} == {
        p.name for p in snapshot_path("aws", "staging").parent.glob("*.txt")
    }
