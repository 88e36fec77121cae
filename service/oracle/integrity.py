"""The one report seal of the code base: key version, brand, HMAC-SHA256 over redacted content.

A seal is `{"brand", "alg", "key_version", "mac"}`. The MAC covers a domain-separation tag, the
brand, the key version and the content bytes, so neither the brand nor the key version can be
swapped without detection. Content is canonical JSON (sorted keys, no spaces, UTF-8) of the
document without its seal for JSON-shaped reports (the JSON report, SARIF, drift and baseline
documents), and the exact text before the seal line for text-shaped ones (text, github).
Verification compares in constant time and accepts the current key and, within the catalog grace
window, the previous one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, Final

from .keys import Keyring, RedactionKey

BRAND: Final = "phase-mirror.redacted.v1"
ALGORITHM: Final = "HMAC-SHA256"
_DOMAIN: Final = b"phase-mirror-seal\x00v1\x00"
#: The last line of a sealed text report starts with this.
TEXT_SEAL_PREFIX: Final = "phase-mirror-integrity:"


@dataclass(frozen=True)
class Seal:
    brand: str
    key_version: str
    mac: str
    alg: str = ALGORITHM

    def as_dict(self) -> dict[str, str]:
        return {
            "brand": self.brand,
            "alg": self.alg,
            "key_version": self.key_version,
            "mac": self.mac,
        }

    @staticmethod
    def from_dict(raw: object) -> Seal:
        if not isinstance(raw, dict):
            raise SealError("the report is not sealed (no integrity block)")
        try:
            fields = {name: raw[name] for name in ("brand", "alg", "key_version", "mac")}
        except KeyError as missing:
            raise SealError(f"the integrity block has no {missing.args[0]!r}") from None
        if not all(isinstance(value, str) for value in fields.values()):
            raise SealError("the integrity block's fields must be strings")
        return Seal(fields["brand"], fields["key_version"], fields["mac"], fields["alg"])

    def text_line(self) -> str:
        return (
            f"{TEXT_SEAL_PREFIX} brand={self.brand} alg={self.alg} "
            f"key_version={self.key_version} mac={self.mac}"
        )

    @staticmethod
    def from_text_line(line: str) -> Seal:
        if not line.startswith(TEXT_SEAL_PREFIX):
            raise SealError("the report is not sealed (no phase-mirror-integrity line at the end)")
        fields = dict(
            part.split("=", 1) for part in line[len(TEXT_SEAL_PREFIX) :].split() if "=" in part
        )
        return Seal.from_dict(fields)


class SealError(Exception):
    """The document is unsealed, malformed, or its MAC does not verify."""


@dataclass(frozen=True)
class Verified:
    key_version: str
    which: str  # "current" | "previous"


def canonical_json(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def mac(key: RedactionKey, content: bytes, *, brand: str = BRAND) -> str:
    message = b"".join((_DOMAIN, brand.encode(), b"\x00", key.version.encode(), b"\x00", content))
    return hmac.new(key.material, message, hashlib.sha256).hexdigest()


def seal(key: RedactionKey, content: bytes) -> Seal:
    return Seal(BRAND, key.version, mac(key, content))


def verify(keyring: Keyring, found: Seal, content: bytes) -> Verified:
    """Check `found` against the keyring; `SealError` says exactly why it fails."""
    if not hmac.compare_digest(found.brand.encode(), BRAND.encode()):
        raise SealError(f"unknown brand {found.brand!r} (expected {BRAND!r})")
    if found.alg != ALGORITHM:
        raise SealError(f"unsupported MAC algorithm {found.alg!r} (expected {ALGORITHM})")
    for which, key in keyring.candidates():
        if key.version != found.key_version:
            continue
        expected = mac(key, content, brand=found.brand)
        if hmac.compare_digest(expected.encode(), found.mac.encode()):
            return Verified(key.version, which)
        raise SealError(
            f"MAC mismatch with redaction key version {key.version}: the report was altered "
            "after it was sealed"
        )
    usable = ", ".join(f"{key.version} ({which})" for which, key in keyring.candidates())
    raise SealError(
        f"sealed with redaction key version {found.key_version}, which is not current or "
        f"within its grace window (usable versions: {usable})"
    )


# ------------------------------------------------------------------ JSON-shaped documents


def _slot(document: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Where a document keeps its seal: SARIF in its run's property bag, others at the top."""
    if document.get("version") == "2.1.0" and isinstance(document.get("runs"), list):
        runs = document["runs"]
        if not runs or not isinstance(runs[0], dict):
            raise SealError("SARIF log has no run to carry the seal")
        bag = runs[0].setdefault("properties", {}).setdefault("phaseMirror", {})
        if not isinstance(bag, dict):
            raise SealError("SARIF run property 'phaseMirror' is not an object")
        return bag, "integrity"
    return document, "integrity"


def seal_document(document: dict[str, Any], key: RedactionKey) -> dict[str, Any]:
    """Seal a JSON-shaped document in place (its `integrity` slot) and return it."""
    container, name = _slot(document)
    container.pop(name, None)
    container[name] = seal(key, canonical_json(document)).as_dict()
    return document


def unsealed_content(document: dict[str, Any]) -> tuple[Seal, bytes]:
    """The seal a document carries and the canonical bytes it covers (the document without it)."""
    container, name = _slot(document)
    found = Seal.from_dict(container.get(name))
    del container[name]
    try:
        return found, canonical_json(document)
    finally:
        container[name] = found.as_dict()


def verify_document(document: dict[str, Any], keyring: Keyring) -> Verified:
    found, content = unsealed_content(document)
    return verify(keyring, found, content)


# ------------------------------------------------------------------ text-shaped documents


def seal_text(body: str, key: RedactionKey) -> str:
    """`body` (ending in a newline) plus its seal line."""
    if not body.endswith("\n"):
        body += "\n"
    return body + seal(key, body.encode()).text_line() + "\n"


def verify_text(text: str, keyring: Keyring) -> Verified:
    stripped = text.rstrip("\n")
    cut = stripped.rfind("\n") + 1
    found = Seal.from_text_line(stripped[cut:])
    return verify(keyring, found, stripped[:cut].encode())
