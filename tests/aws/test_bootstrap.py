"""`phase-mirror bootstrap` on aws: creates the catalog's stack, refuses to touch an existing one."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.aws.driver import AwsDriver
from adapters.aws.spec import ssm_parameter_name
from adapters.catalog import SECRETS, STORES, TTL_ATTRIBUTE, Secret
from adapters.clock import SystemClock
from adapters.config import parse_backend_url
from adapters.errors import Misconfigured
from service.cli.common import EXIT_CONFIG, EXIT_OK
from service.cli.main import main
from tests.support.aws_backend import aws_url, fresh_prefix
from tests.support.emulators import Emulator

pytestmark = pytest.mark.aws


@pytest.fixture
def url(moto_server: Emulator) -> str:
    return aws_url(moto_server.endpoint, fresh_prefix())


@pytest.fixture
def fresh(url: str) -> Iterator[AwsDriver]:
    driver = AwsDriver(parse_backend_url(url), SystemClock())
    yield driver
    driver.close()


def test_bootstrap_creates_everything_the_catalog_declares(fresh: AwsDriver) -> None:
    steps = fresh.operator.bootstrap(verify_only=False)
    assert [s for s in steps if not s.ok] == []
    prefix = fresh.target.prefix
    dynamodb = fresh.clients.dynamodb
    for spec in STORES.values():
        table = dynamodb.describe_table(TableName=spec.physical_name(prefix))["Table"]
        assert {k["AttributeName"] for k in table["KeySchema"]} == {a.name for a in spec.key_attrs}
        assert {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])} == {
            i.name for i in spec.indexes
        }
        assert table["SSEDescription"]["SSEType"] == "KMS"
        ttl = dynamodb.describe_time_to_live(TableName=spec.physical_name(prefix))
        enabled = ttl["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
        assert enabled == (spec.default_ttl is not None)
        if enabled:
            assert ttl["TimeToLiveDescription"]["AttributeName"] == TTL_ATTRIBUTE
    key = fresh.clients.kms.describe_key(KeyId=f"alias/{prefix}")["KeyMetadata"]
    assert fresh.clients.kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
    for spec in SECRETS.values():
        parameter = fresh.clients.ssm.get_parameter(Name=ssm_parameter_name(spec, prefix))
        assert parameter["Parameter"]["Type"] == "SecureString"
    s3 = fresh.clients.s3
    bucket = f"{prefix}-baselines"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    # Like `pulumi up`, a random first value: 64 hex characters, unknown to anyone.
    for secret, spec in SECRETS.items():
        value = fresh.secret_store().current(secret).value
        assert re.fullmatch(spec.value_pattern, value)


def test_bootstrap_refuses_an_existing_stack_unless_verify_only(fresh: AwsDriver) -> None:
    fresh.operator.bootstrap(verify_only=False)
    with pytest.raises(Misconfigured, match="refusing to bootstrap") as caught:
        fresh.operator.bootstrap(verify_only=False)
    assert "--verify-only" in str(caught.value)
    checks = fresh.operator.bootstrap(verify_only=True)
    assert checks and all(c.ok for c in checks)
    assert not any(c.detail.startswith("created") for c in checks)


def test_bootstrap_refuses_when_even_one_table_exists(fresh: AwsDriver) -> None:
    spec = next(iter(STORES.values()))
    fresh.clients.dynamodb.create_table(
        TableName=spec.physical_name(fresh.target.prefix),
        AttributeDefinitions=[{"AttributeName": "x", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "x", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(Misconfigured, match="1 catalog table"):
        fresh.operator.bootstrap(verify_only=False)


def test_verify_only_on_an_empty_account_reports_what_is_missing(fresh: AwsDriver) -> None:
    checks = fresh.operator.bootstrap(verify_only=True)
    missing = [c for c in checks if not c.ok]
    assert len(missing) >= len(STORES) + 1  # every table, the key, parameters, the bucket
    assert all("phase-mirror bootstrap" in c.fix for c in missing)
    with pytest.raises(Misconfigured):  # nothing was created
        fresh.table(next(iter(STORES.values()))).get({"eventid": "x"})


def test_bootstrap_keeps_an_existing_key_and_secret_values(url: str, fresh: AwsDriver) -> None:
    """Only tables make bootstrap refuse: a key and parameters left by an earlier attempt are
    kept as they are, never overwritten."""
    fresh.operator.provision()
    fresh.secret_store().put(Secret.ANONYMIZER_SALT, "c" * 64)
    for spec in STORES.values():
        fresh.clients.dynamodb.delete_table(TableName=spec.physical_name(fresh.target.prefix))
    steps = fresh.operator.bootstrap(verify_only=False)
    assert all(s.ok for s in steps)
    assert any(s.detail.startswith("kept existing") and "kms key" in s.name for s in steps)
    assert fresh.secret_store().current(Secret.ANONYMIZER_SALT).value == "c" * 64


def test_bootstrap_command(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--backend", url, "bootstrap"]) == EXIT_OK
    out, err = capsys.readouterr()
    assert "created" in out and "bootstrapping" in err
    assert main(["--backend", url, "bootstrap"]) == EXIT_CONFIG
    out, err = capsys.readouterr()
    assert out == "" and "refusing to bootstrap" in err and "Traceback" not in err
    assert main(["--backend", url, "bootstrap", "--verify-only", "--json"]) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["verify_only"] and report["checks"]
    assert main(["--backend", url, "doctor"]) == EXIT_OK


def test_bootstrap_command_on_local_says_schema_is_automatic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--backend", f"local://{tmp_path / 'data'}", "bootstrap"]) == EXIT_OK
    assert "created automatically" in capsys.readouterr().out
