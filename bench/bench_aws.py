"""AWS backend on moto: each adapter call against the raw boto3 call making the same request.

The bench starts its own `moto_server` on 127.0.0.1 (dummy credentials, stopped by PID at the
end). Both sides use the *same* boto3 client (the driver's), so the network hop, moto and
botocore cost the same and the ratio isolates what the adapter adds: expression building,
item encoding, expiry filtering, error mapping. Calls are interleaved one by one (alternating
which side goes first, `report.paired`), so drift in moto's speed hits both sides alike.
Target: at most 1.2x.

Then: KMS calls per 1,000 envelope encryptions (and decryptions by a fresh process-like key
manager), thanks to the shared data-key cache. Target: at most 10.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from adapters.aws.driver import AwsDriver
from adapters.aws.spec import ssm_parameter_name
from adapters.backend import Backend, assemble
from adapters.catalog import SECRETS, STORES, Secret, Store
from adapters.clock import SystemClock
from adapters.config import parse_backend_url
from adapters.envelope import EnvelopeKeyManager
from adapters.ports import FpEvent

from .report import Case, compare, print_table

N = 300
ENCRYPTIONS = 1000
DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@contextmanager
def moto_server() -> Iterator[str]:
    """A stock moto_server on a free loopback port; yields its endpoint, stops it by PID."""
    beside = Path(sys.executable).parent / "moto_server"
    executable = str(beside) if beside.exists() else shutil.which("moto_server")
    if executable is None:
        raise SystemExit("bench aws: moto_server not found; pip install 'moto[server]'")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [executable, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _answers(f"{endpoint}/moto-api/"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("bench aws: moto_server did not start")
            time.sleep(0.1)
        yield endpoint
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback only
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@contextmanager
def dummy_credentials() -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in DUMMY_ENV}
    os.environ.update(DUMMY_ENV)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _cases(backend: Backend, driver: AwsDriver) -> list[Case]:
    """Each adapter call with the raw boto3 call doing the same request."""
    dynamodb = driver.clients.dynamodb
    prefix = driver.target.prefix
    now = backend.clock.now()
    now_s = now.timestamp()
    later = int(now_s) + 3600

    def table(store: Store) -> str:
        return STORES[store].physical_name(prefix)

    live = {
        "ExpressionAttributeNames": {"#n0": "bucket", "#n1": "ttl", "#n2": "count"},
    }

    def increment(i: int) -> None:
        backend.block_counter.increment("MD-001", "acme/app", at=now)

    bucket = f"MD-001#acme/app#{now.strftime('%Y-%m-%dT%H')}"

    def raw_increment(i: int) -> None:
        dynamodb.update_item(
            TableName=table(Store.BLOCK_COUNTER),
            Key={"bucket": {"S": bucket}},
            UpdateExpression="ADD #n2 :v1",
            ConditionExpression="attribute_exists(#n0) AND (attribute_not_exists(#n1) OR #n1 > :v0)",
            ExpressionAttributeNames=live["ExpressionAttributeNames"],
            ExpressionAttributeValues={":v0": {"N": repr(time.time())}, ":v1": {"N": "1"}},
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )

    def count(i: int) -> None:
        backend.block_counter.count("MD-001", "acme/app", at=now)

    def raw_count(i: int) -> None:
        dynamodb.get_item(
            TableName=table(Store.BLOCK_COUNTER), Key={"bucket": {"S": bucket}}, ConsistentRead=True
        )

    def claim(i: int) -> None:
        backend.dedup.claim(f"a{i}", "ev", ttl=timedelta(hours=1), at=now)

    def raw_claim(i: int) -> None:
        dynamodb.put_item(
            TableName=table(Store.DEDUP),
            Item={"dedupkey": {"S": f"r{i}"}, "value": {"S": "ev"}, "ttl": {"N": str(later)}},
            ConditionExpression="attribute_not_exists(#n0) OR #n1 <= :v0",
            ExpressionAttributeNames={"#n0": "dedupkey", "#n1": "ttl"},
            ExpressionAttributeValues={":v0": {"N": repr(time.time())}},
        )

    tokens = [hashlib.sha256(b"t%d" % i).hexdigest() for i in range(-5, N)]
    for token in tokens:
        backend.nonces.issue(token, {"orgid": "o"}, ttl=timedelta(hours=1), at=now)
        backend.nonces.issue("raw" + token, {"orgid": "o"}, ttl=timedelta(hours=1), at=now)

    def consume(i: int) -> None:
        backend.nonces.consume(tokens[i + 5])

    def raw_consume(i: int) -> None:
        dynamodb.delete_item(
            TableName=table(Store.NONCES),
            Key={"tokenhash": {"S": "raw" + tokens[i + 5]}},
            ConditionExpression="attribute_exists(#n0) AND (attribute_not_exists(#n1) OR #n1 > :v0)",
            ExpressionAttributeNames={"#n0": "tokenhash", "#n1": "ttl"},
            ExpressionAttributeValues={":v0": {"N": repr(time.time())}},
            ReturnValues="ALL_OLD",
        )

    def record(i: int) -> None:
        backend.fp_events.record(FpEvent(f"a{i}", "MD-002", "1", f"f{i}", "acme/app", "block", now))

    def raw_record(i: int) -> None:
        ms = str(int(now_s * 1000))
        dynamodb.put_item(
            TableName=table(Store.FP_EVENTS),
            Item={
                "eventid": {"S": f"r{i}"},
                "ruleid": {"S": "MD-002"},
                "ruleversion": {"S": "1"},
                "findingid": {"S": f"f{i}"},
                "repo": {"S": "acme/app"},
                "decision": {"S": "block"},
                "ts": {"N": ms},
                "review": {"S": "pending"},
                "context": {"M": {}},
            },
            ConditionExpression="attribute_not_exists(#n0) OR #n1 <= :v0",
            ExpressionAttributeNames={"#n0": "eventid", "#n1": "ttl"},
            ExpressionAttributeValues={":v0": {"N": repr(time.time())}},
        )

    def window(i: int) -> None:
        backend.fp_events.window("MD-002", last=20)

    def raw_window(i: int) -> None:
        dynamodb.query(
            TableName=table(Store.FP_EVENTS),
            IndexName="by-rule",
            KeyConditionExpression="#n0 = :v0 AND #n1 BETWEEN :v1 AND :v2",
            FilterExpression="attribute_not_exists(#n2) OR #n2 > :v3",
            ExpressionAttributeNames={"#n0": "ruleid", "#n1": "ts", "#n2": "ttl"},
            ExpressionAttributeValues={
                ":v0": {"S": "MD-002"},
                ":v1": {"N": "0"},
                ":v2": {"N": str(2**53)},
                ":v3": {"N": repr(time.time())},
            },
            ScanIndexForward=False,
            Limit=20,
        )

    backend.secrets.put(Secret.REDACTION_KEY, "a" * 64)
    parameter = ssm_parameter_name(SECRETS[Secret.REDACTION_KEY], prefix)

    def secret(i: int) -> None:
        backend.secrets.current(Secret.REDACTION_KEY)

    def raw_secret(i: int) -> None:
        driver.clients.ssm.get_parameter_history(Name=parameter, WithDecryption=True, MaxResults=50)

    s3 = driver.clients.s3
    body = b"{}" * 512
    backend.baselines.put("bench/baseline.json", body)

    def object_get(i: int) -> None:
        backend.baselines.get("bench/baseline.json")

    def raw_object_get(i: int) -> None:
        s3.get_object(Bucket=driver.target.bucket, Key="bench/baseline.json")["Body"].read()

    def object_put(i: int) -> None:
        backend.baselines.put("bench/put.json", body)

    def raw_object_put(i: int) -> None:
        s3.put_object(
            Bucket=driver.target.bucket,
            Key="bench/raw-put.json",
            Body=body,
            Metadata={"created-at": f"{time.time():.3f}"},
        )

    wrapper = driver.key_wrapper()

    def data_key(i: int) -> None:
        wrapper.generate()

    def raw_data_key(i: int) -> None:
        driver.clients.kms.generate_data_key(
            KeyId=driver.target.key_id,
            KeySpec="AES_256",
            EncryptionContext={"app": "phase-mirror", "purpose": "envelope-data-key"},
        )

    return [
        Case("block counter increment (UpdateItem ADD)", increment, raw_increment, N),
        Case("block counter read (GetItem)", count, raw_count, N),
        Case("dedup claim (conditional PutItem)", claim, raw_claim, N),
        Case("nonce consume (conditional DeleteItem)", consume, raw_consume, N),
        Case("FP event record (conditional PutItem)", record, raw_record, N),
        Case("FP window last 20 (Query on GSI)", window, raw_window, N),
        Case("secret current (GetParameterHistory)", secret, raw_secret, N),
        Case("baseline get latest 1 KiB (GetObject)", object_get, raw_object_get, N),
        Case("baseline put 1 KiB (PutObject)", object_put, raw_object_put, N),
        Case("KMS data key (GenerateDataKey)", data_key, raw_data_key, N),
    ]


def _kms_calls(driver: AwsDriver) -> list[list[Any]]:
    writer = EnvelopeKeyManager(driver.key_wrapper())
    sealed = [writer.encrypt(b"org-%d" % i, b"event-%d" % i) for i in range(ENCRYPTIONS)]
    reader = EnvelopeKeyManager(driver.key_wrapper())  # a fresh process: empty cache
    assert all(reader.decrypt(s, b"event-%d" % i) == b"org-%d" % i for i, s in enumerate(sealed))
    return [
        [f"{ENCRYPTIONS} envelope encryptions", writer.key_service_calls, 10],
        [f"{ENCRYPTIONS} decryptions (fresh key manager)", reader.key_service_calls, 10],
    ]


def run() -> None:
    with dummy_credentials(), moto_server() as endpoint:
        url = f"aws://?region=us-east-1&prefix=pm-bench&endpoint={endpoint}"
        setting = parse_backend_url(url)
        driver = AwsDriver(setting, SystemClock())
        driver.operator.provision()
        backend = assemble(setting, driver, driver.clock)
        compare(
            "aws backend vs raw boto3 on moto (same client, same run, interleaved)",
            _cases(backend, driver),
        )
        print_table(
            "KMS calls per 1,000 envelope operations (data-key cache)",
            ["work", "KMS calls", "target (at most)"],
            _kms_calls(driver),
        )
        backend.close()
