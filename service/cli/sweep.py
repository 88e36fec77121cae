"""`phase-mirror sweep`: physically delete expired items on backends without native TTL."""

from __future__ import annotations

import argparse
from typing import Any

from adapters.backend import Feature

from .common import EXIT_OK, backend_from


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="delete expired items now (local backend; the clouds expire items themselves)",
        description=(
            "Expired items are never returned by reads on any backend. On the local backend they "
            "also stay on disk until swept; run this from cron (e.g. hourly) to reclaim space. "
            "On aws and gcp the databases' own TTL deletes them, and this command says so."
        ),
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    backend = backend_from(args)
    try:
        if Feature.SWEEP_EXPIRED not in backend.features:
            print(f"{backend.name}: expired items are deleted by the database's native TTL")
            return EXIT_OK
        print(f"swept {backend.sweep_expired()} expired item(s) from {backend.setting.url}")
    finally:
        backend.close()
    return EXIT_OK
