r"""Pure decisions on commits, shared by every commit source.

Each check returns None to pass, or a `(reason, detail)` pair whose reason is one
of the constants below. Sources call them in a fixed order, cheapest first:
`metadata_reject` (licence, allowlist, time window, message) before reading any
file contents, then `change_reject` on the diff, then `decode_contents`.

Every detail is valid UTF-8 (`transforms.sources.git` shows undecodable paths and
messages with `\xNN` escapes), so the reject writer can always write it.

Reject reasons:
    license_unknown, license_not_permissive, repo_not_allowlisted,
    outside_time_window, message_undecodable, message_too_short,
    message_too_long, message_blocklisted, message_pattern, merge_commit,
    no_file_change, multi_file, added, deleted, renamed, copied, type_changed,
    symlink, submodule, path_not_utf8, unsupported_language, too_large, binary,
    not_utf8, empty_contents, whitespace_only.
"""

__all__ = [
    "Contents",
    "MESSAGE_BLOCKLIST",
    "MESSAGE_PATTERNS",
    "Reject",
    "change_reject",
    "decode_contents",
    "message_reject",
    "metadata_reject",
    "record_id",
]

import hashlib
import re
from typing import NamedTuple

from schemas.config import MineConfig
from schemas.labels import language_for_path
from transforms.licenses import UNKNOWN_LICENSE
from transforms.sources.git import Change


Reject = tuple[str, str]


class Contents(NamedTuple):
    """Old and new file contents, decoded."""

    old: str
    new: str


LICENSE_UNKNOWN = "license_unknown"
LICENSE_NOT_PERMISSIVE = "license_not_permissive"
REPO_NOT_ALLOWLISTED = "repo_not_allowlisted"
OUTSIDE_TIME_WINDOW = "outside_time_window"
MESSAGE_UNDECODABLE = "message_undecodable"
MESSAGE_TOO_SHORT = "message_too_short"
MESSAGE_TOO_LONG = "message_too_long"
MESSAGE_BLOCKLISTED = "message_blocklisted"
MESSAGE_PATTERN = "message_pattern"
MERGE_COMMIT = "merge_commit"
NO_FILE_CHANGE = "no_file_change"
MULTI_FILE = "multi_file"
ADDED = "added"
DELETED = "deleted"
RENAMED = "renamed"
COPIED = "copied"
TYPE_CHANGED = "type_changed"
SYMLINK = "symlink"
SUBMODULE = "submodule"
PATH_NOT_UTF8 = "path_not_utf8"
UNSUPPORTED_LANGUAGE = "unsupported_language"
TOO_LARGE = "too_large"
BINARY = "binary"
NOT_UTF8 = "not_utf8"
EMPTY_CONTENTS = "empty_contents"
WHITESPACE_ONLY = "whitespace_only"

MESSAGE_BLOCKLIST: frozenset[str] = frozenset(
    {
        "initial commit",
        "initial import",
        "first commit",
        "update readme",
        "update readme.md",
        "updated readme",
        "updated readme.md",
        "create readme.md",
        "add files via upload",
        "added files via upload",
        "update index.html",
        "minor changes",
        "minor change",
        "minor update",
        "minor updates",
        "small changes",
        "small fixes",
        "some changes",
        "various changes",
        "various fixes",
        "various updates",
        "work in progress",
        "commit changes",
        "save changes",
        "saving work",
        "latest changes",
        "more changes",
        "changes made",
        "trying something",
        "test commit",
        "testing stuff",
        "do not merge",
        "auto commit",
        "auto-commit",
        "automatic commit",
        "update files",
        "updated files",
        "upload files",
        "added files",
        "deleted files",
        "removed files",
        "end of day commit",
        "daily update",
        "sync changes",
        "sync with upstream",
        "changes from review",
        "addressed review comments",
        "address review comments",
        "experimental changes",
    }
)
"""Whole messages (lowercased, trimmed) that say nothing about the change."""

MESSAGE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        r"^merge\b",
        r"\bpi push\b",
        r"\bpush pi\b",
        r"^revert \"revert",
        r"^auto(matic(ally)?)?[- ]?(generated|commit|update|sync)",
        r"^\[?(bot|ci skip|skip ci)\]",
        r"^(bump|bumped) (the )?version",
        r"^version bump",
        r"^(release|released|releasing) v?\d",
    )
)
"""Message patterns (on the lowercased message) of merges, pushes, bots and releases."""


