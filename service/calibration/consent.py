"""Consent for calibration data, over the consent port.

Submission through a certified implementation is *implicit* consent, unless the org revoked it.
An explicit grant (org- or repo-scoped, optionally expiring) upgrades the basis to `explicit`; an
org-level revocation beats everything; an explicit grant that has expired stops submissions until
it is renewed (a time-bounded grant means the org chose the bound). Every event records the basis
it was accepted under.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from adapters.ports import ORG_SCOPE, ConsentRecord, ConsentState, ConsentStore

_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")

IMPLICIT = "implicit"


@dataclass(frozen=True)
class ConsentDecision:
    allowed: bool
    #: "implicit", "explicit:org", "explicit:repo:owner/name"; or why not ("revoked", "expired").
    basis: str
    record: ConsentRecord


def decide(store: ConsentStore, org_id: str, *, repo: str | None, at: datetime) -> ConsentDecision:
    record = store.check(org_id, repo=repo, at=at)
    if record.state is ConsentState.REVOKED:
        return ConsentDecision(False, "revoked", record)
    if record.state is ConsentState.EXPIRED:
        return ConsentDecision(False, "expired", record)
    if record.state is ConsentState.GRANTED:
        return ConsentDecision(True, f"explicit:{record.scope}", record)
    return ConsentDecision(True, IMPLICIT, record)


def scope_from(repo: str | None) -> str:
    """`org`, or `repo:owner/name` for a repository; `ValueError` names the bad input."""
    if repo is None or repo == "":
        return ORG_SCOPE
    text = repo.removeprefix("repo:")
    if not _REPO.match(text):
        raise ValueError(f"invalid repository {repo!r}: use owner/name")
    return f"repo:{text}"


def record_as_json(record: ConsentRecord) -> dict[str, object]:
    return {
        "scope": record.scope,
        "state": record.state.value,
        "actor": record.actor,
        "at": int(record.at.timestamp() * 1000),
        "expires_at": None
        if record.expires_at is None
        else int(record.expires_at.timestamp() * 1000),
    }
