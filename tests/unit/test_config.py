"""Backend setting parsing and resolution: clear errors that name the setting."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.config import (
    ENV_BACKEND,
    ENV_STACK_OUTPUTS,
    parse_backend_url,
    resolve_setting,
)
from adapters.errors import Misconfigured
from adapters.local.url import ENV_HOME, default_data_dir


def test_parse_local_aws_gcp() -> None:
    local = parse_backend_url("local:///var/lib/pm")
    assert (local.scheme, local.location) == ("local", "/var/lib/pm")
    aws = parse_backend_url(
        "aws://?region=eu-west-1&prefix=phase-mirror-prod&endpoint=http://127.0.0.1:5000"
    )
    assert aws.param("region") == "eu-west-1" and aws.prefix == "phase-mirror-prod"
    assert parse_backend_url(aws.url).params == aws.params
    gcp = parse_backend_url("gcp://my-project?prefix=phase-mirror-staging&location=us-central1")
    assert gcp.location == "my-project" and gcp.param("location") == "us-central1"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("s3://bucket", "unknown backend scheme 's3'"),
        ("nonsense", "unknown backend scheme"),
        ("aws://?regoin=us-east-1", "unknown parameter(s) regoin"),
        ("gcp://?prefix=abc", "needs a project id"),
        ("aws://?prefix=BAD_PREFIX", "invalid prefix"),
    ],
)
def test_bad_settings_name_the_problem_and_the_source(url: str, message: str) -> None:
    with pytest.raises(Misconfigured) as raised:
        parse_backend_url(url, source=ENV_BACKEND)
    assert message in str(raised.value)
    assert ENV_BACKEND in str(raised.value)


def test_missing_required_param_is_explained() -> None:
    setting = parse_backend_url("aws://?prefix=phase-mirror-x")
    with pytest.raises(Misconfigured, match=r"needs 'region=\.\.\.'"):
        setting.require("region")


def test_resolution_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_BACKEND, raising=False)
    monkeypatch.delenv(ENV_STACK_OUTPUTS, raising=False)
    monkeypatch.setenv(ENV_HOME, str(tmp_path / "home"))
    assert resolve_setting().location == str(tmp_path / "home") == str(default_data_dir())
    assert resolve_setting().source == "default"
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps({"backendUrl": "aws://?region=us-east-1&prefix=phase-mirror-staging"})
    )
    monkeypatch.setenv(ENV_STACK_OUTPUTS, str(outputs))
    assert resolve_setting().scheme == "aws"
    monkeypatch.setenv(ENV_BACKEND, "local:///from/env")
    assert resolve_setting().location == "/from/env"
    assert resolve_setting("local:///explicit").source == "--backend"


def test_stack_outputs_errors(tmp_path: Path) -> None:
    from adapters.config import from_stack_outputs

    with pytest.raises(Misconfigured, match="pulumi stack output --json"):
        from_stack_outputs(tmp_path / "missing.json")
    (tmp_path / "o.json").write_text("{}")
    with pytest.raises(Misconfigured, match="no 'backendUrl' output"):
        from_stack_outputs(tmp_path / "o.json")


def test_each_backend_owns_its_url_and_parsing_imports_no_sdk() -> None:
    """Every scheme's spec lives in its backend package; its example parses, and its URL round
    trips. Parsing any of them loads no cloud SDK (the specs import none)."""
    code = (
        "import importlib, sys; from adapters.config import URL_SPECS, parse_backend_url\n"
        "for spec in URL_SPECS.values():\n"
        "    assert importlib.import_module(f'adapters.{spec.scheme}.url').URL_SPEC is spec\n"
        "    setting = parse_backend_url(spec.example)\n"
        "    assert parse_backend_url(setting.url) == setting, spec.scheme\n"
        "print(sorted(URL_SPECS), sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'boto3','botocore','google','pulumi'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['aws', 'gcp', 'local'] []"
