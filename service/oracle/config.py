"""`.phase-mirror.yml`: which rules run, severity overrides, thresholds, governed paths.

    version: 1
    rules:
      MD-003:
        enabled: true
        severity: {unpinned-first-party-action: medium}   # or one severity for the whole rule
    thresholds: {block_high: 3, circuit_breaker_per_hour: 10, drift_magnitude: 0.1}
    governed_paths: ["infra/**"]
    trusted_action_owners: [actions, github]

Every key is checked: an unknown key or a bad value is an error naming the key, its line and the
fix, never a silent default.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .confined import Confined, Refused
from .model import EVALUATION_ERROR, Severity
from .yamlsrc import YamlError, YMap, parse

DEFAULT_FILE = ".phase-mirror.yml"
MAX_CONFIG_BYTES = 1024 * 1024


class ConfigError(ValueError):
    """The configuration file is invalid; the message names the key and how to fix it."""


@dataclass(frozen=True)
class Thresholds:
    #: Default mode blocks when high findings exceed this (critical always blocks).
    block_high: int = 3
    block_medium: int = 10
    #: `--strict` blocks when high findings exceed this (0: any high finding blocks).
    strict_block_high: int = 0
    strict_block_medium: int = 5
    #: Blocks per (rule, repository, UTC hour) before the rule's blocks degrade to warn.
    circuit_breaker_per_hour: int = 10
    #: MD-005 reports drift above this fraction of governed files changed.
    drift_magnitude: float = 0.10
    #: L0 invariant: drift above this fraction is a violation in every mode (exit 1).
    l0_drift_ceiling: float = 0.50
    #: MD-001 minimum approving reviews (default mode / strict mode).
    min_approvals: int = 1
    strict_min_approvals: int = 2
    #: L0 invariant: the redaction key must be rotated at least this often.
    l0_max_key_age_days: int = 90
    #: L0 invariant: a claimed FPR decrease needs at least this many reviewed events.
    l0_min_witness_events: int = 30


_FRACTIONS = {"drift_magnitude", "l0_drift_ceiling"}


@dataclass(frozen=True)
class OracleConfig:
    source: str | None = None
    disabled_rules: frozenset[str] = frozenset()
    #: "MD-003" (whole rule) or "MD-003.check" -> severity.
    severity_overrides: Mapping[str, Severity] = field(default_factory=dict)
    thresholds: Thresholds = field(default_factory=Thresholds)
    governed_paths: tuple[str, ...] = ()
    trusted_action_owners: frozenset[str] = frozenset({"actions", "github"})

    def enabled(self, rule_id: str) -> bool:
        return rule_id not in self.disabled_rules

    def severity_for(self, rule_id: str, check: str, default: Severity) -> Severity:
        if check == EVALUATION_ERROR:
            return Severity.CRITICAL
        return self.severity_overrides.get(
            f"{rule_id}.{check}", self.severity_overrides.get(rule_id, default)
        )


_TOP_KEYS = ("version", "rules", "thresholds", "governed_paths", "trusted_action_owners")
_RULE_KEYS = ("enabled", "severity")


def load_config(
    path: Path, known_checks: Mapping[str, frozenset[str]], *, required: bool = True
) -> OracleConfig:
    """Read a config file. A missing file is an error when `required` (explicit --config),
    otherwise the defaults apply.

    An optional file (the checkout's own `PATH/.phase-mirror.yml`) is repository content, so it
    is read through the guarded reader confined to its folder: a link out of the checkout is
    not read and the defaults apply (every rule on), and the analysis reports the refusal as an
    MD-004 finding. An explicit `--config` is the operator's choice and is read where it is."""
    if not required:
        reader = Confined(path.parent)
        try:
            text = reader.read_text(path.name, limit=MAX_CONFIG_BYTES)
        except (Refused, FileNotFoundError):
            return OracleConfig()
        except (OSError, ValueError) as error:
            raise ConfigError(f"cannot read config file {path}: {error}") from None
        return parse_config(text, known_checks, source=str(path))
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
    return parse_config(text, known_checks, source=str(path))


def parse_config(
    text: str, known_checks: Mapping[str, frozenset[str]], *, source: str = DEFAULT_FILE
) -> OracleConfig:
    parsed = parse(text)
    if isinstance(parsed, YamlError):
        raise ConfigError(f"{source}:{parsed.line}: invalid YAML: {parsed.message}")
    if parsed is None:
        return OracleConfig(source=source)
    reader = _Reader(source)
    root = reader.mapping(parsed, "the top level", 1)
    reader.keys(root, _TOP_KEYS, "")
    config = OracleConfig(source=source)
    if "version" in root and root["version"] != 1:
        reader.fail(root, "version", f"unsupported version {root['version']!r}; use 1")
    if "rules" in root:
        config = _rules(reader, root, config, known_checks)
    if "thresholds" in root:
        config = replace(config, thresholds=_thresholds(reader, root))
    if "governed_paths" in root:
        paths = reader.strings(root, "governed_paths")
        for pattern in paths:
            if pattern.startswith("/") or ".." in pattern.split("/"):
                reader.fail(
                    root, "governed_paths", f"{pattern!r} must be relative to the repository root"
                )
        config = replace(config, governed_paths=tuple(paths))
    if "trusted_action_owners" in root:
        owners = reader.strings(root, "trusted_action_owners")
        config = replace(config, trusted_action_owners=frozenset(o.lower() for o in owners))
    return config


def _rules(
    reader: _Reader, root: YMap, config: OracleConfig, known: Mapping[str, frozenset[str]]
) -> OracleConfig:
    rules = reader.mapping(root["rules"], "rules", root.line_of("rules"))
    disabled: set[str] = set()
    overrides: dict[str, Severity] = {}
    for rule_id, settings in rules.items():
        if rule_id not in known:
            reader.unknown(rules, rule_id, "rules.", sorted(known))
        body = reader.mapping(settings, f"rules.{rule_id}", rules.line_of(rule_id))
        reader.keys(body, _RULE_KEYS, f"rules.{rule_id}.")
        if "enabled" in body:
            if not isinstance(body["enabled"], bool):
                reader.fail(body, "enabled", f"rules.{rule_id}.enabled must be true or false")
            if not body["enabled"]:
                disabled.add(rule_id)
        if "severity" in body:
            severity = body["severity"]
            if isinstance(severity, YMap):
                for check in severity:
                    if check not in known[rule_id] or check == EVALUATION_ERROR:
                        reader.unknown(
                            severity,
                            check,
                            f"rules.{rule_id}.severity.",
                            sorted(known[rule_id] - {EVALUATION_ERROR}),
                        )
                    overrides[f"{rule_id}.{check}"] = reader.severity(
                        severity, check, f"rules.{rule_id}.severity.{check}"
                    )
            else:
                overrides[rule_id] = reader.severity(body, "severity", f"rules.{rule_id}.severity")
    return replace(config, disabled_rules=frozenset(disabled), severity_overrides=overrides)


def _thresholds(reader: _Reader, root: YMap) -> Thresholds:
    body = reader.mapping(root["thresholds"], "thresholds", root.line_of("thresholds"))
    names = tuple(f.name for f in fields(Thresholds))
    reader.keys(body, names, "thresholds.")
    values: dict[str, Any] = {}
    for name, value in body.items():
        if name in _FRACTIONS:
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                reader.fail(body, name, f"thresholds.{name} must be a number between 0 and 1")
            values[name] = float(value)
        else:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                reader.fail(body, name, f"thresholds.{name} must be a whole number >= 0")
            values[name] = value
    return Thresholds(**values)


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: YMap, key: str, message: str) -> None:
        raise ConfigError(f"{self.source}:{node.line_of(key)}: {message}")

    def unknown(
        self, node: YMap, key: str, prefix: str, allowed: list[str] | tuple[str, ...]
    ) -> None:
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        self.fail(node, key, f"unknown key '{prefix}{key}'{hint}; allowed: {', '.join(allowed)}")

    def keys(self, node: YMap, allowed: tuple[str, ...], prefix: str) -> None:
        for key in node:
            if key not in allowed:
                self.unknown(node, key, prefix, allowed)

    def mapping(self, value: Any, what: str, line: int) -> YMap:
        if not isinstance(value, YMap):
            raise ConfigError(f"{self.source}:{line}: {what} must be a mapping")
        return value

    def strings(self, node: YMap, key: str) -> list[str]:
        value = node[key]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.fail(node, key, f"{key} must be a list of non-empty strings")
        return [str(v) for v in value]

    def severity(self, node: YMap, key: str, what: str) -> Severity:
        value = node[key]
        try:
            return Severity(str(value).lower())
        except ValueError:
            self.fail(
                node,
                key,
                f"{what}: {value!r} is not a severity; use one of "
                + ", ".join(s.value for s in Severity),
            )
            raise AssertionError("unreachable") from None
