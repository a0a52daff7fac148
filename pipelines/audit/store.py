"""`VerdictStore`: a person's verdicts on an audit set, in SQLite.

One row per pair `idx`: `verdict` (`agree`, `disagree`, `unsure`, or NULL while
only a note was written), `note` and `updated` (UTC, ISO 8601). Every `mark` and
`set_note` is its own committed transaction, so closing the browser or killing
the server loses nothing and a later session resumes at the first pair without
a verdict (`first_unreviewed`).

Why SQLite: it is in the standard library, a single file beside `audit.jsonl`,
and safe under the audit server's threads. The database runs in WAL mode so the
report can read while the server writes, with `synchronous=FULL` because writes
come at human speed and each one is a person's judgement. Each call opens its own
short-lived connection: no connection is shared between the server's threads, and
`busy_timeout` serialises the rare concurrent writes.

A `meta` table keeps how the set was drawn (release folder, n, seed, strata) so a
report can say what it measured.
"""

__all__ = ["VERDICTS", "Verdict", "VerdictStore", "first_unreviewed"]

import contextlib
import dataclasses
import datetime
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from schemas.errors import AuditError


VERDICTS: tuple[str, ...] = ("agree", "disagree", "unsure")
"""The verdicts a person can give: they agree with the label, disagree, or cannot tell."""

_SCHEMA_VERSION = 1
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS verdicts (
    idx TEXT PRIMARY KEY,
    verdict TEXT CHECK (verdict IS NULL OR verdict IN ({", ".join(repr(v) for v in VERDICTS)})),
    note TEXT NOT NULL DEFAULT '',
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
PRAGMA user_version = {_SCHEMA_VERSION};
"""


@dataclasses.dataclass(frozen=True, slots=True)
class Verdict:
    """The stored review of one pair."""

    idx: str
    verdict: str | None
    note: str
    updated: str


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


class VerdictStore:
    """The verdicts of one audit folder (see the module docstring).

    Args:
        path: The SQLite file; created with its tables when missing.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        with self._connect() as db:
            db.execute("PRAGMA journal_mode = WAL")
            db.executescript(_SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        try:
            db.execute("PRAGMA synchronous = FULL")
            yield db
        finally:
            db.close()

    def mark(self, idx: str, verdict: str, note: str | None = None) -> Verdict:
        """Records a verdict (and a note, when given) and commits it.

        The existing note is kept when `note` is None, so a keyboard verdict never
        wipes what was typed earlier.

        Raises:
            AuditError: `verdict` is not one of `VERDICTS`.
        """
        if verdict not in VERDICTS:
            raise AuditError(f"verdict {verdict!r}: expected one of {', '.join(VERDICTS)}")
        with self._connect() as db:
            db.execute(
                "INSERT INTO verdicts (idx, verdict, note, updated) VALUES (?, ?, coalesce(?, ''), ?) "
                "ON CONFLICT(idx) DO UPDATE SET verdict = excluded.verdict, "
                "note = coalesce(?, verdicts.note), updated = excluded.updated",
                (idx, verdict, note, _now(), note),
            )
        return self.get(idx)

    def set_note(self, idx: str, note: str) -> Verdict:
        """Records a note and commits it, keeping the verdict (or none yet)."""
        with self._connect() as db:
            db.execute(
                "INSERT INTO verdicts (idx, verdict, note, updated) VALUES (?, NULL, ?, ?) "
                "ON CONFLICT(idx) DO UPDATE SET note = excluded.note, updated = excluded.updated",
                (idx, note, _now()),
            )
        return self.get(idx)

    def get(self, idx: str) -> Verdict | None:
        """The stored review of `idx`, or None."""
        with self._connect() as db:
            row = db.execute("SELECT idx, verdict, note, updated FROM verdicts WHERE idx = ?", (idx,)).fetchone()
        return Verdict(*row) if row else None

    def all(self) -> dict[str, Verdict]:
        """Every stored review, keyed by pair idx."""
        with self._connect() as db:
            rows = db.execute("SELECT idx, verdict, note, updated FROM verdicts").fetchall()
        return {row[0]: Verdict(*row) for row in rows}

    def set_meta(self, values: Mapping[str, Any]) -> None:
        """Stores JSON-encoded facts about the audit set (how it was sampled)."""
        with self._connect() as db:
            db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [(k, json.dumps(v, ensure_ascii=False)) for k, v in values.items()],
            )

    def meta(self) -> dict[str, Any]:
        """The facts stored by `set_meta`."""
        with self._connect() as db:
            rows = db.execute("SELECT key, value FROM meta").fetchall()
        return {k: json.loads(v) for k, v in rows}


def first_unreviewed(idxs: Sequence[str], reviews: Mapping[str, Verdict]) -> int | None:
    """The position of the first pair without a verdict, or None when all have one.

    A pair with only a note is not reviewed yet: the session resumes there.
    """
    for position, idx in enumerate(idxs):
        review = reviews.get(idx)
        if review is None or review.verdict is None:
            return position
    return None
