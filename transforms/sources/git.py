r"""Thin, streaming wrappers around git plumbing commands.

Everything here runs `git` itself, so contents come from git's object store, not
from a work tree. Commands stream: listing a history yields shas as `git rev-list`
prints them, and objects are read one at a time through `git cat-file --batch`.

Git names and messages are bytes. What leaves this module as `str` is always valid
UTF-8, so any writer can take it: a path or message decodes losslessly (paths from
`-z` output, never C-quoted; a message in the encoding its `encoding` header names,
UTF-8 when it has none, as `i18n.commitEncoding` records it), or it is flagged
(`Change.paths_utf8`, `CommitMeta.message_problem`) and shown with the bytes that do
not decode as `\xNN` escapes (`printable`), for a reject's detail only.
"""

__all__ = [
    "Change",
    "CommitMeta",
    "GitError",
    "ObjectReader",
    "changed_files",
    "is_git_repository",
    "iter_commit_shas",
    "parse_commit_object",
    "parse_diff_tree",
    "printable",
    "repository_name",
    "run_git",
]

import codecs
import os
import re
import subprocess
from collections.abc import Iterable, Iterator
from typing import IO, NamedTuple


class GitError(RuntimeError):
    """A git command failed; the message carries git's own stderr."""


class CommitMeta(NamedTuple):
    """What a commit object says about itself.

    Attributes:
        message: the message, decoded losslessly; or, when `message_problem` is set,
            shown with escapes (`printable`) and fit only for a reject.
        message_problem: why the message did not decode (an unknown or non-text
            `encoding`, or bytes invalid in it); empty when it did.
    """

    sha: str
    parents: tuple[str, ...]
    committer_time: int
    message: str
    message_problem: str = ""


class Change(NamedTuple):
    """One entry of `git diff-tree --raw`.

    Paths are exact when `paths_utf8`; when either path is not valid UTF-8 both are
    shown with escapes (`printable`), fit only for a reject, and `paths_utf8` is False.
    """

    old_mode: str
    new_mode: str
    old_sha: str
    new_sha: str
    status: str
    old_path: str
    new_path: str
    paths_utf8: bool = True


def printable(data: bytes | str) -> str:
    r"""Valid UTF-8 for showing `data`: UTF-8 as it is, other bytes as `\xNN` escapes.

    A `str` holding lone surrogates (as `surrogateescape` smuggles bytes in) shows
    those the same way, or as `\udNNN` when they stand for no byte.
    """
    if isinstance(data, str):
        try:
            data = data.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return data.encode("utf-8", "backslashreplace").decode("utf-8")
    return data.decode("utf-8", "backslashreplace")


_ENV = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


def run_git(repo: str, *args: str, stdin: bytes | None = None) -> bytes:
    """Runs `git -C repo args...` and returns stdout.

    Raises:
        GitError: git exited non-zero, or is not installed.
    """
    try:
        done = subprocess.run(["git", "-C", repo, *args], input=stdin, capture_output=True, env=_ENV, check=False)
    except FileNotFoundError as exc:
        raise GitError("git is not installed or not on PATH") from exc
    if done.returncode != 0:
        raise GitError(f"git {' '.join(args[:3])} failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def is_git_repository(path: str) -> bool:
    """True if `path` is the top of a work tree or a bare repository."""
    try:
        out = run_git(path, "rev-parse", "--is-bare-repository", "--show-cdup").decode().split("\n")
    except GitError:
        return False
    return out[0] == "true" or (len(out) > 1 and out[1] == "")


_REMOTE_NAME = re.compile(r"[:/]([^/:]+/[^/]+?)(?:\.git)?/?$")


def repository_name(path: str) -> str:
    """Returns `owner/name` from the origin remote, else the folder's name.

    Raises:
        ValueError: that URL or folder name is not valid UTF-8; the message shows it
            with escapes.
    """
    try:
        raw = run_git(path, "config", "--get", "remote.origin.url").strip()
    except GitError:
        raw = b""
    try:
        url = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"the origin URL {printable(raw)} is not valid UTF-8") from exc
    match = _REMOTE_NAME.search(url)
    if match:
        return match.group(1)
    name = os.path.basename(os.path.normpath(os.path.abspath(path)))
    try:
        name.encode("utf-8")
    except UnicodeEncodeError as exc:  # a folder name os.fsdecode gave lone surrogates
        raise ValueError(f"the folder name {printable(name)} is not valid UTF-8") from exc
    return name[:-4] if name.endswith(".git") else name


def iter_commit_shas(repo: str) -> Iterator[str]:
    """Yields every commit reachable from branches, tags and remotes, as git lists them.

    Streams `git rev-list`: the first shas come out before the history is walked.
    A repository with no commits yields nothing.
    """
    if not run_git(repo, "for-each-ref", "--count=1", "refs/heads", "refs/tags", "refs/remotes").strip():
        return
    args = ["git", "-C", repo, "rev-list", "--branches", "--tags", "--remotes"]
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_ENV) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            yield line.decode().strip()
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise GitError(f"git rev-list failed: {err.strip()}")


