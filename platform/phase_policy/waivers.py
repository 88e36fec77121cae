"""Waivers as code: a reviewed, owned, expiring exception to one rule for some resources.

File format (YAML or JSON), e.g. `policy-waivers.yaml`:

    waivers:
      - rule: PM-AWS-010                 # exact rule id
        resource: "*::legacy-exports"    # glob on the resource URN or its logical name
        reason: Read by a partner without TLS 1.2 until their migration (TICKET-123)
        owner: platform-team@example.com
        expires: 2026-03-31              # last day the waiver applies (UTC)
        stacks: [staging]                # optional: limit to these stacks
        clouds: [aws]                    # optional: limit to these clouds

A waived finding is still reported, marked suppressed with the waiver's justification. An
expired waiver, or one that matched nothing in a run covering its whole scope, fails the gate:
exceptions must not outlive their reason silently.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from .documents import check_entry, read_document

#: A waiver may not be granted for longer than this (re-approve it instead).
MAX_WAIVER_DAYS = 366
REQUIRED = ("rule", "resource", "reason", "owner", "expires")


class WaiverFileError(Exception):
    """The waiver file cannot be used; the message names the entry and the field."""


@dataclass(frozen=True)
class Waiver:
    index: int
    rule: str
    resource: str
    reason: str
    owner: str
    expires: date
    stacks: tuple[str, ...] = ()
    clouds: tuple[str, ...] = ()
    source: str = ""
    #: For an inline waiver (a tag/label on the resource): the tag key. `resource` is then the
    #: resource's exact URN, not a glob.
    tag: str = ""

    @property
    def inline(self) -> bool:
        return bool(self.tag)

    @property
    def label(self) -> str:
        if self.inline:
            name = self.resource.rsplit("::", 1)[-1]
            return f"inline waiver {self.tag} on {name} ({self.rule}, owner {self.owner})"
        return f"waiver #{self.index + 1} ({self.rule} on {self.resource!r}, owner {self.owner})"

    @property
    def justification(self) -> str:
        return f"{self.reason} (owner: {self.owner}; expires {self.expires.isoformat()})"

    def expired(self, today: date) -> bool:
        return today > self.expires

    def in_scope(self, cloud: str, stack: str) -> bool:
        return (not self.stacks or stack in self.stacks) and (
            not self.clouds or cloud in self.clouds
        )

    def matches(self, rule_id: str, cloud: str, stack: str, urn: str) -> bool:
        if rule_id != self.rule or not self.in_scope(cloud, stack):
            return False
        if self.inline:
            return urn == self.resource
        name = urn.rsplit("::", 1)[-1]
        return fnmatch.fnmatchcase(urn, self.resource) or fnmatch.fnmatchcase(name, self.resource)

    def scope_covered_by(self, targets: Iterable[tuple[str, str]]) -> bool:
        """Whether a run over `targets` (cloud, stack) evaluated every place this waiver applies,
        so "matched nothing" is a real verdict, not a partial run."""
        run = set(targets)
        if not run:
            return False
        clouds = set(self.clouds) or {c for c, _ in run}
        stacks = set(self.stacks) or {s for _, s in run}
        return all((c, s) in run for c in clouds for s in stacks)


def _text_list(entry: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise WaiverFileError(f"{where}: `{key}` must be a list of names")
    return tuple(value)


def _date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise WaiverFileError(
            f"{where}: `expires` is {value!r}; write the last valid day as YYYY-MM-DD"
        ) from None


def within_horizon(expires: date, today: date, where: str) -> date:
    if expires > today + timedelta(days=MAX_WAIVER_DAYS):
        raise WaiverFileError(
            f"{where}: expires {expires.isoformat()}, more than {MAX_WAIVER_DAYS} days ahead; "
            "waivers are temporary, renew them when they lapse"
        )
    return expires


def parse_waivers(
    data: Any, *, known_rules: Iterable[str], today: date, source: str = "waivers"
) -> list[Waiver]:
    if data is None:
        return []
    if not isinstance(data, Mapping) or not isinstance(data.get("waivers", []), list):
        raise WaiverFileError(f"{source}: expected a mapping with a `waivers:` list")
    rules = set(known_rules)
    waivers = []
    for index, raw in enumerate(data.get("waivers") or []):
        where = f"{source}: waiver #{index + 1}"
        entry = check_entry(
            raw,
            where=where,
            noun="waiver",
            required=REQUIRED,
            optional=("stacks", "clouds"),
            error=WaiverFileError,
        )
        rule = str(entry["rule"])
        if rule not in rules:
            raise WaiverFileError(
                f"{where}: unknown rule id {rule!r} (see `phase-mirror-gate rules`)"
            )
        expires = within_horizon(_date(entry["expires"], where), today, where)
        waivers.append(
            Waiver(
                index=index,
                rule=rule,
                resource=str(entry["resource"]),
                reason=str(entry["reason"]),
                owner=str(entry["owner"]),
                expires=expires,
                stacks=_text_list(entry, "stacks", where),
                clouds=_text_list(entry, "clouds", where),
                source=source,
            )
        )
    return waivers


def load_waivers(path: Path, *, known_rules: Iterable[str], today: date) -> list[Waiver]:
    data = read_document(path, WaiverFileError, "waiver file")
    return parse_waivers(data, known_rules=known_rules, today=today, source=str(path))


@dataclass(frozen=True)
class WaiverProblem:
    waiver: Waiver
    #: "expired" or "unmatched"
    kind: str
    message: str


def waiver_problems(
    waivers: Sequence[Waiver],
    used: set[int],
    *,
    today: date,
    targets: Sequence[tuple[str, str]],
) -> list[WaiverProblem]:
    problems = []
    for waiver in waivers:
        if waiver.expired(today):
            problems.append(
                WaiverProblem(
                    waiver,
                    "expired",
                    f"{waiver.label} expired on {waiver.expires.isoformat()}: fix the finding or "
                    "renew the waiver with a new date and review",
                )
            )
        elif waiver.index not in used and waiver.scope_covered_by(targets):
            problems.append(
                WaiverProblem(
                    waiver,
                    "unmatched",
                    f"{waiver.label} matched no finding: the exception is no longer needed "
                    "(or its pattern is wrong); delete it",
                )
            )
    return problems
