"""The audit set on disk: `AuditPair` records, `audit.jsonl` and folder lookup.

An audit folder holds two files: `audit.jsonl`, the sampled pairs (written once by
`pipelines.audit.sample`, one JSON object a line, in review order), and
`verdicts.sqlite`, the person's verdicts (`pipelines.audit.store`). Keeping the
pairs in a plain JSON Lines file rather than in SQLite means the set can be read,
diffed and shared without any tool, and re-sampling never touches the verdicts.

`language` and `aspect` are stored as ClassLabel *names*, not ids, so the file is
readable on its own and stays right even if a later release reorders the labels.

`AuditPair`'s fields come from the one declaration of the pair's columns,
`schemas.pair_columns.PAIR_COLUMNS`: a fixed head (the layout `audit.jsonl` has
always had), then every other column a reviewer sees, in release order.
"""

__all__ = [
    "AUDIT_FILE",
    "STORE_FILE",
    "AuditPair",
    "load_audit",
    "resolve_audit_dir",
    "write_audit",
]

import dataclasses
import json
import os
from collections.abc import Iterable
from typing import Any

from schemas.errors import AuditError
from schemas.pair_columns import columns_after, pair_column


AUDIT_FILE = "audit.jsonl"
"""The sampled pairs, one JSON object a line, in review order."""

STORE_FILE = "verdicts.sqlite"
"""The verdict store (`pipelines.audit.store.VerdictStore`)."""

DEFAULT_SUBDIR = "audit"
"""Where `sample` writes when no audit folder is given: `OUT/audit`."""


_REVIEW_FIELDS: dict[str, type] = {"split": str, "rank": int}
"""Fields of `AuditPair` that are no pair column."""

_AUDIT_LEAD: tuple[str, ...] = (
    "idx",
    "split",
    "rank",
    "aspect",
    "language",
    "source",
    "system",
    "input",
    "chosen",
    "rejected",
)
"""The fields every audit pair has (no default), in `audit.jsonl` order."""

_AUDIT_PROVENANCE: tuple[str, ...] = ("license", "repository", "file_path", "origin_commit")
"""The provenance fields that follow the lead (default None); the other audited columns come after them."""


def _field(name: str, required: bool) -> tuple[str, Any] | tuple[str, Any, Any]:
    """A `make_dataclass` field spec: labels are names (str); a column that may be null is `| None`."""
    if name in _REVIEW_FIELDS:
        return name, _REVIEW_FIELDS[name]
    column = pair_column(name)
    kind = column.python_type if column.required else column.python_type | None
    return (name, kind) if required else (name, kind, None)


_AuditPairFields = dataclasses.make_dataclass(
    "_AuditPairFields",
    [
        *(_field(name, True) for name in _AUDIT_LEAD),
        *(_field(name, False) for name in _AUDIT_PROVENANCE),
        *(_field(c.name, False) for c in columns_after((*_AUDIT_LEAD, *_AUDIT_PROVENANCE), audited_only=True)),
    ],
    namespace={"__module__": __name__},
    frozen=True,
    slots=True,
)


@dataclasses.dataclass(frozen=True, slots=True)
class AuditPair(_AuditPairFields):
    """One sampled preference pair, as the reviewer sees it.

    The fields are the release's pair columns a reviewer needs, plus `split` (the
    Parquet file it came from) and `rank` (its seeded hash rank, which fixes the
    review order): `_AUDIT_LEAD`, `_AUDIT_PROVENANCE`, then the other audited
    columns of `PAIR_COLUMNS` in release order. `label_details` is kept as the
    release's raw string: it is JSON for LLM-labelled pairs but free text for some
    sources, so it is parsed only where it is displayed.
    """

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
