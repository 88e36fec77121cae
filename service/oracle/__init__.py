"""The governance oracle: rules MD-001..005 and MD-102 over a repository checkout, decisions,
false-positive tracking, circuit breaker, degraded modes, L0 invariants, sealed reports, drift.

Entry points: `analyze(AnalysisRequest, backend)` then `render(analysis, Format)`. Storage is
reached only through `adapters.backend.Backend` ports.
"""

from __future__ import annotations

from .engine import Analysis, AnalysisRequest, analyze
from .model import Finding, Mode, Outcome, Severity
from .render import Format, render

__all__ = [
    "Analysis",
    "AnalysisRequest",
    "Finding",
    "Format",
    "Mode",
    "Outcome",
    "Severity",
    "analyze",
    "render",
]
