"""The calibration service's HTTP API (FastAPI). `create_app` builds it over a backend."""

from .app import create_app

__all__ = ["create_app"]
