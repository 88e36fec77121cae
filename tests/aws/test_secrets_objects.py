"""SSM secrets and S3 baselines: what the AWS services add to the shared port semantics."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.aws.driver import AwsDriver
from adapters.aws.spec import ssm_parameter_name
from adapters.backend import Backend
from adapters.catalog import SECRETS, Secret
from adapters.clock import FakeClock
from adapters.errors import NotFound

pytestmark = pytest.mark.aws


def test_secret_versions_are_ssm_parameter_versions_labelled_on_disable(
    aws: Backend, driver: AwsDriver
) -> None:
    name = ssm_parameter_name(SECRETS[Secret.REDACTION_KEY], driver.target.prefix)
    v2 = aws.secrets.put(Secret.REDACTION_KEY, "a" * 64)
    v3 = aws.secrets.put(Secret.REDACTION_KEY, "b" * 64)
    assert (v2.version, v3.version) == ("2", "3")  # version 1 is bootstrap's random value
    aws.secrets.disable(Secret.REDACTION_KEY, v2.version)
    history = driver.clients.ssm.get_parameter_history(Name=name)["Parameters"]
    labels = {entry["Version"]: entry.get("Labels", []) for entry in history}
    assert labels == {1: [], 2: ["disabled-2"], 3: []}
    assert all(entry["Type"] == "SecureString" for entry in history)
    assert all(entry["KeyId"] == driver.target.key_id for entry in history)


def test_secret_creation_time_comes_from_the_service_clock(aws: Backend, clock: FakeClock) -> None:
    clock.set(datetime(2026, 5, 1, 12, 0, tzinfo=UTC))
    created = aws.secrets.put(Secret.ANONYMIZER_SALT, "d" * 64)
    assert created.created_at == clock.now()
    assert aws.secrets.current(Secret.ANONYMIZER_SALT).created_at == clock.now()


def test_disable_unknown_version_is_not_found(aws: Backend) -> None:
    aws.secrets.put(Secret.REDACTION_KEY, "a" * 64)
    for version in ("99", "latest"):
        with pytest.raises(NotFound):
            aws.secrets.disable(Secret.REDACTION_KEY, version)


@pytest.mark.slow
def test_rotation_survives_the_100_version_limit(aws: Backend) -> None:
    """SSM refuses a 101st version while the oldest carries a label (here: disabled-1);
    put() drops that label and SSM then retires the oldest version, as it always does."""
    aws.secrets.disable(Secret.ANONYMIZER_SALT, "1")
    for i in range(100):
        aws.secrets.put(Secret.ANONYMIZER_SALT, f"{i:064x}")
    assert aws.secrets.current(Secret.ANONYMIZER_SALT).value == f"{99:064x}"
    assert len(aws.secrets.versions(Secret.ANONYMIZER_SALT)) == 100


def test_baseline_versions_are_s3_version_ids(aws: Backend, driver: AwsDriver) -> None:
    stored = aws.baselines.put("repo/baseline.json", b"{}")
    listed = driver.clients.s3.list_object_versions(
        Bucket=driver.target.bucket, Prefix="repo/baseline.json"
    )["Versions"]
    assert [v["VersionId"] for v in listed] == [stored.version_id]
    with pytest.raises(NotFound):
        aws.baselines.get("repo/other.json")
