"""Thin, streaming wrappers around git plumbing commands.

Everything here runs `git` itself, so contents come from git's object store, not
from a work tree. Commands stream: listing a history yields shas as `git rev-list`
prints them, and objects are read one at a time through `git cat-file --batch`.
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
    "repository_name",
    "run_git",
]

import os
import re
import subprocess
from collections.abc import Iterable, Iterator
from typing import IO, NamedTuple


class GitError(RuntimeError):
    """A git command failed; the message carries git's own stderr."""


class CommitMeta(NamedTuple):
    """What a commit object says about itself."""

    sha: str
    parents: tuple[str, ...]
    committer_time: int
    message: str


class Change(NamedTuple):
    """One entry of `git diff-tree --raw`."""

    old_mode: str
    new_mode: str
    old_sha: str
    new_sha: str
    status: str
    old_path: str
    new_path: str


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
    """Returns `owner/name` from the origin remote, else the folder's name."""
    try:
        url = run_git(path, "config", "--get", "remote.origin.url").decode().strip()
    except GitError:
        url = ""
    match = _REMOTE_NAME.search(url)
    if match:
        return match.group(1)
    name = os.path.basename(os.path.normpath(os.path.abspath(path)))
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
    """Parses a raw commit object (as `git cat-file commit` prints it)."""
    header, _, body = data.partition(b"\n\n")
    parents: list[str] = []
    committer_time = 0
    for line in header.split(b"\n"):
        if line.startswith(b"parent "):
            parents.append(line[7:].decode())
        elif line.startswith(b"committer "):
            parts = line.rsplit(b" ", 2)
            committer_time = int(parts[-2]) if len(parts) == 3 and parts[-2].isdigit() else 0
    message = body.decode("utf-8", errors="replace").rstrip("\n")
    return CommitMeta(sha, tuple(parents), committer_time, message)


def parse_diff_tree(output: bytes) -> dict[str, list[Change]]:
    """Parses `git diff-tree --stdin -r -z --always` output into changes per commit."""
    tokens = output.split(b"\0")
    result: dict[str, list[Change]] = {}
    current: list[Change] = []
    i = 0
    while i < len(tokens):
        token = tokens[i].decode("utf-8", errors="surrogateescape")
        i += 1
        if not token:
            continue
        if token.startswith(":"):
            old_mode, new_mode, old_sha, new_sha, status = token[1:].split(" ")
            old_path = tokens[i].decode("utf-8", errors="surrogateescape")
            i += 1
            new_path = old_path
            if status[0] in "RC":
                new_path = tokens[i].decode("utf-8", errors="surrogateescape")
                i += 1
            current.append(Change(old_mode, new_mode, old_sha, new_sha, status, old_path, new_path))
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
