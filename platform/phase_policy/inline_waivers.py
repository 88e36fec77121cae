"""Inline waivers: a waiver carried by the resource itself, as an AWS tag or a GCP label.

One encoding for both clouds, inside GCP's label rules (keys and values of lowercase letters,
digits, `-` and `_`, at most 63 characters each, keys starting with a letter), which AWS tags
(128-character keys, 256-character values, a wider alphabet) accept as they are:

    key:    phase-mirror-waive-<rule id, lowercase>     phase-mirror-waive-pm-aws-010
    value:  <expires YYYY-MM-DD>_<owner>_<reason>        2026-06-30_platform-team_tkt-123-partner-tls

`owner` is a team or person handle (`[a-z0-9-]`), `reason` a ticket reference or short slug
(`[a-z0-9-_]`, may contain `_`). The waiver applies to that rule's findings on that resource
(exact URN), in that stack only. It is validated like a file waiver: known rule id, a real date
at most 366 days ahead; a malformed one makes the run unusable (exit 2), an expired one or one
that matched no finding fails the gate (exit 1).

The tags are read from the resource's `tags` (AWS), `labels` or `userLabels` (GCP) inputs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date

from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from .graph import StackGraph, StackResource
from .waivers import Waiver, WaiverFileError, within_horizon

TAG_PREFIX = "phase-mirror-waive-"
#: Input properties holding a resource's tags or labels.
TAG_FIELDS = ("tags", "labels", "userLabels")
#: GCP's limit for label keys and values (AWS's are larger).
MAX_LENGTH = 63
_KEY = re.compile(r"[a-z][a-z0-9_-]*")
_OWNER = re.compile(r"[a-z0-9][a-z0-9-]*")
_REASON = re.compile(r"[a-z0-9][a-z0-9_-]*")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
FORMAT = "<expires YYYY-MM-DD>_<owner>_<reason>"


class InlineWaiverError(WaiverFileError):
    """A waiver tag/label that cannot be used; the message names the resource and the tag."""


def tag_key(rule_id: str) -> str:
    return TAG_PREFIX + rule_id.lower()


def encode(rule_id: str, *, expires: date, owner: str, reason: str) -> tuple[str, str]:
    """The (key, value) to put in a resource's `tags`/`labels` to waive `rule_id` on it."""
    key, value = tag_key(rule_id), f"{expires.isoformat()}_{owner}_{reason}"
    _check_syntax(key, value, where=f"inline waiver {key}")
    return key, value


def _check_syntax(key: str, value: str, *, where: str) -> tuple[str, str, str]:
    if key != key.lower() or not _KEY.fullmatch(key):
        raise InlineWaiverError(
            f"{where}: the key must be lowercase letters, digits, '-' or '_' "
            f"(a GCP label key), e.g. {tag_key('PM-AWS-010')}"
        )
    for part, text in (("key", key), ("value", value)):
        if len(text) > MAX_LENGTH:
            raise InlineWaiverError(
                f"{where}: the {part} has {len(text)} characters; at most {MAX_LENGTH} "
                "(GCP label limit; shorten the reason to a ticket id)"
            )
    if value == UNKNOWN_STRING_VALUE:
        raise InlineWaiverError(
            f"{where}: the value is unknown at preview (computed from another resource); "
            "write it as a literal string"
        )
    parts = value.split("_", 2)
    if len(parts) != 3 or not all(parts):
        raise InlineWaiverError(f"{where}: value {value!r} is not {FORMAT}")
    expires, owner, reason = parts
    if not _DATE.fullmatch(expires):
        raise InlineWaiverError(
            f"{where}: expiry {expires!r} is not YYYY-MM-DD (value format: {FORMAT})"
        )
    if not _OWNER.fullmatch(owner):
        raise InlineWaiverError(
            f"{where}: owner {owner!r} must be a handle of lowercase letters, digits and '-'"
        )
    if not _REASON.fullmatch(reason):
        raise InlineWaiverError(
            f"{where}: reason {reason!r} must be lowercase letters, digits, '-' or '_' "
            "(a ticket reference such as tkt-123-partner-tls)"
        )
    return expires, owner, reason


def decode(
    key: str,
    value: object,
    *,
    resource: StackResource,
    cloud: str,
    stack: str,
    known_rules: Iterable[str],
    today: date,
    index: int,
) -> Waiver:
    """The waiver a tag/label declares (`key` starts with TAG_PREFIX in any case)."""
    where = f"{resource.urn}: inline waiver {key}"
    if not isinstance(value, str):
        raise InlineWaiverError(f"{where}: the value must be a string ({FORMAT})")
    expires_text, owner, reason = _check_syntax(key, value, where=where)
    rule = key[len(TAG_PREFIX) :].upper()
    if rule not in set(known_rules):
        raise InlineWaiverError(
            f"{where}: unknown rule id {rule!r} (see `phase-mirror-gate rules`)"
        )
    try:
        expires = date.fromisoformat(expires_text)
    except ValueError:
        raise InlineWaiverError(f"{where}: {expires_text!r} is not a real date") from None
    return Waiver(
        index=index,
        rule=rule,
        resource=resource.urn,
        reason=reason,
        owner=owner,
        expires=within_horizon(expires, today, where),
        stacks=(stack,),
        clouds=(cloud,),
        source=f"{resource.name} ({resource.type})",
        tag=key,
    )


def _tags(resource: StackResource) -> Iterable[tuple[str, object]]:
    for field in TAG_FIELDS:
        tags = resource.inputs.get(field)
        if isinstance(tags, Mapping):
            yield from ((str(k), v) for k, v in tags.items())


def inline_waivers(
    graph: StackGraph, cloud: str, *, known_rules: Iterable[str], today: date, start: int
) -> tuple[list[Waiver], list[str]]:
    """Every waiver tag/label of the graph (indices from `start`), and the malformed ones."""
    rules = frozenset(known_rules)
    waivers: list[Waiver] = []
    problems: list[str] = []
    for resource in graph.resources:
        for key, value in _tags(resource):
            if not key.lower().startswith(TAG_PREFIX):
                continue
            try:
                waivers.append(
                    decode(
                        key,
                        value,
                        resource=resource,
                        cloud=cloud,
                        stack=graph.stack,
                        known_rules=rules,
                        today=today,
                        index=start + len(waivers),
                    )
                )
            except WaiverFileError as error:  # InlineWaiverError or the shared horizon check
                problems.append(str(error))
    return waivers, problems


__all__ = [
    "FORMAT",
    "TAG_PREFIX",
    "InlineWaiverError",
    "decode",
    "encode",
    "inline_waivers",
    "tag_key",
]
