"""What a backend URL looks like, declared by each backend (gocloud.dev's `urls.go` style).

Every backend package has a `url.py` that imports no cloud SDK and declares one `UrlSpec`: its
scheme, the query parameters it understands, an example, how the location part is read, and a
builder the Pulumi program uses for the `backendUrl` stack output. `adapters.config` keeps only
the generic parsing and the registry of these specs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

#: Reads a URL's location from its netloc and path; raises `ValueError` saying what is missing.
LocationParser = Callable[[str, str], str]


@dataclass(frozen=True)
class UrlSpec:
    scheme: str
    #: Query parameters the backend understands; anything else is a typo the parser reports.
    params: frozenset[str]
    #: A valid URL, shown in every error about this scheme.
    example: str
    parse_location: LocationParser
    #: The optional-dependency extra that installs the backend's SDK (None: nothing to add).
    sdk_extra: str | None = None

    @property
    def driver_module(self) -> str:
        """Every backend package keeps its driver in `driver.py` (imported only when selected)."""
        return f"adapters.{self.scheme}.driver"

    def url(self, location: str = "", params: Mapping[str, str] | None = None) -> str:
        """`scheme://location?params`; refuses parameters the backend does not understand."""
        params = dict(params or {})
        unknown = sorted(set(params) - self.params)
        if unknown:
            raise ValueError(f"unknown parameter(s) {', '.join(unknown)} for {self.scheme}://")
        query = f"?{urlencode(params)}" if params else ""
        return f"{self.scheme}://{location}{query}"


def host_only(netloc: str, path: str) -> str:
    """The location is the URL's host part (`aws://` has none; the path is ignored)."""
    return netloc
