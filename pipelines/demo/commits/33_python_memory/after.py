"""Aggregate request statistics from web server access logs."""

from __future__ import annotations

import gzip
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, TextIO

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


def read_entries(paths: list[Path]) -> Iterator[dict[str, str]]:
    for path in paths:
        with _open(path) as fh:
            for line in fh:
                match = LINE_RE.match(line)
                if match:
                    yield match.groupdict()


def summarise(paths: list[Path], top: int = 10) -> LogStats:
    requests = errors = bytes_sent = 0
    path_counts: Counter[str] = Counter()
    for entry in read_entries(paths):
        requests += 1
        path_counts[entry["path"]] += 1
        if entry["status"].startswith("5"):
            errors += 1
        if entry["bytes"] != "-":
            bytes_sent += int(entry["bytes"])
    return LogStats(
        requests=requests,
        errors=errors,
        bytes_sent=bytes_sent,
        top_paths=path_counts.most_common(top),
    )
