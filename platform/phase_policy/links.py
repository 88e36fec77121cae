"""Which companion resources configure which parent resource (S3 versioning/encryption/public
access block/policy of a bucket).

A companion names its bucket through its `bucket` input, which is the bucket's id: unknown during
a preview of a new bucket. The engine therefore also sends dependencies; this module links, in
order of trust: the `bucket` property's dependencies, the resource's dependencies when they
contain exactly one candidate, the known value, and last the shared parent component when it
holds a single candidate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pulumi_policy import PolicyResource

from .props import UNKNOWN, present, read


def _parent_urn(resource: PolicyResource) -> str | None:
    if resource.parent is not None:
        return resource.parent.urn
    return resource.opts.parent if resource.opts is not None else None


def owner(
    companion: PolicyResource,
    candidates: Sequence[PolicyResource],
    *,
    prop: str = "bucket",
    identity_props: Sequence[str] = ("bucket", "name", "id"),
) -> PolicyResource | None:
    """The candidate `companion` configures, or None when it cannot be told."""
    by_urn = {c.urn: c for c in candidates}
    for dep in companion.property_dependencies.get(prop, []) or []:
        if dep.urn in by_urn:
            return by_urn[dep.urn]
    if companion.property_dependencies.get(prop):
        return None
    deps = [d for d in companion.dependencies if d.urn in by_urn]
    if len(deps) == 1:
        return by_urn[deps[0].urn]
    target = read(companion.props, prop)
    if isinstance(target, str) and target:
        for candidate in candidates:
            if any(read(candidate.props, key) == target for key in identity_props):
                return candidate
            if candidate.name == target:
                return candidate
        return None
    if target is UNKNOWN:
        parent = _parent_urn(companion)
        siblings = [c for c in candidates if _parent_urn(c) == parent]
        if len(siblings) == 1:
            return siblings[0]
    return None


def companions_of(
    parent: PolicyResource,
    resources: Sequence[PolicyResource],
    candidates: Sequence[PolicyResource],
    companion_types: Sequence[str],
) -> list[PolicyResource]:
    wanted = frozenset(companion_types)
    return [
        r
        for r in resources
        if r.resource_type in wanted
        and (found := owner(r, candidates)) is not None
        and found.urn == parent.urn
    ]


@dataclass(frozen=True)
class LogLinks:
    #: Buckets whose server access logs are delivered somewhere (or may be, at preview).
    sources: frozenset[str]
    #: Buckets receiving server access logs.
    targets: frozenset[str]


def log_links(
    resources: Sequence[PolicyResource],
    buckets: Sequence[PolicyResource],
    logging_types: Sequence[str],
) -> LogLinks:
    """Which buckets log and which receive logs. A logging configuration names both through
    ids, unknown at a first preview; with the engine's property dependencies they resolve, and
    when neither side can be told apart both buckets count as either (preview only)."""
    by_urn = {b.urn: b for b in buckets}
    sources: set[str] = set()
    targets: set[str] = set()
    for bucket in buckets:
        if present(bucket.props, "loggings") or present(bucket.props, "logging"):
            sources.add(bucket.urn)
    wanted = frozenset(logging_types)
    for config in (r for r in resources if r.resource_type in wanted):
        if not present(config.props, "targetBucket"):
            continue
        deps = [d.urn for d in config.dependencies if d.urn in by_urn]
        source = owner(config, buckets)
        target = owner(config, buckets, prop="targetBucket")
        if source is not None and target is None:
            rest = [urn for urn in deps if urn != source.urn]
            target = by_urn[rest[0]] if len(rest) == 1 else None
        if target is not None and source is None:
            rest = [urn for urn in deps if urn != target.urn]
            source = by_urn[rest[0]] if len(rest) == 1 else None
        if source is not None:
            sources.add(source.urn)
        if target is not None:
            targets.add(target.urn)
        if source is None and target is None:
            sources.update(deps)
            targets.update(deps)
    return LogLinks(frozenset(sources), frozenset(targets))
