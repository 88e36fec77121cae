"""Faults and bad configuration: a dead or frozen server, wrong endpoint, region, credentials.

Each gives an adapter error with a message naming what to fix, quickly, never a hang and never
a traceback on the command line.
"""

from __future__ import annotations

import os
import re
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from adapters.aws.driver import AwsDriver
from adapters.aws.session import Tuning
from adapters.backend import Backend, open_backend
from adapters.catalog import STORES, Store
from adapters.clock import FakeClock, SystemClock
from adapters.config import parse_backend_url
from adapters.errors import Misconfigured, StoreError, Unavailable
from service.cli.common import EXIT_CONFIG, EXIT_UNAVAILABLE
from service.cli.main import main
from tests.support.aws_backend import aws_url, fresh_prefix, provision, start_moto
from tests.support.emulators import Emulator, free_port

pytestmark = pytest.mark.aws

#: Bounds on how long a fault may take to surface; generous, they only catch a hang.
HANG_LIMIT = 60.0


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_server_killed_mid_operation_gives_unavailable(private_moto: Emulator) -> None:
    url = aws_url(private_moto.endpoint, fresh_prefix())
    provision(url)
    backend = open_backend(url, clock=SystemClock())
    progress = threading.Event()
    outcome: list[BaseException] = []

    def hammer() -> None:
        try:
            for i in range(100_000):
                backend.block_counter.increment("MD-001", "a/b", at=backend.clock.now())
                if i == 20:
                    progress.set()
        except BaseException as error:
            outcome.append(error)

    worker = threading.Thread(target=hammer, daemon=True)
    worker.start()
    assert progress.wait(HANG_LIMIT), "no progress against the live server"
    os.killpg(private_moto.process.pid, signal.SIGKILL)  # while requests are in flight
    worker.join(HANG_LIMIT)
    assert not worker.is_alive(), "the adapter hung after the server died"
    backend.close()
    assert len(outcome) == 1
    assert isinstance(outcome[0], Unavailable), repr(outcome[0])
    assert private_moto.endpoint in str(outcome[0])
    assert "endpoint=" in str(outcome[0])


def test_frozen_server_times_out_instead_of_hanging(private_moto: Emulator) -> None:
    url = aws_url(private_moto.endpoint, fresh_prefix())
    provision(url)
    tuning = Tuning(connect_timeout=1, read_timeout=1, total_max_attempts=2)
    driver = AwsDriver(parse_backend_url(url), SystemClock(), tuning)
    table = driver.table(STORES[Store.DEDUP])
    table.put({"dedupkey": "k", "value": "v"})
    os.killpg(private_moto.process.pid, signal.SIGSTOP)
    try:
        with pytest.raises(Unavailable, match="cannot reach"):
            table.get({"dedupkey": "k"})
    finally:
        os.killpg(private_moto.process.pid, signal.SIGCONT)
        driver.close()


def test_unreachable_endpoint_is_unavailable_with_the_endpoint_named(
    moto_server: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    url = aws_url(endpoint, fresh_prefix())
    backend = open_backend(url, clock=SystemClock())
    with pytest.raises(Unavailable) as caught:
        backend.fp_events.get("e1")
    assert endpoint in str(caught.value)
    backend.close()
    code, out, err = run_cli(capsys, "--backend", url, "demo")
    assert code == EXIT_UNAVAILABLE
    assert "Traceback" not in err and endpoint in err
    code, out, err = run_cli(capsys, "--backend", url, "doctor")
    assert code == 1 and "[FAIL] aws credentials" in out and "cannot reach" in out


def test_wrong_region_names_the_table_region_and_fix(aws: Backend) -> None:
    params = aws.setting.params
    wrong = aws_url(params["endpoint"], params["prefix"], region="eu-west-1")
    backend = open_backend(wrong, clock=FakeClock())
    with pytest.raises(Misconfigured) as caught:
        backend.fp_events.get("e1")
    message = str(caught.value)
    assert f"{params['prefix']}-fp-events" in message
    assert "eu-west-1" in message and "phase-mirror bootstrap" in message
    backend.close()


@pytest.fixture
def locked_moto(moto_server: Emulator, emulator_logs: Path) -> Iterator[Emulator]:
    """A moto server that checks credentials like AWS (none of ours is valid there)."""
    emulator = start_moto(
        emulator_logs, name="moto-auth", env={"INITIAL_NO_AUTH_ACTION_COUNT": "0"}
    )
    yield emulator
    emulator.stop()


def test_rejected_credentials_are_misconfigured(
    locked_moto: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    url = aws_url(locked_moto.endpoint, fresh_prefix())
    backend = open_backend(url, clock=SystemClock())
    with pytest.raises(Misconfigured, match="rejected the credentials") as caught:
        backend.nonces.consume("t")
    assert "AWS_ACCESS_KEY_ID" in str(caught.value)
    backend.close()
    code, _, err = run_cli(capsys, "--backend", url, "demo")
    assert code == EXIT_CONFIG
    assert "rejected the credentials" in err and "Traceback" not in err


def test_missing_credentials_are_misconfigured(
    moto_server: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    backend = open_backend(aws_url(moto_server.endpoint, fresh_prefix()), clock=SystemClock())
    with pytest.raises(Misconfigured, match="no usable AWS credentials") as caught:
        backend.fp_events.get("e1")
    assert "AWS_PROFILE" in str(caught.value)
    backend.close()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"region": "useast1"}, "not an AWS region name"),
        ({"endpoint": "127.0.0.1:5000"}, "is not a URL"),
        ({"profile": "no-such-profile"}, "is not in ~/.aws/config"),
        ({"prefix": "Bad_Prefix"}, "invalid prefix"),
    ],
)
def test_bad_settings_are_refused_with_the_setting_named(
    moto_server: Emulator,
    capsys: pytest.CaptureFixture[str],
    extra: dict[str, str],
    expected: str,
) -> None:
    params = {"region": "us-east-1", "prefix": "pm-bad", "endpoint": moto_server.endpoint}
    url = "aws://?" + urlencode({**params, **extra})
    with pytest.raises(StoreError, match=expected):
        open_backend(url)
    code, out, err = run_cli(capsys, "--backend", url, "doctor")
    assert code == EXIT_CONFIG and out == ""
    assert expected in err and "Traceback" not in err


def test_missing_region_asks_for_it(monkeypatch: pytest.MonkeyPatch, moto_server: Emulator) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    with pytest.raises(Misconfigured, match=re.escape("needs 'region=...'")):
        open_backend(f"aws://?prefix=pm-x&endpoint={moto_server.endpoint}")
