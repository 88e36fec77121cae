"""The governance oracle: rules MD-001..005 and MD-102 over a repository checkout, decisions,
false-positive tracking, circuit breaker, degraded modes, L0 invariants, sealed reports, drift.

Entry points: `engine.analyze(AnalysisRequest, backend)` then `render.render(analysis, Format)`.
Storage is reached only through `adapters.backend.Backend` ports. The package itself imports
nothing, so a command that needs one module does not pay for the others.
"""
