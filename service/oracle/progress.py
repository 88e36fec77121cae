"""A progress bar on stderr, drawn only when stderr is a terminal and the job is large, so
pipes and CI logs never get carriage-return noise and stdout stays the report's alone."""

from __future__ import annotations

import sys
import time
from typing import TextIO

#: Below this many items the bar is not worth drawing.
MIN_ITEMS = 200


class ProgressBar:
    def __init__(self, label: str, stream: TextIO) -> None:
        self.label = label
        self.stream = stream
        self._drawn = False
        self._last = 0.0

    @staticmethod
    def for_stderr(label: str) -> ProgressBar | None:
        return ProgressBar(label, sys.stderr) if sys.stderr.isatty() else None

    def __call__(self, done: int, total: int) -> None:
        if total < MIN_ITEMS:
            return
        now = time.monotonic()
        if done < total and now - self._last < 0.05:
            return
        self._last = now
        width = 30
        filled = width * done // total
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