def parse_commit_object(sha: str, data: bytes) -> CommitMeta:
    """Parses a raw commit object (as `git cat-file commit` prints it).

    The message is decoded from its `encoding` header (UTF-8 when there is none),
    as `git log` re-encodes it; see `CommitMeta` for one that does not decode.
    """
    header, _, body = data.partition(b"\n\n")
    parents: list[str] = []
    committer_time = 0
    encoding = "utf-8"
    for line in header.split(b"\n"):
        if line.startswith(b"parent "):
            parents.append(line[7:].decode("ascii", "backslashreplace"))
        elif line.startswith(b"committer "):
            parts = line.rsplit(b" ", 2)
            committer_time = int(parts[-2]) if len(parts) == 3 and parts[-2].isdigit() else 0
        elif line.startswith(b"encoding "):
            encoding = printable(line[9:].strip()) or "utf-8"
    message, problem = _decode_message(body, encoding)
    return CommitMeta(sha, tuple(parents), committer_time, message.rstrip("\n"), problem)


def _decode_message(body: bytes, encoding: str) -> tuple[str, str]:
    """(message, "") when `body` decodes losslessly, else (it shown with escapes, why)."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        return printable(body), f"unknown encoding {encoding!r}"
    try:
        text = body.decode(encoding)
        text.encode("utf-8")  # a codec such as unicode_escape can yield lone surrogates
    except LookupError:  # a codec, but not a text encoding (base64, rot13, ...)
        return printable(body), f"{encoding!r} is not a text encoding"
    except UnicodeDecodeError as exc:
        return printable(body), f"not valid {encoding} at byte {exc.start}: {exc.reason}"
    except ValueError as exc:  # a lone surrogate, or a codec's own complaint
        return printable(body), f"not valid {encoding}: {printable(str(exc))}"
    return text, ""


def parse_diff_tree(output: bytes) -> dict[str, list[Change]]:
    """Parses `git diff-tree --stdin -r -z --always` output into changes per commit.

    With `-z` git prints paths as their bytes (no C-quoting, whatever `core.quotePath`
    says), so tabs, quotes, newlines and leading dashes come through exactly; see
    `Change` for paths that are not UTF-8.
    """
    tokens = output.split(b"\0")
    result: dict[str, list[Change]] = {}
    current: list[Change] = []
    i = 0
    while i < len(tokens):
        token = tokens[i].decode("ascii", "backslashreplace")  # a sha or a `:mode ... status` line
        i += 1
        if not token:
            continue
        if token.startswith(":"):
            old_mode, new_mode, old_sha, new_sha, status = token[1:].split(" ")
            raw_old = raw_new = tokens[i]
            i += 1
            if status[0] in "RC":
                raw_new = tokens[i]
                i += 1
            try:
                old_path, new_path, utf8 = raw_old.decode("utf-8"), raw_new.decode("utf-8"), True
            except UnicodeDecodeError:
                old_path, new_path, utf8 = printable(raw_old), printable(raw_new), False
            current.append(Change(old_mode, new_mode, old_sha, new_sha, status, old_path, new_path, utf8))
        else:
            current = result.setdefault(token.strip(), [])
    return result


def changed_files(repo: str, shas: Iterable[str]) -> dict[str, list[Change]]:
    """Returns each commit's changes against its first parent, renames detected.

    One `git diff-tree` process serves all `shas`; a root commit is compared with
    the empty tree.
    """
    stdin = "".join(f"{sha}\n" for sha in shas).encode()
    if not stdin:
        return {}
    out = run_git(repo, "diff-tree", "--stdin", "-r", "-z", "-M", "--root", "--always", "--no-abbrev", stdin=stdin)
    return parse_diff_tree(out)


class ObjectReader:
    """Reads objects through one long-lived `git cat-file --batch` process.

    Use as a context manager. `read` returns None for a missing object, and for an
    object larger than `max_bytes` returns its size without keeping its contents.
    """

    def __init__(self, repo: str) -> None:
        """Starts `git cat-file --batch` in `repo`."""
        self._proc = subprocess.Popen(
            ["git", "-C", repo, "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_ENV,
        )

    def __enter__(self) -> "ObjectReader":
        """Returns the reader."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Stops the git process."""
        self.close()

    def close(self) -> None:
        """Stops the git process."""
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def read(self, sha: str, max_bytes: int | None = None) -> tuple[str, int, bytes | None] | None:
        """Returns `(type, size, data)`; data is None when size exceeds `max_bytes`.

        Raises:
            GitError: the git process died.
        """
        stdin: IO[bytes] | None = self._proc.stdin
        stdout: IO[bytes] | None = self._proc.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(f"{sha}\n".encode())
            stdin.flush()
        except BrokenPipeError as exc:
            raise GitError("git cat-file exited") from exc
        header = stdout.readline()
        if not header:
            raise GitError("git cat-file exited")
        fields = header.split()
        if len(fields) < 3 or fields[1] == b"missing":
            return None
        kind, size = fields[1].decode(), int(fields[2])
        if max_bytes is not None and size > max_bytes:
            remaining = size + 1
            while remaining:
                chunk = stdout.read(min(remaining, 1 << 20))
                if not chunk:
                    raise GitError("git cat-file exited")
                remaining -= len(chunk)
            return kind, size, None
        data = stdout.read(size)
        stdout.read(1)
        return kind, size, data
