"""`doctor` on aws finds each way a stack can drift from the catalog, and says how to fix it.

Every case breaks one thing on a freshly bootstrapped stack with the real SDK against moto,
then expects exactly that check to fail with its fix.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from adapters.aws.driver import AwsDriver
from adapters.aws.spec import ssm_parameter_name
from adapters.backend import Backend
from adapters.catalog import SECRETS, STORES, Secret, Store
from adapters.operations import Check
from service.cli.main import main

pytestmark = pytest.mark.aws

Breakage = Callable[[AwsDriver], None]


def table_name(driver: AwsDriver, store: Store) -> str:
    return STORES[store].physical_name(driver.target.prefix)


def parameter_name(driver: AwsDriver, secret: Secret) -> str:
    return ssm_parameter_name(SECRETS[secret], driver.target.prefix)


def drop_table(driver: AwsDriver) -> None:
    driver.clients.dynamodb.delete_table(TableName=table_name(driver, Store.CONSENT))


def recreate(driver: AwsDriver, store: Store, **shape: object) -> None:
    name = table_name(driver, store)
    dynamodb = driver.clients.dynamodb
    dynamodb.delete_table(TableName=name)
    dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **shape)  # type: ignore[arg-type]
    # Only the keys differ: keep PITR on, so exactly one check fails.
    dynamodb.update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )


def wrong_key_schema(driver: AwsDriver) -> None:
    # The predecessor's consent table: a different hash key, no range key.
    recreate(
        driver,
        Store.CONSENT,
        AttributeDefinitions=[{"AttributeName": "org_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "org_id", "KeyType": "HASH"}],
    )


def missing_index(driver: AwsDriver) -> None:
    recreate(
        driver,
        Store.FP_EVENTS,
        AttributeDefinitions=[{"AttributeName": "eventid", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "eventid", "KeyType": "HASH"}],
    )


def ttl_off(driver: AwsDriver) -> None:
    driver.clients.dynamodb.update_time_to_live(
        TableName=table_name(driver, Store.NONCES),
        TimeToLiveSpecification={"Enabled": False, "AttributeName": "ttl"},
    )


def ttl_on_wrong_attribute(driver: AwsDriver) -> None:
    driver.clients.dynamodb.update_time_to_live(
        TableName=table_name(driver, Store.NONCES),
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )


def pitr_off(driver: AwsDriver) -> None:
    driver.clients.dynamodb.update_continuous_backups(
        TableName=table_name(driver, Store.RAW_EVENTS),
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
    )


def key_id(driver: AwsDriver) -> str:
    meta = driver.clients.kms.describe_key(KeyId=driver.target.key_id)["KeyMetadata"]
    return meta["KeyId"]


def rotation_off(driver: AwsDriver) -> None:
    driver.clients.kms.disable_key_rotation(KeyId=key_id(driver))


def key_disabled(driver: AwsDriver) -> None:
    driver.clients.kms.disable_key(KeyId=key_id(driver))


def key_alias_missing(driver: AwsDriver) -> None:
    driver.clients.kms.delete_alias(AliasName=driver.target.key_id)


def parameter_missing(driver: AwsDriver) -> None:
    driver.clients.ssm.delete_parameter(Name=parameter_name(driver, Secret.REDACTION_KEY))


def parameter_plaintext(driver: AwsDriver) -> None:
    name = parameter_name(driver, Secret.ANONYMIZER_SALT)
    driver.clients.ssm.delete_parameter(Name=name)
    driver.clients.ssm.put_parameter(Name=name, Value="a" * 64, Type="String")


def parameter_malformed(driver: AwsDriver) -> None:
    driver.secret_store().put(Secret.REDACTION_KEY, "too-short")


def bucket_missing(driver: AwsDriver) -> None:
    driver.clients.s3.delete_bucket(Bucket=driver.target.bucket)


def versioning_suspended(driver: AwsDriver) -> None:
    driver.clients.s3.put_bucket_versioning(
        Bucket=driver.target.bucket, VersioningConfiguration={"Status": "Suspended"}
    )


CASES: list[tuple[Breakage, str, str, str]] = [
    # (breakage, failing check name prefix + store, detail fragment, fix fragment)
    (drop_table, "table {p}-consent", "missing", "phase-mirror bootstrap"),
    (wrong_key_schema, "table {p}-consent", "org_id HASH", "recreate it"),
    (missing_index, "table {p}-fp-events", "index 'by-rule' missing", "recreate it"),
    (ttl_off, "ttl {p}-nonce-store", "TTL DISABLED", "update-time-to-live"),
    (ttl_on_wrong_attribute, "ttl {p}-nonce-store", "'expires_at'", "AttributeName=ttl"),
    (pitr_off, "pitr {p}-consent-store", "DISABLED", "PointInTimeRecoveryEnabled=true"),
    (rotation_off, "kms key rotation alias/{p}", "rotation OFF", "enable-key-rotation"),
    (key_disabled, "kms key alias/{p}", "Disabled", "enable-key"),
    (key_alias_missing, "kms key alias/{p}", "does not exist", "kms_key="),
    (parameter_missing, "parameter /{p}/redaction-key", "does not exist", "bootstrap"),
    (parameter_plaintext, "parameter /{p}/anonymizer-salt", "not SecureString", "SecureString"),
    (parameter_malformed, "parameter /{p}/redaction-key", "does not match", "rotate-secret"),
    (bucket_missing, "bucket {p}-baselines", "missing", "bucket="),
    (versioning_suspended, "bucket {p}-baselines", "Suspended", "put-bucket-versioning"),
]


def failed(checks: list[Check]) -> list[Check]:
    return [check for check in checks if not check.ok]


def test_fresh_stack_passes_every_check(aws: Backend) -> None:
    checks = aws.doctor()
    assert failed(checks) == []
    names = {check.name for check in checks}
    prefix = aws.driver.target.prefix  # type: ignore[attr-defined]
    # Every catalog table, TTL on every TTL store, PITR on every durable store.
    for spec in STORES.values():
        table = spec.physical_name(prefix)
        assert f"table {table}" in names
        assert (f"ttl {table}" in names) == (spec.default_ttl is not None)
        assert (f"pitr {table}" in names) == spec.durable
    assert {f"parameter {ssm_parameter_name(s, prefix)}" for s in SECRETS.values()} <= names


@pytest.mark.parametrize(
    ("breakage", "check", "detail", "fix"), CASES, ids=[case[0].__name__ for case in CASES]
)
def test_doctor_detects_drift_with_its_fix(
    driver: AwsDriver, breakage: Breakage, check: str, detail: str, fix: str
) -> None:
    breakage(driver)
    problems = failed(driver.doctor())
    expected = check.format(p=driver.target.prefix)
    assert [c.name for c in problems] == [expected]
    assert detail in problems[0].detail
    assert fix in problems[0].fix


def test_doctor_command_prints_each_failure_with_its_fix(
    driver: AwsDriver, aws: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    pitr_off(driver)
    rotation_off(driver)
    code = main(["--backend", aws.setting.url, "doctor"])
    out = capsys.readouterr().out
    assert code == 1
    assert out.count("[FAIL]") == 2
    assert out.count("fix: ") == 2
    assert "PointInTimeRecoveryEnabled=true" in out and "enable-key-rotation" in out


def every_version_disabled(driver: AwsDriver) -> None:
    store = driver.secret_store()
    for version in store.versions(Secret.REDACTION_KEY):
        store.disable(Secret.REDACTION_KEY, version.version)


def test_secret_with_every_version_disabled_fails_until_rotated(aws: Backend) -> None:
    driver = aws.driver
    assert isinstance(driver, AwsDriver)
    name = f"parameter {ssm_parameter_name(SECRETS[Secret.REDACTION_KEY], driver.target.prefix)}"
    before = next(c for c in aws.doctor() if c.name == name)
    assert before.ok and "current version 1" in before.detail  # bootstrap's random value
    every_version_disabled(driver)
    broken = next(c for c in aws.doctor() if c.name == name)
    assert not broken.ok and "every version is disabled" in broken.detail
    assert "rotate-secret redaction-key" in broken.fix
    aws.secrets.put(Secret.REDACTION_KEY, "f" * 64)
    after = next(c for c in aws.doctor() if c.name == name)
    assert after.ok and "current version 2" in after.detail
