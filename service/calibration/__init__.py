"""The FP calibration domain: ingest, API keys, single-use nonces, consent, the anonymizer and
k-anonymous queries. Everything here talks to `adapters` ports only, never to a cloud SDK, and
knows nothing about HTTP (the API layer in `service.api` maps its results onto responses)."""
