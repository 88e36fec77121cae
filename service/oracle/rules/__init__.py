"""The rule registry, in evaluation and report order."""

from __future__ import annotations

from .base import Rule
from .md001_branch_protection import RULE as MD001
from .md002_permissions import RULE as MD002
from .md003_integrity import RULE as MD003
from .md004_ownership import RULE as MD004
from .md005_drift import RULE as MD005
from .md102_merge_queue import RULE as MD102

RULES: tuple[Rule, ...] = (MD001, MD002, MD003, MD004, MD005, MD102)
RULES_BY_ID: dict[str, Rule] = {rule.spec.id: rule for rule in RULES}


def known_checks() -> dict[str, frozenset[str]]:
    """Rule id -> check ids, for validating configuration files."""
    return {rule.spec.id: rule.spec.check_ids for rule in RULES}


__all__ = ["RULES", "RULES_BY_ID", "known_checks"]
