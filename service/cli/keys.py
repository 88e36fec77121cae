"""`phase-mirror keys create|list|revoke|import`: API keys of certified implementations."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from adapters.ports import ApiKey
from service.calibration.apikeys import ApiKeyService

from .common import EXIT_OK, UsageError, backend_from


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "keys",
        help="create, list, revoke or import API keys",
        description=(
            "API keys authenticate certified implementations to the calibration API. Only a "
            "SHA-256 of each key is stored: 'create' prints the new key once, keep it safe. "
            "A revocation reaches every server worker within 5 seconds."
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="create a key and print it once")
    _identity(create)
    create.add_argument("--json", action="store_true", help="print the key and its record as JSON")
    create.set_defaults(func=_create)

    listing = actions.add_parser("list", help="list keys (never their values)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=_list)

    revoke = actions.add_parser("revoke", help="revoke a key by id or name")
    revoke.add_argument("key", help="the key id (from 'keys list') or its name")
    revoke.set_defaults(func=_revoke)

    imported = actions.add_parser(
        "import",
        help="register an existing key value (migrations, test environments)",
        description="Reads the key from --value, else from the first line of standard input.",
    )
    _identity(imported)
    imported.add_argument("--value", help="the key (visible in the process list: prefer stdin)")
    imported.set_defaults(func=_import)


def _identity(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", required=True, help="a label, e.g. the implementation's name")
    parser.add_argument(
        "--org", default="local", help="the org that owns the key (default 'local')"
    )
    parser.add_argument(
        "--restrict-org",
        action="store_true",
        help="the key may only submit and request nonces for --org itself",
    )


def _store(args: argparse.Namespace) -> tuple[Any, ApiKeyService]:
    backend = backend_from(args)
    return backend, ApiKeyService(backend.api_keys, backend.clock, cache_seconds=0)


def _record(key: ApiKey) -> dict[str, Any]:
    return {
        "key_id": key.key_id,
        "name": key.name,
        "org": key.org,
        "restrict_org": key.restrict_org,
        "created_at": key.created_at.isoformat(),
        "revoked_at": None if key.revoked_at is None else key.revoked_at.isoformat(),
    }


def _create(args: argparse.Namespace) -> int:
    backend, store = _store(args)
    try:
        value, key = _checked(
            lambda: store.create(args.name, args.org, restrict_org=args.restrict_org)
        )
    finally:
        backend.close()
    if args.json:
        print(json.dumps({"key": value, **_record(key)}, indent=2))
    else:
        print(value)
        print(
            f"created key {key.key_id} '{key.name}' for org '{key.org}'; this is the only time "
            "it is shown",
            file=sys.stderr,
        )
    return EXIT_OK


def _import(args: argparse.Namespace) -> int:
    value = args.value
    if value is None:
        value = sys.stdin.readline().strip()
        if not value:
            raise UsageError("no key given: pass --value or pipe the key on standard input")
    backend, store = _store(args)
    try:
        key = _checked(
            lambda: store.import_key(value, args.name, args.org, restrict_org=args.restrict_org)
        )
    finally:
        backend.close()
    print(f"imported key {key.key_id} '{key.name}' for org '{key.org}'")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    backend, store = _store(args)
    try:
        keys = store.list()
    finally:
        backend.close()
    if args.json:
        print(json.dumps([_record(k) for k in keys], indent=2))
        return EXIT_OK
    if not keys:
        print("no API keys; create one with 'phase-mirror keys create --name NAME --org ORG'")
        return EXIT_OK
    print(f"{'KEY ID':<14}{'NAME':<22}{'ORG':<22}{'CREATED':<22}STATE")
    for key in keys:
        state = "active" if key.active else f"revoked {key.revoked_at:%Y-%m-%d %H:%M}"
        org = key.org + (" (only)" if key.restrict_org else "")
        print(f"{key.key_id:<14}{key.name:<22}{org:<22}{key.created_at:%Y-%m-%d %H:%M:%S}  {state}")
    return EXIT_OK


def _revoke(args: argparse.Namespace) -> int:
    backend, store = _store(args)
    try:
        key = store.revoke(args.key)
    finally:
        backend.close()
    print(f"revoked key {key.key_id} '{key.name}'")
    return EXIT_OK


def _checked(action: Any) -> Any:
    try:
        return action()
    except ValueError as error:
        raise UsageError(str(error)) from None
