"""Versioned secrets in SSM Parameter Store (SecureString, encrypted with the stack's KMS key).

One parameter per catalog secret (`adapters.aws.spec.ssm_parameter_name`); every `put` is a new
parameter version. Infrastructure (`pulumi up`, or `phase-mirror bootstrap` on a dev account)
creates each parameter with a random first version, as the local backend does. Only the SSM
calls live here; current, previous and the grace window are `adapters.stores.secrets`'s. Versions
come from the parameter history; `disable` attaches a per-version label
`disabled-<n>` (SSM cannot disable a version, and a label names one version only, hence one
label per version).

SSM keeps at most 100 versions and refuses a new one while the oldest carries a label; `put`
then drops the oldest version's labels (it is about to be deleted anyway) and retries once.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from ..catalog import SECRETS, Secret
from ..clock import Clock, from_epoch
from ..ports import SecretVersion
from .errors import Resource, error_code, mapped
from .session import AwsTarget, Clients
from .spec import ssm_parameter_name

_CREATED_RE = re.compile(r"\(phase-mirror created_at=([0-9.]+)\)$")


def disabled_label(version: int | str) -> str:
    return f"disabled-{version}"


def describe(secret: Secret, created: float) -> str:
    """The per-version description: the catalog's text plus the clock's creation time."""
    return f"{SECRETS[secret].description} (phase-mirror created_at={created:.3f})"


def parameter_history(clients: Clients, name: str) -> list[dict[str, Any]]:
    """Every version of an SSM parameter, decrypted, all pages (also read by the doctor)."""
    entries: list[dict[str, Any]] = []
    request: dict[str, Any] = {"Name": name, "WithDecryption": True, "MaxResults": 50}
    while True:
        page = clients.ssm.get_parameter_history(**request)
        entries.extend(page.get("Parameters", []))  # type: ignore[arg-type]
        token = page.get("NextToken")
        if not token:
            return entries
        request["NextToken"] = token


class SsmSecretVersions:
    """The secret driver (`adapters.stores.secrets.SecretVersions`) over SSM parameters."""

    def __init__(self, clients: Clients, target: AwsTarget, clock: Clock) -> None:
        self._clients = clients
        self._target = target
        self._clock = clock

    def parameter_name(self, secret: Secret) -> str:
        return ssm_parameter_name(SECRETS[secret], self._target.prefix)

    def where(self, secret: Secret) -> str:
        return f"SSM parameter {self.parameter_name(secret)}"

    def set_by_hand(self, secret: Secret) -> str | None:
        return (
            f"aws ssm put-parameter --name {self.parameter_name(secret)} --type SecureString "
            f"--key-id {self._target.key_id} --overwrite --value $(openssl rand -hex 32)"
        )

    def _mapped(self, secret: Secret, key: object = None) -> Any:
        name = self.parameter_name(secret)
        return mapped(self._target, Resource("SSM parameter", name, "secrets"), key or name)

    def add(self, secret: Secret, value: str) -> SecretVersion:
        name = self.parameter_name(secret)
        created = self._clock.now().timestamp()
        request: dict[str, Any] = {
            "Name": name,
            "Value": value,
            "Type": "SecureString",
            "KeyId": self._target.key_id,
            "Overwrite": True,
            "Description": describe(secret, created),
        }
        with self._mapped(secret):
            try:
                response = self._clients.ssm.put_parameter(**request)
            except ClientError as error:
                if error_code(error) != "ParameterMaxVersionLimitExceeded":
                    raise
                self._unlabel_oldest(name)
                response = self._clients.ssm.put_parameter(**request)
        return SecretVersion(secret, str(response["Version"]), value, from_epoch(created))

    def _unlabel_oldest(self, name: str) -> None:
        history = parameter_history(self._clients, name)
        oldest = min(history, key=lambda entry: int(entry["Version"]))
        if oldest.get("Labels"):
            self._clients.ssm.unlabel_parameter_version(
                Name=name, ParameterVersion=int(oldest["Version"]), Labels=oldest["Labels"]
            )

    def versions(
        self, secret: Secret, *, enabled_only: bool = False, limit: int | None = None
    ) -> list[SecretVersion]:
        """The parameter's whole history is one paginated read, so it is read in full."""
        with self._mapped(secret):
            history = parameter_history(self._clients, self.parameter_name(secret))
        result = []
        for entry in history:
            labels = set(entry.get("Labels") or ())
            version = int(entry["Version"])
            result.append(
                SecretVersion(
                    secret,
                    str(version),
                    str(entry["Value"]),
                    _created_at(entry),
                    enabled=disabled_label(version) not in labels,
                )
            )
        result.sort(key=lambda v: int(v.version), reverse=True)
        if enabled_only:
            result = [v for v in result if v.enabled]
        return result[:limit]

    def disable(self, secret: Secret, version: int) -> None:
        with self._mapped(secret, f"{secret.value}@{version}"):
            self._clients.ssm.label_parameter_version(
                Name=self.parameter_name(secret),
                ParameterVersion=version,
                Labels=[disabled_label(version)],
            )


def _created_at(entry: dict[str, Any]) -> datetime:
    """The service clock's time recorded in the description, else SSM's modification time
    (a version written outside Phase Mirror, e.g. by Pulumi or the console)."""
    match = _CREATED_RE.search(str(entry.get("Description") or ""))
    if match:
        return from_epoch(float(match.group(1)))
    modified: datetime = entry["LastModifiedDate"]
    return modified.astimezone(UTC)