def record_id(*parts: str) -> str:
    """Returns a stable 16-hex-digit content hash of `parts`."""
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def message_reject(message: str, cfg: MineConfig) -> Reject | None:
    """Rejects messages that are too short, too long, generic or automated."""
    if len(message) <= cfg.min_message_chars:
        return MESSAGE_TOO_SHORT, f"{len(message)} chars"
    if len(message) >= cfg.max_message_chars:
        return MESSAGE_TOO_LONG, f"{len(message)} chars"
    lowered = message.strip().lower()
    if lowered in MESSAGE_BLOCKLIST:
        return MESSAGE_BLOCKLISTED, lowered
    for pattern in MESSAGE_PATTERNS:
        if pattern.search(lowered):
            return MESSAGE_PATTERN, pattern.pattern
    return None


def metadata_reject(
    *, repos: list[str], license: str, unix_time: int, message: str, cfg: MineConfig, message_problem: str = ""
) -> Reject | None:
    """Checks licence, allowlist, time window and message, in that order.

    Args:
        repos: the commit's repositories.
        license: the repository's SPDX id.
        unix_time: the committer time.
        message: the commit message.
        cfg: what to keep.
        message_problem: why the message's bytes did not decode (see
            `transforms.sources.git.CommitMeta`); such a message is rejected
            `message_undecodable` before any check reads it.
    """
    if license == UNKNOWN_LICENSE:
        return LICENSE_UNKNOWN, "no recognised licence"
    if license not in cfg.licenses:
        return LICENSE_NOT_PERMISSIVE, license
    if cfg.allowlist is not None and not any(r in cfg.allowlist for r in repos):
        return REPO_NOT_ALLOWLISTED, ",".join(repos)
    if cfg.since is not None and unix_time < cfg.since:
        return OUTSIDE_TIME_WINDOW, f"{unix_time} < since {cfg.since}"
    if cfg.until is not None and unix_time >= cfg.until:
        return OUTSIDE_TIME_WINDOW, f"{unix_time} >= until {cfg.until}"
    if message_problem:
        return MESSAGE_UNDECODABLE, message_problem
    return message_reject(message, cfg)


_STATUS_REASONS = {"A": ADDED, "D": DELETED, "R": RENAMED, "C": COPIED, "T": TYPE_CHANGED}


def change_reject(parents: int, changes: list[Change]) -> Reject | None:
    """Passes a non-merge commit that modifies exactly one regular file, named in UTF-8, in place."""
    if parents > 1:
        return MERGE_COMMIT, f"{parents} parents"
    if not changes:
        return NO_FILE_CHANGE, ""
    if len(changes) > 1:
        return MULTI_FILE, f"{len(changes)} files"
    change = changes[0]
    reason = _STATUS_REASONS.get(change.status[0])
    if reason:
        return reason, f"{change.old_path} -> {change.new_path}"
    if "120000" in (change.old_mode, change.new_mode):
        return SYMLINK, change.new_path
    if "160000" in (change.old_mode, change.new_mode):
        return SUBMODULE, change.new_path
    if not change.paths_utf8:  # the path would be the row's file_path: it must be exact
        return PATH_NOT_UTF8, change.new_path
    if language_for_path(change.new_path) is None:
        return UNSUPPORTED_LANGUAGE, change.new_path
    return None


def decode_contents(old: bytes, new: bytes, cfg: MineConfig) -> Contents | Reject:
    """Returns the decoded `Contents`, or a reject for large, binary, non-UTF-8 or empty files."""
    size = max(len(old), len(new))
    if size > cfg.max_file_bytes:
        return TOO_LARGE, f"{size} bytes > {cfg.max_file_bytes}"
    if b"\0" in old[:8000] or b"\0" in new[:8000]:
        return BINARY, "NUL byte in the first 8000 bytes"
    try:
        old_text, new_text = old.decode("utf-8"), new.decode("utf-8")
    except UnicodeDecodeError as exc:
        return NOT_UTF8, str(exc)
    if not old_text.strip() or not new_text.strip():
        return EMPTY_CONTENTS, "old or new contents empty"
    if old_text.split() == new_text.split():
        return WHITESPACE_ONLY, "the change only touches whitespace"
    return Contents(old_text, new_text)
