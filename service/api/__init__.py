"""The calibration service's HTTP API (FastAPI). `service.api.app.create_app` builds it over a
backend."""
