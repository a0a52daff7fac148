"""The audit set on disk: `AuditPair` records, `audit.jsonl` and folder lookup.

An audit folder holds two files: `audit.jsonl`, the sampled pairs (written once by
`pipelines.audit.sample`, one JSON object a line, in review order), and
`verdicts.sqlite`, the person's verdicts (`pipelines.audit.store`). Keeping the
pairs in a plain JSON Lines file rather than in SQLite means the set can be read,
diffed and shared without any tool, and re-sampling never touches the verdicts.

`language` and `aspect` are stored as ClassLabel *names*, not ids, so the file is
readable on its own and stays right even if a later release reorders the labels.
"""

__all__ = [
    "AUDIT_FILE",
    "STORE_FILE",
    "AuditError",
    "AuditPair",
    "load_audit",
    "resolve_audit_dir",
    "write_audit",
]

import dataclasses
import json
import os
from collections.abc import Iterable


AUDIT_FILE = "audit.jsonl"
"""The sampled pairs, one JSON object a line, in review order."""

STORE_FILE = "verdicts.sqlite"
"""The verdict store (`pipelines.audit.store.VerdictStore`)."""

DEFAULT_SUBDIR = "audit"
"""Where `sample` writes when no audit folder is given: `OUT/audit`."""


class AuditError(Exception):
    """A bad argument or a missing/invalid audit folder; the message says what to do."""


@dataclasses.dataclass(frozen=True, slots=True)
class AuditPair:
    """One sampled preference pair, as the reviewer sees it.

    The fields are the release's pair columns a reviewer needs, plus `split` (the
    Parquet file it came from) and `rank` (its seeded hash rank, which fixes the
    review order). `label_details` is kept as the release's raw string: it is JSON
    for LLM-labelled pairs but free text for some sources, so it is parsed only
    where it is displayed.
    """

    idx: str
    split: str
    rank: int
    aspect: str
    language: str
    source: str
    system: str | None
    input: str | None
    chosen: str
    rejected: str
    license: str | None = None
    repository: str | None = None
    file_path: str | None = None
    origin_commit: str | None = None
    judge_matches: int | None = None
    judge_contradictions: int | None = None
    judge_ties: int | None = None
    judge_errors: int | None = None
    rating_mean: float | None = None
    label_details: str | None = None

    def to_json(self) -> str:
        """One `audit.jsonl` line (without the newline)."""
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> "AuditPair":
        """Parses one `audit.jsonl` line; unknown keys (a newer writer) are ignored."""
        row = json.loads(line)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in row.items() if k in names})


def write_audit(audit_dir: str, pairs: Iterable[AuditPair]) -> str:
    """Writes `audit.jsonl` atomically and returns its path.

    The file is written next to its final name and renamed, so a server reading
    the folder never sees half a file, and an interrupted run leaves the previous
    set intact.
    """
    os.makedirs(audit_dir, exist_ok=True)
    path = os.path.join(audit_dir, AUDIT_FILE)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for pair in pairs:
            f.write(pair.to_json() + "\n")
    os.replace(tmp, path)
    return path


def load_audit(audit_dir: str) -> list[AuditPair]:
    """Reads the audit set of a folder, in review order.

    Raises:
        AuditError: the folder has no `audit.jsonl` or a line is not a pair.
    """
    path = os.path.join(audit_dir, AUDIT_FILE)
    if not os.path.isfile(path):
        raise AuditError(f"{audit_dir}: no {AUDIT_FILE}; run `codepref audit sample OUT` first")
    pairs = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                pairs.append(AuditPair.from_json(line))
            except (ValueError, TypeError) as exc:
                raise AuditError(f"{path}:{number}: not an audit pair ({exc})") from exc
    return pairs


def resolve_audit_dir(path: str) -> str:
    """Returns the audit folder meant by `path`: an audit folder or a release folder.

    `codepref audit serve|report` accept either, so a person can point them at
    the release they sampled (`OUT`, meaning `OUT/audit`) or at a custom
    `--audit-dir`.

    Raises:
        AuditError: neither `path` nor `path/audit` holds an `audit.jsonl`.
    """
    for candidate in (path, os.path.join(path, DEFAULT_SUBDIR)):
        if os.path.isfile(os.path.join(candidate, AUDIT_FILE)):
            return os.path.abspath(candidate)
    raise AuditError(
        f"{path}: neither it nor {os.path.join(path, DEFAULT_SUBDIR)} holds {AUDIT_FILE}; "
        "run `codepref audit sample OUT` first"
    )
