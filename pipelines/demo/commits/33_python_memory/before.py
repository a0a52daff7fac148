"""Aggregate request statistics from web server access logs."""

from __future__ import annotations

import gzip
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

LINE_RE = re.compile(
    r'^(?P<ip>\S+) \S+ \S+ \[(?P<ts>[^\]]+)\] "(?P<method>[A-Z]+) (?P<path>\S+) [^"]*" '
    r"(?P<status>\d{3}) (?P<bytes>\d+|-)"
)


@dataclass
class LogStats:
    requests: int
    errors: int
    bytes_sent: int
    top_paths: list[tuple[str, int]]


def _open(path: Path) -> TextIO:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def read_entries(paths: list[Path]) -> list[dict[str, str]]:
    entries = []
    for path in paths:
        with _open(path) as fh:
            for line in fh.readlines():
                match = LINE_RE.match(line)
                if match:
                    entries.append(match.groupdict())
    return entries


def summarise(paths: list[Path], top: int = 10) -> LogStats:
    entries = read_entries(paths)
    path_counts = Counter(e["path"] for e in entries)
    errors = sum(1 for e in entries if e["status"].startswith("5"))
    bytes_sent = sum(int(e["bytes"]) for e in entries if e["bytes"] != "-")
    return LogStats(
        requests=len(entries),
        errors=errors,
        bytes_sent=bytes_sent,
        top_paths=path_counts.most_common(top),
    )
