"""`phase-mirror serve`: the calibration HTTP API (FastAPI on uvicorn)."""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
from typing import Any

from .common import EXIT_OK, EXIT_USAGE, backend_from, fail

ENV_BACKEND = "PHASE_MIRROR_BACKEND"
#: uvicorn's own name for it; `serve` reads it itself so that unset means "trust no proxy".
ENV_FORWARDED_ALLOW_IPS = "FORWARDED_ALLOW_IPS"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the calibration HTTP API (ingest, nonces, consent, k-anonymous queries)",
        description=(
            "Serve the calibration API on HOST:PORT with uvicorn. On first start it creates the "
            "anonymizer salt and the redaction key if missing, and on the local backend an API "
            "key written to <data dir>/bootstrap-api-key. OpenAPI at /openapi.json, docs at "
            "/docs, health at /healthz and /readyz, Prometheus metrics at /metrics. Service "
            "settings come from PHASE_MIRROR_* variables (see docs/api.md)."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="TCP port (default 8080)")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (default 1; 2 suits 2 cores)"
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="log level of the JSON logs on stderr",
    )
    parser.add_argument(
        "--no-access-log", action="store_true", help="do not log one line per request"
    )
    parser.add_argument(
        "--forwarded-allow-ips",
        metavar="ADDRESSES",
        help="comma-separated addresses or networks of the reverse proxies whose "
        "X-Forwarded-For/-Proto are trusted (default: $FORWARDED_ALLOW_IPS, else none: the "
        "TCP peer is the client). Never list clients: they could choose their address.",
    )
    parser.add_argument(
        "--anonymize-every",
        type=int,
        metavar="SECONDS",
        help="run the anonymizer in the server this often (default 300; 0 disables)",
    )
    parser.set_defaults(func=run)


def _check_bind(host: str, port: int) -> None:
    if not 0 < port < 65536:
        fail(f"--port {port} is not a TCP port; use 1-65535", EXIT_USAGE)
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        family = socket.AF_INET
    probe = socket.socket(family, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError as error:
        fail(
            f"cannot listen on {host}:{port}: {error.strerror}; pick another with --port "
            "or stop what is using it",
            EXIT_USAGE,
        )
    finally:
        probe.close()


def trusted_proxies(args: argparse.Namespace) -> str:
    """The proxies whose forwarding headers are trusted, normalised ("" for none); a usage
    error names a bad entry. A client could otherwise pick the address its limits count."""
    raw = args.forwarded_allow_ips
    source = "--forwarded-allow-ips"
    if raw is None:
        raw, source = os.environ.get(ENV_FORWARDED_ALLOW_IPS, ""), ENV_FORWARDED_ALLOW_IPS
    entries = [entry.strip() for entry in raw.split(",") if entry.strip()]
    for entry in entries:
        if entry == "*":
            fail(
                f"{source}: '*' would trust forwarding headers from anyone, so any client could "
                "choose the address its rate limit counts; list your proxies' addresses",
                EXIT_USAGE,
            )
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            fail(
                f"{source}: {entry!r} is not an IP address or network (e.g. 10.0.0.5, "
                "169.254.0.0/16)",
                EXIT_USAGE,
            )
    return ",".join(entries)


def run(args: argparse.Namespace) -> int:
    # The web stack costs ~0.3 s to import: load it only when serving, so that every other
    # command (and `--help`) starts fast.
    import uvicorn

    from service.api import logs
    from service.api.logs import ENV_ACCESS_LOG, ENV_LOG_LEVEL
    from service.api.server import ENV_SUPERVISOR_PID
    from service.calibration.bootstrap import Calibration, bootstrap
    from service.calibration.config import CalibrationConfig

    if args.workers < 1:
        fail("--workers must be at least 1", EXIT_USAGE)
    proxies = trusted_proxies(args)
    config = CalibrationConfig.from_env()
    if args.anonymize_every is not None:
        config = config.with_changes(anonymize_every_seconds=args.anonymize_every)
    logs.configure(args.log_level)
    log = logs.get_logger()
    _check_bind(args.host, args.port)
    backend = backend_from(args)
    try:
        service = Calibration.build(backend, config)
        report = bootstrap(backend, service.keys)
        setting = backend.setting
    finally:
        backend.close()
    if report.created_secrets:
        log.info("bootstrap: created secrets", extra={"secrets": report.created_secrets})
    if report.bootstrap_key_file is not None:
        log.warning(
            f"bootstrap: no API key existed, so one was created; read it with "
            f"'cat {report.bootstrap_key_file}', or create your own with "
            "'phase-mirror keys create --name NAME --org ORG'"
        )
    elif report.active_keys == 0:
        log.warning(
            "no active API key: ingest and nonce requests will get 401 until you run "
            "'phase-mirror keys create --name NAME --org ORG'"
        )
    if not _is_loopback(args.host):
        log.warning(f"listening on {args.host}, not loopback: put TLS in front of this service")
    os.environ[ENV_BACKEND] = setting.url
    os.environ.update(config.as_env())
    os.environ[ENV_ACCESS_LOG] = "0" if args.no_access_log else "1"
    os.environ[ENV_LOG_LEVEL] = args.log_level
    # Workers exit when this process dies, even by SIGKILL (see server.exit_with_supervisor).
    os.environ[ENV_SUPERVISOR_PID] = str(os.getpid())
    log.info(
        f"serving http://{args.host}:{args.port} (docs at /docs) on {setting.url} "
        f"with {args.workers} worker(s); "
        + (f"trusting forwarding headers from {proxies}" if proxies else "trusting no proxy")
    )
    uvicorn.run(
        "service.api.server:app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        access_log=False,
        log_level=args.log_level,
        backlog=4096,
        timeout_keep_alive=30,
        server_header=False,
        # Forwarding headers only from configured proxies (uvicorn's default trusts loopback).
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
    )
    return EXIT_OK


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
