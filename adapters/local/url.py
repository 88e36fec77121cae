"""The local backend's URL: `local:///path/to/data-dir[?durability=...]`. Imports no SDK."""

from __future__ import annotations

import os
from pathlib import Path

from ..urls import UrlSpec

ENV_HOME = "PHASE_MIRROR_HOME"


def default_data_dir() -> Path:
    """`$PHASE_MIRROR_HOME`, else `$XDG_DATA_HOME/phase-mirror`, else `~/.local/share/phase-mirror`."""
    if home := os.environ.get(ENV_HOME):
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "phase-mirror"


def _data_dir(netloc: str, path: str) -> str:
    return str(Path((netloc + path) or str(default_data_dir())).expanduser())


URL_SPEC = UrlSpec(
    scheme="local",
    params=frozenset({"durability"}),
    example="local:///var/lib/phase-mirror",
    parse_location=_data_dir,
)


def local_backend_url(data_dir: str | Path) -> str:
    return URL_SPEC.url(str(data_dir))
